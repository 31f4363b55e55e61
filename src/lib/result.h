/* The outcome of one script run, as data (STYLE: a script's outcome is not an error).
 * Pure: classification and wording only, no I/O. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum lk_outcome {
    LK_OUTCOME_SUCCESS,     /* exited with status 0 */
    LK_OUTCOME_EXIT,        /* exited with a non-zero status */
    LK_OUTCOME_SIGNAL,      /* killed by a signal it was not sent by us */
    LK_OUTCOME_EXEC_FAILED, /* could not be executed at all (exec_errno says why) */
    LK_OUTCOME_TIMEOUT,     /* ran past its timeout and was killed by the runner */
    LK_OUTCOME_REFUSED,     /* not started: unsafe permissions or not a script (message) */
    LK_OUTCOME_ABORTED,     /* stopped by the runner on request (shutdown) */
    LK_OUTCOME_COUNT,
};

/* What a run means for the resource, set by its type's classify (src/daemon/io/restype.h).
 * A run nobody classified keeps BY_OUTCOME, which lk_result_verdict resolves: OK when the
 * script exited 0, FAILED otherwise, so gen/app scripts mean what they always meant. */
enum lk_verdict {
    LK_VERDICT_BY_OUTCOME = 0, /* not classified: OK when outcome SUCCESS, else FAILED */
    LK_VERDICT_OK,
    LK_VERDICT_FAILED,         /* ordinary failure: counted, recovered, failed over */
    LK_VERDICT_NOT_RUNNING,    /* OCF 7. probe: stopped, OSU, INFO, no clean-up remove;
                                * check: a failure; stop/remove: success (classify maps it) */
    LK_VERDICT_HARD,           /* OCF 2/3/4: OSF here now, no check_failures count, no
                                * recover, no local retry: fail over */
    LK_VERDICT_NOT_INSTALLED,  /* OCF 5: this node can't run it: OSF, the node marked
                                * "unable" for the resource, placement skips it */
    LK_VERDICT_NOT_CONFIGURED, /* OCF 6: OSF, no failover anywhere */
    LK_VERDICT_DEGRADED,       /* OCF 190/191: success with a WARNING event, no recovery */
    LK_VERDICT_PENDING,        /* neither: a check is not counted, an action is retried by
                                * the type */
    LK_VERDICT_COUNT,
};

struct lk_result {
    enum lk_outcome outcome;
    int exit_status;         /* valid for SUCCESS and EXIT */
    int term_signal;         /* the signal that ended it, 0 if none */
    int exec_errno;          /* positive errno for EXEC_FAILED */
    uint64_t timeout_usec;   /* the limit that was exceeded, for TIMEOUT */
    uint64_t duration_usec;  /* from spawn to exit (or to the decision not to run) */
    int pid;                 /* the script's pid, 0 when it never started */
    char message[256];       /* why it was refused or could not run; "" otherwise */
    enum lk_verdict verdict; /* set by the type's classify; BY_OUTCOME until then */
    char exit_reason[256];   /* the run's own one-line reason (OCF's ocf-exit-reason), or "" */
};

/* The verdict with BY_OUTCOME resolved: OK when the script exited with status 0 (and
 * nothing else happened), FAILED otherwise; a classified verdict as it is. */
enum lk_verdict lk_result_verdict(const struct lk_result *result);

/* Whether the run counts as a success: verdict OK or DEGRADED. */
bool lk_result_ok(const struct lk_result *result);

/* A stable one-word name for --json, events and tests ("ok", "failed", "not-running",
 * "hard", "not-installed", "not-configured", "degraded", "pending"); BY_OUTCOME is
 * "by-outcome". */
const char *lk_verdict_name(enum lk_verdict verdict);

/* A short English description for reasons and events, e.g. "exit status 1",
 * "killed by signal 9 (SIGKILL)", "timed out after 5 s", "could not execute: Permission
 * denied", followed by ": <exit_reason>" when the run gave one ("exit status 6: ip address
 * missing"). Writes at most size bytes including the NUL; returns buf. */
char *lk_result_describe(const struct lk_result *result, char *buf, size_t size);

/* A stable one-word name for --json and the database ("success", "exit", "signal",
 * "exec-failed", "timeout", "refused", "aborted"). */
const char *lk_outcome_name(enum lk_outcome outcome);
