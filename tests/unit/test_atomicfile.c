/* Unit tests of src/daemon/io/atomicfile.c: the content and the mode (whatever the umask)
 * land at the final path and the temporary file is gone; a failed rename names its step,
 * returns its errno and removes the temporary file, the old file untouched; the fsync of
 * a path's directory, and of a missing one. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "atomicfile.h"

struct fixture {
    char dir[64];
    char path[PATH_MAX];
    char tmp[PATH_MAX + 8];
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_atomicfile.XXXXXX");
    if (!mkdtemp(fx->dir)) {
        return -1;
    }
    snprintf(fx->path, sizeof(fx->path), "%s/file", fx->dir);
    snprintf(fx->tmp, sizeof(fx->tmp), "%s/file.new", fx->dir);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
    if (system(cmd) != 0) {
        return -1;
    }
    free(fx);
    return 0;
}

static void read_text(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

static void commit__writes_content_and_mode(void **state)
{
    struct fixture *fx = *state;
    mode_t old = umask(0077);
    int fd = open(fx->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    umask(old);
    assert_true(fd >= 0);
    const char *step = NULL;
    assert_int_equal(lk_atomicfile_commit(fd, fx->tmp, fx->path, 0644, "one\ntwo\n", 8, &step), 0);
    char text[64];
    read_text(fx->path, text, sizeof(text));
    assert_string_equal(text, "one\ntwo\n");
    struct stat st;
    assert_int_equal(stat(fx->path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    assert_int_equal(access(fx->tmp, F_OK), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(lk_atomicfile_sync_dir(fx->path), 0);
}

static void commit__failed_rename_removes_the_temporary(void **state)
{
    struct fixture *fx = *state;
    /* A non-empty directory at the final path: rename() refuses to replace it. */
    char inner[PATH_MAX + 16];
    assert_int_equal(mkdir(fx->path, 0755), 0);
    snprintf(inner, sizeof(inner), "%s/x", fx->path);
    assert_int_equal(mkdir(inner, 0755), 0);
    int fd = open(fx->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    const char *step = NULL;
    int r = lk_atomicfile_commit(fd, fx->tmp, fx->path, 0600, "new\n", 4, &step);
    assert_int_equal(r, -EISDIR);
    assert_string_equal(step, "rename");
    assert_int_equal(access(fx->tmp, F_OK), -1);
    assert_int_equal(access(inner, F_OK), 0);
}

static void commit__failed_write_names_the_step(void **state)
{
    struct fixture *fx = *state;
    int fd = open(fx->tmp, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    const char *step = NULL;
    int r = lk_atomicfile_commit(fd, fx->tmp, fx->path, 0600, "new\n", 4, &step);
    assert_int_equal(r, -EBADF);
    assert_string_equal(step, "write");
    assert_int_equal(access(fx->tmp, F_OK), -1);
    assert_int_equal(access(fx->path, F_OK), -1);
}

static void sync_dir__missing_directory(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/none/file", fx->dir);
    assert_int_equal(lk_atomicfile_sync_dir(path), -ENOENT);
    assert_int_equal(lk_atomicfile_sync_dir("/file"), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
            T(commit__writes_content_and_mode),
            T(commit__failed_rename_removes_the_temporary),
            T(commit__failed_write_names_the_step),
            T(sync_dir__missing_directory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
