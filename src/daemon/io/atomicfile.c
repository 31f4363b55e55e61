/* Writing a file atomically: the content into a temporary file in the final file's
 * directory, its mode set, fsync, close, rename over the final path, then an fsync of the
 * directory. Used by config.c (lk.conf) and webtokens.c (etc/web-tokens), which create
 * their temporary file themselves, and, whole through lk_atomicfile_write, by scripts.c
 * (script copies), paramfile.c (parameters, helpers) and tunfile.c (the tunables).
 * Events enter only as those callers' saves, on the daemon's loop.
 *
 * File work only: it never logs and never names the file in a message (callers say what
 * failed, with the step it reports); it never leaves a temporary file behind on failure. */
#include "atomicfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        buf += n;
        len -= (size_t) n;
    }
    return 0;
}

int lk_atomicfile_commit(int fd, const char *tmp, const char *path, mode_t mode, const void *data,
                         size_t len, const char **ret_step)
{
    const char *step = "write";
    int r = fchmod(fd, mode) < 0 ? -errno : 0;
    if (r == 0) {
        r = write_all(fd, data, len);
    }
    if (r == 0) {
        step = "fsync";
        r = fsync(fd) < 0 ? -errno : 0;
    }
    if (close(fd) < 0 && r == 0) {
        step = "close";
        r = -errno;
    }
    if (r == 0) {
        step = "rename";
        r = rename(tmp, path) < 0 ? -errno : 0;
    }
    if (r < 0) {
        (void) unlink(tmp);
    }
    *ret_step = step;
    return r;
}

int lk_atomicfile_sync_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, sizeof(dir), ".");
    } else if (slash == path) {
        snprintf(dir, sizeof(dir), "/");
    } else {
        snprintf(dir, sizeof(dir), "%.*s", (int) (slash - path), path);
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    int r = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return r;
}

int lk_atomicfile_write(const char *dir, const char *name, mode_t mode, const void *data,
                        size_t len, const char **ret_step)
{
    char path[4096], tmp[4096];
    int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
    int m = snprintf(tmp, sizeof(tmp), "%s/.%s.new", dir, name);
    if (n < 0 || (size_t) n >= sizeof(path) || m < 0 || (size_t) m >= sizeof(tmp)) {
        *ret_step = "open";
        return -ENAMETOOLONG;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, mode);
    if (fd < 0) {
        *ret_step = "open";
        return -errno;
    }
    int r = lk_atomicfile_commit(fd, tmp, path, mode, data, len, ret_step);
    if (r < 0) {
        return r;
    }
    (void) lk_atomicfile_sync_dir(path);
    return 0;
}
