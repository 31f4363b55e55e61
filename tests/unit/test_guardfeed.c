/* Unit tests of lkd's side of the guard's contract (src/daemon/io/guardfeed.c): the page
 * as a second mapping (the guard's view) sees it, the plan file, the status. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "guardfeed.h"

struct fixture {
    char root[64];
    char feed[128];
    char plan[128];
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    snprintf(fx->root, sizeof(fx->root), "/tmp/test_guardfeed.XXXXXX");
    if (!mkdtemp(fx->root)) {
        return -1;
    }
    char run[128];
    snprintf(run, sizeof(run), "%s/run", fx->root);
    mkdir(run, 0755);
    snprintf(fx->feed, sizeof(fx->feed), "%s/%s", fx->root, LK_GUARDFEED_NAME);
    snprintf(fx->plan, sizeof(fx->plan), "%s/%s", fx->root, LK_GUARDPLAN_NAME);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->root);
    if (system(cmd) != 0) {
        return -1;
    }
    free(fx);
    return 0;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

/* The guard's view: a second shared mapping of the file. */
static struct lk_guard_page *map_page(const char *path)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_size, 4096);
    assert_int_equal(st.st_mode & 0777, 0600);
    void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    assert_true(m != MAP_FAILED);
    return m;
}

static void lk_guardfeed_open__fails_without_run_dir(void **state)
{
    (void) state;
    struct lk_guardfeed *f = NULL;
    assert_int_equal(lk_guardfeed_open("/nonexistent-root-of-test", 3000, &f), -ENOENT);
    assert_null(f);
    lk_guardfeed_close(NULL, true);
}

static void lk_guardfeed_feed__page_as_the_guard_sees_it(void **state)
{
    struct fixture *fx = *state;
    struct lk_guardfeed *f = NULL;
    assert_int_equal(lk_guardfeed_open(fx->root, 3000, &f), 0);
    struct lk_guard_page *g = map_page(fx->feed);
    assert_int_equal(g->magic, LK_GUARD_MAGIC);
    assert_int_equal(g->version, LK_GUARD_VERSION);
    assert_int_equal(g->lkd_pid, getpid());
    assert_int_equal(g->lkd_state, LK_GUARD_LKD_STARTING);
    assert_int_equal(g->dead_ms, 3000);
    assert_int_equal(g->seq, 0);
    assert_int_equal(g->fenced, 0);

    char why[64] = "unchanged";
    assert_false(lk_guardfeed_feed(f, 12345, why, sizeof(why)));
    assert_string_equal(why, "unchanged");
    assert_int_equal(g->lkd_state, LK_GUARD_LKD_RUNNING);
    assert_int_equal(g->seq, 1);
    assert_int_equal(g->fed_mono_ns, 12345);
    assert_false(lk_guardfeed_feed(f, 23456, NULL, 0));
    assert_int_equal(g->seq, 2);
    assert_int_equal(g->fed_mono_ns, 23456);

    /* The guard fences: the next feed says so, with its reason (truncated to why). */
    assert_false(lk_guardfeed_fenced(f));
    strcpy(g->fence_why, "lkd did not feed the guard for 1500 ms");
    g->fenced = 1;
    assert_true(lk_guardfeed_fenced(f));
    assert_true(lk_guardfeed_feed(f, 34567, why, sizeof(why)));
    assert_string_equal(why, "lkd did not feed the guard for 1500 ms");
    char small[8];
    assert_true(lk_guardfeed_feed(f, 34568, small, sizeof(small)));
    assert_string_equal(small, "lkd did");

    /* A clean close marks the page STOPPED for the guard. */
    lk_guardfeed_close(f, true);
    assert_int_equal(g->lkd_state, LK_GUARD_LKD_STOPPED);
    munmap(g, 4096);
}

static void lk_guardfeed_open__replaces_the_last_page(void **state)
{
    struct fixture *fx = *state;
    struct lk_guardfeed *f = NULL;
    assert_int_equal(lk_guardfeed_open(fx->root, 3000, &f), 0);
    struct lk_guard_page *old = map_page(fx->feed);
    lk_guardfeed_feed(f, 1, NULL, 0);
    old->fenced = 1;
    /* An unclean close leaves the state: the guard fences when lkd exits. */
    lk_guardfeed_close(f, false);
    assert_int_equal(old->lkd_state, LK_GUARD_LKD_RUNNING);

    assert_int_equal(lk_guardfeed_open(fx->root, 2000, &f), 0);
    struct lk_guard_page *g = map_page(fx->feed);
    assert_int_equal(g->fenced, 0);
    assert_int_equal(g->lkd_state, LK_GUARD_LKD_STARTING);
    assert_int_equal(g->dead_ms, 2000);
    assert_int_equal(g->seq, 0);
    /* The old guard's mapping is its own. */
    assert_int_equal(old->fenced, 1);
    char tmp[160];
    snprintf(tmp, sizeof(tmp), "%s.new", fx->feed);
    assert_int_equal(access(tmp, F_OK), -1);
    lk_guardfeed_close(f, false);
    munmap(g, 4096);
    munmap(old, 4096);
}

static json_t *read_json(const char *path)
{
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    assert_non_null(j);
    return j;
}

static void lk_guardfeed_write_plan__only_when_changed(void **state)
{
    struct fixture *fx = *state;
    struct lk_guardfeed *f = NULL;
    assert_int_equal(lk_guardfeed_open(fx->root, 3000, &f), 0);
    struct lk_guard_page *g = map_page(fx->feed);

    char cgroup[] = "/sys/fs/cgroup/x/web.res";
    char *cgroups[] = {cgroup};
    struct lk_guard_hier hier = {.name = "web", .cgroup_count = 1, .cgroups = cgroups};
    struct lk_guard_peer peer = {
            .name = "node2", .address_count = 1, .addresses = {"127.0.0.1:7402"}};
    struct lk_guard_plan plan = {.node = "node1",
                                 .incarnation = 0x1122334455667788ull,
                                 .dead_ms = 1500,
                                 .authkey = "/root/etc/authkey",
                                 .peer_count = 1,
                                 .peers = &peer,
                                 .fence_count = 1,
                                 .fence = &hier};
    assert_int_equal(lk_guardfeed_write_plan(f, &plan), 0);
    assert_int_equal(g->plan_gen, 1);
    assert_int_equal(g->dead_ms, 1500);
    struct stat st;
    assert_int_equal(stat(fx->plan, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    json_t *j = read_json(fx->plan);
    struct lk_guard_plan back;
    char err[256];
    assert_int_equal(lk_guard_plan_parse(j, &back, err, sizeof(err)), 0);
    assert_string_equal(back.node, "node1");
    assert_true(back.incarnation == 0x1122334455667788ull);
    assert_string_equal(back.fence[0].cgroups[0], "/sys/fs/cgroup/x/web.res");
    lk_guard_plan_free(&back);
    json_decref(j);

    /* The same plan again: nothing written, no new generation. */
    assert_int_equal(lk_guardfeed_write_plan(f, &plan), 0);
    assert_int_equal(g->plan_gen, 1);

    plan.fence_count = 0;
    assert_int_equal(lk_guardfeed_write_plan(f, &plan), 0);
    assert_int_equal(g->plan_gen, 2);
    j = read_json(fx->plan);
    assert_int_equal(json_array_size(json_object_get(j, "fence")), 0);
    json_decref(j);

    /* A failed write (the temporary name taken by a directory) leaves the last plan and
     * the generation, and the next call tries again. */
    char tmp[160];
    snprintf(tmp, sizeof(tmp), "%s.new", fx->plan);
    assert_int_equal(mkdir(tmp, 0700), 0);
    plan.fence_count = 1;
    assert_int_equal(lk_guardfeed_write_plan(f, &plan), -EISDIR);
    assert_int_equal(g->plan_gen, 2);
    j = read_json(fx->plan);
    assert_int_equal(json_array_size(json_object_get(j, "fence")), 0);
    json_decref(j);
    assert_int_equal(rmdir(tmp), 0);
    assert_int_equal(lk_guardfeed_write_plan(f, &plan), 0);
    assert_int_equal(g->plan_gen, 3);
    lk_guardfeed_close(f, true);
    munmap(g, 4096);
}

static void lk_guardfeed_status__follows_the_guard(void **state)
{
    struct fixture *fx = *state;
    struct lk_guardfeed *f = NULL;
    assert_int_equal(lk_guardfeed_open(fx->root, 3000, &f), 0);
    struct lk_guard_page *g = map_page(fx->feed);

    json_t *s = lk_guardfeed_status(f);
    assert_false(json_boolean_value(json_object_get(s, "running")));
    assert_true(json_is_null(json_object_get(s, "pid")));
    assert_true(json_is_null(json_object_get(s, "last_look_ms")));
    assert_false(json_boolean_value(json_object_get(s, "watchdog")));
    assert_false(json_boolean_value(json_object_get(s, "fenced")));
    assert_string_equal(json_string_value(json_object_get(s, "why")), "");
    json_decref(s);

    /* A guard (this process stands in) that looked just now. */
    g->guard_pid = getpid();
    g->guard_mono_ns = now_ns();
    g->watchdog_armed = 1;
    s = lk_guardfeed_status(f);
    assert_true(json_boolean_value(json_object_get(s, "running")));
    assert_int_equal(json_integer_value(json_object_get(s, "pid")), getpid());
    assert_true(json_integer_value(json_object_get(s, "last_look_ms")) < 2000);
    assert_true(json_boolean_value(json_object_get(s, "watchdog")));
    json_decref(s);

    /* A guard that has not looked for 10 s is not running. */
    g->guard_mono_ns = now_ns() - 10000000000ull;
    s = lk_guardfeed_status(f);
    assert_false(json_boolean_value(json_object_get(s, "running")));
    assert_true(json_integer_value(json_object_get(s, "last_look_ms")) >= 10000);
    json_decref(s);

    /* A guard whose pid is gone is not running. */
    pid_t child = fork();
    if (child == 0) {
        _exit(0);
    }
    assert_int_equal(waitpid(child, NULL, 0), child);
    g->guard_pid = child;
    g->guard_mono_ns = now_ns();
    s = lk_guardfeed_status(f);
    assert_false(json_boolean_value(json_object_get(s, "running")));
    json_decref(s);

    strcpy(g->fence_why, "lkd exited without a clean stop");
    g->fenced = 1;
    s = lk_guardfeed_status(f);
    assert_true(json_boolean_value(json_object_get(s, "fenced")));
    assert_string_equal(json_string_value(json_object_get(s, "why")),
                        "lkd exited without a clean stop");
    json_decref(s);
    lk_guardfeed_close(f, true);
    munmap(g, 4096);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_guardfeed_open__fails_without_run_dir),
            cmocka_unit_test_setup_teardown(lk_guardfeed_feed__page_as_the_guard_sees_it, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(lk_guardfeed_open__replaces_the_last_page, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(lk_guardfeed_write_plan__only_when_changed, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(lk_guardfeed_status__follows_the_guard, setup,
                                            teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
