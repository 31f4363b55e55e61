/* $LKROOT/etc/web-tokens: the web console's tokens of this node, one line each
 * (src/lib/webtoken.h), only their hashes. Read through safeopen.c, written atomically. */
#pragma once

#include <stddef.h>

#include "webtoken.h"

#define LK_WEBTOKENS_FILE "etc/web-tokens"

/* Reads root's file into list (room for LK_WEBTOKEN_MAX) and *ret_n. A missing file is no
 * token. Returns 0, or -errno with a one-line message (the file, the line) in err. */
int lk_webtokens_load(const char *root, struct lk_webtoken *list, size_t *ret_n, char *err,
                      size_t err_size);

/* Writes list[0..n) to root's file: mode 0600, path.new, fsync, rename, fsync of etc/.
 * Returns 0, or -errno with a one-line message in err. */
int lk_webtokens_save(const char *root, const struct lk_webtoken *list, size_t n, char *err,
                      size_t err_size);
