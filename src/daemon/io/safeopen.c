/* Safe opens of files a user can influence: a pidfile in the application's own directory,
 * lk.conf, the cluster key, the fence hook, the scripts lkd runs (issue 11, item 5). What
 * enters: a path and the rules for its kind. A path is looked at with lstat() first, so that
 * a FIFO, a device or a socket in its place is refused without being opened at all; the open
 * itself is O_NONBLOCK (a FIFO swapped in between cannot block) and O_NOFOLLOW where the last
 * component must not be a link, and fstat() of the open file decides, so that what is read
 * is what was checked. Owner and mode are checked as the rules say.
 *
 * It must never block on a path, never follow a final link the rules do not allow, never log
 * (the caller says the one-line error it gets, once) and never change a file. */
#include "safeopen.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "validate.h"

#define HEADER_BYTES 4

const struct lk_safeopen_rules lk_safeopen_pidfile = {.max_size = 0, .trusted_owner = false};
const struct lk_safeopen_rules lk_safeopen_config = {
        .max_size = 1024 * 1024, .follow = true, .trusted_owner = true};
const struct lk_safeopen_rules lk_safeopen_key = {
        .max_size = 4096, .follow = true, .trusted_owner = true};

__attribute__((format(printf, 4, 5))) static int fail(int r, char *err, size_t err_size,
                                                      const char *fmt, ...)
{
    if (err && err_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
    }
    return r;
}

/* What a file that is not regular is, for "'path' is a FIFO, not a regular file". */
static const char *type_name(mode_t mode)
{
    if (S_ISDIR(mode)) {
        return "a directory";
    }
    if (S_ISFIFO(mode)) {
        return "a FIFO";
    }
    if (S_ISCHR(mode) || S_ISBLK(mode)) {
        return "a device";
    }
    if (S_ISSOCK(mode)) {
        return "a socket";
    }
    if (S_ISLNK(mode)) {
        return "a symbolic link";
    }
    return "not a regular file";
}

/* Refuses anything but a regular file: -EISDIR, -ELOOP (a link) or -EINVAL. */
static int check_type(const char *path, mode_t mode, char *err, size_t err_size)
{
    if (S_ISREG(mode)) {
        return 0;
    }
    int r = S_ISDIR(mode) ? -EISDIR : S_ISLNK(mode) ? -ELOOP : -EINVAL;
    if (S_ISLNK(mode)) {
        return fail(r, err, err_size, "'%s' is a symbolic link", path);
    }
    return fail(r, err, err_size, "'%s' is %s, not a regular file", path, type_name(mode));
}

static int check_owner(const char *path, const struct stat *st, char *err, size_t err_size)
{
    if (st->st_uid != 0 && st->st_uid != geteuid()) {
        return fail(-EPERM, err, err_size, "'%s' is owned by uid %u, not by root", path,
                    (unsigned) st->st_uid);
    }
    if (st->st_mode & (S_IWGRP | S_IWOTH)) {
        return fail(-EPERM, err, err_size, "'%s' is writable by group or others", path);
    }
    return 0;
}

int lk_safeopen(const char *path, const struct lk_safeopen_rules *rules, struct stat *ret_st,
                char *err, size_t err_size)
{
    struct stat before;
    /* lstat first: a FIFO or a device is refused without being opened (opening a device
     * may do something). */
    int r = rules->follow ? stat(path, &before) : lstat(path, &before);
    if (r < 0) {
        r = -errno;
        return fail(r, err, err_size, "cannot open '%s': %s", path, strerror(-r));
    }
    r = check_type(path, before.st_mode, err, err_size);
    if (r < 0) {
        return r;
    }
    int flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | (rules->follow ? 0 : O_NOFOLLOW);
    int fd = open(path, flags);
    if (fd < 0) {
        r = -errno;
        if (r == -ELOOP && !rules->follow) {
            return fail(r, err, err_size, "'%s' is a symbolic link", path);
        }
        return fail(r, err, err_size, "cannot open '%s': %s", path, strerror(-r));
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        r = -errno;
        (void) close(fd);
        return fail(r, err, err_size, "cannot open '%s': %s", path, strerror(-r));
    }
    r = check_type(path, st.st_mode, err, err_size);
    if (r == 0 && (st.st_dev != before.st_dev || st.st_ino != before.st_ino)) {
        r = fail(-EAGAIN, err, err_size, "'%s' was replaced while being opened", path);
    }
    if (r == 0 && rules->trusted_owner) {
        r = check_owner(path, &st, err, err_size);
    }
    if (r == 0 && rules->max_size && (uint64_t) st.st_size > rules->max_size) {
        r = fail(-EFBIG, err, err_size, "'%s' is too large: %lld bytes, at most %zu", path,
                 (long long) st.st_size, rules->max_size);
    }
    if (r < 0) {
        (void) close(fd);
        return r;
    }
    if (ret_st) {
        *ret_st = st;
    }
    return fd;
}

int lk_safeopen_read(const char *path, const struct lk_safeopen_rules *rules, size_t limit,
                     char **ret_data, size_t *ret_len, struct stat *ret_st, char *err,
                     size_t err_size)
{
    struct stat st;
    int fd = lk_safeopen(path, rules, &st, err, err_size);
    if (fd < 0) {
        return fd;
    }
    /* One byte more than allowed tells a file that grew past the bound since fstat(). */
    size_t cap = rules->max_size ? rules->max_size + 1 : limit;
    char *data = malloc(cap + 1);
    if (!data) {
        (void) close(fd);
        return fail(-ENOMEM, err, err_size, "cannot read '%s': out of memory", path);
    }
    size_t got = 0;
    int r = 0;
    while (got < cap) {
        ssize_t n = read(fd, data + got, cap - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            r = -errno;
            break;
        }
        if (n == 0) {
            break;
        }
        got += (size_t) n;
    }
    (void) close(fd);
    if (r == 0 && rules->max_size && got > rules->max_size) {
        r = fail(-EFBIG, err, err_size, "'%s' is too large: more than %zu bytes", path,
                 rules->max_size);
    } else if (r < 0) {
        (void) fail(r, err, err_size, "cannot read '%s': %s", path, strerror(-r));
    }
    if (r < 0) {
        free(data);
        return r;
    }
    data[got] = '\0';
    *ret_data = data;
    *ret_len = got;
    if (ret_st) {
        *ret_st = st;
    }
    return 0;
}

/* Owner and mode of one component of a script's path; 1 with msg when unsafe. A sticky
 * directory (/tmp) may be writable by others: they cannot replace what it holds. */
static int check_entry(const struct stat *st, const char *kind, const char *path, char *msg,
                       size_t size)
{
    if (st->st_uid != 0 && st->st_uid != geteuid()) {
        (void) fail(0, msg, size, "%s '%s' is owned by uid %u", kind, path, (unsigned) st->st_uid);
        return 1;
    }
    bool sticky_dir = S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX);
    if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !sticky_dir) {
        (void) fail(0, msg, size, "%s '%s' is writable by group or others", kind, path);
        return 1;
    }
    return 0;
}

int lk_safeopen_check_tree(const char *root, const char *path, const char *kind, char *msg,
                           size_t size)
{
    size_t root_len = strlen(root);
    while (root_len > 1 && root[root_len - 1] == '/') {
        root_len--;
    }
    if (root[0] != '/') {
        (void) fail(0, msg, size, "secure root '%s' is not absolute", root);
        return 1;
    }
    if (strncmp(path, root, root_len) != 0 || (root_len > 1 && path[root_len] != '/')) {
        (void) fail(0, msg, size, "%s '%s' is not under '%.*s'", kind, path, (int) root_len, root);
        return 1;
    }

    char dir[PATH_MAX];
    if (strlen(path) >= sizeof(dir)) {
        return fail(-ENAMETOOLONG, msg, size, "%s '%.64s...': path too long", kind, path);
    }
    memcpy(dir, root, root_len);
    size_t len = root_len;
    dir[len] = '\0';

    struct stat st;
    if (stat(dir, &st) < 0) {
        int r = -errno;
        return fail(r, msg, size, "directory '%s': %s", dir, strerror(-r));
    }
    if (!S_ISDIR(st.st_mode)) {
        return fail(-ENOTDIR, msg, size, "'%s' is not a directory", dir);
    }
    if (check_entry(&st, "directory", dir, msg, size)) {
        return 1;
    }

    const char *p = path + root_len;
    for (;;) {
        while (*p == '/') {
            p++;
        }
        if (*p == '\0') {
            /* The path ends in '/': it names a directory, not a script. */
            (void) fail(0, msg, size, "%s '%s' is not a regular file", kind, path);
            return 1;
        }
        size_t comp_len = strcspn(p, "/");
        const char *next = p + comp_len;
        while (*next == '/') {
            next++;
        }
        bool last = *next == '\0';

        if (comp_len == 1 && p[0] == '.') {
            p = next;
            if (last) {
                (void) fail(0, msg, size, "%s '%s' is not a regular file", kind, path);
                return 1;
            }
            continue;
        }
        if (comp_len == 2 && p[0] == '.' && p[1] == '.') {
            (void) fail(0, msg, size, "%s path '%s' contains '..'", kind, path);
            return 1;
        }
        if (len > 0 && dir[len - 1] != '/') {
            dir[len++] = '/';
        }
        memcpy(dir + len, p, comp_len);
        len += comp_len;
        dir[len] = '\0';

        if (lstat(dir, &st) < 0) {
            int r = -errno;
            if (last) {
                return fail(r, msg, size, "%s '%s': %s", kind, path, strerror(-r));
            }
            return fail(r, msg, size, "directory '%s': %s", dir, strerror(-r));
        }
        if (!last) {
            if (S_ISLNK(st.st_mode)) {
                (void) fail(0, msg, size, "directory '%s' is a symbolic link", dir);
                return 1;
            }
            if (!S_ISDIR(st.st_mode)) {
                return fail(-ENOTDIR, msg, size, "'%s' is not a directory", dir);
            }
            if (check_entry(&st, "directory", dir, msg, size)) {
                return 1;
            }
            p = next;
            continue;
        }
        if (S_ISLNK(st.st_mode)) {
            (void) fail(0, msg, size, "%s '%s' is a symbolic link", kind, path);
            return 1;
        }
        if (!S_ISREG(st.st_mode)) {
            (void) fail(0, msg, size, "%s '%s' is not a regular file", kind, path);
            return 1;
        }
        return check_entry(&st, kind, path, msg, size);
    }
}

int lk_safeopen_check_hook(const char *path, char *err, size_t err_size)
{
    const char *kind = "fence script";
    if (path[0] != '/') {
        return fail(-EINVAL, err, err_size, "%s '%s' is not an absolute path", kind, path);
    }
    char why[PATH_MAX + 256];
    int r = lk_safeopen_check_tree("/", path, kind, why, sizeof(why));
    if (r != 0) {
        /* Say which file the problem is about, and for a link, the path to give instead. */
        char real[PATH_MAX], hint[PATH_MAX + 48] = "";
        if (r > 0 && strstr(why, "is a symbolic link") && realpath(path, real)) {
            snprintf(hint, sizeof(hint), "; give the path without links ('%s')", real);
        }
        if (strncmp(why, kind, strlen(kind)) == 0) {
            (void) fail(0, err, err_size, "%s%s", why, hint);
        } else {
            (void) fail(0, err, err_size, "%s '%s': %s%s", kind, path, why, hint);
        }
        return r > 0 ? -EPERM : r;
    }
    const struct lk_safeopen_rules rules = {.trusted_owner = true};
    struct stat st;
    int fd = lk_safeopen(path, &rules, &st, why, sizeof(why));
    if (fd < 0) {
        return fail(fd, err, err_size, "%s: %s", kind, why);
    }
    unsigned char header[HEADER_BYTES];
    ssize_t n;
    do {
        n = read(fd, header, sizeof(header));
    } while (n < 0 && errno == EINTR);
    r = n < 0 ? -errno : 0;
    (void) close(fd);
    if (r < 0) {
        return fail(r, err, err_size, "cannot read %s '%s': %s", kind, path, strerror(-r));
    }
    if (!(st.st_mode & S_IXUSR)) {
        return fail(-EACCES, err, err_size, "%s '%s' is not executable (mode %04o)", kind, path,
                    (unsigned) (st.st_mode & 07777));
    }
    if (!lk_script_header_ok(header, (size_t) n)) {
        return fail(-ENOEXEC, err, err_size,
                    "%s '%s' is not executable by the kernel: it must start with '#!' or be an "
                    "ELF binary",
                    kind, path);
    }
    return 0;
}
