/* What every libFuzzer target of tests/fuzz shares (docs/FUZZING.md): the entry point
 * libFuzzer calls, a check of an invariant that aborts with a message (libFuzzer then
 * saves the input as a crash), and the input as a C string. */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with the condition, the place and a printf message when cond is false. */
#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s: ", __FILE__, __LINE__, #cond);           \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* One mode of a target: the input after its first byte. */
typedef void fuzz_mode_fn(const uint8_t *data, size_t size);

/* The entry of a target with four modes: the first byte's low two bits pick the mode,
 * which gets the rest. An empty input does nothing. */
static inline int fuzz_four_modes(const uint8_t *data, size_t size, fuzz_mode_fn *const modes[4])
{
    if (size > 0) {
        modes[data[0] & 3](data + 1, size - 1);
    }
    return 0;
}

/* data as a malloc'ed NUL-terminated string (cut at its first NUL byte, as every C string
 * the project reads is). Never NULL: an allocation failure aborts. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) {
        abort();
    }
    if (size) {
        memcpy(s, data, size);
    }
    s[size] = '\0';
    return s;
}

/* Whether text is one line: no newline or carriage return (every error message is). */
static inline int fuzz_one_line(const char *text)
{
    return strpbrk(text, "\r\n") == NULL;
}

/* Whether text is UTF-8 that a JSON reply or event can carry (jansson refuses anything
 * else, and the message would be lost). */
static inline int fuzz_utf8(const char *text)
{
    json_t *s = json_string(text);
    json_decref(s);
    return s != NULL;
}
