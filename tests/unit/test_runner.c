/* Unit tests for runner.c, the script runner, against a real uv loop and real processes.
 *
 * Each test gets a fresh loop and a mkdtemp directory (0700) into which it writes its
 * scripts; teardown runs the loop dry and asserts uv_loop_close() == 0 and
 * lk_run_count() == 0, so a leaked handle or run fails the test that leaked it. A guard
 * timer stops the loop after GUARD_MS so that a bug cannot hang the suite. Assertions are
 * made after uv_run() returns, never inside loop callbacks (a failed assertion longjmps).
 *
 * Tests that leave processes behind on purpose (a restore's background daemon) kill their
 * process group before they end. Dead processes whose parent exited may linger as zombies
 * when PID 1 does not reap them, so "gone" means: no such process, or a zombie.
 *
 * The whole suite also runs a second time, in a child process where pidfd_open fails with
 * ENOSYS (a seccomp filter), as on kernels before 5.3: that is the uv_spawn fallback; and a
 * third time with every run contained (clone3 into a cgroup of the suite's own, made under
 * the cgroup v2 mount and removed with everything in it at the end), which must behave the
 * same in every respect. That third run is skipped only where there is no cgroup v2 mount. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include <cmocka.h>

#include "cgroup.h"
#include "result.h"
#include "runner.h"

#define GUARD_MS      30000
#define SEC           UINT64_C(1000000)
#define MSEC          UINT64_C(1000)
#define CONCURRENT    16
#define DEFAULT_LIMIT (20 * SEC)

static char env_path[] = "PATH=/usr/bin:/bin";
static char env_lang[] = "LANG=C";
static char env_tag[] = "LK_TAG=app1";
static char env_odd[] = "ODD=a b=c 'q' \"d\"";
static char *default_env[] = {env_path, env_lang, NULL};

/* argv[1] of the suite's second run, in which pidfd_open fails with ENOSYS. */
#define WITHOUT_PIDFD_ARG "--without-pidfd-open"
static bool without_pidfd;

/* argv[1] of the suite's third run, in which every run is contained in contained_fd. */
#define CONTAINED_ARG "--contained"
static bool contained;
static int contained_fd = -1;
static const char *contained_rel; /* its path as /proc/<pid>/cgroup shows it */

struct fixture {
    char dir[PATH_MAX];
    uv_loop_t loop;
    uv_timer_t guard;
    uv_timer_t aux; /* a test's own timer: abort later, block the loop, look at a run */
    bool guard_fired;
};

struct done {
    struct fixture *fx;
    struct lk_run *run; /* from lk_run_start */
    int calls;
    bool run_mismatch;
    unsigned count_in_cb;
    int pid_in_cb;
    struct lk_result result;
    char output[LK_RUN_OUTPUT_MAX + 1]; /* NUL-terminated copy */
    size_t output_len;

    /* For callbacks that start the next run. */
    struct lk_run_spec chain_spec;
    int chain_left;
    int chain_start_error;

    /* For the aux timer. */
    bool aux_abort;
    bool aux_block;
    bool aux_seen_alive;
    int aux_pid;
    unsigned aux_count;
};

/* Helpers. */

static void on_guard(uv_timer_t *timer)
{
    struct fixture *fx = timer->data;
    fx->guard_fired = true;
    uv_stop(&fx->loop);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove(path);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    if (!fx) {
        return -1;
    }
    strcpy(fx->dir, "/tmp/lk-test-runner-XXXXXX");
    if (!mkdtemp(fx->dir) || chmod(fx->dir, 0700) < 0) {
        free(fx);
        return -1;
    }
    if (uv_loop_init(&fx->loop) < 0) {
        free(fx);
        return -1;
    }
    uv_timer_init(&fx->loop, &fx->guard);
    uv_timer_init(&fx->loop, &fx->aux);
    fx->guard.data = fx;
    uv_unref((uv_handle_t *) &fx->guard);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    int ret = 0;

    uv_close((uv_handle_t *) &fx->aux, NULL);
    if (!fx->guard_fired) {
        uv_timer_start(&fx->guard, on_guard, GUARD_MS, 0);
        uv_run(&fx->loop, UV_RUN_DEFAULT);
    }
    if (fx->guard_fired) {
        /* Something is still running; the loop cannot be closed. Leak it. */
        fprintf(stderr, "teardown: guard timer fired, leaking the loop\n");
        ret = -1;
    } else {
        uv_close((uv_handle_t *) &fx->guard, NULL);
        uv_run(&fx->loop, UV_RUN_DEFAULT);
        int r = uv_loop_close(&fx->loop);
        if (r != 0) {
            fprintf(stderr, "teardown: uv_loop_close: %s\n", uv_strerror(r));
            ret = -1;
        }
        if (lk_run_count() != 0) {
            fprintf(stderr, "teardown: lk_run_count() = %u\n", lk_run_count());
            ret = -1;
        }
    }
    chmod(fx->dir, 0700);
    nftw(fx->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (!fx->guard_fired) {
        free(fx);
    }
    return ret;
}

static void run_loop(struct fixture *fx)
{
    uv_timer_start(&fx->guard, on_guard, GUARD_MS, 0);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    uv_timer_stop(&fx->guard);
    assert_false(fx->guard_fired);
}

/* dir/name into ret_path (PATH_MAX bytes). */
static void join(const char *dir, const char *name, char *ret_path)
{
    int n = snprintf(ret_path, PATH_MAX, "%s/%s", dir, name);
    assert_true(n > 0 && n < PATH_MAX);
}

static void path_in(const struct fixture *fx, const char *name, char *ret_path)
{
    join(fx->dir, name, ret_path);
}

static void write_file(const char *path, const char *content, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, len), (ssize_t) len);
    assert_int_equal(close(fd), 0);
    assert_int_equal(chmod(path, mode), 0);
}

/* A /bin/sh script named name in the test directory, mode 0700. */
static void make_sh(const struct fixture *fx, const char *name, const char *body, char *ret_path)
{
    char content[4096];
    int n = snprintf(content, sizeof(content), "#!/bin/sh\n%s\n", body);
    assert_true(n > 0 && (size_t) n < sizeof(content));
    path_in(fx, name, ret_path);
    write_file(ret_path, content, (size_t) n, 0700);
}

static void make_dir(const char *path, mode_t mode)
{
    assert_int_equal(mkdir(path, mode), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static struct lk_run_spec spec_for(const struct fixture *fx, const char *path)
{
    struct lk_run_spec spec = {
            .path = path,
            .cwd = fx->dir,
            .env = default_env,
            .timeout_usec = DEFAULT_LIMIT,
            .contained = contained,
            .cgroup_fd = contained ? contained_fd : -1,
    };
    return spec;
}

static void on_done(struct lk_run *run, const struct lk_result *result, const char *output,
                    size_t output_len, void *userdata)
{
    struct done *d = userdata;

    d->calls++;
    if (d->run && d->run != run) {
        d->run_mismatch = true;
    }
    d->count_in_cb = lk_run_count();
    d->pid_in_cb = lk_run_pid(run);
    d->result = *result;
    if (output_len > LK_RUN_OUTPUT_MAX) {
        output_len = LK_RUN_OUTPUT_MAX + 1; /* flagged by the length assertions */
    }
    memcpy(d->output, output, output_len > LK_RUN_OUTPUT_MAX ? LK_RUN_OUTPUT_MAX : output_len);
    d->output[output_len > LK_RUN_OUTPUT_MAX ? LK_RUN_OUTPUT_MAX : output_len] = '\0';
    d->output_len = output_len;
}

static void start(struct fixture *fx, const struct lk_run_spec *spec, struct done *d)
{
    d->fx = fx;
    assert_int_equal(lk_run_start(&fx->loop, spec, on_done, d, &d->run), 0);
    assert_non_null(d->run);
    /* Never from within lk_run_start, whatever happened. */
    assert_int_equal(d->calls, 0);
}

static void finish(struct fixture *fx, struct done *d)
{
    run_loop(fx);
    assert_int_equal(d->calls, 1);
    assert_false(d->run_mismatch);
    assert_int_equal(d->count_in_cb, 0);
    assert_int_equal(lk_run_count(), 0);
    assert_int_equal(d->pid_in_cb, d->result.pid);
}

/* Starts one run and runs the loop until it is done. */
static void run_spec(struct fixture *fx, const struct lk_run_spec *spec, struct done *d)
{
    start(fx, spec, d);
    finish(fx, d);
}

static void run_path(struct fixture *fx, const char *path, struct done *d)
{
    struct lk_run_spec spec = spec_for(fx, path);
    run_spec(fx, &spec, d);
}

static const char *describe(const struct done *d)
{
    static char buf[512];
    return lk_result_describe(&d->result, buf, sizeof(buf));
}

static bool process_gone(pid_t pid)
{
    if (kill(pid, 0) < 0 && errno == ESRCH) {
        return true;
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
    FILE *f = fopen(path, "re");
    if (!f) {
        return true;
    }
    char buf[512];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

static bool wait_gone(pid_t pid, int ms)
{
    for (int i = 0; i < ms / 10; i++) {
        if (process_gone(pid)) {
            return true;
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return process_gone(pid);
}

/* The first whole number in text, e.g. a pid a script printed. */
static pid_t first_number(const char *text)
{
    while (*text && (*text < '0' || *text > '9')) {
        text++;
    }
    long v = strtol(text, NULL, 10);
    assert_true(v > 1);
    return (pid_t) v;
}

static void on_aux(uv_timer_t *timer)
{
    struct done *d = timer->data;

    if (d->calls != 0) {
        return; /* already over: the run is freed */
    }
    d->aux_seen_alive = true;
    d->aux_pid = lk_run_pid(d->run);
    d->aux_count = lk_run_count();
    if (d->aux_block) {
        /* Keep the loop from noticing anything for a while: the script's output and its
         * exit are both pending when it resumes. */
        struct timespec ts = {1, 0};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
            /* SIGCHLD (libuv's handler) interrupts the sleep; finish it. */
        }
    }
    if (d->aux_abort) {
        lk_run_abort(d->run);
        lk_run_abort(d->run); /* twice is harmless */
    }
}

static void aux_after(struct fixture *fx, struct done *d, uint64_t ms)
{
    fx->aux.data = d;
    /* From now, not from the loop's cached time, which dates from before the test. */
    uv_update_time(&fx->loop);
    uv_timer_start(&fx->aux, on_aux, ms, 0);
}

static unsigned count_fds(void)
{
    DIR *dir = opendir("/proc/self/fd");
    assert_non_null(dir);
    unsigned n = 0;
    while (readdir(dir)) {
        n++;
    }
    closedir(dir);
    return n;
}

/* Cgroups for contained runs. */

/* The cgroup v2 mount point from /proc/self/mountinfo, or false. */
static bool find_cgroup2_mount(char *buf, size_t size)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f) {
        return false;
    }
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f)) {
        char point[PATH_MAX];
        if (strstr(line, " - cgroup2 ") && sscanf(line, "%*s %*s %*s %*s %4095s", point) == 1) {
            snprintf(buf, size, "%s", point);
            found = true;
        }
    }
    fclose(f);
    return found;
}

static bool cgroup_populated(const char *path)
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

/* Kills everything in the (leaf) cgroup at path, waits until it is empty, removes it. */
static void remove_cgroup(const char *path)
{
    char file[PATH_MAX + 32];
    snprintf(file, sizeof(file), "%s/cgroup.kill", path);
    int fd = open(file, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        (void) write(fd, "1", 1);
        close(fd);
    }
    for (int i = 0; i < 1000 && cgroup_populated(path); i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    (void) rmdir(path);
}

/* Makes a cgroup of this test's own, <mount>/oktest-runner-<pid>-<name>, and returns a
 * descriptor of it; skips the test when there is no cgroup v2 mount. */
static int make_cgroup(const char *name, char *ret_path, char *ret_rel)
{
    char mount[PATH_MAX];
    if (!find_cgroup2_mount(mount, sizeof(mount))) {
        skip();
    }
    int n = snprintf(ret_path, PATH_MAX, "%s/oktest-runner-%d-%s", mount, (int) getpid(), name);
    assert_true(n > 0 && n < PATH_MAX);
    snprintf(ret_rel, PATH_MAX, "%s", ret_path + strlen(mount));
    assert_int_equal(mkdir(ret_path, 0755), 0);
    int fd = open(ret_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(fd >= 0);
    return fd;
}

/* The "0::" line of /proc/<pid>/cgroup, without it, "" when pid is gone. */
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

/* Exec failures and refusals: the callback fires from the loop, pid is 0. */

static void lk_run_start__missing_file_is_exec_failed_enoent(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    path_in(fx, "does-not-exist", path);
    struct done d = {0};
    run_path(fx, path, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_EXEC_FAILED);
    assert_int_equal(d.result.exec_errno, ENOENT);
    assert_int_equal(d.result.pid, 0);
    assert_int_equal(d.output_len, 0);
    assert_false(lk_result_ok(&d.result));
    assert_string_equal(describe(&d), "could not execute: script not found");
}

static void lk_run_start__not_executable_is_eacces(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    make_sh(fx, "noexec.sh", "exit 0", path);
    assert_int_equal(chmod(path, 0600), 0);
    struct done d = {0};
    run_path(fx, path, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_EXEC_FAILED);
    assert_int_equal(d.result.exec_errno, EACCES);
    assert_int_equal(d.result.pid, 0);
    assert_string_equal(describe(&d), "could not execute: permission denied");
}

static void lk_run_start__no_header_is_enoexec_and_not_run_by_sh(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX], marker[PATH_MAX], content[PATH_MAX + 64];
    path_in(fx, "marker", marker);
    path_in(fx, "noheader.sh", path);
    int n = snprintf(content, sizeof(content), "touch '%s'\nexit 0\n", marker);
    write_file(path, content, (size_t) n, 0700);
    struct done d = {0};
    run_path(fx, path, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_EXEC_FAILED);
    assert_int_equal(d.result.exec_errno, ENOEXEC);
    assert_int_equal(d.result.pid, 0);
    /* glibc's execvp would have run it with /bin/sh. */
    assert_int_equal(access(marker, F_OK), -1);
    assert_string_equal(describe(&d), "could not execute: not a script or ELF binary");
}

static void lk_run_start__empty_file_is_enoexec(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    path_in(fx, "empty.sh", path);
    write_file(path, "", 0, 0700);
    struct done d = {0};
    run_path(fx, path, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_EXEC_FAILED);
    assert_int_equal(d.result.exec_errno, ENOEXEC);
}

static void lk_run_start__directory_is_exec_failed(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    path_in(fx, "adir", path);
    make_dir(path, 0700);
    struct done d = {0};
    run_path(fx, path, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_EXEC_FAILED);
    assert_int_equal(d.result.exec_errno, EISDIR);
    assert_int_equal(d.result.pid, 0);
    assert_string_equal(describe(&d), "could not execute: script is a directory");
}

static void lk_run_start__fifo_is_exec_failed_without_hanging(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    path_in(fx, "fifo", path);
    assert_int_equal(mkfifo(path, 0700), 0);
    struct done d = {0};
    run_path(fx, path, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_EXEC_FAILED);
    assert_int_equal(d.result.exec_errno, EACCES);
}

static void lk_run_start__missing_interpreter_is_named(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    path_in(fx, "interp.sh", path);
    const char content[] = "#! /nonexistent/bin/python9 -u\nprint(1)\n";
    write_file(path, content, sizeof(content) - 1, 0700);
    struct done d = {0};
    run_path(fx, path, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_EXEC_FAILED);
    assert_int_equal(d.result.exec_errno, ENOENT);
    assert_int_equal(d.result.pid, 0);
    assert_string_equal(describe(&d),
                        "could not execute: interpreter '/nonexistent/bin/python9' not found");
}

static void lk_run_start__dos_line_endings_are_explained(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    path_in(fx, "dos.sh", path);
    const char content[] = "#!/bin/sh\r\nexit 0\r\n";
    write_file(path, content, sizeof(content) - 1, 0700);
    struct done d = {0};
    run_path(fx, path, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_EXEC_FAILED);
    assert_int_equal(d.result.exec_errno, ENOENT);
    assert_string_equal(describe(&d), "could not execute: interpreter '/bin/sh' not found (the "
                                      "script has DOS line endings)");
}

static void lk_run_start__missing_cwd_is_exec_failed(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX], cwd[PATH_MAX], expected[PATH_MAX + 128];
    make_sh(fx, "ok.sh", "exit 0", path);
    path_in(fx, "no-such-dir", cwd);
    struct lk_run_spec spec = spec_for(fx, path);
    spec.cwd = cwd;
    struct done d = {0};
    run_spec(fx, &spec, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_EXEC_FAILED);
    assert_int_equal(d.result.exec_errno, ENOENT);
    snprintf(expected, sizeof(expected), "could not execute: working directory '%s' does not exist",
             cwd);
    assert_string_equal(describe(&d), expected);
}

static void lk_run_start__relative_path_is_refused(void **state)
{
    struct fixture *fx = *state;
    struct lk_run_spec spec = spec_for(fx, "true");
    struct done d = {0};
    run_spec(fx, &spec, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_REFUSED);
    assert_int_equal(d.result.pid, 0);
    assert_string_equal(describe(&d), "refused to run: script path 'true' is not absolute");
}

static void lk_run_abort__on_a_run_that_never_started_has_no_effect(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    path_in(fx, "does-not-exist", path);
    struct lk_run_spec spec = spec_for(fx, path);
    struct done d = {0};
    start(fx, &spec, &d);
    assert_int_equal(lk_run_pid(d.run), 0);
    lk_run_abort(d.run);
    lk_run_abort(NULL);
    finish(fx, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_EXEC_FAILED);
}

static void lk_run_start__ret_run_may_be_null(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    make_sh(fx, "ok.sh", "exit 0", path);
    struct lk_run_spec spec = spec_for(fx, path);
    struct done d = {0};
    assert_int_equal(lk_run_start(&fx->loop, &spec, on_done, &d, NULL), 0);
    assert_int_equal(lk_run_count(), 1);
    run_loop(fx);
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.result.outcome, LK_OUTCOME_SUCCESS);
}

/* Exit status and signals. */

static void lk_run_start__exit_zero_is_success(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    make_sh(fx, "ok.sh", "exit 0", path);
    struct lk_run_spec spec = spec_for(fx, path);
    struct done d = {0};
    start(fx, &spec, &d);
    assert_int_equal(lk_run_count(), 1);
    assert_true(lk_run_pid(d.run) > 0);
    int pid = lk_run_pid(d.run);
    finish(fx, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_SUCCESS);
    assert_int_equal(d.result.exit_status, 0);
    assert_int_equal(d.result.term_signal, 0);
    assert_int_equal(d.result.exec_errno, 0);
    assert_int_equal(d.result.pid, pid);
    assert_true(d.result.duration_usec > 0);
    assert_true(d.result.duration_usec < 5 * SEC);
    assert_string_equal(d.result.message, "");
    assert_true(lk_result_ok(&d.result));
    assert_string_equal(describe(&d), "exit status 0");
}

static void lk_run_start__exit_status_is_reported(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    make_sh(fx, "three.sh", "exit 3", path);
    struct done d = {0};
    run_path(fx, path, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_EXIT);
    assert_int_equal(d.result.exit_status, 3);
    assert_int_equal(d.result.term_signal, 0);
    assert_true(d.result.pid > 0);
    assert_string_equal(describe(&d), "exit status 3");
}

static void lk_run_start__own_signal_is_signal(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    make_sh(fx, "kill9.sh", "kill -9 $$", path);
    struct done d = {0};
    run_path(fx, path, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_SIGNAL);
    assert_int_equal(d.result.term_signal, SIGKILL);
    assert_false(lk_result_ok(&d.result));
    assert_string_equal(describe(&d), "killed by signal 9 (SIGKILL)");
}

static void lk_run_start__elf_binary_runs(void **state)
{
    struct fixture *fx = *state;
    struct done ok = {0};
    run_path(fx, "/bin/true", &ok);
    assert_int_equal(ok.result.outcome, LK_OUTCOME_SUCCESS);

    struct done bad = {0};
    run_path(fx, "/bin/false", &bad);
    assert_int_equal(bad.result.outcome, LK_OUTCOME_EXIT);
    assert_int_equal(bad.result.exit_status, 1);
}

/* What the script sees: environment, arguments, stdin, cwd, session, file descriptors. */

static void lk_run_start__environment_is_exactly_the_spec_and_no_arguments(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX], expected[PATH_MAX + 256];
    /* Something in our own environment that must not leak into the script's. */
    assert_int_equal(setenv("LK_TEST_MUST_NOT_LEAK", "1", 1), 0);
    make_sh(fx, "env.sh",
            "tr '\\0' '\\n' < /proc/$$/environ\n"
            "echo \"argc=$#\"\n"
            "echo \"arg0=$0\"",
            path);
    char *env[] = {env_path, env_lang, env_tag, env_odd, NULL};
    struct lk_run_spec spec = spec_for(fx, path);
    spec.env = env;
    struct done d = {0};
    run_spec(fx, &spec, &d);
    unsetenv("LK_TEST_MUST_NOT_LEAK");
    assert_int_equal(d.result.outcome, LK_OUTCOME_SUCCESS);
    snprintf(expected, sizeof(expected), "%s\n%s\n%s\n%s\nargc=0\narg0=%s\n", env_path, env_lang,
             env_tag, env_odd, path);
    assert_string_equal(d.output, expected);
}

static void lk_run_start__argv_is_passed_as_given(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX], expected[PATH_MAX + 256];
    make_sh(fx, "args.sh",
            "echo \"argc=$#\"\n"
            "echo \"arg0=$0\"\n"
            "for a in \"$@\"; do echo \"[$a]\"; done",
            path);
    char a1[] = "start", a2[] = "two words", a3[] = "";
    char *argv[] = {path, a1, a2, a3, NULL};
    struct lk_run_spec spec = spec_for(fx, path);
    spec.argv = argv;
    struct done d = {0};
    run_spec(fx, &spec, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_SUCCESS);
    snprintf(expected, sizeof(expected), "argc=3\narg0=%s\n[start]\n[two words]\n[]\n", path);
    assert_string_equal(d.output, expected);
}

static void lk_run_start__null_env_is_an_empty_environment(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    make_sh(fx, "env.sh",
            "/usr/bin/tr '\\0' '\\n' < /proc/$$/environ\n"
            "echo end",
            path);
    struct lk_run_spec spec = spec_for(fx, path);
    spec.env = NULL;
    struct done d = {0};
    run_spec(fx, &spec, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_SUCCESS);
    assert_string_equal(d.output, "end\n");
}

static void lk_run_start__stdin_is_dev_null(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    make_sh(fx, "stdin.sh",
            "read line\n"
            "echo \"read=$?\"\n"
            "readlink /proc/$$/fd/0",
            path);
    struct lk_run_spec spec = spec_for(fx, path);
    spec.timeout_usec = 5 * SEC;
    struct done d = {0};
    run_spec(fx, &spec, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_SUCCESS);
    assert_string_equal(d.output, "read=1\n/dev/null\n");
}

/* The input (an alert's event) is the script's stdin, then EOF; bigger than a pipe's
 * default 64 KiB, it is still written whole; a script that never reads it ends all the
 * same; too big an input fails the start. A contained run takes none. */
static void lk_run_start__input_is_stdin_then_eof(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    make_sh(fx, "input.sh", "wc -c\nread line\necho \"read=$?\"", path);
    static char big[200 * 1024];
    memset(big, 'x', sizeof(big));
    struct lk_run_spec spec = spec_for(fx, path);
    spec.timeout_usec = 5 * SEC;
    spec.input = big;
    spec.input_len = sizeof(big);
    struct done d = {0};
    if (contained) {
        /* Not for a resource's runs: refused, and the callback never comes. */
        struct lk_run *run = NULL;
        assert_int_equal(lk_run_start(&fx->loop, &spec, on_done, &d, &run), -EINVAL);
        assert_int_equal(d.calls, 0);
        return;
    }
    run_spec(fx, &spec, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_SUCCESS);
    assert_string_equal(d.output, "204800\nread=1\n");

    make_sh(fx, "ignore.sh", "exit 0", path);
    spec = spec_for(fx, path);
    spec.input = big;
    spec.input_len = sizeof(big);
    struct done d2 = {0};
    run_spec(fx, &spec, &d2);
    assert_int_equal(d2.result.outcome, LK_OUTCOME_SUCCESS);

    spec.input_len = LK_RUN_INPUT_MAX + 1;
    struct lk_run *run = NULL;
    assert_int_equal(lk_run_start(&fx->loop, &spec, on_done, &d2, &run), -EMSGSIZE);
}

static void lk_run_start__cwd_is_respected(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX], work[PATH_MAX], real[PATH_MAX], expected[PATH_MAX + 2];
    make_sh(fx, "pwd.sh", "pwd -P", path);
    path_in(fx, "work", work);
    make_dir(work, 0700);
    assert_non_null(realpath(work, real));
    struct lk_run_spec spec = spec_for(fx, path);
    spec.cwd = work;
    struct done d = {0};
    run_spec(fx, &spec, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_SUCCESS);
    snprintf(expected, sizeof(expected), "%s\n", real);
    assert_string_equal(d.output, expected);
}

static void lk_run_start__runs_in_a_new_session(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX], expected[128];
    /* Fields 5 and 6 of /proc/PID/stat are the process group and the session. */
    make_sh(fx, "session.sh", "echo $$ $(cut -d' ' -f5,6 /proc/$$/stat)", path);
    struct done d = {0};
    run_path(fx, path, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_SUCCESS);
    snprintf(expected, sizeof(expected), "%d %d %d\n", d.result.pid, d.result.pid, d.result.pid);
    assert_string_equal(d.output, expected);
    assert_int_not_equal(getsid(0), d.result.pid);
}

static void lk_run_start__script_inherits_no_other_fds(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX], other[PATH_MAX], marker[PATH_MAX];

    /* A descriptor of ours without O_CLOEXEC, as a daemon might have inherited. */
    path_in(fx, "leak-marker", marker);
    write_file(marker, "x", 1, 0600);
    int leak = open(marker, O_RDONLY);
    assert_true(leak >= 0);

    /* Another run in flight, whose pipe must not reach the second script either. */
    make_sh(fx, "other.sh", "sleep 0.5", other);
    struct lk_run_spec other_spec = spec_for(fx, other);
    struct done other_done = {0};
    start(fx, &other_spec, &other_done);

    make_sh(fx, "fds.sh", "for fd in /proc/$$/fd/*; do readlink \"$fd\"; done; exit 0", path);
    struct lk_run_spec spec = spec_for(fx, path);
    struct done d = {0};
    start(fx, &spec, &d);
    run_loop(fx);
    close(leak);
    assert_int_equal(d.calls, 1);
    assert_int_equal(other_done.calls, 1);
    assert_int_equal(d.result.outcome, LK_OUTCOME_SUCCESS);
    assert_null(strstr(d.output, "leak-marker"));
    /* Every pipe the script holds is its one output pipe (fds 1 and 2). */
    const char *first = strstr(d.output, "pipe:");
    assert_non_null(first);
    int pipes = 0;
    for (const char *p = first; p; p = strstr(p + 1, "pipe:")) {
        assert_memory_equal(p, first, strcspn(first, "\n"));
        pipes++;
    }
    assert_int_equal(pipes, 2);
}

static void lk_run_start__leaks_no_fds(void **state)
{
    struct fixture *fx = *state;
    char ok[PATH_MAX], slow[PATH_MAX], missing[PATH_MAX], noexec[PATH_MAX];
    make_sh(fx, "ok.sh", "echo hello", ok);
    make_sh(fx, "slow.sh", "sleep 1000", slow);
    make_sh(fx, "noexec.sh", "exit 0", noexec);
    assert_int_equal(chmod(noexec, 0600), 0);
    path_in(fx, "missing", missing);

    /* A first run makes the loop open its signal pipe (for SIGCHLD), which it keeps. */
    struct done warm = {0};
    run_path(fx, ok, &warm);

    unsigned before = count_fds();
    const char *paths[] = {ok, slow, missing, noexec, "relative"};
    struct done d[5];
    memset(d, 0, sizeof(d));
    for (int i = 0; i < 5; i++) {
        struct lk_run_spec spec = spec_for(fx, paths[i]);
        spec.timeout_usec = 200 * MSEC;
        spec.kill_grace_usec = 100 * MSEC;
        start(fx, &spec, &d[i]);
    }
    run_loop(fx);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(d[i].calls, 1);
    }
    assert_int_equal(d[0].result.outcome, LK_OUTCOME_SUCCESS);
    assert_int_equal(d[1].result.outcome, LK_OUTCOME_TIMEOUT);
    assert_int_equal(d[2].result.outcome, LK_OUTCOME_EXEC_FAILED);
    assert_int_equal(d[3].result.outcome, LK_OUTCOME_EXEC_FAILED);
    assert_int_equal(d[4].result.outcome, LK_OUTCOME_REFUSED);
    assert_int_equal(count_fds(), before);
}

/* Signals: the script starts with lkd's signal state undone. lkd ignores SIGPIPE and may
 * block signals on the loop thread; libuv has handlers. */

struct signal_state {
    struct sigaction pipe;
    struct sigaction usr1;
    sigset_t mask;
};

/* Ignores SIGPIPE (as lkd does) and SIGUSR1, and blocks SIGUSR2 and SIGHUP, until
 * restore_signals. Ignored signals stay ignored across exec, and the mask is inherited. */
static void disturb_signals(struct signal_state *old)
{
    struct sigaction ignore;
    memset(&ignore, 0, sizeof(ignore));
    ignore.sa_handler = SIG_IGN;
    assert_int_equal(sigaction(SIGPIPE, &ignore, &old->pipe), 0);
    assert_int_equal(sigaction(SIGUSR1, &ignore, &old->usr1), 0);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR2);
    sigaddset(&block, SIGHUP);
    assert_int_equal(sigprocmask(SIG_BLOCK, &block, &old->mask), 0);
}

static void restore_signals(const struct signal_state *old)
{
    sigaction(SIGPIPE, &old->pipe, NULL);
    sigaction(SIGUSR1, &old->usr1, NULL);
    sigprocmask(SIG_SETMASK, &old->mask, NULL);
}

/* Runs path with our signals disturbed, restoring them before any assertion can fail. */
static void run_with_disturbed_signals(struct fixture *fx, const char *path, struct done *d)
{
    struct signal_state old;
    disturb_signals(&old);
    struct lk_run_spec spec = spec_for(fx, path);
    d->fx = fx;
    int r = lk_run_start(&fx->loop, &spec, on_done, d, &d->run);
    if (r == 0) {
        uv_timer_start(&fx->guard, on_guard, GUARD_MS, 0);
        uv_run(&fx->loop, UV_RUN_DEFAULT);
        uv_timer_stop(&fx->guard);
    }
    restore_signals(&old);
    assert_int_equal(r, 0);
    assert_false(fx->guard_fired);
    assert_int_equal(d->calls, 1);
}

/* The hexadecimal mask after "name:\t" in text (a /proc/PID/status line). */
static unsigned long long status_mask(const char *text, const char *name)
{
    const char *line = strstr(text, name);
    assert_non_null(line);
    char *end;
    unsigned long long mask = strtoull(line + strlen(name) + 2, &end, 16);
    assert_int_equal(*end, '\n');
    return mask;
}

static void lk_run_start__script_gets_default_signal_dispositions(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    /* With SIGPIPE at its default, yes dies of it (128 + 13); ignored, it would get EPIPE,
     * complain and exit 1, and so would any script writing to a closed pipe. */
    make_sh(fx, "sigdfl.sh",
            "(yes; echo \"yes=$?\" >&2) | head -n 1 >/dev/null\n"
            "exec grep '^SigIgn:' /proc/self/status",
            path);
    struct done d = {0};
    run_with_disturbed_signals(fx, path, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_SUCCESS);
    assert_non_null(strstr(d.output, "yes=141\n"));
    unsigned long long ignored = status_mask(d.output, "SigIgn");
    if (without_pidfd) {
        /* libuv resets signals 1 to 31 only; whether glibc's internal 32 and 33 are ignored
         * depends on how this test was started. */
        ignored &= 0x7fffffffULL;
    }
    assert_int_equal(ignored, 0);
}

static void lk_run_start__script_gets_an_empty_signal_mask(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    make_sh(fx, "sigmask.sh", "exec grep '^SigBlk:' /proc/self/status", path);
    struct done d = {0};
    run_with_disturbed_signals(fx, path, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_SUCCESS);
    assert_string_equal(d.output, "SigBlk:\t0000000000000000\n");
}

/* Reaping. */

/* Whether this process has a child that exited and was not reaped. Only looks (WNOWAIT). */
static bool have_zombie_child(void)
{
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) < 0) {
        return false; /* ECHILD: no children at all */
    }
    return info.si_pid != 0;
}

static void lk_run_start__leaves_no_zombies(void **state)
{
    struct fixture *fx = *state;
    char ok[PATH_MAX], fail[PATH_MAX], sig[PATH_MAX], slow[PATH_MAX], noexec[PATH_MAX],
            interp[PATH_MAX];
    make_sh(fx, "ok.sh", "exit 0", ok);
    make_sh(fx, "fail.sh", "exit 3", fail);
    make_sh(fx, "sig.sh", "kill -9 $$", sig);
    make_sh(fx, "slow.sh", "trap '' TERM\nsleep 1000", slow);
    make_sh(fx, "noexec.sh", "exit 0", noexec);
    assert_int_equal(chmod(noexec, 0600), 0);
    path_in(fx, "interp.sh", interp);
    const char content[] = "#!/nonexistent/sh\n";
    write_file(interp, content, sizeof(content) - 1, 0700);

    /* Exits, a signal, a kill after a timeout, and exec failures (whose child glibc or
     * libuv created, then saw fail). */
    const char *paths[] = {ok, fail, sig, slow, noexec, interp};
    enum { N = sizeof(paths) / sizeof(paths[0]) };
    struct done d[N];
    memset(d, 0, sizeof(d));
    for (int i = 0; i < N; i++) {
        struct lk_run_spec spec = spec_for(fx, paths[i]);
        spec.timeout_usec = 200 * MSEC;
        spec.kill_grace_usec = 100 * MSEC;
        start(fx, &spec, &d[i]);
    }
    run_loop(fx);
    for (int i = 0; i < N; i++) {
        assert_int_equal(d[i].calls, 1);
    }
    assert_int_equal(d[3].result.outcome, LK_OUTCOME_TIMEOUT);
    assert_int_equal(d[4].result.outcome, LK_OUTCOME_EXEC_FAILED);
    assert_int_equal(d[5].result.outcome, LK_OUTCOME_EXEC_FAILED);
    assert_false(have_zombie_child());
}

static void lk_run_start__reaps_without_a_sigchld_handler(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    make_sh(fx, "nap.sh", "sleep 0.2", path);
    struct lk_run_spec spec = spec_for(fx, path);
    struct done d = {0};
    start(fx, &spec, &d);
    /* Looked at while the run is in flight: libuv removes its handler with its last
     * uv_process_t. */
    struct sigaction sa;
    assert_int_equal(sigaction(SIGCHLD, NULL, &sa), 0);
    finish(fx, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_SUCCESS);
    if (without_pidfd) {
        /* uv_spawn's libuv reaps from a SIGCHLD handler: this is how we know that the
         * suite's second run does test the fallback. */
        assert_true(sa.sa_handler != SIG_DFL);
    } else {
        /* The pidfd path needs none, and a handler would interrupt the daemon's syscalls. */
        assert_true(sa.sa_handler == SIG_DFL);
        assert_false(sa.sa_flags & SA_SIGINFO);
    }
}

/* Makes the system call nr fail with ENOSYS in this process and whatever it execs, as on an
 * older kernel (pidfd_open before 5.3, clone3 before 5.3). Returns 0, or -1 when seccomp is
 * not available here. */
static int deny_syscall(long nr)
{
#if defined(__x86_64__)
    const unsigned arch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
    const unsigned arch = AUDIT_ARCH_AARCH64;
#else
    (void) nr;
    return -1;
#endif
#if defined(__x86_64__) || defined(__aarch64__)
    struct sock_filter filter[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 1, 0),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned) nr, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {
            .len = (unsigned short) (sizeof(filter) / sizeof(filter[0])),
            .filter = filter,
    };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
        return -1;
    }
    return 0;
#endif
}

static void lk_run_start__without_pidfd_open_falls_back_to_uv_spawn(void **state)
{
    (void) state;
    if (without_pidfd || contained) {
        skip(); /* this is the second or third run */
    }
    /* The whole suite again, in a fresh process: the runner decides how to spawn once. */
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        if (deny_syscall(SYS_pidfd_open) < 0) {
            _exit(77);
        }
        char exe[] = "/proc/self/exe";
        char arg[] = WITHOUT_PIDFD_ARG;
        char *args[] = {exe, arg, NULL};
        execv(exe, args);
        _exit(127);
    }
    int status;
    while (waitpid(child, &status, 0) < 0) {
        assert_int_equal(errno, EINTR);
    }
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77) {
        skip();
    }
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void lk_run_start__contained_runs_pass_the_whole_suite(void **state)
{
    (void) state;
    if (without_pidfd || contained) {
        skip(); /* this is the second or third run */
    }
    char path[PATH_MAX], rel[PATH_MAX];
    int fd = make_cgroup("suite", path, rel);
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        /* The descriptor is handed down by number: it must survive the exec. */
        if (fcntl(fd, F_SETFD, 0) < 0) {
            _exit(127);
        }
        char exe[] = "/proc/self/exe";
        char arg[] = CONTAINED_ARG;
        char fd_arg[16];
        snprintf(fd_arg, sizeof(fd_arg), "%d", fd);
        char *args[] = {exe, arg, fd_arg, rel, NULL};
        execv(exe, args);
        _exit(127);
    }
    int status;
    while (waitpid(child, &status, 0) < 0) {
        assert_int_equal(errno, EINTR);
    }
    close(fd);
    remove_cgroup(path);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void lk_run_start__script_runs_in_the_cgroup_it_should(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX], expected[PATH_MAX + 8], ours[PATH_MAX];
    make_sh(fx, "where.sh", "grep '^0::' /proc/$$/cgroup", path);
    struct done d = {0};
    run_path(fx, path, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_SUCCESS);
    /* Contained: the suite's cgroup; otherwise where the daemon is, as before. */
    cgroup_of(getpid(), ours, sizeof(ours));
    if (!ours[0]) {
        skip(); /* no cgroup v2 at all */
    }
    snprintf(expected, sizeof(expected), "0::%s\n", contained ? contained_rel : ours);
    assert_string_equal(d.output, expected);
}

static void contained__a_daemon_left_by_a_restore_stays_in_the_cgroup(void **state)
{
    struct fixture *fx = *state;
    char cgroup[PATH_MAX], rel[PATH_MAX];
    int fd = make_cgroup("daemon", cgroup, rel);
    char path[PATH_MAX];
    /* A double fork and setsid: the daemon has nothing left of the script but its cgroup. */
    make_sh(fx, "restore.sh",
            "grep '^0::' /proc/$$/cgroup\n"
            "(setsid sh -c 'echo $$ >daemon.pid; exec sleep 1000' </dev/null >/dev/null 2>&1 &) &\n"
            "while [ ! -s daemon.pid ]; do sleep 0.01; done\n"
            "echo \"daemon $(cat daemon.pid)\"",
            path);
    struct lk_run_spec spec = spec_for(fx, path);
    spec.contained = true;
    spec.cgroup_fd = fd;
    struct done d = {0};
    run_spec(fx, &spec, &d);
    close(fd);
    char expected[PATH_MAX + 8], daemon_cgroup[PATH_MAX], daemon_sid[64];
    pid_t daemon = 0;
    const char *p = strstr(d.output, "daemon ");
    if (p) {
        daemon = (pid_t) strtol(p + 7, NULL, 10);
        cgroup_of(daemon, daemon_cgroup, sizeof(daemon_cgroup));
        snprintf(daemon_sid, sizeof(daemon_sid), "%d", daemon > 1 ? (int) getsid(daemon) : -1);
    }
    bool populated = cgroup_populated(cgroup);
    remove_cgroup(cgroup);
    assert_int_equal(d.result.outcome, LK_OUTCOME_SUCCESS);
    snprintf(expected, sizeof(expected), "0::%s\n", rel);
    assert_true(strncmp(d.output, expected, strlen(expected)) == 0);
    assert_true(daemon > 1);
    /* In its own session, away from the script's, and still in the cgroup. */
    assert_int_equal(strtol(daemon_sid, NULL, 10), daemon);
    assert_string_equal(daemon_cgroup, rel);
    assert_true(populated);
    assert_true(wait_gone(daemon, 5000));
}

static void contained__a_cgroup_that_cannot_be_used_is_a_clear_failure(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    make_sh(fx, "ok.sh", "exit 0", path);
    /* A directory, but not a cgroup. */
    int fd = open(fx->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(fd >= 0);
    struct lk_run_spec spec = spec_for(fx, path);
    spec.contained = true;
    spec.cgroup_fd = fd;
    struct done d = {0};
    run_spec(fx, &spec, &d);
    close(fd);
    assert_int_equal(d.result.outcome, LK_OUTCOME_EXEC_FAILED);
    assert_int_equal(d.result.pid, 0);
    assert_int_equal(d.result.exec_errno, EBADF);
    assert_string_equal(describe(&d),
                        "could not execute: cannot spawn into the resource's cgroup: Bad file "
                        "descriptor");
    assert_false(have_zombie_child());

    /* No descriptor at all. */
    spec.cgroup_fd = -1;
    struct done d2 = {0};
    run_spec(fx, &spec, &d2);
    assert_int_equal(d2.result.outcome, LK_OUTCOME_EXEC_FAILED);
    assert_int_equal(d2.result.exec_errno, EBADF);
}

static void contained__without_clone3_is_a_clear_failure(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX], cgroup[PATH_MAX], rel[PATH_MAX];
    make_sh(fx, "ok.sh", "exit 0", path);
    int fd = make_cgroup("noclone3", cgroup, rel);
    char mount[PATH_MAX];
    assert_true(find_cgroup2_mount(mount, sizeof(mount)));
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        /* No cmocka here: the verdict is the exit status. */
        if (deny_syscall(SYS_clone3) < 0) {
            _exit(77);
        }
        struct lk_cgroups *cg = NULL;
        char why[256] = "";
        const char reason[] = "kernel cannot spawn into a cgroup (clone3: Function not "
                              "implemented; Linux 5.7 or later needed)";
        if (lk_cgroups_open(fx->dir, "node1", mount, &cg, why, sizeof(why)) != 0 || cg ||
            strcmp(why, reason) != 0) {
            fprintf(stderr, "lk_cgroups_open: %s\n", why);
            _exit(3);
        }
        uv_loop_t loop;
        if (uv_loop_init(&loop) < 0) {
            _exit(2);
        }
        struct lk_run_spec spec = spec_for(fx, path);
        spec.contained = true;
        spec.cgroup_fd = fd;
        struct done d = {0};
        if (lk_run_start(&loop, &spec, on_done, &d, NULL) != 0) {
            _exit(4);
        }
        (void) uv_run(&loop, UV_RUN_DEFAULT);
        char buf[512];
        const char *text = lk_result_describe(&d.result, buf, sizeof(buf));
        const char expected[] = "could not execute: cannot spawn into the resource's cgroup: "
                                "clone3: Function not implemented (containment needs Linux 5.7 "
                                "or later)";
        if (d.calls != 1 || d.result.outcome != LK_OUTCOME_EXEC_FAILED ||
            strcmp(text, expected) != 0) {
            fprintf(stderr, "result: %s\n", text);
            _exit(5);
        }
        _exit(0);
    }
    int status;
    while (waitpid(child, &status, 0) < 0) {
        assert_int_equal(errno, EINTR);
    }
    close(fd);
    remove_cgroup(cgroup);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77) {
        skip();
    }
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* Output. */

static void lk_run_start__no_output_is_empty(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    make_sh(fx, "quiet.sh", "exit 0", path);
    struct done d = {0};
    run_path(fx, path, &d);
    assert_int_equal(d.output_len, 0);
}

static void lk_run_start__stdout_and_stderr_are_captured_in_order(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    make_sh(fx, "both.sh",
            "echo out1\n"
            "echo err1 >&2\n"
            "echo out2\n"
            "echo err2 1>&2\n"
            "exit 1",
            path);
    struct done d = {0};
    run_path(fx, path, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_EXIT);
    assert_string_equal(d.output, "out1\nerr1\nout2\nerr2\n");
    assert_int_equal(d.output_len, strlen("out1\nerr1\nout2\nerr2\n"));
}

static void check_tail_of_x(const struct done *d, size_t x_count, const char *end)
{
    size_t end_len = strlen(end);
    assert_int_equal(d->output_len, x_count + end_len);
    for (size_t i = 0; i < x_count; i++) {
        if (d->output[i] != 'x') {
            fail_msg("byte %zu is 0x%02x, not 'x'", i, (unsigned char) d->output[i]);
        }
    }
    assert_memory_equal(d->output + x_count, end, end_len);
}

static void lk_run_start__output_at_ring_boundaries(void **state)
{
    struct fixture *fx = *state;
    /* Sizes around the ring's: less, exactly, one more, and several times over. */
    static const size_t sizes[] = {4091, 4092, 4093, 8188, 12289};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        char path[PATH_MAX], body[256];
        snprintf(body, sizeof(body), "head -c %zu /dev/zero | tr '\\0' x; echo END", sizes[i]);
        make_sh(fx, "ring.sh", body, path);
        struct done d = {0};
        run_path(fx, path, &d);
        assert_int_equal(d.result.outcome, LK_OUTCOME_SUCCESS);
        size_t total = sizes[i] + 4;
        size_t kept = total < LK_RUN_OUTPUT_MAX ? total : LK_RUN_OUTPUT_MAX;
        check_tail_of_x(&d, kept - 4, "END\n");
    }
}

static void lk_run_start__output_keeps_last_4096_bytes_of_100_mb(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    make_sh(fx, "big.sh", "head -c 100000000 /dev/zero | tr '\\0' x; echo END", path);
    struct lk_run_spec spec = spec_for(fx, path);
    spec.timeout_usec = 60 * SEC;
    struct done d = {0};
    run_spec(fx, &spec, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_SUCCESS);
    check_tail_of_x(&d, LK_RUN_OUTPUT_MAX - 4, "END\n");
}

static void lk_run_start__output_written_just_before_exit_is_kept(void **state)
{
    struct fixture *fx = *state;
    /* Several at once, each filling most of its pipe and exiting at once, so that exits
     * and output race in the loop. */
    enum { N = 8 };
    char path[PATH_MAX];
    make_sh(fx, "burst.sh", "head -c 60000 /dev/zero | tr '\\0' x; printf \"END$N\"", path);
    static char envs[N][16];
    char *env[N][3];
    struct done d[N];
    memset(d, 0, sizeof(d));
    for (int i = 0; i < N; i++) {
        snprintf(envs[i], sizeof(envs[i]), "N=%d", i);
        env[i][0] = env_path;
        env[i][1] = envs[i];
        env[i][2] = NULL;
        struct lk_run_spec spec = spec_for(fx, path);
        spec.env = env[i];
        start(fx, &spec, &d[i]);
    }
    assert_int_equal(lk_run_count(), N);
    run_loop(fx);
    for (int i = 0; i < N; i++) {
        char end[16];
        snprintf(end, sizeof(end), "END%d", i);
        assert_int_equal(d[i].calls, 1);
        assert_int_equal(d[i].result.outcome, LK_OUTCOME_SUCCESS);
        check_tail_of_x(&d[i], LK_RUN_OUTPUT_MAX - strlen(end), end);
    }
}

static void lk_run_start__output_pending_at_exit_is_kept(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    /* The script exits at once; a child writes 0.2 s later, then exits too. The loop is
     * blocked for 1 s, so when it looks, the exit and all the output are waiting. */
    make_sh(fx, "late.sh", "(sleep 0.2; head -c 50000 /dev/zero | tr '\\0' x; echo LATE) &\nexit 0",
            path);
    struct lk_run_spec spec = spec_for(fx, path);
    struct done d = {0};
    start(fx, &spec, &d);
    d.aux_block = true;
    aux_after(fx, &d, 0);
    finish(fx, &d);
    assert_true(d.aux_seen_alive);
    assert_int_equal(d.result.outcome, LK_OUTCOME_SUCCESS);
    check_tail_of_x(&d, LK_RUN_OUTPUT_MAX - 5, "LATE\n");
}

static void lk_run_start__output_left_in_the_pipe_at_exit_is_drained(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    /* The script grows its pipe to 1 MiB, fills most of it and exits while the loop is
     * blocked. When the loop resumes, one read callback takes at most 32 reads (libuv's
     * limit per event) and the exit is handled in the same iteration, so the last bytes are
     * still in the pipe: only the drain at exit can get them. */
    path_in(fx, "drain.pl", path);
    const char content[] = "#!/usr/bin/perl\n"
                           "fcntl(STDOUT, 1031, 1048576) or die \"F_SETPIPE_SZ: $!\";\n"
                           "$| = 1;\n"
                           "print 'x' x 1000000;\n"
                           "print \"END\\n\";\n"
                           "exit 0;\n";
    write_file(path, content, sizeof(content) - 1, 0700);
    struct lk_run_spec spec = spec_for(fx, path);
    struct done d = {0};
    start(fx, &spec, &d);
    d.aux_block = true;
    aux_after(fx, &d, 0);
    finish(fx, &d);
    assert_true(d.aux_seen_alive);
    assert_int_equal(d.result.outcome, LK_OUTCOME_SUCCESS);
    check_tail_of_x(&d, LK_RUN_OUTPUT_MAX - 4, "END\n");
}

/* A run ends when the script exits, not when its output pipe closes. */

static void lk_run_start__background_child_holding_stdout_does_not_hold_run(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    make_sh(fx, "restore.sh", "sleep 1000 &\necho \"daemon $!\"\nexit 0", path);
    struct done d = {0};
    run_path(fx, path, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_SUCCESS);
    assert_true(d.result.duration_usec < 2 * SEC);
    pid_t daemon = first_number(d.output);
    /* A script that exits by itself keeps its group: a restore's daemon must live on. */
    assert_false(process_gone(daemon));
    assert_int_equal(kill(-d.result.pid, SIGKILL), 0);
    assert_true(wait_gone(daemon, 5000));
}

static void lk_run_start__endless_writer_does_not_hold_run(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    /* A grandchild that writes as fast as we read: draining at exit must stop. */
    make_sh(fx, "yes.sh",
            "perl -e 'fcntl(STDOUT, 1031, 1048576); exec \"yes\"' &\n"
            "echo started\nsleep 0.2\nexit 0",
            path);
    struct done d = {0};
    run_path(fx, path, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_SUCCESS);
    assert_true(d.result.duration_usec < 2 * SEC);
    (void) kill(-d.result.pid, SIGKILL);
    assert_int_equal(d.output_len, LK_RUN_OUTPUT_MAX);
    /* The tail is all "y\n" (or the echo, if the drain stopped right after it). */
    assert_non_null(strstr(d.output, "y\ny\n"));
}

/* Timeouts. */

static void timeout__script_that_closed_its_output_is_killed(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    make_sh(fx, "hang.sh", "echo before\nexec >&- 2>&-\nsleep 1000", path);
    struct lk_run_spec spec = spec_for(fx, path);
    spec.timeout_usec = 300 * MSEC;
    spec.kill_grace_usec = 5 * SEC;
    struct done d = {0};
    run_spec(fx, &spec, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_TIMEOUT);
    assert_int_equal(d.result.timeout_usec, 300 * MSEC);
    assert_int_equal(d.result.term_signal, SIGTERM);
    assert_true(d.result.duration_usec >= 300 * MSEC);
    assert_true(d.result.duration_usec < 3 * SEC);
    assert_true(d.result.pid > 0);
    assert_string_equal(d.output, "before\n");
    assert_false(lk_result_ok(&d.result));
    assert_string_equal(describe(&d), "timed out after 0.3 s");
}

static void timeout__term_ignored_is_killed_after_grace_with_its_group(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    /* Ignored signals stay ignored across fork and exec: the children ignore TERM too. */
    make_sh(fx, "stubborn.sh", "trap '' TERM\nsleep 1000 &\necho \"child $!\"\nsleep 1000", path);
    struct lk_run_spec spec = spec_for(fx, path);
    spec.timeout_usec = 200 * MSEC;
    spec.kill_grace_usec = 200 * MSEC;
    struct done d = {0};
    run_spec(fx, &spec, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_TIMEOUT);
    assert_int_equal(d.result.term_signal, SIGKILL);
    assert_true(d.result.duration_usec >= 400 * MSEC);
    assert_true(d.result.duration_usec < 4 * SEC);
    pid_t child = first_number(d.output);
    assert_true(wait_gone(child, 2000));
    assert_true(wait_gone(d.result.pid, 2000));
}

static void timeout__group_left_by_the_leader_is_killed_at_once(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    /* The leader dies of SIGTERM; its child ignores it. The child must be killed as soon
     * as the leader is gone, not after the (long) grace. */
    make_sh(fx, "leader.sh", "(trap '' TERM; exec sleep 1000) &\necho \"child $!\"\nwait", path);
    struct lk_run_spec spec = spec_for(fx, path);
    spec.timeout_usec = 300 * MSEC;
    spec.kill_grace_usec = 10 * SEC;
    struct done d = {0};
    run_spec(fx, &spec, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_TIMEOUT);
    assert_int_equal(d.result.term_signal, SIGTERM);
    assert_true(d.result.duration_usec < 3 * SEC);
    pid_t child = first_number(d.output);
    assert_true(wait_gone(child, 2000));
}

static void timeout__whole_group_gets_sigterm_first(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    /* A child that shuts down cleanly on SIGTERM, and a leader that waits for it: both must
     * get SIGTERM, well before the grace runs out. */
    make_sh(fx, "group.sh",
            "(trap 'echo child-got-term; exit 0' TERM; while :; do sleep 0.05; done) &\n"
            "trap 'wait; echo leader-done; exit 0' TERM\n"
            "wait",
            path);
    struct lk_run_spec spec = spec_for(fx, path);
    spec.timeout_usec = 200 * MSEC;
    spec.kill_grace_usec = 5 * SEC;
    struct done d = {0};
    run_spec(fx, &spec, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_TIMEOUT);
    assert_int_equal(d.result.term_signal, 0);
    /* The shell may also report the killed sleep ("Terminated"). */
    const char *child = strstr(d.output, "child-got-term\n");
    const char *leader = strstr(d.output, "leader-done\n");
    assert_non_null(child);
    assert_non_null(leader);
    assert_true(child < leader);
    assert_true(d.result.duration_usec < 3 * SEC);
}

static void timeout__stopped_script_is_continued_to_get_sigterm(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    /* A stopped process only acts on SIGTERM once continued; without SIGCONT it would
     * wait for the SIGKILL at the end of the grace. */
    make_sh(fx, "stopped.sh", "kill -STOP $$\nexit 0", path);
    struct lk_run_spec spec = spec_for(fx, path);
    spec.timeout_usec = 200 * MSEC;
    spec.kill_grace_usec = 10 * SEC;
    struct done d = {0};
    run_spec(fx, &spec, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_TIMEOUT);
    assert_int_equal(d.result.term_signal, SIGTERM);
    assert_true(d.result.duration_usec < 3 * SEC);
}

static void timeout__counts_from_the_start_even_when_loop_time_is_stale(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    make_sh(fx, "slow.sh", "sleep 1000", path);
    /* The loop's cached time is now 0.5 s old, as after a slow callback. */
    struct timespec ts = {0, 500 * 1000 * 1000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
    struct lk_run_spec spec = spec_for(fx, path);
    spec.timeout_usec = 300 * MSEC;
    struct done d = {0};
    run_spec(fx, &spec, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_TIMEOUT);
    assert_true(d.result.duration_usec >= 300 * MSEC);
}

static void timeout__clean_exit_after_term_is_still_a_timeout(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    make_sh(fx, "polite.sh", "trap 'exit 0' TERM\nsleep 1000 &\nwait", path);
    struct lk_run_spec spec = spec_for(fx, path);
    spec.timeout_usec = 200 * MSEC;
    struct done d = {0};
    run_spec(fx, &spec, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_TIMEOUT);
    assert_int_equal(d.result.exit_status, 0);
    assert_int_equal(d.result.term_signal, 0);
    assert_false(lk_result_ok(&d.result));
}

static void timeout__zero_means_no_limit(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    make_sh(fx, "nap.sh", "sleep 0.3\nexit 0", path);
    struct lk_run_spec spec = spec_for(fx, path);
    spec.timeout_usec = 0;
    struct done d = {0};
    run_spec(fx, &spec, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_SUCCESS);
    assert_true(d.result.duration_usec >= 300 * MSEC);
}

static void timeout__script_finishing_in_time_is_not_timed_out(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    make_sh(fx, "quick.sh", "sleep 0.1\nexit 4", path);
    struct lk_run_spec spec = spec_for(fx, path);
    spec.timeout_usec = 2 * SEC;
    struct done d = {0};
    run_spec(fx, &spec, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_EXIT);
    assert_int_equal(d.result.exit_status, 4);
    assert_int_equal(d.result.timeout_usec, 0);
}

/* Abort. */

static void lk_run_abort__ends_the_run_as_aborted(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    make_sh(fx, "long.sh", "echo started\nsleep 1000", path);
    struct lk_run_spec spec = spec_for(fx, path);
    struct done d = {0};
    start(fx, &spec, &d);
    d.aux_abort = true;
    aux_after(fx, &d, 100);
    finish(fx, &d);
    assert_true(d.aux_seen_alive);
    assert_int_equal(d.aux_pid, d.result.pid);
    assert_int_equal(d.aux_count, 1);
    assert_int_equal(d.result.outcome, LK_OUTCOME_ABORTED);
    assert_int_equal(d.result.term_signal, SIGTERM);
    assert_true(d.result.duration_usec < 3 * SEC);
    assert_string_equal(d.output, "started\n");
    assert_string_equal(describe(&d), "aborted");
}

static void lk_run_abort__term_ignored_is_killed_after_grace(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    make_sh(fx, "stubborn.sh", "trap '' TERM\nsleep 1000 &\necho \"child $!\"\nsleep 1000", path);
    struct lk_run_spec spec = spec_for(fx, path);
    spec.kill_grace_usec = 200 * MSEC;
    struct done d = {0};
    start(fx, &spec, &d);
    d.aux_abort = true;
    aux_after(fx, &d, 100);
    finish(fx, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_ABORTED);
    assert_int_equal(d.result.term_signal, SIGKILL);
    assert_true(d.result.duration_usec >= 300 * MSEC);
    assert_true(wait_gone(first_number(d.output), 2000));
}

static void lk_run_abort__after_the_script_exited_has_no_effect(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    /* The loop is blocked while the script exits; the abort comes before the loop has
     * reaped it. The script finished on its own: its result stands. */
    make_sh(fx, "quick.sh", "exit 5", path);
    struct lk_run_spec spec = spec_for(fx, path);
    struct done d = {0};
    start(fx, &spec, &d);
    d.aux_block = true;
    d.aux_abort = true;
    aux_after(fx, &d, 0);
    finish(fx, &d);
    assert_true(d.aux_seen_alive);
    assert_int_equal(d.result.outcome, LK_OUTCOME_EXIT);
    assert_int_equal(d.result.exit_status, 5);
}

static void lk_run_abort__during_a_timeout_keeps_the_timeout(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    make_sh(fx, "stubborn.sh", "trap '' TERM\nsleep 1000", path);
    struct lk_run_spec spec = spec_for(fx, path);
    spec.timeout_usec = 100 * MSEC;
    spec.kill_grace_usec = 400 * MSEC;
    struct done d = {0};
    start(fx, &spec, &d);
    d.aux_abort = true;
    aux_after(fx, &d, 250); /* after the timeout, within the grace */
    finish(fx, &d);
    assert_true(d.aux_seen_alive);
    assert_int_equal(d.result.outcome, LK_OUTCOME_TIMEOUT);
    assert_int_equal(d.result.term_signal, SIGKILL);
    assert_true(d.result.duration_usec >= 500 * MSEC);
}

static void lk_run_pid__is_zero_for_null(void **state)
{
    (void) state;
    assert_int_equal(lk_run_pid(NULL), 0);
}

/* secure_root. */

struct secure_tree {
    char root[PATH_MAX];
    char actions[PATH_MAX];
    char script[PATH_MAX];
};

/* root (the test dir, 0700) / actions (0755) / restore (0700). */
static void make_secure_tree(const struct fixture *fx, struct secure_tree *t)
{
    strcpy(t->root, fx->dir);
    path_in(fx, "actions", t->actions);
    make_dir(t->actions, 0755);
    join(t->actions, "restore", t->script);
    write_file(t->script, "#!/bin/sh\necho safe\n", strlen("#!/bin/sh\necho safe\n"), 0700);
}

static void run_secure(struct fixture *fx, const char *root, const char *path, struct done *d)
{
    struct lk_run_spec spec = spec_for(fx, path);
    spec.secure_root = root;
    run_spec(fx, &spec, d);
}

__attribute__((format(printf, 2, 3))) static void expect_refused(const struct done *d,
                                                                 const char *fmt, ...)
{
    char expected[PATH_MAX + 128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(expected, sizeof(expected), fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t) n < sizeof(expected));
    assert_int_equal(d->result.outcome, LK_OUTCOME_REFUSED);
    assert_int_equal(d->result.pid, 0);
    assert_string_equal(d->result.message, expected);
}

static void secure_root__group_writable_directory_is_refused(void **state)
{
    struct fixture *fx = *state;
    struct secure_tree t;
    make_secure_tree(fx, &t);
    assert_int_equal(chmod(t.actions, 0775), 0);
    struct done d = {0};
    run_secure(fx, t.root, t.script, &d);
    expect_refused(&d, "directory '%s' is writable by group or others", t.actions);
    char described[PATH_MAX + 128];
    snprintf(described, sizeof(described),
             "refused to run: directory '%s' is writable by group or others", t.actions);
    assert_string_equal(describe(&d), described);
}

static void secure_root__world_writable_script_is_refused(void **state)
{
    struct fixture *fx = *state;
    struct secure_tree t;
    make_secure_tree(fx, &t);
    assert_int_equal(chmod(t.script, 0702), 0);
    struct done d = {0};
    run_secure(fx, t.root, t.script, &d);
    expect_refused(&d, "script '%s' is writable by group or others", t.script);
}

static void secure_root__writable_root_itself_is_refused(void **state)
{
    struct fixture *fx = *state;
    struct secure_tree t;
    make_secure_tree(fx, &t);
    assert_int_equal(chmod(t.root, 0777), 0);
    struct done d = {0};
    run_secure(fx, t.root, t.script, &d);
    expect_refused(&d, "directory '%s' is writable by group or others", t.root);
}

static void secure_root__foreign_owner_is_refused(void **state)
{
    struct fixture *fx = *state;
    if (geteuid() != 0) {
        skip();
    }
    struct secure_tree t;
    make_secure_tree(fx, &t);
    assert_int_equal(chown(t.script, 4321, 0), 0);
    struct done d = {0};
    run_secure(fx, t.root, t.script, &d);
    expect_refused(&d, "script '%s' is owned by uid 4321", t.script);

    assert_int_equal(chown(t.script, 0, 0), 0);
    assert_int_equal(chown(t.actions, 4321, 0), 0);
    struct done d2 = {0};
    run_secure(fx, t.root, t.script, &d2);
    expect_refused(&d2, "directory '%s' is owned by uid 4321", t.actions);
}

static void secure_root__symlinked_script_is_refused(void **state)
{
    struct fixture *fx = *state;
    struct secure_tree t;
    make_secure_tree(fx, &t);
    char link[PATH_MAX];
    join(t.actions, "link", link);
    assert_int_equal(symlink(t.script, link), 0);
    struct done d = {0};
    run_secure(fx, t.root, link, &d);
    expect_refused(&d, "script '%s' is a symbolic link", link);
}

static void secure_root__symlinked_directory_is_refused(void **state)
{
    struct fixture *fx = *state;
    struct secure_tree t;
    make_secure_tree(fx, &t);
    char alias[PATH_MAX], path[PATH_MAX + 16];
    path_in(fx, "alias", alias);
    assert_int_equal(symlink(t.actions, alias), 0);
    snprintf(path, sizeof(path), "%s/restore", alias);
    struct done d = {0};
    run_secure(fx, t.root, path, &d);
    expect_refused(&d, "directory '%s' is a symbolic link", alias);
}

static void secure_root__script_outside_root_is_refused(void **state)
{
    struct fixture *fx = *state;
    struct secure_tree t;
    make_secure_tree(fx, &t);
    /* A sibling whose name merely starts with the root's is not under it. */
    char root[PATH_MAX];
    path_in(fx, "act", root);
    struct done d = {0};
    run_secure(fx, root, t.script, &d);
    expect_refused(&d, "script '%s' is not under '%s'", t.script, root);
}

static void secure_root__dotdot_is_refused(void **state)
{
    struct fixture *fx = *state;
    struct secure_tree t;
    make_secure_tree(fx, &t);
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/../actions/restore", t.actions);
    struct done d = {0};
    run_secure(fx, t.root, path, &d);
    expect_refused(&d, "script path '%s' contains '..'", path);
}

static void secure_root__directory_as_script_is_refused(void **state)
{
    struct fixture *fx = *state;
    struct secure_tree t;
    make_secure_tree(fx, &t);
    struct done d = {0};
    run_secure(fx, t.root, t.actions, &d);
    expect_refused(&d, "script '%s' is not a regular file", t.actions);
}

static void secure_root__missing_script_is_exec_failed(void **state)
{
    struct fixture *fx = *state;
    struct secure_tree t;
    make_secure_tree(fx, &t);
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/remove", t.actions);
    struct done d = {0};
    run_secure(fx, t.root, path, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_EXEC_FAILED);
    assert_int_equal(d.result.exec_errno, ENOENT);
}

static void secure_root__safe_tree_runs(void **state)
{
    struct fixture *fx = *state;
    struct secure_tree t;
    make_secure_tree(fx, &t);
    struct done d = {0};
    run_secure(fx, t.root, t.script, &d);
    assert_int_equal(d.result.outcome, LK_OUTCOME_SUCCESS);
    assert_string_equal(d.output, "safe\n");

    /* A trailing slash on the root, and doubled or "." components in the path. */
    char root[PATH_MAX + 2], path[PATH_MAX + 32];
    snprintf(root, sizeof(root), "%s/", t.root);
    snprintf(path, sizeof(path), "%s//./actions/restore", t.root);
    struct done d2 = {0};
    run_secure(fx, root, path, &d2);
    assert_int_equal(d2.result.outcome, LK_OUTCOME_SUCCESS);

    /* The root may be the script's own directory. */
    struct done d3 = {0};
    run_secure(fx, t.actions, t.script, &d3);
    assert_int_equal(d3.result.outcome, LK_OUTCOME_SUCCESS);
}

/* Many runs, and runs started from callbacks. */

static void lk_run_start__concurrent_runs_report_their_own_results(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    make_sh(fx, "many.sh", "echo \"run $N\"\nsleep 0.$((N % 3))\nexit $((N % 8))", path);
    static char envs[CONCURRENT][16];
    char *env[CONCURRENT][3];
    struct done d[CONCURRENT];
    memset(d, 0, sizeof(d));
    for (int i = 0; i < CONCURRENT; i++) {
        snprintf(envs[i], sizeof(envs[i]), "N=%d", i);
        env[i][0] = env_path;
        env[i][1] = envs[i];
        env[i][2] = NULL;
        struct lk_run_spec spec = spec_for(fx, path);
        spec.env = env[i];
        start(fx, &spec, &d[i]);
        assert_int_equal(lk_run_count(), (unsigned) i + 1);
    }
    run_loop(fx);
    assert_int_equal(lk_run_count(), 0);
    for (int i = 0; i < CONCURRENT; i++) {
        char expected[32];
        snprintf(expected, sizeof(expected), "run %d\n", i);
        assert_int_equal(d[i].calls, 1);
        assert_false(d[i].run_mismatch);
        assert_string_equal(d[i].output, expected);
        assert_int_equal(d[i].result.exit_status, i % 8);
        assert_int_equal(d[i].result.outcome, i % 8 == 0 ? LK_OUTCOME_SUCCESS : LK_OUTCOME_EXIT);
        for (int j = 0; j < i; j++) {
            assert_int_not_equal(d[i].result.pid, d[j].result.pid);
        }
    }
}

static void on_done_chain(struct lk_run *run, const struct lk_result *result, const char *output,
                          size_t output_len, void *userdata)
{
    struct done *d = userdata;
    d->run = NULL; /* each link is a new run */
    on_done(run, result, output, output_len, userdata);
    if (d->chain_left-- > 0) {
        d->chain_start_error = lk_run_start(&d->fx->loop, &d->chain_spec, on_done_chain, d, NULL);
    }
}

static void lk_run_start__callback_can_start_the_next_run(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    make_sh(fx, "link.sh", "echo link", path);
    struct done d = {.fx = fx, .chain_left = 2};
    d.chain_spec = spec_for(fx, path);
    assert_int_equal(lk_run_start(&fx->loop, &d.chain_spec, on_done_chain, &d, NULL), 0);
    run_loop(fx);
    assert_int_equal(d.chain_start_error, 0);
    assert_int_equal(d.calls, 3);
    assert_int_equal(d.result.outcome, LK_OUTCOME_SUCCESS);
    assert_string_equal(d.output, "link\n");
    assert_int_equal(lk_run_count(), 0);
}

int main(int argc, char **argv)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
            T(lk_run_start__missing_file_is_exec_failed_enoent),
            T(lk_run_start__not_executable_is_eacces),
            T(lk_run_start__no_header_is_enoexec_and_not_run_by_sh),
            T(lk_run_start__empty_file_is_enoexec),
            T(lk_run_start__directory_is_exec_failed),
            T(lk_run_start__fifo_is_exec_failed_without_hanging),
            T(lk_run_start__missing_interpreter_is_named),
            T(lk_run_start__dos_line_endings_are_explained),
            T(lk_run_start__missing_cwd_is_exec_failed),
            T(lk_run_start__relative_path_is_refused),
            T(lk_run_abort__on_a_run_that_never_started_has_no_effect),
            T(lk_run_start__ret_run_may_be_null),
            T(lk_run_start__exit_zero_is_success),
            T(lk_run_start__exit_status_is_reported),
            T(lk_run_start__own_signal_is_signal),
            T(lk_run_start__elf_binary_runs),
            T(lk_run_start__environment_is_exactly_the_spec_and_no_arguments),
            T(lk_run_start__argv_is_passed_as_given),
            T(lk_run_start__null_env_is_an_empty_environment),
            T(lk_run_start__stdin_is_dev_null),
            T(lk_run_start__input_is_stdin_then_eof),
            T(lk_run_start__cwd_is_respected),
            T(lk_run_start__runs_in_a_new_session),
            T(lk_run_start__script_inherits_no_other_fds),
            T(lk_run_start__leaks_no_fds),
            T(lk_run_start__script_gets_default_signal_dispositions),
            T(lk_run_start__script_gets_an_empty_signal_mask),
            T(lk_run_start__leaves_no_zombies),
            T(lk_run_start__reaps_without_a_sigchld_handler),
            T(lk_run_start__no_output_is_empty),
            T(lk_run_start__stdout_and_stderr_are_captured_in_order),
            T(lk_run_start__output_at_ring_boundaries),
            T(lk_run_start__output_keeps_last_4096_bytes_of_100_mb),
            T(lk_run_start__output_written_just_before_exit_is_kept),
            T(lk_run_start__output_pending_at_exit_is_kept),
            T(lk_run_start__output_left_in_the_pipe_at_exit_is_drained),
            T(lk_run_start__background_child_holding_stdout_does_not_hold_run),
            T(lk_run_start__endless_writer_does_not_hold_run),
            T(timeout__script_that_closed_its_output_is_killed),
            T(timeout__term_ignored_is_killed_after_grace_with_its_group),
            T(timeout__group_left_by_the_leader_is_killed_at_once),
            T(timeout__whole_group_gets_sigterm_first),
            T(timeout__stopped_script_is_continued_to_get_sigterm),
            T(timeout__counts_from_the_start_even_when_loop_time_is_stale),
            T(timeout__clean_exit_after_term_is_still_a_timeout),
            T(timeout__zero_means_no_limit),
            T(timeout__script_finishing_in_time_is_not_timed_out),
            T(lk_run_abort__ends_the_run_as_aborted),
            T(lk_run_abort__term_ignored_is_killed_after_grace),
            T(lk_run_abort__after_the_script_exited_has_no_effect),
            T(lk_run_abort__during_a_timeout_keeps_the_timeout),
            T(lk_run_pid__is_zero_for_null),
            T(secure_root__group_writable_directory_is_refused),
            T(secure_root__world_writable_script_is_refused),
            T(secure_root__writable_root_itself_is_refused),
            T(secure_root__foreign_owner_is_refused),
            T(secure_root__symlinked_script_is_refused),
            T(secure_root__symlinked_directory_is_refused),
            T(secure_root__script_outside_root_is_refused),
            T(secure_root__dotdot_is_refused),
            T(secure_root__directory_as_script_is_refused),
            T(secure_root__missing_script_is_exec_failed),
            T(secure_root__safe_tree_runs),
            T(lk_run_start__concurrent_runs_report_their_own_results),
            T(lk_run_start__callback_can_start_the_next_run),
            T(lk_run_start__without_pidfd_open_falls_back_to_uv_spawn),
            T(lk_run_start__script_runs_in_the_cgroup_it_should),
            T(contained__a_daemon_left_by_a_restore_stays_in_the_cgroup),
            T(contained__a_cgroup_that_cannot_be_used_is_a_clear_failure),
            T(contained__without_clone3_is_a_clear_failure),
            T(lk_run_start__contained_runs_pass_the_whole_suite),
    };
#undef T
    if (argc > 1 && strcmp(argv[1], WITHOUT_PIDFD_ARG) == 0) {
        without_pidfd = true;
        if (syscall(SYS_pidfd_open, getpid(), 0) >= 0 || errno != ENOSYS) {
            fprintf(stderr, "pidfd_open still works: the fallback would not be tested\n");
            return 1;
        }
        return cmocka_run_group_tests_name("runner without pidfd_open", tests, NULL, NULL);
    }
    if (argc > 3 && strcmp(argv[1], CONTAINED_ARG) == 0) {
        contained = true;
        contained_rel = argv[3];
        contained_fd = (int) strtol(argv[2], NULL, 10);
        if (contained_fd < 3 || fcntl(contained_fd, F_SETFD, FD_CLOEXEC) < 0) {
            fprintf(stderr, "no cgroup descriptor given\n");
            return 1;
        }
        return cmocka_run_group_tests_name("runner with contained runs", tests, NULL, NULL);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
