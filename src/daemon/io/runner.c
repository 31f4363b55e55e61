/* The script runner: the only code that spawns and kills script processes (SPEC §3).
 *
 * It owns each struct lk_run and the uv handles embedded in it: the exit watch, the read end
 * of the output pipe and one timer (first the timeout, then the SIGTERM → SIGKILL grace).
 * Events that enter: lk_run_start and lk_run_abort from the daemon; the process exit, pipe
 * reads and timer expiry from the loop. Everything ends in one place: the last close_cb,
 * which calls the done callback exactly once and frees the run.
 *
 * Scripts are started with posix_spawn, which glibc runs as clone(CLONE_VM | CLONE_VFORK):
 * the child borrows the daemon's memory until it execs, so no page table is copied (the
 * fork() inside uv_spawn made that copy most of lkd's CPU time at 100 checks a second).
 * A contained run (issue 10) is spawned instead with clone3(CLONE_INTO_CGROUP), born in
 * its resource's cgroup, with fork semantics (see spawn_clone3); everything else about it is
 * the same, and its pidfd comes from the clone.
 * The exit watch is then a poll on a pidfd of the script, and the script is reaped here, by
 * its pid only: libuv's SIGCHLD handler reaps only the children of its own uv_process_t
 * handles, and no SIGCHLD handler is installed for ours. Kernels before 5.3 have no
 * pidfd_open; there, uv_spawn and its uv_process_t are the exit watch, as before.
 *
 * A run is over when the script process exits, never when its pipe closes, so that a
 * restore that leaves a daemon holding stdout still finishes. Output is kept in a ring of
 * LK_RUN_OUTPUT_MAX bytes, so a script printing gigabytes costs no memory.
 *
 * It must never decide what an outcome means (that is the engine's job), never log (the
 * caller logs the result once), never signal anything but the run's own process group, and
 * never kill the group of a script that exited by itself: restore scripts legitimately
 * leave daemons running in it. */
#include "runner.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "safeopen.h"
#include "validate.h"

#define DEFAULT_KILL_GRACE_USEC (UINT64_C(5) * 1000 * 1000)
#define READ_CHUNK              16384
#define HEADER_MAX              256
#define INTERPRETER_MAX         128
/* At exit, at most this much is read from the pipe: a grandchild still writing to it must
 * not keep us reading forever. */
#define DRAIN_MAX               (16 * 1024 * 1024)

_Static_assert(READ_CHUNK >= LK_RUN_OUTPUT_MAX, "the output is linearised into scratch");

/* The descriptor limit scripts start with (lk_run_set_script_nofile); unset: lkd's own. */
static struct rlimit script_nofile;
static bool script_nofile_set;

void lk_run_set_script_nofile(uint64_t soft, uint64_t hard)
{
    script_nofile = (struct rlimit){.rlim_cur = (rlim_t) soft, .rlim_max = (rlim_t) hard};
    script_nofile_set = true;
}

enum kill_reason {
    KILL_NONE,
    KILL_TIMEOUT,
    KILL_ABORT,
};

enum spawn_method {
    SPAWN_UNKNOWN, /* not probed yet */
    SPAWN_PIDFD,   /* posix_spawn, exit watched through a pidfd */
    SPAWN_UV,      /* uv_spawn (fork), exit watched by libuv: no pidfd_open */
};

struct lk_run {
    lk_run_done_cb cb;
    void *userdata;
    char *path;  /* owned copy: the spawn calls want char * */
    char **env;  /* owned array, borrowed strings: only used during lk_run_start */
    char **argv; /* owned array, borrowed strings (path when spec->argv is NULL): likewise */
    uint64_t timeout_usec;
    uint64_t grace_usec;
    uint64_t start_ns;
    enum kill_reason killing;
    int pidfd; /* owned, polled by exit_poll; -1 without one */

    uv_poll_t exit_poll;  /* the exit watch with a pidfd: readable once the script exited */
    uv_process_t process; /* the exit watch without pidfds (uv_spawn) */
    uv_pipe_t pipe;
    uv_timer_t timer;
    bool poll_inited;
    bool process_inited;
    bool pipe_inited;
    bool timer_inited;
    bool finishing; /* the result is final and the handles are closing */
    bool notify;    /* call cb from the last close_cb; false when lk_run_start failed */
    int pending_closes;

    struct lk_result result;
    size_t ring_head; /* where the next byte goes */
    size_t ring_len;  /* bytes kept, at most LK_RUN_OUTPUT_MAX */
    char ring[LK_RUN_OUTPUT_MAX];
    char scratch[READ_CHUNK];
    /* capture_max: the head of the output, grown as it comes, and the total written */
    size_t capture_max;
    char *capture;
    size_t capture_len, capture_cap;
    uint64_t output_total;
};

/* Runs between a successful lk_run_start and their callback. */
static unsigned runs_in_flight;

/* How scripts are spawned in this process; probed by the first run that gets that far. */
static enum spawn_method spawn_method;

unsigned lk_run_count(void)
{
    return runs_in_flight;
}

int lk_run_pid(const struct lk_run *run)
{
    return run ? run->result.pid : 0;
}

static void run_free(struct lk_run *run)
{
    if (!run) {
        return;
    }
    /* Closed only now that exit_poll is closed: libuv must not poll a closed fd. */
    if (run->pidfd >= 0) {
        (void) close(run->pidfd);
    }
    free(run->path);
    free(run->capture);
    free(run->env);
    free(run->argv);
    free(run);
}

static uint64_t elapsed_usec(const struct lk_run *run)
{
    return (uv_hrtime() - run->start_ns) / 1000;
}

/* Timers have millisecond resolution; round up so a run never gets less than asked. */
static uint64_t usec_to_ms(uint64_t usec)
{
    return usec / 1000 + (usec % 1000 != 0);
}

/* Starts a one-shot timer usec from now. uv timers count from the loop's cached time, which
 * is stale when we are called from outside the loop or late in a slow iteration; a timeout
 * counted from it would fire early. The lag is added rather than calling uv_update_time(),
 * which would move the clock under the loop's other users. Now is rounded up: the loop's
 * clock counts whole milliseconds, and from a truncated now the timer could fire up to 1 ms
 * before the delay is over. */
static void timer_start_from_now(uv_timer_t *timer, uv_timer_cb cb, uint64_t usec)
{
    uint64_t now_ms = (uv_hrtime() + 999999) / 1000000;
    uint64_t loop_ms = uv_now(timer->loop);
    uint64_t lag_ms = now_ms > loop_ms ? now_ms - loop_ms : 0;
    (void) uv_timer_start(timer, cb, usec_to_ms(usec) + lag_ms, 0);
}

/* Keeps the head of the output for a run started with capture_max; memory grows with the
 * output (doubling), never past capture_max. Out of memory keeps what is there. */
static void capture_append(struct lk_run *run, const char *data, size_t len)
{
    run->output_total += len;
    size_t room = run->capture_max - run->capture_len;
    size_t take = len < room ? len : room;
    if (take == 0) {
        return;
    }
    if (run->capture_len + take > run->capture_cap) {
        size_t cap = run->capture_cap ? run->capture_cap : 16384;
        while (cap < run->capture_len + take) {
            cap *= 2;
        }
        if (cap > run->capture_max) {
            cap = run->capture_max;
        }
        char *p = realloc(run->capture, cap);
        if (!p) {
            return;
        }
        run->capture = p;
        run->capture_cap = cap;
    }
    memcpy(run->capture + run->capture_len, data, take);
    run->capture_len += take;
}

const char *lk_run_captured(const struct lk_run *run, size_t *ret_len, uint64_t *ret_total)
{
    *ret_len = run->capture_len;
    *ret_total = run->output_total;
    return run->capture;
}

static void ring_append(struct lk_run *run, const char *data, size_t len)
{
    if (run->capture_max) {
        capture_append(run, data, len);
    }
    if (len >= LK_RUN_OUTPUT_MAX) {
        memcpy(run->ring, data + len - LK_RUN_OUTPUT_MAX, LK_RUN_OUTPUT_MAX);
        run->ring_head = 0;
        run->ring_len = LK_RUN_OUTPUT_MAX;
        return;
    }
    size_t first = LK_RUN_OUTPUT_MAX - run->ring_head;
    if (first > len) {
        first = len;
    }
    memcpy(run->ring + run->ring_head, data, first);
    memcpy(run->ring, data + first, len - first);
    run->ring_head = (run->ring_head + len) % LK_RUN_OUTPUT_MAX;
    run->ring_len += len;
    if (run->ring_len > LK_RUN_OUTPUT_MAX) {
        run->ring_len = LK_RUN_OUTPUT_MAX;
    }
}

/* The kept output in order. Until the ring has wrapped, it starts at ring[0]; after, the
 * oldest byte is at ring_head and the two halves are copied into scratch, which is free by
 * then (no more reads happen once the run is finishing). */
static const char *output_tail(struct lk_run *run, size_t *ret_len)
{
    *ret_len = run->ring_len;
    if (run->ring_len < LK_RUN_OUTPUT_MAX) {
        return run->ring;
    }
    size_t first = LK_RUN_OUTPUT_MAX - run->ring_head;
    memcpy(run->scratch, run->ring + run->ring_head, first);
    memcpy(run->scratch + first, run->ring, run->ring_head);
    return run->scratch;
}

static void on_close(uv_handle_t *handle)
{
    struct lk_run *run = handle->data;

    assert(run->pending_closes > 0);
    if (--run->pending_closes > 0) {
        return;
    }
    if (run->notify) {
        /* Not in flight any more by the time the caller hears of it, so that a callback that
         * waits for lk_run_count() == 0 (shutdown) sees the truth. */
        assert(runs_in_flight > 0);
        runs_in_flight--;
        size_t len;
        const char *output = output_tail(run, &len);
        run->cb(run, &run->result, output, len, run->userdata);
    }
    run_free(run);
}

static void close_one(struct lk_run *run, uv_handle_t *handle, bool inited)
{
    if (!inited || uv_is_closing(handle)) {
        return;
    }
    run->pending_closes++;
    uv_close(handle, on_close);
}

/* Closes every handle the run has; the last close_cb reports and frees. Close callbacks
 * always run from the loop, so even a run refused inside lk_run_start reports later, never
 * from within lk_run_start. */
static void finish(struct lk_run *run)
{
    run->finishing = true;
    close_one(run, (uv_handle_t *) &run->timer, run->timer_inited);
    close_one(run, (uv_handle_t *) &run->pipe, run->pipe_inited);
    close_one(run, (uv_handle_t *) &run->exit_poll, run->poll_inited);
    close_one(run, (uv_handle_t *) &run->process, run->process_inited);
    assert(run->pending_closes > 0);
}

/* Ends a run that never started (refused, or could not execute). */
__attribute__((format(printf, 4, 5))) static void
conclude(struct lk_run *run, enum lk_outcome outcome, int errnum, const char *fmt, ...)
{
    run->result.outcome = outcome;
    run->result.exec_errno = outcome == LK_OUTCOME_EXEC_FAILED ? errnum : 0;
    run->result.duration_usec = elapsed_usec(run);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(run->result.message, sizeof(run->result.message), fmt, ap);
    va_end(ap);
    finish(run);
}

static void conclude_exec_failed(struct lk_run *run, int errnum)
{
    /* The errno says it all; result.c words it ("script not found"). */
    run->result.outcome = LK_OUTCOME_EXEC_FAILED;
    run->result.exec_errno = errnum;
    run->result.duration_usec = elapsed_usec(run);
    finish(run);
}

/* Whether the script process has exited and waits to be reaped. The exit is reported soon
 * (its pidfd is readable, or for uv_spawn SIGCHLD is pending), so a timer or an abort that
 * races with the exit must let the exit win: the script finished in time. WNOWAIT leaves
 * the zombie to be reaped where the exit is reported. */
static bool leader_has_exited(const struct lk_run *run)
{
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    if (waitid(P_PID, (id_t) run->result.pid, &info, WEXITED | WNOHANG | WNOWAIT) < 0) {
        return errno == ECHILD;
    }
    return info.si_pid == run->result.pid;
}

/* Signals the run's whole process group. Never with a pid of 0 or 1: kill(0) would hit the
 * daemon's own group and kill(-1) every process we may signal. */
static void kill_group(const struct lk_run *run, int sig)
{
    if (run->result.pid > 1) {
        (void) kill(-run->result.pid, sig);
    }
}

static void on_grace_expired(uv_timer_t *timer)
{
    struct lk_run *run = timer->data;

    /* Whatever ignored SIGTERM dies now; on_script_exit follows when the leader is gone. */
    kill_group(run, SIGKILL);
}

static void start_kill(struct lk_run *run, enum kill_reason reason)
{
    run->killing = reason;
    /* The whole group, so that children of the script go too. SIGCONT after SIGTERM, so
     * that a stopped process can act on the SIGTERM (as systemd does). */
    kill_group(run, SIGTERM);
    kill_group(run, SIGCONT);
    timer_start_from_now(&run->timer, on_grace_expired, run->grace_usec);
}

static void on_timeout(uv_timer_t *timer)
{
    struct lk_run *run = timer->data;

    if (leader_has_exited(run)) {
        return;
    }
    start_kill(run, KILL_TIMEOUT);
}

void lk_run_abort(struct lk_run *run)
{
    if (!run || run->finishing || run->killing != KILL_NONE || run->result.pid <= 0) {
        return;
    }
    if (leader_has_exited(run)) {
        return;
    }
    uv_timer_stop(&run->timer);
    start_kill(run, KILL_ABORT);
}

static void on_alloc(uv_handle_t *handle, size_t suggested_size, uv_buf_t *buf)
{
    struct lk_run *run = handle->data;

    (void) suggested_size;
    *buf = uv_buf_init(run->scratch, sizeof(run->scratch));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct lk_run *run = stream->data;

    if (nread > 0) {
        ring_append(run, buf->base, (size_t) nread);
    } else if (nread < 0) {
        /* EOF or a read error: nothing more to read, but the run still ends only when the
         * script exits. The pipe stays open until then. */
        (void) uv_read_stop(stream);
    }
}

/* Reads what is already in the pipe when the script exits, without blocking: the exit may
 * be reported before the last output was delivered to on_read. Bounded by DRAIN_MAX against
 * a grandchild that keeps writing. */
static void drain(struct lk_run *run)
{
    uv_os_fd_t fd;
    if (!run->pipe_inited || uv_fileno((const uv_handle_t *) &run->pipe, &fd) < 0) {
        return;
    }
    size_t total = 0;
    while (total < DRAIN_MAX) {
        ssize_t n = read(fd, run->scratch, sizeof(run->scratch));
        if (n > 0) {
            ring_append(run, run->scratch, (size_t) n);
            total += (size_t) n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            break; /* EOF, EAGAIN (nothing more for now) or an error */
        }
    }
}

/* The script has exited and was reaped: the run is over. */
static void on_script_exit(struct lk_run *run, int exit_status, int term_signal)
{
    struct lk_result *result = &run->result;

    result->duration_usec = elapsed_usec(run);
    result->exit_status = exit_status;
    result->term_signal = term_signal;
    uv_timer_stop(&run->timer);

    switch (run->killing) {
    case KILL_TIMEOUT:
        result->outcome = LK_OUTCOME_TIMEOUT;
        result->timeout_usec = run->timeout_usec;
        break;
    case KILL_ABORT:
        result->outcome = LK_OUTCOME_ABORTED;
        break;
    case KILL_NONE:
        if (term_signal != 0) {
            result->outcome = LK_OUTCOME_SIGNAL;
        } else if (exit_status == 0) {
            result->outcome = LK_OUTCOME_SUCCESS;
        } else {
            result->outcome = LK_OUTCOME_EXIT;
        }
        break;
    }

    if (run->killing != KILL_NONE) {
        /* We were killing this run and its leader is gone: whatever is left in its group
         * gets SIGKILL now rather than after the grace, because we stop watching the run
         * here and nothing of an aborted run may survive it. (The group id cannot be
         * recycled while a member lives; if none does, this is ESRCH.) */
        kill_group(run, SIGKILL);
    }

    drain(run);
    finish(run);
}

static void on_process_exit(uv_process_t *process, int64_t exit_status, int term_signal)
{
    on_script_exit(process->data, (int) exit_status, term_signal);
}

/* The pidfd is readable: the script has exited (a pidfd reports nothing else, so status and
 * events say nothing more). It is reaped by its pid, never with -1, which would take the
 * children of libuv's uv_process_t handles or of anyone else in the daemon. Until it is
 * reaped the pid cannot be reused, so this is our script. WNOHANG, because a wakeup that
 * finds nothing to reap must not block the loop: the poll stays and fires again. */
static void on_pidfd_readable(uv_poll_t *poll, int status, int events)
{
    struct lk_run *run = poll->data;
    (void) status;
    (void) events;

    siginfo_t info;
    memset(&info, 0, sizeof(info));
    int r;
    do {
        r = waitid(P_PID, (id_t) run->result.pid, &info, WEXITED | WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == 0 && info.si_pid == 0) {
        return;
    }
    (void) uv_poll_stop(poll);
    if (r < 0) {
        /* ECHILD: reaped by someone else, its status lost. Nothing in lkd does that; if it
         * ever happens, the run ends as a failure rather than never. */
        on_script_exit(run, -1, 0);
    } else if (info.si_code == CLD_EXITED) {
        on_script_exit(run, info.si_status, 0);
    } else {
        /* CLD_KILLED or CLD_DUMPED: si_status is the signal. */
        on_script_exit(run, 0, info.si_status);
    }
}

/* Reads the start of the script into header. Returns 0, or a positive errno for the exec
 * failure to report. O_NONBLOCK so that opening a FIFO cannot hang the daemon. */
static int read_header(const char *path, char *header, size_t size, size_t *ret_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        return errno;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int r = errno;
        (void) close(fd);
        return r;
    }
    if (S_ISDIR(st.st_mode)) {
        (void) close(fd);
        return EISDIR;
    }
    if (!S_ISREG(st.st_mode)) {
        /* What execve() says for a FIFO, a device or a socket. */
        (void) close(fd);
        return EACCES;
    }
    ssize_t n;
    do {
        n = read(fd, header, size);
    } while (n < 0 && errno == EINTR);
    int r = n < 0 ? errno : 0;
    (void) close(fd);
    if (r != 0) {
        return r;
    }
    *ret_len = (size_t) n;
    return 0;
}

/* Everything that can be known without forking. Returns true when the run was concluded
 * (refused or cannot execute); the header is kept for explaining exec failures. */
static bool check_before_spawn(struct lk_run *run, const struct lk_run_spec *spec, char *header,
                               size_t header_size, size_t *ret_header_len)
{
    if (spec->path[0] != '/') {
        conclude(run, LK_OUTCOME_REFUSED, 0, "script path '%s' is not absolute", spec->path);
        return true;
    }

    if (spec->secure_root) {
        char msg[sizeof(run->result.message)];
        int r = lk_safeopen_check_tree(spec->secure_root, spec->path, "script", msg, sizeof(msg));
        if (r > 0) {
            conclude(run, LK_OUTCOME_REFUSED, 0, "%s", msg);
            return true;
        }
        if (r < 0) {
            conclude_exec_failed(run, -r);
            return true;
        }
    }

    int r = read_header(spec->path, header, header_size, ret_header_len);
    if (r != 0) {
        conclude_exec_failed(run, r);
        return true;
    }
    /* Without this, glibc's execvp() would quietly hand a header-less file to /bin/sh. */
    if (!lk_script_header_ok(header, *ret_header_len)) {
        conclude_exec_failed(run, ENOEXEC);
        return true;
    }

    /* In the child a failed chdir() reports ENOENT just like a missing script, so find out
     * here and say which. */
    if (spec->cwd) {
        struct stat st;
        if (stat(spec->cwd, &st) < 0) {
            int errnum = errno;
            if (errnum == ENOENT) {
                conclude(run, LK_OUTCOME_EXEC_FAILED, errnum,
                         "working directory '%s' does not exist", spec->cwd);
            } else {
                conclude(run, LK_OUTCOME_EXEC_FAILED, errnum,
                         "cannot use working directory '%s': %s", spec->cwd, strerror(errnum));
            }
            return true;
        }
        if (!S_ISDIR(st.st_mode)) {
            conclude(run, LK_OUTCOME_EXEC_FAILED, ENOTDIR,
                     "working directory '%s' is not a directory", spec->cwd);
            return true;
        }
    }
    return false;
}

/* The spawn failed in the child: the exec (or chdir) failed. ENOENT for a file we have just
 * read means its interpreter is missing, the classic being a script saved with DOS line
 * endings ("#!/bin/sh\r"). */
static void conclude_spawn_failed(struct lk_run *run, int errnum, const char *header,
                                  size_t header_len)
{
    if (errnum != ENOENT) {
        conclude_exec_failed(run, errnum);
        return;
    }
    if (header_len >= 2 && header[0] == '#' && header[1] == '!') {
        size_t i = 2;
        while (i < header_len && (header[i] == ' ' || header[i] == '\t')) {
            i++;
        }
        size_t start = i;
        while (i < header_len && i - start < INTERPRETER_MAX && header[i] != ' ' &&
               header[i] != '\t' && header[i] != '\n' && header[i] != '\r' && header[i] != '\0') {
            i++;
        }
        int name_len = (int) (i - start);
        if (i < header_len && header[i] == '\r') {
            conclude(run, LK_OUTCOME_EXEC_FAILED, errnum,
                     "interpreter '%.*s' not found (the script has DOS line endings)", name_len,
                     header + start);
        } else {
            conclude(run, LK_OUTCOME_EXEC_FAILED, errnum, "interpreter '%.*s' not found", name_len,
                     header + start);
        }
        return;
    }
    conclude(run, LK_OUTCOME_EXEC_FAILED, errnum, "ELF interpreter (dynamic loader) not found");
}

/* clone3 itself failed for a contained run: the cgroup, not the script, is the problem. */
static void conclude_clone_failed(struct lk_run *run, int errnum)
{
    if (errnum == ENOSYS || errnum == E2BIG || errnum == EINVAL) {
        conclude(run, LK_OUTCOME_EXEC_FAILED, errnum,
                 "cannot spawn into the resource's cgroup: clone3: %s (containment needs "
                 "Linux 5.7 or later)",
                 strerror(errnum));
    } else {
        conclude(run, LK_OUTCOME_EXEC_FAILED, errnum, "cannot spawn into the resource's cgroup: %s",
                 strerror(errnum));
    }
}

/* Marks every descriptor above stderr close-on-exec, so that a script inherits nothing of
 * the daemon but its three standard fds. libuv and SQLite open theirs O_CLOEXEC, but the
 * daemon may have inherited others from whoever started it, and a background daemon left by
 * a restore holding, say, an inherited listening socket would outlive lkd with it. Setting
 * the flag is harmless to us: lkd never execs anything else. The fallback is for kernels
 * before 5.11, which lack CLOSE_RANGE_CLOEXEC. */
static void mark_fds_cloexec(void)
{
    if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0) {
        return;
    }
    DIR *dir = opendir("/proc/self/fd");
    if (!dir) {
        return;
    }
    int self = dirfd(dir);
    struct dirent *entry;
    while ((entry = readdir(dir))) {
        char *end;
        long fd = strtol(entry->d_name, &end, 10);
        if (*end != '\0' || end == entry->d_name || fd < 3 || fd == self) {
            continue;
        }
        int flags = fcntl((int) fd, F_GETFD);
        if (flags >= 0 && !(flags & FD_CLOEXEC)) {
            (void) fcntl((int) fd, F_SETFD, flags | FD_CLOEXEC);
        }
    }
    (void) closedir(dir);
}

/* Decides, once, how this process spawns. pidfd_open() came with Linux 5.3: ENOSYS means an
 * older kernel, EPERM a seccomp filter that denies what it does not know (as older container
 * runtimes do; opening a pidfd of ourselves needs no permission). Either way scripts are
 * spawned with uv_spawn. Running out of descriptors or memory says nothing about the kernel:
 * that run fails, and the next one asks again. Returns 0 or a negative errno. */
static int probe_spawn_method(void)
{
    if (spawn_method != SPAWN_UNKNOWN) {
        return 0;
    }
    int fd = (int) syscall(SYS_pidfd_open, getpid(), 0);
    if (fd >= 0) {
        (void) close(fd);
        spawn_method = SPAWN_PIDFD;
        return 0;
    }
    if (errno == EMFILE || errno == ENFILE || errno == ENOMEM) {
        return -errno;
    }
    spawn_method = SPAWN_UV;
    return 0;
}

/* Starts the script with posix_spawn. The child shares our memory until it execs and we are
 * suspended until then, so an exec failure comes back as the return value (glibc reaps that
 * child itself). The child gets what SPEC §3 says, as uv_spawn gave it: a new session; every
 * signal at its default disposition, because lkd ignores SIGPIPE and libuv installs
 * handlers, and none blocked; stdin /dev/null; stdout and stderr the output pipe; the cwd;
 * and no other descriptor, whatever lkd inherited without O_CLOEXEC.
 *
 * stdout and stderr are set before stdin: out_fd is 0 when lkd was started with fd 0 closed,
 * and opening /dev/null on 0 first would close it. (When out_fd is 1 or 2, dup2 onto itself
 * clears its close-on-exec flag, as POSIX requires of posix_spawn.)
 *
 * Returns 0 and sets *ret_pid, or a negative errno: of the exec or of a file action (the
 * script cannot run), or of the setup (a resource shortage). */
static int spawn_posix(struct lk_run *run, const char *cwd, int out_fd, int in_fd, pid_t *ret_pid)
{
    posix_spawnattr_t attr;
    int r = posix_spawnattr_init(&attr);
    if (r != 0) {
        return -r;
    }
    posix_spawn_file_actions_t actions;
    r = posix_spawn_file_actions_init(&actions);
    if (r != 0) {
        (void) posix_spawnattr_destroy(&attr);
        return -r;
    }

    /* Every signal back to its default, glibc's internal ones included (32 and 33: SIGCANCEL,
     * SIGSETXID). glibc's child sets those to SIG_IGN unless they are in the sigdefault set,
     * so that no handler of ours runs in our memory, and SIG_IGN survives the exec: every
     * script, and every daemon a restore leaves, would ignore them. sigfillset() and
     * sigaddset() refuse them, hence the bytes. SIG_DFL is as safe in the child: it has every
     * signal blocked until just before the exec, and nobody sends those two to it. */
    sigset_t none, all;
    (void) sigemptyset(&none);
    memset(&all, 0xff, sizeof(all));
    r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
                                                POSIX_SPAWN_SETSIGDEF);
    if (r == 0) {
        r = posix_spawnattr_setsigmask(&attr, &none);
    }
    if (r == 0) {
        r = posix_spawnattr_setsigdefault(&attr, &all);
    }
    if (r == 0) {
        r = posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
    }
    if (r == 0) {
        r = posix_spawn_file_actions_adddup2(&actions, out_fd, STDERR_FILENO);
    }
    if (r == 0 && in_fd >= 0) {
        r = posix_spawn_file_actions_adddup2(&actions, in_fd, STDIN_FILENO);
    } else if (r == 0) {
        r = posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    }
    if (r == 0 && cwd) {
        r = posix_spawn_file_actions_addchdir_np(&actions, cwd);
    }
    if (r == 0) {
        r = posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
    }
    if (r == 0) {
        pid_t pid;
        r = posix_spawn(&pid, run->path, &actions, &attr, run->argv, run->env);
        if (r == 0) {
            *ret_pid = pid;
        }
    }
    (void) posix_spawn_file_actions_destroy(&actions);
    (void) posix_spawnattr_destroy(&attr);
    return -r;
}

/* A contained run's child reports a failed chdir or exec here: a page shared with every
 * child (MAP_SHARED survives the fork-like clone), read once the clone has returned, which
 * with CLONE_VFORK is after the child has exec'd or exited. The lock keeps two threads from
 * sharing it; lkd spawns from its loop only, so it is never contended there. */
static int *child_errno_page;
static pthread_mutex_t child_errno_lock = PTHREAD_MUTEX_INITIALIZER;

/* The kernel's sigset: 64 signals, what rt_sigaction and rt_sigprocmask are given. */
#define KERNEL_SIGSET_SIZE 8
#define KERNEL_NSIG        64

/* The child of spawn_clone3: a copy of the daemon (or, with CLONE_VM_SPAWN, the daemon's
 * own memory while it waits), with every signal blocked, that must only make system calls
 * until it execs. It gives the script what spawn_posix
 * gives it, in the same order. Never returns. */
__attribute__((noreturn)) static void clone_child(const struct lk_run *run, const char *cwd,
                                                  int out_fd, int *errno_slot)
{
    /* Every disposition to SIG_DFL while all are still blocked, glibc's 32 and 33 included,
     * so no handler of lkd's can ever run here and nothing ignored survives the exec. An
     * all-zero kernel sigaction is SIG_DFL with no flags and an empty mask on every
     * architecture. */
    unsigned long zero_action[8];
    memset(zero_action, 0, sizeof(zero_action));
    for (int sig = 1; sig <= KERNEL_NSIG; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP) {
            (void) syscall(SYS_rt_sigaction, sig, zero_action, NULL, KERNEL_SIGSET_SIZE);
        }
    }
    int err = 0;
    if (setsid() < 0) {
        err = errno;
    }
    /* stdout and stderr first: out_fd is 0 when lkd runs with fd 0 closed. dup2 onto itself
     * keeps close-on-exec, so that case clears it by hand. */
    for (int target = STDOUT_FILENO; err == 0 && target <= STDERR_FILENO; target++) {
        if (out_fd == target) {
            if (fcntl(out_fd, F_SETFD, 0) < 0) {
                err = errno;
            }
        } else if (dup2(out_fd, target) < 0) {
            err = errno;
        }
    }
    if (err == 0) {
        int null_fd = open("/dev/null", O_RDONLY);
        if (null_fd < 0) {
            err = errno;
        } else if (null_fd != STDIN_FILENO) {
            if (dup2(null_fd, STDIN_FILENO) < 0) {
                err = errno;
            }
            (void) close(null_fd);
        }
    }
    if (err == 0 && cwd && chdir(cwd) < 0) {
        err = errno;
    }
    if (err == 0 && close_range(STDERR_FILENO + 1, ~0U, 0) < 0) {
        /* Before Linux 5.9: one by one, up to a sane bound. */
        struct rlimit lim;
        unsigned long max = getrlimit(RLIMIT_NOFILE, &lim) == 0 ? lim.rlim_cur : 1024;
        if (max > 65536) {
            max = 65536;
        }
        for (unsigned long fd = STDERR_FILENO + 1; fd < max; fd++) {
            (void) close((int) fd);
        }
    }
    /* After the closing above, which reads lkd's limit to know how far to go. */
    if (err == 0 && script_nofile_set) {
        (void) setrlimit(RLIMIT_NOFILE, &script_nofile);
    }
    if (err == 0) {
        uint64_t none = 0;
        (void) syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, KERNEL_SIGSET_SIZE);
        (void) execve(run->path, run->argv, run->env);
        err = errno;
    }
    *errno_slot = err;
    _exit(127);
}

#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
/* On x86_64 the contained child shares lkd's memory until it execs (CLONE_VM, as glibc's
 * posix_spawn does): no page table is copied, which at a hundred checks a second was most
 * of lkd's CPU time with the fork-like clone. Such a child must run on a stack of its own,
 * and clone3 returns into it with no frame to go back to, hence the few instructions below.
 * lkd is suspended meanwhile (CLONE_VFORK), so one stack serves every spawn. Under
 * AddressSanitizer, which cannot follow a switch of stacks, the fork-like clone is kept. */
#define CLONE_VM_SPAWN 1

struct vm_child {
    const struct lk_run *run;
    const char *cwd;
    int out_fd;
    int *errno_slot;
};

static char vm_child_stack[64 * 1024] __attribute__((aligned(64)));

__attribute__((noreturn)) static void clone_child(const struct lk_run *run, const char *cwd,
                                                  int out_fd, int *errno_slot);

__attribute__((noreturn, used)) static void vm_child_main(void *p)
{
    const struct vm_child *c = p;
    clone_child(c->run, c->cwd, c->out_fd, c->errno_slot);
}

/* clone3 with the child on its own stack: the child calls fn(arg), which never returns.
 * Returns the child's pid, or a negative errno (the kernel's, raw). */
static long clone3_on_stack(struct clone_args *args, void (*fn)(void *), void *arg)
{
    long ret;
    __asm__ volatile("syscall\n\t"
                     "test %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "xor %%ebp, %%ebp\n\t"
                     "mov %[arg], %%rdi\n\t"
                     "call *%[fn]\n\t"
                     "ud2\n\t"
                     "1:\n\t"
                     : "=a"(ret)
                     : "0"((long) SYS_clone3), "D"(args),
                       "S"(sizeof(*args)), [fn] "r"(fn), [arg] "r"(arg)
                     : "rcx", "r11", "memory");
    return ret;
}
#endif

/* Starts a contained script with clone3(CLONE_INTO_CGROUP | CLONE_VFORK | CLONE_PIDFD): it
 * is born in the cgroup (moving a process by writing cgroup.procs costs an RCU grace
 * period, milliseconds), and the pidfd comes with it. The clone has fork semantics, so the
 * page tables are copied as uv_spawn did; the child runs clone_child. Every signal is
 * blocked around the clone, so that no libuv handler runs in the child.
 *
 * Returns 0 and sets *ret_pid and *ret_pidfd; or 0 with *ret_exec_errno set when the child
 * could not chdir or exec (it is reaped here); or a negative errno when clone3 failed. */
static int spawn_clone3(struct lk_run *run, const char *cwd, int out_fd, int cgroup_fd,
                        pid_t *ret_pid, int *ret_pidfd, int *ret_exec_errno)
{
    *ret_exec_errno = 0;
    if (cgroup_fd < 0) {
        return -EBADF;
    }
    (void) pthread_mutex_lock(&child_errno_lock);
    if (!child_errno_page) {
        void *page =
                mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (page == MAP_FAILED) {
            int r = -errno;
            (void) pthread_mutex_unlock(&child_errno_lock);
            return r;
        }
        child_errno_page = page;
    }
    *child_errno_page = 0;

    int pidfd = -1;
    struct clone_args args;
    memset(&args, 0, sizeof(args));
    args.flags = CLONE_INTO_CGROUP | CLONE_VFORK | CLONE_PIDFD;
    args.pidfd = (uint64_t) (uintptr_t) &pidfd;
    args.exit_signal = SIGCHLD;
    args.cgroup = (uint64_t) cgroup_fd;

    uint64_t all = ~UINT64_C(0), old = 0;
    (void) syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, KERNEL_SIGSET_SIZE);
#ifdef CLONE_VM_SPAWN
    args.flags |= CLONE_VM;
    args.stack = (uint64_t) (uintptr_t) vm_child_stack;
    args.stack_size = sizeof(vm_child_stack);
    struct vm_child child = {
            .run = run, .cwd = cwd, .out_fd = out_fd, .errno_slot = child_errno_page};
    long pid = clone3_on_stack(&args, vm_child_main, &child);
    int clone_errno = pid < 0 ? (int) -pid : 0;
    pid = pid < 0 ? -1 : pid;
#else
    long pid = syscall(SYS_clone3, &args, sizeof(args));
    if (pid == 0) {
        clone_child(run, cwd, out_fd, child_errno_page);
    }
    int clone_errno = errno;
#endif
    (void) syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, KERNEL_SIGSET_SIZE);
    int exec_errno = *child_errno_page;
    (void) pthread_mutex_unlock(&child_errno_lock);

    if (pid < 0) {
        return -clone_errno;
    }
    if (exec_errno != 0) {
        while (waitpid((pid_t) pid, NULL, 0) < 0 && errno == EINTR) {
        }
        (void) close(pidfd);
        *ret_exec_errno = exec_errno;
        return 0;
    }
    *ret_pid = (pid_t) pid;
    *ret_pidfd = pidfd;
    return 0;
}

/* Starts the script with uv_spawn, on kernels without pidfds: libuv forks, reaps the script
 * from its SIGCHLD handler and reports through on_process_exit. The write end is given as
 * stdout and stderr (libuv's dup2 clears its close-on-exec flag); stdin is UV_IGNORE, which
 * libuv opens as /dev/null. Returns 0 and sets *ret_pid, or a negative errno as
 * spawn_posix. */
static int spawn_uv(uv_loop_t *loop, struct lk_run *run, const char *cwd, int out_fd, int in_fd,
                    pid_t *ret_pid)
{
    uv_stdio_container_t stdio[3] = {
            in_fd >= 0 ? (uv_stdio_container_t){.flags = UV_INHERIT_FD, .data.fd = in_fd}
                       : (uv_stdio_container_t){.flags = UV_IGNORE},
            {.flags = UV_INHERIT_FD, .data.fd = out_fd},
            {.flags = UV_INHERIT_FD, .data.fd = out_fd},
    };
    uv_process_options_t options = {
            .exit_cb = on_process_exit,
            .file = run->path,
            .args = run->argv,
            .env = run->env,
            .cwd = cwd,
            .flags = UV_PROCESS_DETACHED,
            .stdio_count = 3,
            .stdio = stdio,
    };
    mark_fds_cloexec();
    run->process.data = run;
    int r = uv_spawn(loop, &run->process, &options);
    /* uv_spawn initialises the handle even when it fails; it must be closed either way. */
    run->process_inited = true;
    if (r == 0) {
        *ret_pid = run->process.pid;
    }
    return r;
}

/* Watches the script's exit through a pidfd: fd (a contained run's, from clone3, owned from
 * here on) or, when fd is -1, one opened now. The script is our child and nobody reaps it
 * but on_pidfd_readable, so its pid names it even if it has exited already (the pidfd of a
 * zombie is readable at once). Returns 0 or a negative errno. */
static int watch_exit(uv_loop_t *loop, struct lk_run *run, int fd)
{
    if (fd < 0) {
        fd = (int) syscall(SYS_pidfd_open, run->result.pid, 0);
        if (fd < 0) {
            return -errno;
        }
    }
    int r = uv_poll_init(loop, &run->exit_poll, fd);
    if (r < 0) {
        (void) close(fd);
        return r;
    }
    run->pidfd = fd;
    run->exit_poll.data = run;
    run->poll_inited = true;
    return uv_poll_start(&run->exit_poll, UV_READABLE, on_pidfd_readable);
}

/* For a script that was spawned but cannot be watched: it must not run unsupervised, so it
 * is killed with its group and reaped at once. This blocks only as long as dying takes. */
static void kill_and_reap(struct lk_run *run)
{
    kill_group(run, SIGKILL);
    while (waitpid(run->result.pid, NULL, 0) < 0 && errno == EINTR) {
    }
    run->result.pid = 0;
}

/* The read end of a pipe that holds input and then EOF, for the script's stdin: the whole
 * input is written now (the pipe is grown to hold it), so that nothing is left to write
 * from the loop and a script that never reads cannot block anyone. Returns 0 and sets
 * *ret_fd (O_CLOEXEC: the child gets it only as fd 0), or a negative errno. */
static int input_pipe(const char *input, size_t len, int *ret_fd)
{
    if (len > LK_RUN_INPUT_MAX) {
        return -EMSGSIZE;
    }
    int p[2];
    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
        return -errno;
    }
    if (len > 4096) {
        (void) fcntl(p[1], F_SETPIPE_SZ, (int) len);
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(p[1], input + done, len - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            int r = n < 0 && errno != EAGAIN ? -errno : -EMSGSIZE;
            (void) close(p[0]);
            (void) close(p[1]);
            return r;
        }
        done += (size_t) n;
    }
    (void) close(p[1]);
    /* The script reads it blocking, as any stdin. */
    int flags = fcntl(p[0], F_GETFL);
    if (flags >= 0) {
        (void) fcntl(p[0], F_SETFL, flags & ~O_NONBLOCK);
    }
    *ret_fd = p[0];
    return 0;
}

/* Spawn errors that say the system is short of something, rather than that this script
 * cannot run: they fail lk_run_start itself. */
static bool is_resource_error(int r)
{
    return r == UV_EAGAIN || r == UV_ENOMEM || r == UV_EMFILE || r == UV_ENFILE;
}

/* Setting up in this order keeps the spawn last: everything that can fail for lack of
 * resources (the pipe, registering it with the loop) fails before a process exists. The one
 * exception is the pidfd, which needs the pid: if it cannot be had, the script is killed
 * and reaped before lk_run_start fails, so a failed lk_run_start never leaves a script
 * running unsupervised. Once any handle is initialised, failing means closing the handles
 * and freeing the run from their close_cb, without calling cb. */
int lk_run_start(uv_loop_t *loop, const struct lk_run_spec *spec, lk_run_done_cb cb, void *userdata,
                 struct lk_run **ret_run)
{
    assert(loop);
    assert(spec);
    assert(spec->path);
    assert(cb);

    struct lk_run *run = calloc(1, sizeof(*run));
    if (!run) {
        return -ENOMEM;
    }
    run->start_ns = uv_hrtime();
    run->cb = cb;
    run->userdata = userdata;
    run->notify = true;
    run->pidfd = -1;
    run->timeout_usec = spec->timeout_usec;
    run->capture_max =
            spec->capture_max > LK_RUN_CAPTURE_MAX ? LK_RUN_CAPTURE_MAX : spec->capture_max;
    run->grace_usec = spec->kill_grace_usec ? spec->kill_grace_usec : DEFAULT_KILL_GRACE_USEC;
    run->path = strdup(spec->path);
    /* A NULL env means an empty environment: the daemon's own must never leak in. */
    size_t env_count = 0;
    while (spec->env && spec->env[env_count]) {
        env_count++;
    }
    run->env = calloc(env_count + 1, sizeof(*run->env));
    size_t argc = 0;
    while (spec->argv && spec->argv[argc]) {
        argc++;
    }
    run->argv = calloc(argc + 2, sizeof(*run->argv));
    if (!run->path || !run->env || !run->argv) {
        run_free(run);
        return -ENOMEM;
    }
    for (size_t i = 0; i < env_count; i++) {
        run->env[i] = spec->env[i];
    }
    if (argc == 0) {
        run->argv[0] = run->path;
    }
    for (size_t i = 0; i < argc; i++) {
        run->argv[i] = spec->argv[i];
    }

    int r = uv_timer_init(loop, &run->timer);
    if (r < 0) {
        run_free(run);
        return r;
    }
    run->timer.data = run;
    run->timer_inited = true;

    char header[HEADER_MAX];
    size_t header_len = 0;
    if (check_before_spawn(run, spec, header, sizeof(header), &header_len)) {
        goto started;
    }

    r = probe_spawn_method();
    if (r < 0) {
        goto fail;
    }

    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        r = -errno;
        goto fail;
    }
    r = uv_pipe_init(loop, &run->pipe, 0);
    if (r < 0) {
        (void) close(fds[0]);
        (void) close(fds[1]);
        goto fail;
    }
    run->pipe.data = run;
    run->pipe_inited = true;
    r = uv_pipe_open(&run->pipe, fds[0]);
    if (r < 0) {
        (void) close(fds[0]);
        (void) close(fds[1]);
        goto fail;
    }
    r = uv_read_start((uv_stream_t *) &run->pipe, on_alloc, on_read);
    if (r < 0) {
        (void) close(fds[1]);
        goto fail;
    }

    int in_fd = -1;
    if (spec->input) {
        r = spec->contained ? -EINVAL : input_pipe(spec->input, spec->input_len, &in_fd);
        if (r < 0) {
            (void) close(fds[1]);
            goto fail;
        }
    }

    /* One write end for both stdout and stderr, so their order is kept. It is O_CLOEXEC:
     * the child gets it only as fds 1 and 2, and no other child spawned later inherits it. */
    pid_t pid = 0;
    int pidfd = -1;
    int exec_errno = 0;
    if (spec->contained) {
        r = spawn_clone3(run, spec->cwd, fds[1], spec->cgroup_fd, &pid, &pidfd, &exec_errno);
    } else if (spawn_method == SPAWN_PIDFD) {
        r = spawn_posix(run, spec->cwd, fds[1], in_fd, &pid);
    } else {
        r = spawn_uv(loop, run, spec->cwd, fds[1], in_fd, &pid);
    }
    /* Ours is closed at once, so the pipe reaches EOF when the script's copies go. This
     * also frees a descriptor for the pidfd, even when lkd is at its limit. */
    (void) close(fds[1]);
    if (in_fd >= 0) {
        (void) close(in_fd);
    }
    if (r < 0 && is_resource_error(r)) {
        goto fail;
    }
    if (r < 0 && spec->contained) {
        conclude_clone_failed(run, -r);
        goto started;
    }
    if (r < 0 || exec_errno != 0) {
        conclude_spawn_failed(run, r < 0 ? -r : exec_errno, header, header_len);
        goto started;
    }
    run->result.pid = pid;
    /* posix_spawn and uv_spawn cannot set a limit in the child: it is set right after, while
     * the script's interpreter is still starting (the contained child set it itself). */
    if (!spec->contained && script_nofile_set) {
        (void) prlimit(pid, RLIMIT_NOFILE, &script_nofile, NULL);
    }
    if (spec->contained || spawn_method == SPAWN_PIDFD) {
        r = watch_exit(loop, run, pidfd);
        if (r < 0) {
            kill_and_reap(run);
            goto fail;
        }
    }
    if (run->timeout_usec > 0) {
        timer_start_from_now(&run->timer, on_timeout, run->timeout_usec);
    }

started:
    runs_in_flight++;
    if (ret_run) {
        *ret_run = run;
    }
    return 0;

fail:
    run->notify = false;
    finish(run);
    return r;
}
