/* Unit tests for cgroup.c, containment, against real cgroup v2 directories and real
 * processes (they must run as root).
 *
 * Each test makes its own parent cgroup, <v2 mount>/oktest-<pid>-<n>, passes it as the
 * setting of lk_cgroups_open, and removes it in teardown whatever happened: cgroup.kill of
 * the parent kills everything below it, then the directories go, deepest first. Tests are
 * skipped only where there is no cgroup v2 mount at all.
 *
 * Processes are started into a cgroup either by a contained run of the runner (what lkd
 * does) or, for the plain cases, by a forked child that writes itself into cgroup.procs
 * before it execs. Assertions are made after uv_run() returns, never inside callbacks; a
 * guard timer stops a loop that would hang. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include <cmocka.h>

#include "cgroup.h"
#include "runner.h"

#define GUARD_MS 30000
#define MSEC     UINT64_C(1000)

static char env_path[] = "PATH=/usr/bin:/bin";
static char *default_env[] = {env_path, NULL};

struct fixture {
    char mount[PATH_MAX];  /* the cgroup v2 mount */
    char parent[PATH_MAX]; /* this test's own cgroup, the setting */
    char dir[PATH_MAX];    /* a temporary directory for scripts */
    uv_loop_t loop;
    uv_timer_t guard;
    bool guard_fired;
    struct lk_cgroups *cg;
};

static int test_counter;

/* The cgroup v2 mount point from /proc/self/mountinfo, or false. */
static bool find_mount(char *buf, size_t size)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f) {
        return false;
    }
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f)) {
        char point[PATH_MAX];
        const char *sep = strstr(line, " - cgroup2 ");
        if (sep && sscanf(line, "%*s %*s %*s %*s %4095s", point) == 1) {
            snprintf(buf, size, "%s", point);
            found = true;
        }
    }
    fclose(f);
    return found;
}

static bool write_text(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    bool ok = write(fd, text, strlen(text)) == (ssize_t) strlen(text);
    close(fd);
    return ok;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long) (ms % 1000) * 1000 * 1000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* Whether the cgroup at path has a process in it ("populated 1" in cgroup.events). */
static bool dir_populated(const char *path)
{
    char file[PATH_MAX + 32];
    snprintf(file, sizeof(file), "%s/cgroup.events", path);
    FILE *f = fopen(file, "re");
    if (!f) {
        return false;
    }
    char line[128];
    bool populated = false;
    while (fgets(line, sizeof(line), f)) {
        populated = populated || strcmp(line, "populated 1\n") == 0;
    }
    fclose(f);
    return populated;
}

static int rmdir_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) ftw;
    if (flag == FTW_DP) {
        (void) rmdir(path);
    }
    return 0;
}

/* Kills everything in the cgroup tree at path and removes it. */
static void remove_tree(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        return;
    }
    char kill_file[PATH_MAX + 32];
    snprintf(kill_file, sizeof(kill_file), "%s/cgroup.kill", path);
    (void) write_text(kill_file, "1");
    for (int i = 0; i < 500 && dir_populated(path); i++) {
        sleep_ms(10);
    }
    nftw(path, rmdir_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove(path);
}

static void on_guard(uv_timer_t *timer)
{
    struct fixture *fx = timer->data;
    fx->guard_fired = true;
    uv_stop(&fx->loop);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    if (!fx) {
        return -1;
    }
    if (!find_mount(fx->mount, sizeof(fx->mount))) {
        free(fx);
        *state = NULL;
        return 0; /* each test skips */
    }
    snprintf(fx->parent, sizeof(fx->parent), "%s/oktest-%d-%d", fx->mount, (int) getpid(),
             ++test_counter);
    strcpy(fx->dir, "/tmp/lk-test-cgroup-XXXXXX");
    if (mkdir(fx->parent, 0755) < 0 || !mkdtemp(fx->dir) || uv_loop_init(&fx->loop) < 0) {
        remove_tree(fx->parent);
        free(fx);
        return -1;
    }
    uv_timer_init(&fx->loop, &fx->guard);
    fx->guard.data = fx;
    uv_unref((uv_handle_t *) &fx->guard);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    if (!fx) {
        return 0;
    }
    int ret = 0;
    remove_tree(fx->parent);
    if (!fx->guard_fired) {
        uv_timer_start(&fx->guard, on_guard, GUARD_MS, 0);
        uv_run(&fx->loop, UV_RUN_DEFAULT);
    }
    lk_cgroups_close(fx->cg);
    if (fx->guard_fired) {
        fprintf(stderr, "teardown: guard timer fired, leaking the loop\n");
        ret = -1;
    } else {
        uv_close((uv_handle_t *) &fx->guard, NULL);
        uv_run(&fx->loop, UV_RUN_DEFAULT);
        if (uv_loop_close(&fx->loop) != 0) {
            fprintf(stderr, "teardown: handles left on the loop\n");
            ret = -1;
        }
    }
    remove_tree(fx->parent);
    struct stat st;
    if (stat(fx->parent, &st) == 0) {
        fprintf(stderr, "teardown: %s is left behind\n", fx->parent);
        ret = -1;
    }
    nftw(fx->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (!fx->guard_fired) {
        free(fx);
    }
    return ret;
}

static struct fixture *get(void **state)
{
    struct fixture *fx = *state;
    if (!fx) {
        skip();
    }
    return fx;
}

static void run_loop(struct fixture *fx)
{
    uv_timer_start(&fx->guard, on_guard, GUARD_MS, 0);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    uv_timer_stop(&fx->guard);
    assert_false(fx->guard_fired);
}

static void open_cg(struct fixture *fx)
{
    char why[256] = "x";
    assert_int_equal(lk_cgroups_open(fx->dir, "node1", fx->parent, &fx->cg, why, sizeof(why)), 0);
    if (!fx->cg) {
        fail_msg("containment off: %s", why);
    }
    assert_string_equal(why, "");
}

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h ^= (unsigned char) *s;
        h *= 16777619u;
    }
    return h;
}

/* Which cgroup v2 pid is in (the "0::" line of /proc/<pid>/cgroup), "" when gone. */
static void cgroup_of(pid_t pid, char *buf, size_t size)
{
    char path[64], line[PATH_MAX];
    snprintf(path, sizeof(path), "/proc/%d/cgroup", (int) pid);
    buf[0] = '\0';
    FILE *f = fopen(path, "re");
    if (!f) {
        return;
    }
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "0::", 3) == 0) {
            line[strcspn(line, "\n")] = '\0';
            snprintf(buf, size, "%s", line + 3);
        }
    }
    fclose(f);
}

/* The cgroup path as /proc/<pid>/cgroup shows it: the absolute path minus the mount. */
static const char *relative(const struct fixture *fx, const char *path)
{
    return path + strlen(fx->mount);
}

/* Starts argv in the cgroup at path: a forked child writes itself into cgroup.procs, starts
 * a new session and execs. Returns once the process is in the cgroup. */
static pid_t spawn_in(const struct fixture *fx, const char *path, const char *const argv[])
{
    char procs[PATH_MAX + 32];
    snprintf(procs, sizeof(procs), "%s/cgroup.procs", path);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char self[32];
        snprintf(self, sizeof(self), "%d", (int) getpid());
        if (!write_text(procs, self)) {
            _exit(126);
        }
        (void) setsid();
        int null_fd = open("/dev/null", O_RDWR);
        dup2(null_fd, 0);
        dup2(null_fd, 1);
        dup2(null_fd, 2);
        char *args[8] = {NULL};
        for (int i = 0; i < 7 && argv[i]; i++) {
            args[i] = strdup(argv[i]);
        }
        execv(args[0], args);
        _exit(127);
    }
    char now[PATH_MAX];
    for (int i = 0; i < 500; i++) {
        cgroup_of(pid, now, sizeof(now));
        if (strcmp(now, relative(fx, path)) == 0) {
            return pid;
        }
        sleep_ms(10);
    }
    fail_msg("pid %d never reached %s", (int) pid, path);
    return -1;
}

/* Reaps our own child pid once it is dead (it was killed through its cgroup). */
static void reap(pid_t pid)
{
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
}

/* Gone: no such process, or a zombie (reparented ones may linger when PID 1 does not
 * reap). */
static bool process_gone(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
    FILE *f = fopen(path, "re");
    if (!f) {
        return true;
    }
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

/* open */

static void lk_cgroups_open__auto_works_or_gives_a_reason(void **state)
{
    struct fixture *fx = get(state);
    char sub[PATH_MAX + 16];
    struct stat st;
    struct lk_cgroups *cg = NULL;
    char why[256] = "x";
    /* The real subtree of this process: only the base is ours to remove (and openkeeper/
     * when this test created it). */
    char own[PATH_MAX];
    cgroup_of(getpid(), own, sizeof(own));
    snprintf(sub, sizeof(sub), "%s%s/openkeeper", fx->mount, strcmp(own, "/") == 0 ? "" : own);
    bool sub_existed = stat(sub, &st) == 0;
    assert_int_equal(lk_cgroups_open(fx->dir, "autotest", "auto", &cg, why, sizeof(why)), 0);
    if (cg) {
        assert_string_equal(why, "");
        char expected[PATH_MAX + 64];
        snprintf(expected, sizeof(expected), "%s/autotest-%08x", sub, fnv1a(fx->dir));
        assert_string_equal(lk_cgroups_base(cg), expected);
        assert_int_equal(stat(expected, &st), 0);
        lk_cgroups_close(cg);
        assert_int_equal(stat(expected, &st), -1);
        if (!sub_existed) {
            (void) rmdir(sub); /* unless another node of this machine uses it meanwhile */
        }
    } else {
        print_message("containment off with auto: %s\n", why);
        assert_true(strlen(why) > 0);
    }
}

static void lk_cgroups_open__off_gives_the_reason(void **state)
{
    struct fixture *fx = get(state);
    struct lk_cgroups *cg = (struct lk_cgroups *) 1;
    char why[256];
    assert_int_equal(lk_cgroups_open(fx->dir, "node1", "off", &cg, why, sizeof(why)), 0);
    assert_null(cg);
    assert_string_equal(why, "off in lk.conf");
}

static void lk_cgroups_open__non_cgroup_path_is_refused_with_a_reason(void **state)
{
    struct fixture *fx = get(state);
    struct lk_cgroups *cg = NULL;
    char why[256];
    char expected[PATH_MAX + 64];
    assert_int_equal(lk_cgroups_open(fx->dir, "node1", fx->dir, &cg, why, sizeof(why)), 0);
    assert_null(cg);
    snprintf(expected, sizeof(expected), "%s is not a cgroup v2 directory", fx->dir);
    assert_string_equal(why, expected);

    char missing[PATH_MAX + 16];
    snprintf(missing, sizeof(missing), "%s/none", fx->parent);
    assert_int_equal(lk_cgroups_open(fx->dir, "node1", missing, &cg, why, sizeof(why)), 0);
    assert_null(cg);
    snprintf(expected, sizeof(expected), "cannot use %s: No such file or directory", missing);
    assert_string_equal(why, expected);

    assert_int_equal(lk_cgroups_open(fx->dir, "node1", "sometimes", &cg, why, sizeof(why)), 0);
    assert_null(cg);
    assert_string_equal(why,
                        "invalid containment setting 'sometimes' (auto, off or a cgroup path)");

    assert_int_equal(lk_cgroups_open(fx->dir, "../x", fx->parent, &cg, why, sizeof(why)), 0);
    assert_null(cg);
    assert_non_null(strstr(why, "invalid node name"));
    /* Nothing was created by the refusals. */
    char sub[PATH_MAX + 16];
    struct stat st;
    snprintf(sub, sizeof(sub), "%s/openkeeper", fx->parent);
    assert_int_equal(stat(sub, &st), -1);
}

static void lk_cgroups_open__base_is_per_node_and_root(void **state)
{
    struct fixture *fx = get(state);
    open_cg(fx);
    char expected[PATH_MAX + 64];
    snprintf(expected, sizeof(expected), "%s/openkeeper/node1-%08x", fx->parent, fnv1a(fx->dir));
    assert_string_equal(lk_cgroups_base(fx->cg), expected);

    /* A second node of the same machine, another root: another base, side by side. */
    struct lk_cgroups *other = NULL;
    char why[256];
    assert_int_equal(
            lk_cgroups_open("/var/lib/other", "node1", fx->parent, &other, why, sizeof(why)), 0);
    assert_non_null(other);
    assert_string_not_equal(lk_cgroups_base(other), lk_cgroups_base(fx->cg));
    char path[PATH_MAX];
    lk_cgroups_path(fx->cg, "app1", path, sizeof(path));
    snprintf(expected, sizeof(expected), "%s/app1.res", lk_cgroups_base(fx->cg));
    assert_string_equal(path, expected);

    /* Memory only where the controller was offered (it is not on a hybrid system). */
    char controllers[PATH_MAX + 64];
    snprintf(controllers, sizeof(controllers), "%s/openkeeper/cgroup.controllers", fx->parent);
    FILE *f = fopen(controllers, "re");
    assert_non_null(f);
    char line[512] = "";
    (void) fgets(line, sizeof(line), f);
    fclose(f);
    if (!strstr(line, "memory")) {
        assert_false(lk_cgroups_has_memory(fx->cg));
    }
    struct stat st;
    const char *base = lk_cgroups_base(other);
    snprintf(expected, sizeof(expected), "%s", base);
    lk_cgroups_close(other);
    assert_int_equal(stat(expected, &st), -1);
}

/* fd, populated, stats, describe, forget */

static void lk_cgroups_fd__creates_caches_and_forget_removes(void **state)
{
    struct fixture *fx = get(state);
    open_cg(fx);
    char path[PATH_MAX];
    lk_cgroups_path(fx->cg, "app1", path, sizeof(path));
    struct stat st;
    assert_int_equal(stat(path, &st), -1);
    assert_false(lk_cgroups_populated(fx->cg, "app1"));
    struct lk_cgroup_stats stats;
    assert_int_equal(lk_cgroups_stats(fx->cg, "app1", &stats), -ENOENT);

    int fd = lk_cgroups_fd(fx->cg, "app1");
    assert_true(fd >= 0);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(lk_cgroups_fd(fx->cg, "app1"), fd);
    assert_int_equal(lk_cgroups_fd(fx->cg, "../etc"), -EINVAL);
    assert_int_equal(lk_cgroups_fd(fx->cg, ""), -EINVAL);

    /* Removed under us: created again. */
    assert_int_equal(rmdir(path), 0);
    int fd2 = lk_cgroups_fd(fx->cg, "app1");
    assert_true(fd2 >= 0);
    assert_int_equal(stat(path, &st), 0);

    assert_int_equal(lk_cgroups_stats(fx->cg, "app1", &stats), 0);
    assert_int_equal(stats.procs, 0);
    assert_int_equal(stats.memory_bytes, lk_cgroups_has_memory(fx->cg) ? stats.memory_bytes : -1);
    char text[256] = "x";
    assert_int_equal(lk_cgroups_describe(fx->cg, "app1", text, sizeof(text)), 0);
    assert_string_equal(text, "");

    lk_cgroups_forget(fx->cg, "app1");
    assert_int_equal(stat(path, &st), -1);
}

static void lk_cgroups_stats__counts_processes_and_cpu(void **state)
{
    struct fixture *fx = get(state);
    open_cg(fx);
    char path[PATH_MAX];
    assert_true(lk_cgroups_fd(fx->cg, "app1") >= 0);
    lk_cgroups_path(fx->cg, "app1", path, sizeof(path));
    const char *const busy[] = {"/bin/sh", "-c",
                                "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; exec sleep 1000",
                                NULL};
    const char *const idle[] = {"/bin/sleep", "1000", NULL};
    pid_t a = spawn_in(fx, path, busy);
    pid_t b = spawn_in(fx, path, idle);
    assert_true(lk_cgroups_populated(fx->cg, "app1"));

    struct lk_cgroup_stats stats;
    assert_int_equal(lk_cgroups_stats(fx->cg, "app1", &stats), 0);
    assert_int_equal(stats.procs, 2);
    if (!lk_cgroups_has_memory(fx->cg)) {
        assert_int_equal(stats.memory_bytes, -1);
    }
    /* The busy loop used CPU by the time it execs sleep. */
    char cmd[PATH_MAX];
    snprintf(cmd, sizeof(cmd), "/proc/%d/cmdline", (int) a);
    for (int i = 0; i < 1000; i++) {
        char buf[64] = "";
        FILE *f = fopen(cmd, "re");
        if (f) {
            (void) fread(buf, 1, sizeof(buf) - 1, f);
            fclose(f);
        }
        if (strcmp(buf, "sleep") == 0) {
            break;
        }
        sleep_ms(10);
    }
    assert_int_equal(lk_cgroups_stats(fx->cg, "app1", &stats), 0);
    assert_true(stats.cpu_usec > 0);

    char text[256];
    char expected[256];
    assert_int_equal(lk_cgroups_describe(fx->cg, "app1", text, sizeof(text)), 2);
    /* cgroup.procs is sorted by pid in practice, but the order is not promised. */
    snprintf(expected, sizeof(expected), "%d (/bin/sleep 1000)", (int) b);
    assert_non_null(strstr(text, expected));
    snprintf(expected, sizeof(expected), "%d (sleep 1000)", (int) a);
    assert_non_null(strstr(text, expected));

    /* Cut with "..." when the buffer is short, and still counted. */
    char small[20];
    assert_int_equal(lk_cgroups_describe(fx->cg, "app1", small, sizeof(small)), 2);
    assert_true(strlen(small) < sizeof(small));
    assert_non_null(strstr(small, "..."));

    /* A populated cgroup is not removed by forget. */
    lk_cgroups_forget(fx->cg, "app1");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    kill(a, SIGKILL);
    kill(b, SIGKILL);
    reap(a);
    reap(b);
}

static void lk_cgroups_close__keeps_what_still_runs_for_the_next_lkd(void **state)
{
    struct fixture *fx = get(state);
    open_cg(fx);
    char path[PATH_MAX], empty[PATH_MAX], base[PATH_MAX];
    assert_true(lk_cgroups_fd(fx->cg, "app1") >= 0);
    assert_true(lk_cgroups_fd(fx->cg, "app2") >= 0);
    lk_cgroups_path(fx->cg, "app1", path, sizeof(path));
    lk_cgroups_path(fx->cg, "app2", empty, sizeof(empty));
    snprintf(base, sizeof(base), "%s", lk_cgroups_base(fx->cg));
    const char *const argv[] = {"/bin/sleep", "1000", NULL};
    pid_t pid = spawn_in(fx, path, argv);

    /* As lkstop -f leaves an application running: its cgroup and the base stay. */
    lk_cgroups_close(fx->cg);
    fx->cg = NULL;
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(stat(empty, &st), -1);
    assert_int_equal(stat(base, &st), 0);

    /* The next lkd of the same node and root finds it where it was. */
    open_cg(fx);
    assert_string_equal(lk_cgroups_base(fx->cg), base);
    assert_true(lk_cgroups_populated(fx->cg, "app1"));
    char text[128], expected[128];
    assert_int_equal(lk_cgroups_describe(fx->cg, "app1", text, sizeof(text)), 1);
    snprintf(expected, sizeof(expected), "%d (/bin/sleep 1000)", (int) pid);
    assert_string_equal(text, expected);
    kill(pid, SIGKILL);
    reap(pid);
}

/* kill */

struct killed {
    int calls;
    bool empty;
    char tag[64];
    char before[1024];
    uint64_t at_ns;
};

static void on_killed(void *userdata, const char *tag, bool empty, const char *before)
{
    struct killed *k = userdata;
    k->calls++;
    k->empty = empty;
    k->at_ns = uv_hrtime();
    snprintf(k->tag, sizeof(k->tag), "%s", tag);
    snprintf(k->before, sizeof(k->before), "%s", before);
}

static void lk_cgroups_kill__term_ignored_needs_sigkill_after_grace(void **state)
{
    struct fixture *fx = get(state);
    open_cg(fx);
    char path[PATH_MAX];
    assert_true(lk_cgroups_fd(fx->cg, "app1") >= 0);
    lk_cgroups_path(fx->cg, "app1", path, sizeof(path));
    /* SIG_IGN survives the exec: the sleep ignores SIGTERM. */
    const char *const argv[] = {"/bin/sh", "-c", "trap '' TERM; exec sleep 1000", NULL};
    pid_t pid = spawn_in(fx, path, argv);
    for (int i = 0; i < 500; i++) {
        char cmd[64], buf[64] = "";
        snprintf(cmd, sizeof(cmd), "/proc/%d/comm", (int) pid);
        FILE *f = fopen(cmd, "re");
        if (f) {
            (void) fgets(buf, sizeof(buf), f);
            fclose(f);
        }
        if (strcmp(buf, "sleep\n") == 0) {
            break;
        }
        sleep_ms(10);
    }
    struct killed k = {0};
    uint64_t start = uv_hrtime();
    assert_int_equal(lk_cgroups_kill(fx->cg, &fx->loop, "app1", 300 * MSEC, on_killed, &k), 0);
    assert_int_equal(k.calls, 0);
    /* SIGTERM was sent and ignored. */
    sleep_ms(100);
    assert_false(process_gone(pid));
    run_loop(fx);
    assert_int_equal(k.calls, 1);
    assert_true(k.empty);
    assert_string_equal(k.tag, "app1");
    char expected[64];
    snprintf(expected, sizeof(expected), "%d (sleep 1000)", (int) pid);
    assert_string_equal(k.before, expected);
    assert_true(k.at_ns - start >= 300 * 1000 * 1000);
    assert_true(process_gone(pid));
    assert_false(lk_cgroups_populated(fx->cg, "app1"));
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
}

static void lk_cgroups_kill__term_is_enough_for_a_polite_process(void **state)
{
    struct fixture *fx = get(state);
    open_cg(fx);
    char path[PATH_MAX];
    assert_true(lk_cgroups_fd(fx->cg, "app1") >= 0);
    lk_cgroups_path(fx->cg, "app1", path, sizeof(path));
    const char *const argv[] = {"/bin/sleep", "1000", NULL};
    pid_t pid = spawn_in(fx, path, argv);
    /* Stopped: it acts on SIGTERM only because SIGCONT follows. */
    assert_int_equal(kill(pid, SIGSTOP), 0);
    siginfo_t info;
    assert_int_equal(waitid(P_PID, (id_t) pid, &info, WSTOPPED), 0);
    struct killed k = {0};
    uint64_t start = uv_hrtime();
    assert_int_equal(lk_cgroups_kill(fx->cg, &fx->loop, "app1", 20000 * MSEC, on_killed, &k), 0);
    run_loop(fx);
    assert_int_equal(k.calls, 1);
    assert_true(k.empty);
    /* Long before the 20 s grace: SIGTERM did it, and the loop heard of it. */
    assert_true(k.at_ns - start < 10ull * 1000 * 1000 * 1000);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGTERM);
}

static void lk_cgroups_kill__forking_process_is_caught(void **state)
{
    struct fixture *fx = get(state);
    open_cg(fx);
    char path[PATH_MAX];
    assert_true(lk_cgroups_fd(fx->cg, "app1") >= 0);
    lk_cgroups_path(fx->cg, "app1", path, sizeof(path));
    /* Forks as fast as it can, and neither it nor its children care for SIGTERM. */
    const char *const argv[] = {
            "/bin/sh", "-c",
            "trap '' TERM; i=0; while [ $i -lt 5000 ]; do sleep 1000 & i=$((i+1)); done; "
            "wait",
            NULL};
    pid_t pid = spawn_in(fx, path, argv);
    sleep_ms(200);
    struct killed k = {0};
    assert_int_equal(lk_cgroups_kill(fx->cg, &fx->loop, "app1", 100 * MSEC, on_killed, &k), 0);
    run_loop(fx);
    assert_int_equal(k.calls, 1);
    assert_true(k.empty);
    assert_non_null(strstr(k.before, "(sleep 1000)"));
    assert_false(lk_cgroups_populated(fx->cg, "app1"));
    struct lk_cgroup_stats stats;
    assert_int_equal(lk_cgroups_stats(fx->cg, "app1", &stats), 0);
    assert_int_equal(stats.procs, 0);
    reap(pid);
}

static void lk_cgroups_kill__empty_or_missing_cgroup_reports_from_the_loop(void **state)
{
    struct fixture *fx = get(state);
    open_cg(fx);
    assert_true(lk_cgroups_fd(fx->cg, "app1") >= 0);
    struct killed k1 = {0}, k2 = {0};
    assert_int_equal(lk_cgroups_kill(fx->cg, &fx->loop, "app1", 0, on_killed, &k1), 0);
    assert_int_equal(lk_cgroups_kill(fx->cg, &fx->loop, "never-made", 0, on_killed, &k2), 0);
    assert_int_equal(lk_cgroups_kill(fx->cg, &fx->loop, "../x", 0, on_killed, &k2), -EINVAL);
    assert_int_equal(k1.calls, 0);
    assert_int_equal(k2.calls, 0);
    run_loop(fx);
    assert_int_equal(k1.calls, 1);
    assert_true(k1.empty);
    assert_string_equal(k1.before, "");
    assert_int_equal(k2.calls, 1);
    assert_true(k2.empty);
    assert_string_equal(k2.tag, "never-made");
}

/* watch */

struct watched {
    int calls;
    bool last;
    bool seen_true;
    struct lk_cgroup_watch *w;
    bool stop_on_empty;
};

static void on_event(void *userdata, const char *tag, bool populated)
{
    struct watched *w = userdata;
    (void) tag;
    w->calls++;
    w->last = populated;
    w->seen_true = w->seen_true || populated;
    if (!populated && w->stop_on_empty) {
        lk_cgroup_watch_stop(w->w);
        w->w = NULL;
    }
}

struct run_done {
    int calls;
    struct lk_result result;
    char output[LK_RUN_OUTPUT_MAX + 1];
};

static void on_run_done(struct lk_run *run, const struct lk_result *result, const char *output,
                        size_t output_len, void *userdata)
{
    struct run_done *d = userdata;
    (void) run;
    d->calls++;
    d->result = *result;
    memcpy(d->output, output, output_len);
    d->output[output_len] = '\0';
}

static void write_script(const struct fixture *fx, const char *name, const char *body,
                         char *ret_path)
{
    snprintf(ret_path, PATH_MAX, "%s/%s", fx->dir, name);
    FILE *f = fopen(ret_path, "we");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\n%s\n", body);
    fclose(f);
    assert_int_equal(chmod(ret_path, 0700), 0);
}

static void lk_cgroups_watch__daemon_killed_with_kill_9_is_seen(void **state)
{
    struct fixture *fx = get(state);
    open_cg(fx);
    /* A restore that daemonizes: a double fork and setsid, nothing left for its parent. */
    char script[PATH_MAX];
    write_script(fx, "restore.sh",
                 "(setsid sleep 1000 </dev/null >/dev/null 2>&1 & echo \"daemon $!\") &\nwait",
                 script);
    int fd = lk_cgroups_fd(fx->cg, "app1");
    assert_true(fd >= 0);
    struct lk_run_spec spec = {
            .path = script,
            .cwd = fx->dir,
            .env = default_env,
            .timeout_usec = 20000 * MSEC,
            .contained = true,
            .cgroup_fd = fd,
    };
    struct run_done d = {0};
    assert_int_equal(lk_run_start(&fx->loop, &spec, on_run_done, &d, NULL), 0);
    run_loop(fx);
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.result.outcome, LK_OUTCOME_SUCCESS);
    const char *p = strstr(d.output, "daemon ");
    assert_non_null(p);
    pid_t daemon = (pid_t) strtol(p + 7, NULL, 10);
    assert_true(daemon > 1);
    assert_true(lk_cgroups_populated(fx->cg, "app1"));

    struct watched w = {.stop_on_empty = true};
    assert_int_equal(lk_cgroups_watch(fx->cg, &fx->loop, "app1", on_event, &w, &w.w), 0);
    assert_int_equal(kill(daemon, SIGKILL), 0);
    run_loop(fx); /* ends when the watch is stopped from its callback */
    assert_int_equal(w.calls, 1);
    assert_false(w.last);
    assert_null(w.w);
    assert_false(lk_cgroups_populated(fx->cg, "app1"));
}

static void lk_cgroups_watch__reports_each_change(void **state)
{
    struct fixture *fx = get(state);
    open_cg(fx);
    char path[PATH_MAX];
    lk_cgroups_path(fx->cg, "app2", path, sizeof(path));
    struct watched w = {0};
    /* The cgroup is created by the watch. */
    assert_int_equal(lk_cgroups_watch(fx->cg, &fx->loop, "app2", on_event, &w, &w.w), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    const char *const argv[] = {"/bin/sleep", "1000", NULL};
    pid_t pid = spawn_in(fx, path, argv);
    /* Run the loop until the watch has seen it populated. */
    for (int i = 0; i < 3000 && !w.seen_true; i++) {
        uv_run(&fx->loop, UV_RUN_NOWAIT);
        sleep_ms(1);
    }
    assert_true(w.seen_true);
    assert_int_equal(w.calls, 1);
    w.stop_on_empty = true;
    kill(pid, SIGKILL);
    run_loop(fx);
    assert_int_equal(w.calls, 2);
    assert_false(w.last);
    reap(pid);

    /* A watch stopped at once never calls back, and frees itself from the loop. */
    struct watched w2 = {0};
    assert_int_equal(lk_cgroups_watch(fx->cg, &fx->loop, "app2", on_event, &w2, &w2.w), 0);
    lk_cgroup_watch_stop(w2.w);
    lk_cgroup_watch_stop(NULL);
    run_loop(fx);
    assert_int_equal(w2.calls, 0);
    assert_int_equal(lk_cgroups_watch(fx->cg, &fx->loop, "a/b", on_event, &w2, &w2.w), -EINVAL);
}

/* Open descriptors, but for the loop's inotify descriptor, which libuv opens with the first
 * fs_event and keeps until the loop closes. */
static unsigned count_fds(void)
{
    DIR *dir = opendir("/proc/self/fd");
    assert_non_null(dir);
    unsigned n = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        char link[PATH_MAX + 32], target[256] = "";
        snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
        ssize_t len = readlink(link, target, sizeof(target) - 1);
        if (len > 0) {
            target[len] = '\0';
        }
        n += strcmp(target, "anon_inode:inotify") != 0;
    }
    closedir(dir);
    return n;
}

static void lk_cgroups_close__leaks_no_descriptors(void **state)
{
    struct fixture *fx = get(state);
    unsigned before = count_fds();
    open_cg(fx);
    char path[PATH_MAX];
    assert_true(lk_cgroups_fd(fx->cg, "app1") >= 0);
    lk_cgroups_path(fx->cg, "app1", path, sizeof(path));
    const char *const argv[] = {"/bin/sleep", "1000", NULL};
    pid_t pid = spawn_in(fx, path, argv);
    struct watched w = {.stop_on_empty = true};
    assert_int_equal(lk_cgroups_watch(fx->cg, &fx->loop, "app1", on_event, &w, &w.w), 0);
    struct killed k = {0};
    assert_int_equal(lk_cgroups_kill(fx->cg, &fx->loop, "app1", 0, on_killed, &k), 0);
    struct lk_cgroup_stats stats;
    assert_int_equal(lk_cgroups_stats(fx->cg, "app1", &stats), 0);
    run_loop(fx);
    assert_int_equal(k.calls, 1);
    assert_true(k.empty);
    assert_int_equal(w.calls, 1);
    reap(pid);
    lk_cgroups_close(fx->cg);
    fx->cg = NULL;
    assert_int_equal(count_fds(), before);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
            T(lk_cgroups_open__auto_works_or_gives_a_reason),
            T(lk_cgroups_open__off_gives_the_reason),
            T(lk_cgroups_open__non_cgroup_path_is_refused_with_a_reason),
            T(lk_cgroups_open__base_is_per_node_and_root),
            T(lk_cgroups_fd__creates_caches_and_forget_removes),
            T(lk_cgroups_stats__counts_processes_and_cpu),
            T(lk_cgroups_close__keeps_what_still_runs_for_the_next_lkd),
            T(lk_cgroups_kill__term_ignored_needs_sigkill_after_grace),
            T(lk_cgroups_kill__term_is_enough_for_a_polite_process),
            T(lk_cgroups_kill__forking_process_is_caught),
            T(lk_cgroups_kill__empty_or_missing_cgroup_reports_from_the_loop),
            T(lk_cgroups_watch__daemon_killed_with_kill_9_is_seen),
            T(lk_cgroups_watch__reports_each_change),
            T(lk_cgroups_close__leaks_no_descriptors),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
