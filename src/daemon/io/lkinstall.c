/* Installs LifeKeeper's commands and Perl files into $LKROOT at lkd's start (the tables
 * are lib/lifekeeper.c): each is read from where the build or the installation put it and
 * written atomically (a temporary file in the target directory, then rename), so that a
 * script running one of them meanwhile sees the old file or the new, never half. The
 * directories LifeKeeper's gen/app scripts expect are made too (0755).
 *
 * Events that enter: one call from main at start. It must never overwrite a file by
 * writing through it (a link or a file another program holds open), never follow a
 * symbolic link at the target, and never stop lkd from starting. */
#include "lkinstall.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "lifekeeper.h"
#include "resource.h"

#define MAX_FILE_SIZE (64u << 20)

/* Reads the regular file path whole; NULL when it is missing, unreadable or not a regular
 * file. O_NONBLOCK: a FIFO in its place fails fstat's check instead of hanging lkd's start. */
static char *read_whole(const char *path, size_t *ret_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        return NULL;
    }
    struct stat st;
    char *data = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t) st.st_size <= MAX_FILE_SIZE) {
        data = malloc((size_t) st.st_size + 1);
    }
    size_t len = 0;
    while (data && len < (size_t) st.st_size) {
        ssize_t n = read(fd, data + len, (size_t) st.st_size - len);
        if (n <= 0) {
            free(data);
            data = NULL;
            break;
        }
        len += (size_t) n;
    }
    (void) close(fd);
    if (data) {
        *ret_len = len;
    }
    return data;
}

static int copy_into(const char *data, size_t len, const char *dst, mode_t mode)
{
    char tmp[LK_PATH_MAX + 64];
    const char *slash = strrchr(dst, '/');
    int n = snprintf(tmp, sizeof(tmp), "%.*s/.%s.new", (int) (slash - dst), dst, slash + 1);
    if (n < 0 || (size_t) n >= sizeof(tmp)) {
        return -ENAMETOOLONG;
    }
    (void) unlink(tmp); /* O_EXCL below: never write through what is left there */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        return -errno;
    }
    const char *step = NULL;
    return lk_atomicfile_commit(fd, tmp, dst, mode, data, len, &step);
}

static void note(char *list, size_t size, const char *name)
{
    size_t used = strlen(list);
    if (used < size) {
        snprintf(list + used, size - used, "%s%s", used ? ", " : "", name);
    }
}

/* Finds name in the directories of dirs (printf patterns with one %s: exe_dir), copies it
 * to dst. 1 = installed, 0 = not found, -errno = found but not written. */
static int install_one(const char *exe_dir, const char *const *dirs, const char *name,
                       const char *dst, mode_t mode)
{
    for (size_t i = 0; dirs[i]; i++) {
        char src[LK_PATH_MAX + 128];
        snprintf(src, sizeof(src), "%s/%s%s", exe_dir, dirs[i], name);
        size_t len = 0;
        char *data = read_whole(src, &len);
        if (!data) {
            continue;
        }
        int r = copy_into(data, len, dst, mode);
        free(data);
        return r < 0 ? r : 1;
    }
    return 0;
}

int lk_lkinstall_run(const char *root, const char *exe_dir, char *missing, size_t missing_size,
                     char *failed, size_t failed_size)
{
    /* src/cli/compat/: the build tree, when the LifeKeeper commands are declared in that
     * folder's own meson.build. */
    static const char *const command_dirs[] = {"", "src/cli/compat/", "../bin/",
                                               "../libexec/openkeeper/", NULL};
    static const char *const perl_dirs[] = {"perl/", "../share/openkeeper/perl/", NULL};
    missing[0] = '\0';
    failed[0] = '\0';
    for (size_t i = 0; lk_lifekeeper_dirs[i]; i++) {
        char path[LK_PATH_MAX + 64];
        snprintf(path, sizeof(path), "%s/%s", root, lk_lifekeeper_dirs[i]);
        if (mkdir(path, 0755) < 0 && errno != EEXIST) {
            note(failed, failed_size, lk_lifekeeper_dirs[i]);
        }
    }
    int installed = 0;
    for (size_t i = 0; lk_lifekeeper_commands[i]; i++) {
        char dst[LK_PATH_MAX + 64];
        snprintf(dst, sizeof(dst), "%s/bin/%s", root, lk_lifekeeper_commands[i]);
        int r = install_one(exe_dir, command_dirs, lk_lifekeeper_commands[i], dst, 0755);
        if (r == 0) {
            note(missing, missing_size, lk_lifekeeper_commands[i]);
        } else if (r < 0) {
            note(failed, failed_size, lk_lifekeeper_commands[i]);
        } else {
            installed++;
        }
    }
    for (size_t i = 0; lk_lifekeeper_perl_files[i].name; i++) {
        char dst[LK_PATH_MAX + 64];
        snprintf(dst, sizeof(dst), "%s/%s", root, lk_lifekeeper_perl_files[i].dest);
        int r = install_one(exe_dir, perl_dirs, lk_lifekeeper_perl_files[i].name, dst, 0644);
        if (r == 0) {
            note(missing, missing_size, lk_lifekeeper_perl_files[i].name);
        } else if (r < 0) {
            note(failed, failed_size, lk_lifekeeper_perl_files[i].name);
        } else {
            installed++;
        }
    }
    return installed;
}
