/* Validation of user input: tags, ids, info strings, script contents and numbers.
 * Pure string and buffer checks; every error is one English line without a final period,
 * written so that the CLI can print it as is. */
#include "validate.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lk_fail_einval(char *err, size_t err_size, const char *fmt, ...)
{
    if (err && err_size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

static bool tag_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

int lk_validate_tag(const char *tag, const char *what, char *err, size_t err_size)
{
    if (!tag || tag[0] == '\0') {
        return lk_fail_einval(err, err_size, "%s must not be empty", what);
    }
    size_t len = strlen(tag);
    if (len > LK_TAG_MAX) {
        return lk_fail_einval(err, err_size, "%s is too long: %zu bytes, at most %d", what, len,
                              LK_TAG_MAX);
    }
    /* Control and non-ASCII bytes first, over the whole tag: the messages below quote the
     * tag, and a newline anywhere in it would break the one-line message. */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) tag[i];
        if (c < 0x20 || c == 0x7f) {
            return lk_fail_einval(err, err_size, "%s contains control character 0x%02x", what, c);
        }
        if (c >= 0x80) {
            return lk_fail_einval(
                    err, err_size,
                    "%s contains a non-ASCII byte; use letters, digits, '.', '_', '-'", what);
        }
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) tag[i];
        if (!tag_char_ok((char) c)) {
            return lk_fail_einval(err, err_size,
                                  "%s '%s' contains '%c'; use letters, digits, '.', '_', '-'", what,
                                  tag, c);
        }
    }
    if (tag[0] == '.' || tag[0] == '-') {
        return lk_fail_einval(err, err_size, "%s '%s' must not start with '%c'", what, tag, tag[0]);
    }
    return 0;
}

int lk_validate_info(const char *info, char *err, size_t err_size)
{
    if (!info) {
        return 0;
    }
    size_t len = strlen(info);
    if (len > LK_INFO_MAX) {
        return lk_fail_einval(err, err_size, "app-info is too long: %zu bytes, at most %d", len,
                              LK_INFO_MAX);
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) info[i];
        if (c < 0x20 || c == 0x7f) {
            return lk_fail_einval(err, err_size, "app-info contains control character 0x%02x", c);
        }
    }
    return 0;
}

int lk_validate_hand_reason(const char *reason, char *err, size_t err_size)
{
    size_t len = reason ? strlen(reason) : 0;
    if (len == 0) {
        return lk_fail_einval(err, err_size, "the reason is empty");
    }
    if (len > LK_HAND_REASON_MAX) {
        return lk_fail_einval(err, err_size, "the reason is too long: %zu bytes, at most %d", len,
                              LK_HAND_REASON_MAX);
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) reason[i];
        if (c < 0x20 || c == 0x7f) {
            return lk_fail_einval(err, err_size, "the reason contains control character 0x%02x", c);
        }
    }
    return 0;
}

static bool type_char_ok(char c)
{
    return tag_char_ok(c) || c == ':' || c == '@' || c == '\\';
}

int lk_validate_app_type(const char *app, const char *type, char *err, size_t err_size)
{
    if (!app ||
        (strcmp(app, "gen") != 0 && strcmp(app, "ocf") != 0 && strcmp(app, "systemd") != 0)) {
        return lk_fail_einval(err, err_size, "unknown resource app: expected gen, ocf or systemd");
    }
    if (!type || type[0] == '\0') {
        return lk_fail_einval(err, err_size, "the %s resource's type must not be empty", app);
    }
    size_t len = strlen(type);
    if (len > LK_TYPE_MAX) {
        return lk_fail_einval(err, err_size, "type is too long: %zu bytes, at most %d", len,
                              LK_TYPE_MAX);
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) type[i];
        if (c < 0x20 || c >= 0x7f) {
            return lk_fail_einval(err, err_size, "type contains byte 0x%02x", c);
        }
        if (!type_char_ok((char) c)) {
            return lk_fail_einval(err, err_size,
                                  "type '%s' contains '%c'; use letters, digits, '.', '_', '-', "
                                  "':', '@', '\\'",
                                  type, c);
        }
    }
    if (type[0] == '.' || type[0] == '-') {
        return lk_fail_einval(err, err_size, "type '%s' must not start with '%c'", type, type[0]);
    }
    if (strcmp(app, "gen") == 0 && strcmp(type, "app") != 0) {
        return lk_fail_einval(err, err_size, "a gen resource's type is 'app', not '%s'", type);
    }
    return 0;
}

bool lk_script_header_ok(const void *buf, size_t len)
{
    const unsigned char *p = buf;
    if (len >= 2 && p[0] == '#' && p[1] == '!') {
        return true;
    }
    return len >= 4 && p[0] == 0x7f && p[1] == 'E' && p[2] == 'L' && p[3] == 'F';
}

int lk_validate_script(const void *buf, size_t len, char *err, size_t err_size)
{
    if (len == 0) {
        return lk_fail_einval(err, err_size, "script is empty");
    }
    if (len > LK_SCRIPT_MAX_SIZE) {
        return lk_fail_einval(err, err_size, "script is too large: %zu bytes, at most %d", len,
                              LK_SCRIPT_MAX_SIZE);
    }
    if (!lk_script_header_ok(buf, len)) {
        return lk_fail_einval(
                err, err_size,
                "script is not executable by the kernel: it must start with '#!' or be "
                "an ELF binary");
    }
    return 0;
}

int lk_parse_uint(const char *text, uint64_t min, uint64_t max, uint64_t *ret_value)
{
    if (!text || text[0] < '0' || text[0] > '9') {
        return -EINVAL;
    }
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(text, &end, 10);
    if (*end != '\0') {
        return -EINVAL;
    }
    if (errno == ERANGE) {
        return -ERANGE; /* a number, only too large for 64 bits: out of range like any other */
    }
    if (errno != 0) {
        return -EINVAL;
    }
    if (v < min || v > max) {
        return -ERANGE;
    }
    *ret_value = v;
    return 0;
}

int lk_parse_seconds(const char *text, uint64_t min_usec, uint64_t max_usec, bool allow_zero,
                     uint64_t *ret_usec)
{
    if (!text || text[0] < '0' || text[0] > '9') {
        return -EINVAL;
    }
    /* Parse by hand: whole seconds, then at most six fraction digits, so "0.1" is exactly
     * 100000 µs and no locale or rounding enters. */
    uint64_t whole = 0;
    const char *p = text;
    while (*p >= '0' && *p <= '9') {
        if (whole > UINT64_MAX / 10 / 1000000) {
            return -ERANGE;
        }
        whole = whole * 10 + (uint64_t) (*p - '0');
        p++;
    }
    uint64_t frac = 0;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9') {
            return -EINVAL;
        }
        uint64_t scale = 100000;
        while (*p >= '0' && *p <= '9') {
            if (scale == 0) {
                return -EINVAL; /* finer than a microsecond */
            }
            frac += (uint64_t) (*p - '0') * scale;
            scale /= 10;
            p++;
        }
    }
    if (*p != '\0') {
        return -EINVAL;
    }
    /* The loop above keeps whole * 1000000 in range, but adding the fraction may still
     * wrap ("18446744073709.999999"), which would turn a huge value into a small one. */
    if (whole > (UINT64_MAX - frac) / 1000000) {
        return -ERANGE;
    }
    uint64_t usec = whole * 1000000 + frac;
    if (usec == 0 && allow_zero) {
        *ret_usec = 0;
        return 0;
    }
    if (usec < min_usec || usec > max_usec) {
        return -ERANGE;
    }
    *ret_usec = usec;
    return 0;
}
