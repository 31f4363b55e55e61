/* Unit tests of src/daemon/io/safeopen.c: a FIFO, a device, a directory or a link in a path's
 * place is refused at once (never blocks), owner, mode and size as the rules say, the
 * messages name the path; the script check from a root (sticky directories) and the fence
 * hook's check. Cases that need another owner run only as root. */
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

#include "safeopen.h"

#define NOBODY 65534

struct fixture {
    char dir[64];
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_safeopen.XXXXXX");
    if (!mkdtemp(fx->dir) || chmod(fx->dir, 0755) < 0) {
        return -1;
    }
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

static char *in(const struct fixture *fx, const char *name, char *buf)
{
    snprintf(buf, PATH_MAX, "%s/%s", fx->dir, name);
    return buf;
}

static char *file(const struct fixture *fx, const char *name, const char *text, mode_t mode,
                  char *buf)
{
    in(fx, name, buf);
    FILE *f = fopen(buf, "we");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(buf, mode), 0);
    return buf;
}

/* err must be exactly "'<path>' <rest>". */
static void expect_err(const char *err, const char *path, const char *rest)
{
    char want[PATH_MAX + 256];
    snprintf(want, sizeof(want), "'%s' %s", path, rest);
    assert_string_equal(err, want);
}

/* ---------------------------------------------------------------- lk_safeopen: refusals */

static void lk_safeopen__fifo_is_refused_at_once(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX], err[PATH_MAX + 128];
    assert_int_equal(mkfifo(in(fx, "app.pid", path), 0644), 0);
    /* Without a writer a blocking open would wait for ever: the test's timeout says so. */
    assert_int_equal(lk_safeopen(path, &lk_safeopen_pidfile, NULL, err, sizeof(err)), -EINVAL);
    expect_err(err, path, "is a FIFO, not a regular file");
    char *data = NULL;
    size_t len = 0;
    assert_int_equal(
            lk_safeopen_read(path, &lk_safeopen_config, 0, &data, &len, NULL, err, sizeof(err)),
            -EINVAL);
    assert_null(data);
    expect_err(err, path, "is a FIFO, not a regular file");
}

static void lk_safeopen__device_socket_directory_are_refused(void **state)
{
    struct fixture *fx = *state;
    char err[PATH_MAX + 128];
    assert_int_equal(lk_safeopen("/dev/null", &lk_safeopen_pidfile, NULL, err, sizeof(err)),
                     -EINVAL);
    expect_err(err, "/dev/null", "is a device, not a regular file");
    assert_int_equal(lk_safeopen(fx->dir, &lk_safeopen_pidfile, NULL, err, sizeof(err)), -EISDIR);
    expect_err(err, fx->dir, "is a directory, not a regular file");
}

static void lk_safeopen__missing_names_the_path(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX], err[PATH_MAX + 128], want[PATH_MAX + 128];
    assert_int_equal(
            lk_safeopen(in(fx, "nothing", path), &lk_safeopen_config, NULL, err, sizeof(err)),
            -ENOENT);
    snprintf(want, sizeof(want), "cannot open '%s': %s", path, strerror(ENOENT));
    assert_string_equal(err, want);
}

static void lk_safeopen__final_link_refused_unless_allowed(void **state)
{
    struct fixture *fx = *state;
    char target[PATH_MAX], link[PATH_MAX], err[PATH_MAX + 128];
    file(fx, "real.pid", "42\n", 0644, target);
    assert_int_equal(symlink(target, in(fx, "link.pid", link)), 0);
    assert_int_equal(lk_safeopen(link, &lk_safeopen_pidfile, NULL, err, sizeof(err)), -ELOOP);
    expect_err(err, link, "is a symbolic link");
    /* lk.conf may be a link (etc/ is root's); what it points to is checked. */
    int fd = lk_safeopen(link, &lk_safeopen_config, NULL, err, sizeof(err));
    assert_true(fd >= 0);
    close(fd);
    /* A link to a FIFO is no better than the FIFO. */
    char fifo[PATH_MAX], link2[PATH_MAX];
    assert_int_equal(mkfifo(in(fx, "fifo", fifo), 0600), 0);
    assert_int_equal(symlink(fifo, in(fx, "link2", link2)), 0);
    assert_int_equal(lk_safeopen(link2, &lk_safeopen_config, NULL, err, sizeof(err)), -EINVAL);
    expect_err(err, link2, "is a FIFO, not a regular file");
}

static void lk_safeopen__writable_by_others_refused_when_trusted(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX], err[PATH_MAX + 128];
    file(fx, "lk.conf", "[node]\n", 0666, path);
    assert_int_equal(lk_safeopen(path, &lk_safeopen_config, NULL, err, sizeof(err)), -EPERM);
    expect_err(err, path, "is writable by group or others");
    assert_int_equal(chmod(path, 0620), 0);
    assert_int_equal(lk_safeopen(path, &lk_safeopen_key, NULL, err, sizeof(err)), -EPERM);
    /* A pidfile may be anyone's: the applications write them. */
    int fd = lk_safeopen(path, &lk_safeopen_pidfile, NULL, err, sizeof(err));
    assert_true(fd >= 0);
    close(fd);
}

static void lk_safeopen__foreign_owner_refused_when_trusted(void **state)
{
    struct fixture *fx = *state;
    if (geteuid() != 0) {
        skip();
    }
    char path[PATH_MAX], err[PATH_MAX + 128];
    file(fx, "authkey", "00\n", 0600, path);
    assert_int_equal(chown(path, NOBODY, 0), 0);
    assert_int_equal(lk_safeopen(path, &lk_safeopen_key, NULL, err, sizeof(err)), -EPERM);
    expect_err(err, path, "is owned by uid 65534, not by root");
    int fd = lk_safeopen(path, &lk_safeopen_pidfile, NULL, err, sizeof(err));
    assert_true(fd >= 0);
    close(fd);
}

static void lk_safeopen__too_large(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX], err[PATH_MAX + 128];
    static char big[5000];
    memset(big, 'x', sizeof(big) - 1);
    file(fx, "authkey", big, 0600, path);
    assert_int_equal(lk_safeopen(path, &lk_safeopen_key, NULL, err, sizeof(err)), -EFBIG);
    expect_err(err, path, "is too large: 4999 bytes, at most 4096");
}

/* ---------------------------------------------------------------- lk_safeopen_read */

static void lk_safeopen_read__whole_file_terminated(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX], err[PATH_MAX + 128];
    file(fx, "lk.conf", "[node]\nname = n1\n", 0644, path);
    char *data = NULL;
    size_t len = 0;
    struct stat st;
    assert_int_equal(
            lk_safeopen_read(path, &lk_safeopen_config, 0, &data, &len, &st, err, sizeof(err)), 0);
    assert_int_equal(len, 17);
    assert_string_equal(data, "[node]\nname = n1\n");
    assert_true(S_ISREG(st.st_mode));
    free(data);
}

static void lk_safeopen_read__unbounded_kind_reads_at_most_limit(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX], err[PATH_MAX + 128];
    file(fx, "app.pid", "12345\nand a lot more that nobody needs\n", 0666, path);
    char *data = NULL;
    size_t len = 0;
    assert_int_equal(
            lk_safeopen_read(path, &lk_safeopen_pidfile, 6, &data, &len, NULL, err, sizeof(err)),
            0);
    assert_int_equal(len, 6);
    assert_string_equal(data, "12345\n");
    free(data);
}

/* ---------------------------------------------------------------- lk_safeopen_check_tree */

static void lk_safeopen_check_tree__sticky_directory_is_fine(void **state)
{
    struct fixture *fx = *state;
    char sticky[PATH_MAX], sub[PATH_MAX + 8], script[PATH_MAX + 16], msg[PATH_MAX + 128];
    assert_int_equal(mkdir(in(fx, "tmp", sticky), 0755), 0);
    assert_int_equal(chmod(sticky, 01777), 0);
    snprintf(sub, sizeof(sub), "%s/d", sticky);
    assert_int_equal(mkdir(sub, 0755), 0);
    snprintf(script, sizeof(script), "%s/run", sub);
    FILE *f = fopen(script, "we");
    assert_non_null(f);
    fputs("#!/bin/sh\n", f);
    fclose(f);
    assert_int_equal(chmod(script, 0755), 0);
    assert_int_equal(lk_safeopen_check_tree(fx->dir, script, "script", msg, sizeof(msg)), 0);
    /* Without the sticky bit anyone could replace d: refused. */
    assert_int_equal(chmod(sticky, 0777), 0);
    assert_int_equal(lk_safeopen_check_tree(fx->dir, script, "script", msg, sizeof(msg)), 1);
    char want[PATH_MAX + 128];
    snprintf(want, sizeof(want), "directory '%s' is writable by group or others", sticky);
    assert_string_equal(msg, want);
}

static void lk_safeopen_check_tree__missing_says_so(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX], msg[PATH_MAX + 128], want[PATH_MAX + 128];
    assert_int_equal(
            lk_safeopen_check_tree("/", in(fx, "gone", path), "fence script", msg, sizeof(msg)),
            -ENOENT);
    snprintf(want, sizeof(want), "fence script '%s': %s", path, strerror(ENOENT));
    assert_string_equal(msg, want);
}

/* ---------------------------------------------------------------- lk_safeopen_check_hook */

static void lk_safeopen_check_hook__refusals(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX], err[PATH_MAX + 256], want[PATH_MAX + 256];
    assert_int_equal(lk_safeopen_check_hook("bin/fence", err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "fence script 'bin/fence' is not an absolute path");

    file(fx, "plain", "#!/bin/sh\nexit 0\n", 0644, path);
    assert_int_equal(lk_safeopen_check_hook(path, err, sizeof(err)), -EACCES);
    snprintf(want, sizeof(want), "fence script '%s' is not executable (mode 0644)", path);
    assert_string_equal(err, want);

    file(fx, "noheader", "exit 0\n", 0755, path);
    assert_int_equal(lk_safeopen_check_hook(path, err, sizeof(err)), -ENOEXEC);
    assert_non_null(strstr(err, "must start with '#!'"));

    file(fx, "open", "#!/bin/sh\nexit 0\n", 0777, path);
    assert_int_equal(lk_safeopen_check_hook(path, err, sizeof(err)), -EPERM);
    snprintf(want, sizeof(want), "fence script '%s' is writable by group or others", path);
    assert_string_equal(err, want);

    assert_int_equal(mkfifo(in(fx, "fifo", path), 0755), 0);
    assert_int_equal(lk_safeopen_check_hook(path, err, sizeof(err)), -EPERM);
    snprintf(want, sizeof(want), "fence script '%s' is not a regular file", path);
    assert_string_equal(err, want);

    char target[PATH_MAX];
    file(fx, "target", "#!/bin/sh\nexit 0\n", 0755, target);
    assert_int_equal(symlink(target, in(fx, "link", path)), 0);
    assert_int_equal(lk_safeopen_check_hook(path, err, sizeof(err)), -EPERM);
    snprintf(want, sizeof(want),
             "fence script '%s' is a symbolic link; give the path without links ('%s')", path,
             target);
    assert_string_equal(err, want);

    /* A directory on the way that is writable by others: the message says which. */
    char open_dir[PATH_MAX], hook[PATH_MAX + 8];
    assert_int_equal(mkdir(in(fx, "opendir", open_dir), 0755), 0);
    assert_int_equal(chmod(open_dir, 0777), 0);
    snprintf(hook, sizeof(hook), "%s/h", open_dir);
    FILE *f = fopen(hook, "we");
    assert_non_null(f);
    fputs("#!/bin/sh\n", f);
    fclose(f);
    assert_int_equal(chmod(hook, 0755), 0);
    assert_int_equal(lk_safeopen_check_hook(hook, err, sizeof(err)), -EPERM);
    snprintf(want, sizeof(want), "fence script '%s': directory '%s' is writable by group or others",
             hook, open_dir);
    assert_string_equal(err, want);
}

static void lk_safeopen_check_hook__foreign_owner(void **state)
{
    struct fixture *fx = *state;
    if (geteuid() != 0) {
        skip();
    }
    char path[PATH_MAX], err[PATH_MAX + 256], want[PATH_MAX + 256];
    file(fx, "theirs", "#!/bin/sh\nexit 0\n", 0755, path);
    assert_int_equal(chown(path, NOBODY, 0), 0);
    assert_int_equal(lk_safeopen_check_hook(path, err, sizeof(err)), -EPERM);
    snprintf(want, sizeof(want), "fence script '%s' is owned by uid 65534", path);
    assert_string_equal(err, want);
}

static void lk_safeopen_check_hook__accepts_a_safe_script(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX], err[PATH_MAX + 256] = "";
    /* Under /tmp (sticky, root's) in a 0755 directory of ours. */
    file(fx, "fence", "#!/bin/sh\nexit 0\n", 0755, path);
    assert_int_equal(lk_safeopen_check_hook(path, err, sizeof(err)), 0);
    assert_int_equal(lk_safeopen_check_hook("/usr/bin/true", err, sizeof(err)), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
            T(lk_safeopen__fifo_is_refused_at_once),
            T(lk_safeopen__device_socket_directory_are_refused),
            T(lk_safeopen__missing_names_the_path),
            T(lk_safeopen__final_link_refused_unless_allowed),
            T(lk_safeopen__writable_by_others_refused_when_trusted),
            T(lk_safeopen__foreign_owner_refused_when_trusted),
            T(lk_safeopen__too_large),
            T(lk_safeopen_read__whole_file_terminated),
            T(lk_safeopen_read__unbounded_kind_reads_at_most_limit),
            T(lk_safeopen_check_tree__sticky_directory_is_fine),
            T(lk_safeopen_check_tree__missing_says_so),
            T(lk_safeopen_check_hook__refusals),
            T(lk_safeopen_check_hook__foreign_owner),
            T(lk_safeopen_check_hook__accepts_a_safe_script),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
