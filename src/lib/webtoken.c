/* The web console's tokens (webtoken.h): their form, their hash (BLAKE2b-256 through
 * libsodium's crypto_generichash), and the one-line records of etc/web-tokens, parsed and
 * formatted. Every field of a line is checked, so a damaged file is refused line by line
 * and never yields a token with a role it was not given.
 *
 * Pure: no file, no clock (the caller gives the creation time). It never keeps a token
 * itself, only its hash, and never compares hashes in variable time. */
#include "webtoken.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

#define RANDOM_BYTES 32
#define ID_BYTES     8

void lk_webtoken_generate(char *token, char *id)
{
    unsigned char buf[RANDOM_BYTES];
    randombytes_buf(buf, sizeof(buf));
    memcpy(token, LK_WEBTOKEN_PREFIX, strlen(LK_WEBTOKEN_PREFIX));
    sodium_bin2base64(token + strlen(LK_WEBTOKEN_PREFIX),
                      LK_WEBTOKEN_LEN + 1 - strlen(LK_WEBTOKEN_PREFIX), buf, sizeof(buf),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(buf, sizeof(buf));
    unsigned char idbuf[ID_BYTES];
    randombytes_buf(idbuf, sizeof(idbuf));
    sodium_bin2hex(id, LK_WEBTOKEN_ID_LEN + 1, idbuf, sizeof(idbuf));
}

void lk_webtoken_hash(const char *token, char *hash)
{
    unsigned char out[32];
    crypto_generichash(out, sizeof(out), (const unsigned char *) token, strlen(token), NULL, 0);
    sodium_bin2hex(hash, LK_WEBTOKEN_HASH_LEN + 1, out, sizeof(out));
}

static bool b64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

bool lk_webtoken_is_token(const char *text)
{
    size_t plen = strlen(LK_WEBTOKEN_PREFIX);
    if (!text || strlen(text) != LK_WEBTOKEN_LEN || strncmp(text, LK_WEBTOKEN_PREFIX, plen) != 0) {
        return false;
    }
    for (const char *p = text + plen; *p; p++) {
        if (!b64url_char(*p)) {
            return false;
        }
    }
    return true;
}

bool lk_webtoken_role_ok(const char *role)
{
    return role && (strcmp(role, "guest") == 0 || strcmp(role, "operator") == 0 ||
                    strcmp(role, "admin") == 0);
}

int lk_webtoken_validate_name(const char *name, char *err, size_t err_size)
{
    if (!name || strlen(name) > LK_WEBTOKEN_NAME_MAX) {
        return lk_fail_einval(err, err_size, "invalid token name: 1 to %d characters expected",
                              LK_WEBTOKEN_NAME_MAX);
    }
    return lk_validate_tag(name, "token name", err, err_size);
}

static bool hex_ok(const char *s, size_t len)
{
    if (strlen(s) != len) {
        return false;
    }
    for (; *s; s++) {
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))) {
            return false;
        }
    }
    return true;
}

int lk_webtoken_parse_line(const char *line, struct lk_webtoken *ret, char *err, size_t err_size)
{
    const char *p = line;
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    if (*p == '\0' || *p == '#') {
        return 1;
    }
    if (strlen(line) >= LK_WEBTOKEN_LINE_MAX) {
        return lk_fail_einval(err, err_size, "line too long");
    }
    char copy[LK_WEBTOKEN_LINE_MAX];
    snprintf(copy, sizeof(copy), "%s", line);
    char *fields[6] = {0};
    size_t n = 0;
    char *save = NULL;
    for (char *f = strtok_r(copy, " ", &save); f; f = strtok_r(NULL, " ", &save)) {
        if (n == 6) {
            break;
        }
        fields[n++] = f;
    }
    if (n != 5) {
        return lk_fail_einval(err, err_size, "expected 'ID ROLE CREATED HASH NAME'");
    }
    struct lk_webtoken t = {0};
    if (!hex_ok(fields[0], LK_WEBTOKEN_ID_LEN)) {
        return lk_fail_einval(err, err_size, "invalid id: %d hex digits expected",
                              LK_WEBTOKEN_ID_LEN);
    }
    if (!lk_webtoken_role_ok(fields[1])) {
        return lk_fail_einval(err, err_size, "invalid role: guest, operator or admin expected");
    }
    uint64_t created;
    if (lk_parse_uint(fields[2], 0, INT64_MAX, &created) < 0) {
        return lk_fail_einval(err, err_size, "invalid creation time");
    }
    if (!hex_ok(fields[3], LK_WEBTOKEN_HASH_LEN)) {
        return lk_fail_einval(err, err_size, "invalid hash: %d hex digits expected",
                              LK_WEBTOKEN_HASH_LEN);
    }
    if (lk_webtoken_validate_name(fields[4], err, err_size) < 0) {
        return -EINVAL;
    }
    snprintf(t.id, sizeof(t.id), "%s", fields[0]);
    snprintf(t.role, sizeof(t.role), "%s", fields[1]);
    t.created = (int64_t) created;
    snprintf(t.hash, sizeof(t.hash), "%s", fields[3]);
    snprintf(t.name, sizeof(t.name), "%s", fields[4]);
    *ret = t;
    return 0;
}

int lk_webtoken_format_line(const struct lk_webtoken *t, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s %s %" PRId64 " %s %s\n", t->id, t->role, t->created, t->hash,
                     t->name);
    return n < 0 || (size_t) n >= size ? -ENOSPC : n;
}

const struct lk_webtoken *lk_webtoken_find(const struct lk_webtoken *list, size_t n,
                                           const char *token)
{
    if (!lk_webtoken_is_token(token)) {
        return NULL;
    }
    char hash[LK_WEBTOKEN_HASH_LEN + 1];
    lk_webtoken_hash(token, hash);
    const struct lk_webtoken *found = NULL;
    for (size_t i = 0; i < n; i++) {
        if (sodium_memcmp(list[i].hash, hash, LK_WEBTOKEN_HASH_LEN) == 0) {
            found = &list[i];
        }
    }
    return found;
}
