/* lkguard: the node's guard (issue 10). A small process that lkd cannot take down with
 * it: it maps lkd's liveness page (run/guard.feed, lib/guard.h), holds a pidfd of lkd, and
 * looks at both every min(dead time / 8, 250 ms). It fences the node when
 *   (a) lkd exited without a clean stop (the pidfd became readable, state not STOPPED),
 *   (b) lkd, RUNNING, did not feed the page for half the dead time (frozen, stopped, a
 *       stalled disk), or
 *   (c) its own clock jumped by more than half the dead time between two looks (the whole
 *       node was paused: fence before lkd acts on anything when it resumes).
 * Fencing (fence.c): kill the cgroups of the plan's fence list, mark the page fenced, tell
 * every peer with a signed frame; then wait for lkd to exit, and exit. A watchdog device
 * named by the plan is fed every look and no longer once fenced, so that the kernel resets
 * a node whose guard is stuck too. Uses src/lib only, never the daemon's code; never
 * writes lkd's fields of the page, never kills anything the plan does not name. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/watchdog.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fence.h"

#define PAGE_BYTES      4096
#define PLAN_MAX_BYTES  (16 * 1024 * 1024)
#define KILL_WAIT_MS    2000
#define CONNECT_MS      1000
#define LOCK_WAIT_MS    5000 /* a guard of the last lkd may still be finishing its fence */
#define PIDFILE_NAME    "run/lkguard.pid"
#define OUT_NAME        "log/lkguard.out"
#define FEED_NAME       "run/guard.feed"
#define PLAN_NAME       "run/guard.plan"
#define NS_PER_MS       1000000ull
#define LOAD(field)     __atomic_load_n(&(field), __ATOMIC_ACQUIRE)
#define STORE(field, v) __atomic_store_n(&(field), (v), __ATOMIC_RELEASE)

struct guard {
    const char *root;
    struct lk_guard_page *page;
    pid_t lkd_pid;
    int pidfd; /* -1: no pidfd_open in this kernel, kill(pid, 0) each look */
    struct lk_guard_plan plan;
    bool have_plan;
    uint64_t plan_gen;
    uint8_t key[LK_WIRE_KEY];
    bool have_key;
    int wd_fd; /* the watchdog device, -1 when none */
    char wd_path[LK_GUARD_PATH_MAX];
};

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

/* One line on stderr, with strerror(err) appended when err is not 0; returns code. */
__attribute__((format(printf, 3, 4))) static int fail(int code, int err, const char *format, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, format);
    vsnprintf(line, sizeof(line), format, ap);
    va_end(ap);
    if (err) {
        lk__guard_log("%s: %s", line, strerror(err));
    } else {
        lk__guard_log("%s", line);
    }
    return code;
}

/* Maps root/run/guard.feed, checking that it is a page lkd made. */
static int map_page(struct guard *g)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", g->root, FEED_NAME);
    int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        return fail(1, errno, "cannot open '%s' (is lkd running?)", path);
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < PAGE_BYTES) {
        close(fd);
        return fail(1, 0, "'%s' is not a liveness page (too short)", path);
    }
    void *m = mmap(NULL, PAGE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int err = errno;
    close(fd);
    if (m == MAP_FAILED) {
        return fail(1, err, "cannot map '%s'", path);
    }
    g->page = m;
    if (LOAD(g->page->magic) != LK_GUARD_MAGIC || LOAD(g->page->version) != LK_GUARD_VERSION ||
        LOAD(g->page->lkd_pid) <= 0) {
        return fail(1, 0, "'%s' is not a liveness page (bad magic, version or pid)", path);
    }
    return 0;
}

/* Takes the guard's lock of the root (run/lkguard.pid), waiting a little for the guard of
 * the last lkd to finish. Returns the locked fd or exits. */
static int lock_root(const char *root)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", root, PIDFILE_NAME);
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        exit(fail(1, errno, "cannot open '%s'", path));
    }
    uint64_t until = mono_ns() + LOCK_WAIT_MS * NS_PER_MS;
    while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno != EWOULDBLOCK || mono_ns() > until) {
            char pid[32] = "";
            ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
            pid[n > 0 ? n : 0] = '\0';
            pid[strcspn(pid, "\n")] = '\0';
            exit(fail(1, 0, "a guard is already running on this root (pid %s)",
                      pid[0] ? pid : "?"));
        }
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return fd;
}

/* Detaches as lkd does: fork (the caller waits for the readiness byte), setsid, fork again
 * (no controlling terminal ever), stdio to log/lkguard.out. Returns the readiness pipe's
 * write end in the final process. */
static int detach(const char *root)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        exit(fail(1, errno, "cannot create a pipe"));
    }
    pid_t pid = fork();
    if (pid < 0) {
        exit(fail(1, errno, "cannot fork"));
    }
    if (pid > 0) {
        close(fds[1]);
        char ok = 1;
        ssize_t n;
        while ((n = read(fds[0], &ok, 1)) < 0 && errno == EINTR) {
        }
        _exit(n == 1 && ok == 0 ? 0 : 1);
    }
    close(fds[0]);
    if (setsid() < 0) {
        exit(fail(1, errno, "cannot start a new session"));
    }
    pid = fork();
    if (pid < 0) {
        exit(fail(1, errno, "cannot fork"));
    }
    if (pid > 0) {
        _exit(0); /* the first parent still holds the pipe's read end: it waits for us */
    }
    char out[PATH_MAX];
    snprintf(out, sizeof(out), "%s/%s", root, OUT_NAME);
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int log = open(out, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0640);
    if (null < 0 || log < 0) {
        exit(fail(1, errno, "cannot open '%s'", out));
    }
    dup2(null, STDIN_FILENO);
    dup2(log, STDOUT_FILENO);
    dup2(log, STDERR_FILENO);
    close(null);
    close(log);
    return fds[1];
}

/* Reads path whole (at most max bytes) into a NUL-terminated malloc'ed buffer, without
 * blocking and without following a final link: a FIFO, a device or a link put where lkd
 * writes must not stop the guard from fencing. 0, or -errno with *ret_why set. */
static int read_regular(const char *path, size_t max, char **ret_data, size_t *ret_len,
                        const char **ret_why)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        int r = -errno;
        if (fd >= 0) {
            close(fd);
        }
        *ret_why = r == -ELOOP ? "it is a symbolic link" : strerror(-r);
        return r;
    }
    int r = 0;
    if (!S_ISREG(st.st_mode)) {
        *ret_why = S_ISFIFO(st.st_mode) ? "it is a FIFO, not a regular file"
                                        : "it is not a regular file";
        r = -EINVAL;
    } else if ((uint64_t) st.st_size > max) {
        *ret_why = "it is too large";
        r = -EFBIG;
    }
    char *data = r == 0 ? malloc((size_t) st.st_size + 1) : NULL;
    if (r == 0 && !data) {
        *ret_why = "out of memory";
        r = -ENOMEM;
    }
    size_t got = 0;
    while (r == 0 && got < (size_t) st.st_size) {
        ssize_t n = read(fd, data + got, (size_t) st.st_size - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            r = -errno;
            *ret_why = strerror(errno);
        }
        if (n <= 0) {
            break;
        }
        got += (size_t) n;
    }
    close(fd);
    if (r < 0) {
        free(data);
        return r;
    }
    data[got] = '\0';
    *ret_data = data;
    *ret_len = got;
    return 0;
}

static void read_key(struct guard *g)
{
    g->have_key = false;
    char *buf = NULL;
    size_t n = 0;
    const char *why = NULL;
    if (read_regular(g->plan.authkey, 4096, &buf, &n, &why) < 0) {
        lk__guard_log("cannot read the cluster key '%s': %s; the peers cannot be told",
                      g->plan.authkey, why);
        return;
    }
    if (lk_wire_key_parse(buf, g->key) < 0) {
        lk__guard_log("'%s' is not a cluster key; the peers cannot be told", g->plan.authkey);
    } else {
        g->have_key = true;
    }
    memset(buf, 0, n);
    free(buf);
}

/* Reads the plan again when lkd wrote a new one; keeps the last valid one otherwise. The
 * key is read with it, not at fence time: a stalled disk is one of the reasons to fence. */
static void reload_plan(struct guard *g)
{
    uint64_t gen = LOAD(g->page->plan_gen);
    if (gen == g->plan_gen) {
        return;
    }
    g->plan_gen = gen;
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", g->root, PLAN_NAME);
    json_error_t jerr;
    char *text = NULL;
    size_t len = 0;
    const char *why = NULL;
    json_t *j = NULL;
    if (read_regular(path, PLAN_MAX_BYTES, &text, &len, &why) == 0) {
        j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
        free(text);
        why = j ? NULL : jerr.text;
    }
    struct lk_guard_plan plan;
    char err[512] = "";
    int r = -EINVAL;
    if (!j) {
        snprintf(err, sizeof(err), "%s", why);
    } else {
        r = lk_guard_plan_parse(j, &plan, err, sizeof(err));
        json_decref(j);
    }
    if (r < 0) {
        lk__guard_log("cannot use plan %llu of '%s': %s; %s", (unsigned long long) gen, path, err,
                      g->have_plan ? "keeping the last valid plan" : "no plan yet");
        return;
    }
    /* A new stamp: the key file was replaced (lkcli cluster rotate-key). */
    bool new_key = !g->have_plan || strcmp(plan.authkey, g->plan.authkey) != 0 ||
                   strcmp(plan.authkey_stamp, g->plan.authkey_stamp) != 0;
    lk_guard_plan_free(&g->plan);
    g->plan = plan;
    g->have_plan = true;
    /* lkd tells "fenced by the guard" only once the guard runs with its latest plan. */
    STORE(g->page->plan_loaded, (uint32_t) gen);
    if (new_key || !g->have_key) {
        read_key(g);
    }
    lk__guard_log("plan %llu: node %s, %zu hierarch%s to fence, %zu peer%s, watchdog %s",
                  (unsigned long long) gen, plan.node, plan.fence_count,
                  plan.fence_count == 1 ? "y" : "ies", plan.peer_count,
                  plan.peer_count == 1 ? "" : "s", plan.watchdog[0] ? plan.watchdog : "none");
}

/* Closes the watchdog; disarm writes the magic 'V' first, so that the kernel stops it. */
static void watchdog_close(struct guard *g, bool disarm)
{
    if (g->wd_fd < 0) {
        return;
    }
    if (disarm && write(g->wd_fd, "V", 1) != 1) {
        lk__guard_log("cannot disarm the watchdog '%s': %s", g->wd_path, strerror(errno));
    }
    close(g->wd_fd);
    g->wd_fd = -1;
    STORE(g->page->watchdog_armed, 0u);
    lk__guard_log("watchdog '%s' %s", g->wd_path, disarm ? "disarmed" : "closed");
    g->wd_path[0] = '\0';
}

/* Opens the plan's watchdog when it names one (closing another one first), and feeds it. */
static void watchdog_feed(struct guard *g)
{
    const char *want = g->have_plan ? g->plan.watchdog : "";
    if (g->wd_fd >= 0 && strcmp(want, g->wd_path) != 0) {
        watchdog_close(g, true);
    }
    if (g->wd_fd < 0 && want[0]) {
        /* O_NONBLOCK: the guard never waits on the device (a FIFO without a reader in
         * tests, a driver that blocks). */
        int fd = open(want, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
            static char failed[LK_GUARD_PATH_MAX];
            if (strcmp(failed, want) != 0) {
                lk__guard_log("cannot open the watchdog '%s': %s", want, strerror(errno));
                snprintf(failed, sizeof(failed), "%s", want);
            }
            return;
        }
        int timeout = (int) g->plan.watchdog_timeout_s;
        if (timeout > 0 && ioctl(fd, WDIOC_SETTIMEOUT, &timeout) < 0 && errno != ENOTTY) {
            lk__guard_log("cannot set the timeout of the watchdog '%s' to %d s: %s", want,
                          (int) g->plan.watchdog_timeout_s, strerror(errno));
        }
        g->wd_fd = fd;
        snprintf(g->wd_path, sizeof(g->wd_path), "%s", want);
        lk__guard_log("watchdog '%s' armed", want);
    }
    if (g->wd_fd >= 0) {
        if (write(g->wd_fd, ".", 1) == 1) {
            STORE(g->page->watchdog_armed, 1u);
        } else if (errno != EAGAIN) {
            lk__guard_log("cannot feed the watchdog '%s': %s", g->wd_path, strerror(errno));
        }
    }
}

/* Whether lkd has exited: the pidfd is readable, or (without pidfd) its pid is gone. */
static bool lkd_gone(const struct guard *g, bool pidfd_ready)
{
    if (g->pidfd >= 0) {
        return pidfd_ready;
    }
    return kill(g->lkd_pid, 0) < 0 && errno == ESRCH;
}

/* Waits until lkd has exited (it does at its next feed once it sees page.fenced). */
static void wait_lkd(const struct guard *g)
{
    lk__guard_log("waiting for lkd (pid %d) to exit", (int) g->lkd_pid);
    for (;;) {
        struct pollfd p = {.fd = g->pidfd, .events = POLLIN};
        int r = g->pidfd >= 0 ? poll(&p, 1, -1)
                              : poll(NULL, 0, (int) lk_guard_period_ms(LOAD(g->page->dead_ms)));
        if (lkd_gone(g, r > 0)) {
            return;
        }
    }
}

/* Fences the node (see the top of the file) and exits. */
static void fence(struct guard *g, const char *why, bool wait_for_lkd)
{
    /* The log may be on the disk that stalled lkd: its lines wait until the fence is done. */
    lk__guard_log_defer(true);
    lk__guard_log("fencing: %s", why);
    /* Stop feeding the watchdog but keep it open: if anything below hangs, the kernel
     * resets the node. */
    STORE(g->page->watchdog_armed, 0u);
    if (!g->have_plan) {
        lk__guard_log("no plan from lkd yet: nothing to kill, nobody to tell");
    } else if (g->plan.fence_count == 0) {
        lk__guard_log("no hierarchy to fence (none has a live backup node): nothing to kill, "
                      "nobody to tell");
    } else {
        lk__guard_kill_cgroups(&g->plan, KILL_WAIT_MS);
    }
    for (size_t i = 0; i + 1 < sizeof(g->page->fence_why); i++) {
        __atomic_store_n(&g->page->fence_why[i], why[i], __ATOMIC_RELAXED);
        if (!why[i]) {
            break;
        }
    }
    STORE(g->page->fenced, 1u);
    if (g->have_plan && g->plan.fence_count > 0) {
        if (g->have_key) {
            lk__guard_tell_peers(&g->plan, g->key, why, CONNECT_MS);
        } else {
            lk__guard_log("no cluster key: the peers are not told (they wait the dead time)");
        }
    }
    lk__guard_log_defer(false);
    if (wait_for_lkd) {
        wait_lkd(g);
    }
    lk__guard_log("fenced; exiting");
    exit(0);
}

static void usage(FILE *to)
{
    fprintf(to, "usage: lkguard --root DIR [--foreground]\n"
                "  --root DIR     the node's root directory, an absolute path (required)\n"
                "  --foreground   stay in the foreground; default: detach once watching\n"
                "  --version      the version\n"
                "  --help         this help\n"
                "lkstart starts lkguard beside lkd; see lkstart --help.\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
            {"root", required_argument, NULL, 'r'},
            {"foreground", no_argument, NULL, 'f'},
            {"version", no_argument, NULL, 'V'},
            {"help", no_argument, NULL, 'h'},
            {0},
    };
    struct guard g = {.pidfd = -1, .wd_fd = -1};
    bool foreground = false;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":fh", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            g.root = optarg;
            break;
        case 'f':
            foreground = true;
            break;
        case 'V':
            printf("lkguard (OpenKeeper) %s\n", LK_SOFTWARE_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!g.root || optind < argc || g.root[0] != '/') {
        fprintf(stderr, "lkguard: --root DIR (an absolute path) is required, and nothing else\n");
        usage(stderr);
        return 2;
    }
    if (map_page(&g) != 0) {
        return 1;
    }
    g.lkd_pid = (pid_t) LOAD(g.page->lkd_pid);
    bool lost = false;
    g.pidfd = (int) syscall(SYS_pidfd_open, g.lkd_pid, 0);
    if (g.pidfd < 0 && errno == ESRCH) {
        lost = true;
    } else if (g.pidfd < 0 && errno != ENOSYS) {
        return fail(1, errno, "cannot watch lkd (pid %d)", (int) g.lkd_pid);
    } else if (g.pidfd < 0) {
        lost = kill(g.lkd_pid, 0) < 0 && errno == ESRCH;
    }
    int lock = lock_root(g.root);
    int ready = foreground ? -1 : detach(g.root);
    signal(SIGPIPE, SIG_IGN);
    /* The OOM killer must take anything but the guard (ignored without the right). */
    int oom = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (oom >= 0) {
        (void) !write(oom, "-1000", 5);
        close(oom);
    }
    /* Keep its cadence on a saturated machine: a look delayed by more than half the dead
     * time reads as a paused node and fences it (issue 11). Real-time round robin at
     * priority 2 (above lkd's pulse thread, cluster/pulse.c), not inherited by a child;
     * else nice -10; else as it is. */
    struct sched_param sp = {.sched_priority = 2};
    if (sched_setscheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, &sp) < 0 &&
        setpriority(PRIO_PROCESS, 0, -10) < 0) {
        lk__guard_log("cannot raise the guard's priority: %s, ignoring", strerror(errno));
    }
#ifndef __SANITIZE_ADDRESS__
    /* Never wait for the disk to page the guard back in: a stalled disk is one of the
     * reasons it exists. (Not under ASan, whose shadow memory cannot be locked.) */
    if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0) {
        lk__guard_log("cannot lock the guard in memory: %s, ignoring", strerror(errno));
    }
#endif
    char pid[32];
    int n = snprintf(pid, sizeof(pid), "%d\n", (int) getpid());
    if (ftruncate(lock, 0) < 0 || pwrite(lock, pid, (size_t) n, 0) != n) {
        lk__guard_log("cannot write '%s/%s': %s", g.root, PIDFILE_NAME, strerror(errno));
    }
    STORE(g.page->guard_pid, (int32_t) getpid());
    STORE(g.page->guard_mono_ns, mono_ns());
    reload_plan(&g);
    lk__guard_log("watching lkd (pid %d%s) for root %s", (int) g.lkd_pid,
                  g.pidfd >= 0 ? "" : ", without a pidfd", g.root);
    if (ready >= 0) {
        char ok = 0;
        (void) !write(ready, &ok, 1);
        close(ready);
    }
    /* The first look is at once: lkd may be gone already (a lost pidfd), or stuck. */
    uint64_t last = mono_ns();
    uint64_t slept_dead_ms = LOAD(g.page->dead_ms); /* the dead time the last wait was for */
    bool at_start = true, gone = lost;
    for (;;) {
        uint64_t now = mono_ns();
        STORE(g.page->guard_mono_ns, now);
        /* A dead time lowered while the guard waited (lkcli cluster config) counts from the
         * next look: this wait was as long as the old one asked, which is no pause. */
        uint64_t dead_ms = LOAD(g.page->dead_ms);
        uint64_t judge_dead_ms = dead_ms > slept_dead_ms ? dead_ms : slept_dead_ms;
        /* lkd_state after lkd_gone: lkd writes STOPPED before it exits. */
        struct lk_guard_look look = {.at_start = at_start,
                                     .lkd_gone = gone,
                                     .lkd_state = LOAD(g.page->lkd_state),
                                     .lkd_pid = (int32_t) g.lkd_pid,
                                     .fed_mono_ns = LOAD(g.page->fed_mono_ns),
                                     .dead_ms = judge_dead_ms,
                                     .now_ns = now,
                                     .last_ns = last};
        char why[256];
        switch (lk_guard_judge(&look, why, sizeof(why))) {
        case LK_GUARD_LEAVE:
            lk__guard_log("lkd (pid %d) stopped cleanly; exiting", (int) g.lkd_pid);
            watchdog_close(&g, true);
            lk_guard_plan_free(&g.plan);
            return 0;
        case LK_GUARD_FENCE:
            fence(&g, why, false);
            break;
        case LK_GUARD_FENCE_WAIT:
            fence(&g, why, true);
            break;
        case LK_GUARD_WATCH:
            break;
        }
        at_start = false;
        last = now;
        reload_plan(&g);
        watchdog_feed(&g);
        struct pollfd p = {.fd = g.pidfd, .events = POLLIN};
        slept_dead_ms = LOAD(g.page->dead_ms);
        int r = poll(&p, g.pidfd >= 0 ? 1 : 0, (int) lk_guard_period_ms(slept_dead_ms));
        gone = lkd_gone(&g, r > 0);
    }
}
