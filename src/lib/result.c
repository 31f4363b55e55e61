/* The outcome of one script run, as data: whether it counts as a success, its one-word name
 * for --json and the database, and the short English sentence that goes into reasons and
 * events ("exit status 1", "killed by signal 9 (SIGKILL)", "timed out after 5 s").
 *
 * Pure: no I/O, no allocation, no global state. The runner (src/daemon/io/runner.c) fills
 * struct lk_result; everything here only reads it.
 *
 * This file also holds the one table that maps an exec errno to words (STYLE: "one table
 * maps exec errno to results"), so that every caller says "script not found" the same way.
 * The verdict (what a run means: OK, FAILED, HARD, DEGRADED...) is set by the resource's type
 * (src/daemon/io/restype.c); here it is only resolved (BY_OUTCOME) and named.
 * It must never decide what an outcome means for a resource: that belongs to the engine. */
#include "result.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static const char *const outcome_names[LK_OUTCOME_COUNT] = {
        [LK_OUTCOME_SUCCESS] = "success", [LK_OUTCOME_EXIT] = "exit",
        [LK_OUTCOME_SIGNAL] = "signal",   [LK_OUTCOME_EXEC_FAILED] = "exec-failed",
        [LK_OUTCOME_TIMEOUT] = "timeout", [LK_OUTCOME_REFUSED] = "refused",
        [LK_OUTCOME_ABORTED] = "aborted",
};

/* Words for the errors execve() and the runner's own checks report. Anything not listed
 * falls back to strerror(), lower-cased. */
static const struct {
    int errnum;
    const char *text;
} exec_errors[] = {
        {ENOENT, "script not found"},
        {EACCES, "permission denied"},
        {ENOEXEC, "not a script or ELF binary"},
        {EISDIR, "script is a directory"},
        {ENOTDIR, "a component of the path is not a directory"},
        {ETXTBSY, "script is being written (text file busy)"},
        {ELOOP, "too many levels of symbolic links"},
        {E2BIG, "environment too large"},
        {ENAMETOOLONG, "path too long"},
};

static const char *const verdict_names[LK_VERDICT_COUNT] = {
        [LK_VERDICT_BY_OUTCOME] = "by-outcome",
        [LK_VERDICT_OK] = "ok",
        [LK_VERDICT_FAILED] = "failed",
        [LK_VERDICT_NOT_RUNNING] = "not-running",
        [LK_VERDICT_HARD] = "hard",
        [LK_VERDICT_NOT_INSTALLED] = "not-installed",
        [LK_VERDICT_NOT_CONFIGURED] = "not-configured",
        [LK_VERDICT_DEGRADED] = "degraded",
        [LK_VERDICT_PENDING] = "pending",
};

enum lk_verdict lk_result_verdict(const struct lk_result *result)
{
    if (!result) {
        return LK_VERDICT_FAILED;
    }
    if (result->verdict != LK_VERDICT_BY_OUTCOME) {
        return (unsigned) result->verdict < LK_VERDICT_COUNT ? result->verdict : LK_VERDICT_FAILED;
    }
    bool exited_zero = result->outcome == LK_OUTCOME_SUCCESS && result->exit_status == 0 &&
                       result->term_signal == 0;
    return exited_zero ? LK_VERDICT_OK : LK_VERDICT_FAILED;
}

bool lk_result_ok(const struct lk_result *result)
{
    enum lk_verdict v = lk_result_verdict(result);
    return v == LK_VERDICT_OK || v == LK_VERDICT_DEGRADED;
}

const char *lk_verdict_name(enum lk_verdict verdict)
{
    if ((unsigned) verdict >= LK_VERDICT_COUNT) {
        return "unknown";
    }
    return verdict_names[verdict];
}

const char *lk_outcome_name(enum lk_outcome outcome)
{
    if ((unsigned) outcome >= LK_OUTCOME_COUNT) {
        return "unknown";
    }
    return outcome_names[outcome];
}

static const char *exec_error_text(int errnum)
{
    for (size_t i = 0; i < sizeof(exec_errors) / sizeof(exec_errors[0]); i++) {
        if (exec_errors[i].errnum == errnum) {
            return exec_errors[i].text;
        }
    }
    return NULL;
}

/* Seconds with up to six decimals and no trailing zeros: 5 → "5", 500000 usec → "0.5". */
static void format_seconds(uint64_t usec, char *buf, size_t size)
{
    uint64_t whole = usec / 1000000;
    uint64_t frac = usec % 1000000;
    if (frac == 0) {
        snprintf(buf, size, "%" PRIu64, whole);
        return;
    }
    int digits = 6;
    while (frac % 10 == 0) {
        frac /= 10;
        digits--;
    }
    snprintf(buf, size, "%" PRIu64 ".%0*" PRIu64, whole, digits, frac);
}

static void describe_exec_failure(const struct lk_result *result, char *buf, size_t size)
{
    /* The runner writes a message when it knows more than the errno says, e.g. that the
     * #! interpreter is missing rather than the script (both are ENOENT). */
    if (result->message[0] != '\0') {
        snprintf(buf, size, "could not execute: %.*s", (int) sizeof(result->message),
                 result->message);
        return;
    }
    const char *text = exec_error_text(result->exec_errno);
    if (text) {
        snprintf(buf, size, "could not execute: %s", text);
        return;
    }
    if (result->exec_errno <= 0) {
        snprintf(buf, size, "could not execute");
        return;
    }
    char err[128];
    snprintf(err, sizeof(err), "%s", strerror(result->exec_errno));
    if (err[0] >= 'A' && err[0] <= 'Z') {
        err[0] = (char) (err[0] - 'A' + 'a');
    }
    snprintf(buf, size, "could not execute: %s", err);
}

char *lk_result_describe(const struct lk_result *result, char *buf, size_t size)
{
    assert(result);
    if (!buf || size == 0) {
        return buf;
    }

    switch (result->outcome) {
    case LK_OUTCOME_SUCCESS:
    case LK_OUTCOME_EXIT:
        snprintf(buf, size, "exit status %d", result->exit_status);
        break;
    case LK_OUTCOME_SIGNAL: {
        const char *abbrev = sigabbrev_np(result->term_signal);
        if (abbrev) {
            snprintf(buf, size, "killed by signal %d (SIG%s)", result->term_signal, abbrev);
        } else {
            snprintf(buf, size, "killed by signal %d", result->term_signal);
        }
        break;
    }
    case LK_OUTCOME_EXEC_FAILED:
        describe_exec_failure(result, buf, size);
        break;
    case LK_OUTCOME_TIMEOUT: {
        char seconds[32];
        format_seconds(result->timeout_usec, seconds, sizeof(seconds));
        snprintf(buf, size, "timed out after %s s", seconds);
        break;
    }
    case LK_OUTCOME_REFUSED:
        if (result->message[0] != '\0') {
            snprintf(buf, size, "refused to run: %.*s", (int) sizeof(result->message),
                     result->message);
        } else {
            snprintf(buf, size, "refused to run");
        }
        break;
    case LK_OUTCOME_ABORTED:
        snprintf(buf, size, "aborted");
        break;
    default:
        snprintf(buf, size, "unknown outcome %d", (int) result->outcome);
        break;
    }
    if (result->exit_reason[0] != '\0') {
        size_t len = strlen(buf);
        if (len + 2 < size) {
            snprintf(buf + len, size - len, ": %.*s", (int) sizeof(result->exit_reason),
                     result->exit_reason);
        }
    }
    return buf;
}
