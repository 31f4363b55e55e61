/* libFuzzer target: the tunables' text (src/lib/tunables.c: LifeKeeper's
 * /etc/default/LifeKeeper as OpenKeeper reads it) and the edits of `lkcli cluster tunables`.
 *
 * Input: the first byte's low two bits pick the mode (fuzz.h), the rest is its input:
 *   0, 1  a whole text      2  a key, a NUL, a value, a NUL, a text (--set)
 *   3  a key, a NUL, a text (--unset)
 * Invariants: a refusal is -EINVAL with a one-line UTF-8 message and nothing left allocated
 * (LSan); an accepted text has at most LK_TUNABLES_KEYS_MAX distinct valid keys, each once,
 * reserved exactly as lk_tunables_reserved says, values without a newline; --set gives a
 * text that parses, with the key's value exactly the one set and every other key's value
 * unchanged; --unset gives a text without the key and every other key unchanged.
 * Never: files, processes, the environment. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "tunables.h"

#define ERR_SIZE 512

static void refusal(int r, const char *err)
{
    FUZZ_CHECK(r == -EINVAL, "error %d", r);
    FUZZ_CHECK(err[0] != '\0', "a refusal without a message");
    FUZZ_CHECK(fuzz_one_line(err), "a message of more than one line: '%s'", err);
    FUZZ_CHECK(fuzz_utf8(err), "a message a reply cannot carry: '%s'", err);
}

static void check_parsed(const struct lk_tunables *t)
{
    char err[ERR_SIZE];
    FUZZ_CHECK(t->count <= LK_TUNABLES_KEYS_MAX, "%zu keys", t->count);
    for (size_t i = 0; i < t->count; i++) {
        const struct lk_tunable *k = &t->items[i];
        FUZZ_CHECK(lk_tunables_check_key(k->key, err, sizeof(err)) == 0, "key '%s'", k->key);
        FUZZ_CHECK(k->reserved == lk_tunables_reserved(k->key), "reserved '%s'", k->key);
        FUZZ_CHECK(!strchr(k->value, '\n'), "a newline in '%s'", k->key);
        FUZZ_CHECK(k->line >= 1, "line %u", k->line);
        for (size_t j = 0; j < i; j++) {
            FUZZ_CHECK(strcmp(t->items[j].key, k->key) != 0, "key '%s' twice", k->key);
        }
    }
}

static void whole(const uint8_t *data, size_t size)
{
    struct lk_tunables t;
    char err[ERR_SIZE] = "";
    int r = lk_tunables_parse((const char *) data, size, &t, err, sizeof(err));
    if (r < 0) {
        refusal(r, err);
        return;
    }
    check_parsed(&t);
    lk_tunables_done(&t);
}

/* The other keys of before keep their values in after. */
static void others_kept(const struct lk_tunables *before, const struct lk_tunables *after,
                        const char *key)
{
    for (size_t i = 0; i < before->count; i++) {
        if (strcmp(before->items[i].key, key) == 0) {
            continue;
        }
        const char *v = lk_tunables_get(after, before->items[i].key);
        FUZZ_CHECK(v && strcmp(v, before->items[i].value) == 0, "'%s' changed",
                   before->items[i].key);
    }
}

static void edit(const uint8_t *data, size_t size, bool set)
{
    char *in = fuzz_strndup(data, size);
    const char *key = in, *value = NULL, *text;
    size_t used = strlen(key) + 1;
    if (set) {
        value = used <= size ? in + used : "";
        used += used <= size ? strlen(value) + 1 : 0;
    }
    text = used <= size ? in + used : "";
    struct lk_tunables before, after;
    char err[ERR_SIZE] = "", *out = NULL;
    if (lk_tunables_parse(text, strlen(text), &before, err, sizeof(err)) < 0) {
        int r = set ? lk_tunables_set(text, key, value, &out, err, sizeof(err))
                    : lk_tunables_unset(text, key, &out, err, sizeof(err));
        FUZZ_CHECK(r < 0, "an edit of a refused text accepted");
        free(in);
        return;
    }
    int r = set ? lk_tunables_set(text, key, value, &out, err, sizeof(err))
                : lk_tunables_unset(text, key, &out, err, sizeof(err));
    if (r < 0) {
        if (r == -ENOENT) {
            FUZZ_CHECK(!set && !lk_tunables_get(&before, key), "unset of a present key refused");
        } else {
            refusal(r, err);
        }
        lk_tunables_done(&before);
        free(in);
        return;
    }
    FUZZ_CHECK(lk_tunables_parse(out, strlen(out), &after, err, sizeof(err)) == 0,
               "an edit's text refused: %s", err);
    check_parsed(&after);
    const char *v = lk_tunables_get(&after, key);
    if (set) {
        FUZZ_CHECK(v && strcmp(v, value) == 0, "'%s' is not what was set", key);
    } else {
        FUZZ_CHECK(!v, "'%s' still set", key);
    }
    others_kept(&before, &after, key);
    lk_tunables_done(&before);
    lk_tunables_done(&after);
    free(out);
    free(in);
}

static void set_mode(const uint8_t *data, size_t size)
{
    edit(data, size, true);
}

static void unset_mode(const uint8_t *data, size_t size)
{
    edit(data, size, false);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fuzz_mode_fn *const modes[4] = {whole, whole, set_mode, unset_mode};
    return fuzz_four_modes(data, size, modes);
}
