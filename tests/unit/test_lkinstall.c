/* Unit tests of src/daemon/io/lkinstall.c: a command found beside lkd, in ../bin or in
 * ../libexec/openkeeper is copied into $LKROOT/bin with mode 0755; the Perl files from
 * perl/ or ../share/openkeeper/perl into lib/perl and etc/default with 0644; the missing
 * ones are named and the run goes on; the directories gen/app scripts expect are made; a
 * symbolic link at a target is replaced, never written through; a FIFO in a source place is
 * skipped without waiting for a writer. */
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

#include "lifekeeper.h"
#include "lkinstall.h"

struct fixture {
    char top[64];
    char exe[PATH_MAX];  /* top/sbin: lkd's directory */
    char root[PATH_MAX]; /* top/root */
};

static void put(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
    close(fd);
}

static void mk(const char *top, const char *sub)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", top, sub);
    assert_int_equal(mkdir(path, 0755), 0);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    snprintf(fx->top, sizeof(fx->top), "/tmp/test_lkinstall.XXXXXX");
    if (!mkdtemp(fx->top)) {
        return -1;
    }
    snprintf(fx->exe, sizeof(fx->exe), "%s/sbin", fx->top);
    snprintf(fx->root, sizeof(fx->root), "%s/root", fx->top);
    mk(fx->top, "sbin");
    mk(fx->top, "root");
    mk(fx->top, "root/bin");
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->top);
    if (system(cmd) != 0) {
        return -1;
    }
    free(fx);
    return 0;
}

static void expect_file(const char *dir, const char *name, const char *text, mode_t mode)
{
    char path[PATH_MAX], buf[256] = "";
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, mode);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    assert_string_equal(buf, text);
}

static void lk_lkinstall_run__nothing_found_names_every_file(void **state)
{
    struct fixture *fx = *state;
    char missing[2048], failed[256];
    assert_int_equal(
            lk_lkinstall_run(fx->root, fx->exe, missing, sizeof(missing), failed, sizeof(failed)),
            0);
    assert_string_equal(failed, "");
    for (size_t i = 0; lk_lifekeeper_commands[i]; i++) {
        assert_non_null(strstr(missing, lk_lifekeeper_commands[i]));
    }
    assert_non_null(strstr(missing, "LK.pm"));
    assert_non_null(strstr(missing, "LifeKeeper.pl"));
    /* The directories are made all the same. */
    char path[PATH_MAX];
    for (size_t i = 0; lk_lifekeeper_dirs[i]; i++) {
        snprintf(path, sizeof(path), "%s/%s", fx->root, lk_lifekeeper_dirs[i]);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
    }
    /* A list cut to its size stays a string. */
    char small[8];
    (void) lk_lkinstall_run(fx->root, fx->exe, small, sizeof(small), failed, sizeof(failed));
    assert_true(strlen(small) < sizeof(small));
}

static void lk_lkinstall_run__copies_from_each_place(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    /* lk_err beside lkd, ins_list in ../bin, lcdrcp in ../libexec/openkeeper. */
    snprintf(path, sizeof(path), "%s/lk_err", fx->exe);
    put(path, "beside\n", 0700);
    mk(fx->top, "bin");
    snprintf(path, sizeof(path), "%s/bin/ins_list", fx->top);
    put(path, "in bin\n", 0755);
    mk(fx->top, "libexec");
    mk(fx->top, "libexec/openkeeper");
    snprintf(path, sizeof(path), "%s/libexec/openkeeper/lcdrcp", fx->top);
    put(path, "in libexec\n", 0755);
    /* LK.pm beside lkd (the build tree), LifeKeeper.pl installed. */
    mk(fx->top, "sbin/perl");
    snprintf(path, sizeof(path), "%s/perl/LK.pm", fx->exe);
    put(path, "package LK; 1;\n", 0600);
    mk(fx->top, "share");
    mk(fx->top, "share/openkeeper");
    mk(fx->top, "share/openkeeper/perl");
    snprintf(path, sizeof(path), "%s/share/openkeeper/perl/LifeKeeper.pl", fx->top);
    put(path, "1;\n", 0644);
    /* A link left at a target is replaced, not written through. */
    char victim[PATH_MAX], bin[PATH_MAX];
    snprintf(victim, sizeof(victim), "%s/victim", fx->top);
    put(victim, "untouched\n", 0644);
    snprintf(path, sizeof(path), "%s/bin/lk_err", fx->root);
    assert_int_equal(symlink(victim, path), 0);

    char missing[2048], failed[256];
    assert_int_equal(
            lk_lkinstall_run(fx->root, fx->exe, missing, sizeof(missing), failed, sizeof(failed)),
            5);
    assert_string_equal(failed, "");
    snprintf(bin, sizeof(bin), "%s/bin", fx->root);
    expect_file(bin, "lk_err", "beside\n", 0755);
    expect_file(bin, "ins_list", "in bin\n", 0755);
    expect_file(bin, "lcdrcp", "in libexec\n", 0755);
    expect_file(fx->root, "lib/perl/LK.pm", "package LK; 1;\n", 0644);
    expect_file(fx->root, "etc/default/LifeKeeper.pl", "1;\n", 0644);
    expect_file(fx->top, "victim", "untouched\n", 0644);
    assert_null(strstr(missing, "lk_err"));
    assert_null(strstr(missing, "LK.pm"));
    assert_non_null(strstr(missing, "lcduname"));
    /* No temporary file is left. */
    snprintf(path, sizeof(path), "%s/.lk_err.new", bin);
    assert_int_equal(access(path, F_OK), -1);
}

static void lk_lkinstall_run__a_fifo_in_a_source_place_is_skipped(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    /* A FIFO where lcduname would be found beside lkd: nobody writes to it, and lkd's
     * start must not wait for that. */
    snprintf(path, sizeof(path), "%s/lcduname", fx->exe);
    assert_int_equal(mkfifo(path, 0600), 0);
    snprintf(path, sizeof(path), "%s/lk_err", fx->exe);
    put(path, "beside\n", 0755);
    char missing[2048], failed[256];
    alarm(10);
    assert_int_equal(
            lk_lkinstall_run(fx->root, fx->exe, missing, sizeof(missing), failed, sizeof(failed)),
            1);
    alarm(0);
    assert_non_null(strstr(missing, "lcduname"));
    assert_string_equal(failed, "");
    char bin[PATH_MAX];
    snprintf(bin, sizeof(bin), "%s/bin", fx->root);
    expect_file(bin, "lk_err", "beside\n", 0755);
}

static void lk_lifekeeper_perl5lib__both_directories(void **state)
{
    (void) state;
    char buf[256];
    assert_string_equal(lk_lifekeeper_perl5lib("/r", buf, sizeof(buf)),
                        "/r/lib/perl:/r/lkadm/subsys/gen/app/lib");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(lk_lkinstall_run__nothing_found_names_every_file, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(lk_lkinstall_run__copies_from_each_place, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(lk_lkinstall_run__a_fifo_in_a_source_place_is_skipped,
                                            setup, teardown),
            cmocka_unit_test(lk_lifekeeper_perl5lib__both_directories),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
