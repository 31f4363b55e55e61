/* The web console's access tokens (docs/WEB.md): what a token looks like, its hash, and
 * the lines of $LKROOT/etc/web-tokens that hold one token each. Pure: strings and
 * buffers only; lkd reads and writes the file (io/webtokens.c). A token is shown once, at
 * creation; only its BLAKE2b-256 hash is kept. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LK_WEBTOKEN_PREFIX   "lk_"
#define LK_WEBTOKEN_LEN      46  /* "lk_" + 43 characters of base64url (32 random bytes) */
#define LK_WEBTOKEN_ID_LEN   16  /* 16 hex digits (8 random bytes) */
#define LK_WEBTOKEN_HASH_LEN 64  /* hex digits of the 32-byte hash */
#define LK_WEBTOKEN_NAME_MAX 64  /* bytes of a token's name, a tag's characters */
#define LK_WEBTOKEN_MAX      256 /* tokens per node */
#define LK_WEBTOKEN_LINE_MAX 256 /* bytes of one line of the file, newline included */

struct lk_webtoken {
    char id[LK_WEBTOKEN_ID_LEN + 1];
    char role[16];   /* "guest", "operator" or "admin" */
    int64_t created; /* Unix time, seconds */
    char hash[LK_WEBTOKEN_HASH_LEN + 1];
    char name[LK_WEBTOKEN_NAME_MAX + 1];
};

/* A new token (token: LK_WEBTOKEN_LEN + 1 bytes) and a new id (LK_WEBTOKEN_ID_LEN + 1),
 * from libsodium's random bytes (sodium_init must have succeeded). */
void lk_webtoken_generate(char *token, char *id);

/* The hex BLAKE2b-256 hash of token (hash: LK_WEBTOKEN_HASH_LEN + 1 bytes). */
void lk_webtoken_hash(const char *token, char *hash);

/* Whether text has a token's form: the prefix and 43 base64url characters. */
bool lk_webtoken_is_token(const char *text);

/* Whether role names a role ("guest", "operator", "admin"). */
bool lk_webtoken_role_ok(const char *role);

/* A token's name: 1..LK_WEBTOKEN_NAME_MAX bytes of a tag's characters. 0 or -EINVAL with
 * a one-line reason in err. */
int lk_webtoken_validate_name(const char *name, char *err, size_t err_size);

/* Parses one line of the file ("ID ROLE CREATED HASH NAME", no newline) into *ret.
 * Returns 0, 1 for a blank or comment line (*ret untouched), or -EINVAL with a reason. */
int lk_webtoken_parse_line(const char *line, struct lk_webtoken *ret, char *err, size_t err_size);

/* Writes t's line with its newline into buf. Returns its length, or -ENOSPC. */
int lk_webtoken_format_line(const struct lk_webtoken *t, char *buf, size_t size);

/* The token of list[0..n) whose hash is token's (compared in constant time), or NULL.
 * A text without a token's form matches nothing. */
const struct lk_webtoken *lk_webtoken_find(const struct lk_webtoken *list, size_t n,
                                           const char *token);
