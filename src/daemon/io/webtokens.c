/* The file of the web console's tokens, etc/web-tokens (webtokens.h): read whole through
 * safeopen.c (a regular file of root's, not writable by others, bounded), each line
 * checked by src/lib/webtoken.c; written as a new file of mode 0600 that replaces the old
 * one by rename after an fsync (atomicfile.c), so a crash leaves the old list or the new.
 * Events enter from api/api_web.c only (create, list, revoke, check).
 *
 * It never sees a token itself, only hashes, and never logs: callers say what failed. */
#include "webtokens.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomicfile.h"
#include "safeopen.h"
#include "validate.h"

static const struct lk_safeopen_rules tokens_rules = {
        .max_size = (size_t) LK_WEBTOKEN_MAX * LK_WEBTOKEN_LINE_MAX,
        .follow = false,
        .trusted_owner = true,
};

int lk_webtokens_load(const char *root, struct lk_webtoken *list, size_t *ret_n, char *err,
                      size_t err_size)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", root, LK_WEBTOKENS_FILE);
    *ret_n = 0;
    char *text = NULL;
    size_t len = 0;
    char oerr[512];
    int r = lk_safeopen_read(path, &tokens_rules, 0, &text, &len, NULL, oerr, sizeof(oerr));
    if (r == -ENOENT) {
        return 0;
    }
    if (r < 0) {
        (void) lk_fail_einval(err, err_size, "%s", oerr);
        return r;
    }
    size_t n = 0;
    int lineno = 0;
    r = 0;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        struct lk_webtoken t;
        char lerr[256];
        int pr = lk_webtoken_parse_line(line, &t, lerr, sizeof(lerr));
        if (pr == 1) {
            continue;
        }
        if (pr < 0 || n >= LK_WEBTOKEN_MAX) {
            r = lk_fail_einval(err, err_size, "%s:%d: %s", path, lineno,
                               pr < 0 ? lerr : "too many tokens");
            break;
        }
        list[n++] = t;
    }
    free(text);
    if (r == 0) {
        *ret_n = n;
    }
    return r;
}

int lk_webtokens_save(const char *root, const struct lk_webtoken *list, size_t n, char *err,
                      size_t err_size)
{
    char path[PATH_MAX], tmp[PATH_MAX + 8];
    snprintf(path, sizeof(path), "%s/%s", root, LK_WEBTOKENS_FILE);
    snprintf(tmp, sizeof(tmp), "%s.new", path);
    static const char header[] = "# OpenKeeper web console tokens (lkcli web token): "
                                 "ID ROLE CREATED HASH NAME; hashes only\n";
    /* The whole text first (at most LK_WEBTOKEN_MAX lines), then one atomic write. */
    char *text = malloc(sizeof(header) + n * LK_WEBTOKEN_LINE_MAX);
    if (!text) {
        (void) lk_fail_einval(err, err_size, "cannot write '%s': write failed: %s", path,
                              strerror(ENOMEM));
        return -ENOMEM;
    }
    size_t len = strlen(header);
    memcpy(text, header, len);
    for (size_t i = 0; i < n; i++) {
        int l = lk_webtoken_format_line(&list[i], text + len, LK_WEBTOKEN_LINE_MAX);
        if (l < 0) {
            free(text);
            (void) lk_fail_einval(err, err_size, "cannot write '%s': write failed: %s", path,
                                  strerror(-l));
            return l;
        }
        len += (size_t) l;
    }
    if (unlink(tmp) < 0 && errno != ENOENT) {
        int e = errno;
        free(text);
        (void) lk_fail_einval(err, err_size, "cannot remove '%s': %s", tmp, strerror(e));
        return -e;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        free(text);
        (void) lk_fail_einval(err, err_size, "cannot create '%s': %s", tmp, strerror(e));
        return -e;
    }
    const char *step = NULL;
    int r = lk_atomicfile_commit(fd, tmp, path, 0600, text, len, &step);
    free(text);
    if (r < 0) {
        (void) lk_fail_einval(err, err_size, "cannot write '%s': %s failed: %s", path, step,
                              strerror(-r));
        return r;
    }
    (void) lk_atomicfile_sync_dir(path);
    return 0;
}
