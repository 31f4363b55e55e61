/* The script runner: the only code that spawns and kills script processes (SPEC §3).
 *
 * Each run gets a fresh environment (given by the caller), no arguments, stdin /dev/null
 * (or a pipe holding the caller's input, then EOF),
 * cwd as given, and a new session (its own process group). stdout and stderr go into one
 * pipe; the last LK_RUN_OUTPUT_MAX bytes are kept. A run is finished when the script
 * process exits, not when the pipe closes: whatever is readable in the pipe at that moment
 * is drained without blocking, then the pipe is closed, so a background grandchild that
 * keeps the pipe open cannot hold the run. On timeout or abort, the whole process group
 * gets SIGTERM, then SIGKILL after the grace period. A contained run starts in the cgroup
 * it is given (lk_cgroups_fd), and so does everything it leaves behind; a cgroup that cannot
 * be used fails the run as LK_OUTCOME_EXEC_FAILED with a message, like a missing script.
 *
 * The runner decides nothing about states: it reports a struct lk_result. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "result.h"

#define LK_RUN_OUTPUT_MAX 4096

struct lk_run;

struct lk_run_spec {
    const char *path;         /* the script to execute, absolute */
    char *const *argv;        /* NULL-terminated arguments, argv[0] first; NULL = just the
                               * path (argv[0] = path, no arguments). Strings borrowed until
                               * lk_run_start returns. */
    const char *cwd;          /* working directory ($LKROOT) */
    char *const *env;         /* NULL-terminated "KEY=VALUE" list: the whole environment */
    uint64_t timeout_usec;    /* 0 = no limit */
    uint64_t kill_grace_usec; /* SIGTERM → SIGKILL delay on timeout/abort; 0 = default 5 s */
    const char *secure_root;  /* if set: refuse (LK_OUTCOME_REFUSED) unless the script and
                               * every directory from secure_root down to it is owned by
                               * root (or our euid) and not writable by group or others */
    bool contained;           /* spawn straight into the cgroup cgroup_fd (clone3 with
                               * CLONE_INTO_CGROUP, Linux 5.7): the script and everything it
                               * leaves behind belong to that cgroup from their first
                               * instruction */
    int cgroup_fd;            /* a cgroup v2 directory (lk_cgroups_fd); only when contained */
    const char *input;        /* if set: stdin is a pipe holding these input_len bytes, then
                               * EOF (an alert's event, core/alerts.c); not when contained.
                               * Copied before lk_run_start returns. */
    size_t input_len;         /* at most LK_RUN_INPUT_MAX */
    size_t capture_max;       /* if set: also keep the first capture_max bytes of the output
                               * (at most LK_RUN_CAPTURE_MAX), read in the callback with
                               * lk_run_captured (lcdremexec's remote.exec) */
};

#define LK_RUN_CAPTURE_MAX (1024 * 1024)

#define LK_RUN_INPUT_MAX (256 * 1024)

/* Called exactly once per started run, from the loop, after the script has exited (or was
 * refused / could not execute). output is the tail of stdout+stderr (output_len bytes,
 * not NUL-terminated, may be empty); both result and output are borrowed for the call.
 * The run is freed after the callback returns. */
typedef void (*lk_run_done_cb)(struct lk_run *run, const struct lk_result *result,
                               const char *output, size_t output_len, void *userdata);

/* Starts a run. Returns 0 and sets *ret_run (borrowed until cb fires), or a negative errno
 * (only for resource exhaustion, e.g. -ENOMEM, -EMFILE), in which case cb is never called.
 * A script that cannot be executed or is refused is not an error: cb fires on a later loop
 * iteration with LK_OUTCOME_EXEC_FAILED or LK_OUTCOME_REFUSED. ret_run may be NULL. */
int lk_run_start(uv_loop_t *loop, const struct lk_run_spec *spec, lk_run_done_cb cb, void *userdata,
                 struct lk_run **ret_run);

/* During the done callback of a run started with capture_max: the first bytes of its output
 * (*ret_len of them, not NUL-terminated; borrowed for the callback) and in *ret_total how
 * many it wrote in all. NULL with *ret_len 0 when nothing was kept. */
const char *lk_run_captured(const struct lk_run *run, size_t *ret_len, uint64_t *ret_total);

/* Aborts a run: SIGTERM to its process group, SIGKILL after the grace period. cb still
 * fires, with LK_OUTCOME_ABORTED. No effect on a run that is already finishing. */
void lk_run_abort(struct lk_run *run);

/* The script's pid (also its process group id), 0 before it started. */
int lk_run_pid(const struct lk_run *run);

/* Number of runs currently in flight in this process. */
unsigned lk_run_count(void);

/* The descriptor limit (RLIMIT_NOFILE, soft and hard) every script starts with from now on:
 * lkd raises its own soft limit (fdbudget.h) and gives its scripts the one it was started
 * with, so that the applications they start see what they saw before. Without a call,
 * scripts inherit lkd's. */
void lk_run_set_script_nofile(uint64_t soft, uint64_t hard);
