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

struct lk_result {
    enum lk_outcome outcome;
    int exit_status;        /* valid for SUCCESS and EXIT */
    int term_signal;        /* the signal that ended it, 0 if none */
    int exec_errno;         /* positive errno for EXEC_FAILED */
    uint64_t timeout_usec;  /* the limit that was exceeded, for TIMEOUT */
    uint64_t duration_usec; /* from spawn to exit (or to the decision not to run) */
    int pid;                /* the script's pid, 0 when it never started */
    char message[256];      /* why it was refused or could not run; "" otherwise */
};

/* Whether the run counts as a success (exit status 0 and nothing else). */
bool lk_result_ok(const struct lk_result *result);

/* A short English description for reasons and events, e.g. "exit status 1",
 * "killed by signal 9 (SIGKILL)", "timed out after 5 s", "could not execute: Permission
 * denied". Writes at most size bytes including the NUL; returns buf. */
char *lk_result_describe(const struct lk_result *result, char *buf, size_t size);

/* A stable one-word name for --json and the database ("success", "exit", "signal",
 * "exec-failed", "timeout", "refused", "aborted"). */
const char *lk_outcome_name(enum lk_outcome outcome);
