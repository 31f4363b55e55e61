/* Unit tests for result.c: the one-word outcome names, lk_result_ok, and the wording of
 * lk_result_describe for every outcome, including the errno table, fractional timeouts,
 * unknown signals and truncation into small buffers. Pure: no loop, no files. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "result.h"

static const char *describe(const struct lk_result *result)
{
    static char buf[512];
    return lk_result_describe(result, buf, sizeof(buf));
}

static void lk_result_describe__small_buffer_truncates_with_nul(void **state)
{
    (void) state;
    struct lk_result r = {.outcome = LK_OUTCOME_EXIT, .exit_status = 123};
    char buf[8];
    memset(buf, 'z', sizeof(buf));
    assert_ptr_equal(lk_result_describe(&r, buf, sizeof(buf)), buf);
    assert_string_equal(buf, "exit st");

    char one[1] = {'z'};
    lk_result_describe(&r, one, sizeof(one));
    assert_int_equal(one[0], '\0');
}

static void lk_result_describe__zero_size_writes_nothing(void **state)
{
    (void) state;
    struct lk_result r = {.outcome = LK_OUTCOME_SUCCESS};
    char buf[4] = "abc";
    assert_ptr_equal(lk_result_describe(&r, buf, 0), buf);
    assert_string_equal(buf, "abc");
    assert_null(lk_result_describe(&r, NULL, 0));
}

static void lk_result_describe__unknown_outcome(void **state)
{
    (void) state;
    struct lk_result r = {.outcome = LK_OUTCOME_COUNT};
    assert_string_equal(describe(&r), "unknown outcome 7");
}

static void lk_result_describe__exec_errno_table(void **state)
{
    (void) state;
    struct lk_result r = {.outcome = LK_OUTCOME_EXEC_FAILED};
    r.exec_errno = ENOENT;
    assert_string_equal(describe(&r), "could not execute: script not found");
    r.exec_errno = EACCES;
    assert_string_equal(describe(&r), "could not execute: permission denied");
    r.exec_errno = ENOEXEC;
    assert_string_equal(describe(&r), "could not execute: not a script or ELF binary");
    r.exec_errno = EISDIR;
    assert_string_equal(describe(&r), "could not execute: script is a directory");
    r.exec_errno = ETXTBSY;
    assert_string_equal(describe(&r),
                        "could not execute: script is being written (text file busy)");
}

static void lk_result_describe__exec_other_errno_uses_lowercase_strerror(void **state)
{
    (void) state;
    struct lk_result r = {.outcome = LK_OUTCOME_EXEC_FAILED, .exec_errno = EIO};
    assert_string_equal(describe(&r), "could not execute: input/output error");
}

static void lk_result_describe__exec_without_errno(void **state)
{
    (void) state;
    struct lk_result r = {.outcome = LK_OUTCOME_EXEC_FAILED};
    assert_string_equal(describe(&r), "could not execute");
}

static void lk_result_describe__exec_message_wins_over_errno(void **state)
{
    (void) state;
    struct lk_result r = {.outcome = LK_OUTCOME_EXEC_FAILED, .exec_errno = ENOENT};
    strcpy(r.message, "interpreter '/usr/bin/python9' not found");
    assert_string_equal(describe(&r),
                        "could not execute: interpreter '/usr/bin/python9' not found");
}

static void lk_result_describe__message_not_nul_terminated_is_bounded(void **state)
{
    (void) state;
    struct lk_result r = {.outcome = LK_OUTCOME_REFUSED};
    memset(r.message, 'm', sizeof(r.message));
    char buf[1024];
    lk_result_describe(&r, buf, sizeof(buf));
    assert_int_equal(strlen(buf), strlen("refused to run: ") + sizeof(r.message));
}

static void lk_result_describe__success(void **state)
{
    (void) state;
    struct lk_result r = {.outcome = LK_OUTCOME_SUCCESS};
    assert_string_equal(describe(&r), "exit status 0");
}

static void lk_result_describe__exit(void **state)
{
    (void) state;
    struct lk_result r = {.outcome = LK_OUTCOME_EXIT, .exit_status = 1};
    assert_string_equal(describe(&r), "exit status 1");
    r.exit_status = 255;
    assert_string_equal(describe(&r), "exit status 255");
}

static void lk_result_describe__signal(void **state)
{
    (void) state;
    struct lk_result r = {.outcome = LK_OUTCOME_SIGNAL, .term_signal = SIGKILL};
    assert_string_equal(describe(&r), "killed by signal 9 (SIGKILL)");
    r.term_signal = SIGSEGV;
    assert_string_equal(describe(&r), "killed by signal 11 (SIGSEGV)");
    r.term_signal = SIGTERM;
    assert_string_equal(describe(&r), "killed by signal 15 (SIGTERM)");
}

static void lk_result_describe__signal_without_name(void **state)
{
    (void) state;
    struct lk_result r = {.outcome = LK_OUTCOME_SIGNAL, .term_signal = 200};
    assert_string_equal(describe(&r), "killed by signal 200");
}

static void lk_result_describe__timeout_whole_seconds(void **state)
{
    (void) state;
    struct lk_result r = {.outcome = LK_OUTCOME_TIMEOUT, .timeout_usec = 5000000};
    assert_string_equal(describe(&r), "timed out after 5 s");
    r.timeout_usec = 300000000;
    assert_string_equal(describe(&r), "timed out after 300 s");
}

static void lk_result_describe__timeout_fractional(void **state)
{
    (void) state;
    struct lk_result r = {.outcome = LK_OUTCOME_TIMEOUT, .timeout_usec = 500000};
    assert_string_equal(describe(&r), "timed out after 0.5 s");
    r.timeout_usec = 1250000;
    assert_string_equal(describe(&r), "timed out after 1.25 s");
    r.timeout_usec = 100000;
    assert_string_equal(describe(&r), "timed out after 0.1 s");
    r.timeout_usec = 1;
    assert_string_equal(describe(&r), "timed out after 0.000001 s");
    r.timeout_usec = 2000010;
    assert_string_equal(describe(&r), "timed out after 2.00001 s");
}

static void lk_result_describe__refused(void **state)
{
    (void) state;
    struct lk_result r = {.outcome = LK_OUTCOME_REFUSED};
    assert_string_equal(describe(&r), "refused to run");
    strcpy(r.message, "script '/x/y' is writable by group or others");
    assert_string_equal(describe(&r),
                        "refused to run: script '/x/y' is writable by group or others");
}

static void lk_result_describe__aborted(void **state)
{
    (void) state;
    struct lk_result r = {.outcome = LK_OUTCOME_ABORTED, .term_signal = SIGTERM};
    assert_string_equal(describe(&r), "aborted");
}

static void lk_result_ok__null_is_not_ok(void **state)
{
    (void) state;
    assert_false(lk_result_ok(NULL));
}

static void lk_result_ok__only_success(void **state)
{
    (void) state;
    struct lk_result r = {.outcome = LK_OUTCOME_SUCCESS};
    assert_true(lk_result_ok(&r));
    for (int o = LK_OUTCOME_EXIT; o < LK_OUTCOME_COUNT; o++) {
        r.outcome = (enum lk_outcome) o;
        assert_false(lk_result_ok(&r));
    }
    /* A timeout whose script then exited 0 is still not a success. */
    r.outcome = LK_OUTCOME_TIMEOUT;
    r.exit_status = 0;
    assert_false(lk_result_ok(&r));
}

static void lk_result_ok__inconsistent_success_is_not_ok(void **state)
{
    (void) state;
    struct lk_result r = {.outcome = LK_OUTCOME_SUCCESS, .exit_status = 1};
    assert_false(lk_result_ok(&r));
    r.exit_status = 0;
    r.term_signal = SIGKILL;
    assert_false(lk_result_ok(&r));
}

static void lk_result_verdict__by_outcome_resolves(void **state)
{
    (void) state;
    struct lk_result r = {.outcome = LK_OUTCOME_SUCCESS};
    assert_int_equal(lk_result_verdict(&r), LK_VERDICT_OK);
    for (int o = LK_OUTCOME_EXIT; o < LK_OUTCOME_COUNT; o++) {
        r.outcome = (enum lk_outcome) o;
        assert_int_equal(lk_result_verdict(&r), LK_VERDICT_FAILED);
    }
    r.outcome = LK_OUTCOME_SUCCESS;
    r.exit_status = 1;
    assert_int_equal(lk_result_verdict(&r), LK_VERDICT_FAILED);
    assert_int_equal(lk_result_verdict(NULL), LK_VERDICT_FAILED);
}

static void lk_result_verdict__classified_wins(void **state)
{
    (void) state;
    /* An exit status the type classified means what the type says, not what 0/non-0 says. */
    struct lk_result r = {.outcome = LK_OUTCOME_EXIT, .exit_status = 7};
    for (int v = LK_VERDICT_OK; v < LK_VERDICT_COUNT; v++) {
        r.verdict = (enum lk_verdict) v;
        assert_int_equal(lk_result_verdict(&r), v);
    }
    r.verdict = LK_VERDICT_COUNT;
    assert_int_equal(lk_result_verdict(&r), LK_VERDICT_FAILED);
}

static void lk_result_ok__ok_and_degraded_only(void **state)
{
    (void) state;
    struct lk_result r = {.outcome = LK_OUTCOME_EXIT, .exit_status = 190};
    for (int v = LK_VERDICT_OK; v < LK_VERDICT_COUNT; v++) {
        r.verdict = (enum lk_verdict) v;
        bool want = v == LK_VERDICT_OK || v == LK_VERDICT_DEGRADED;
        assert_true(lk_result_ok(&r) == want);
    }
    /* A run that exited 0 but was classified as failed is a failure. */
    struct lk_result zero = {.outcome = LK_OUTCOME_SUCCESS, .verdict = LK_VERDICT_HARD};
    assert_false(lk_result_ok(&zero));
}

static void lk_verdict_name__all(void **state)
{
    (void) state;
    assert_string_equal(lk_verdict_name(LK_VERDICT_BY_OUTCOME), "by-outcome");
    assert_string_equal(lk_verdict_name(LK_VERDICT_OK), "ok");
    assert_string_equal(lk_verdict_name(LK_VERDICT_FAILED), "failed");
    assert_string_equal(lk_verdict_name(LK_VERDICT_NOT_RUNNING), "not-running");
    assert_string_equal(lk_verdict_name(LK_VERDICT_HARD), "hard");
    assert_string_equal(lk_verdict_name(LK_VERDICT_NOT_INSTALLED), "not-installed");
    assert_string_equal(lk_verdict_name(LK_VERDICT_NOT_CONFIGURED), "not-configured");
    assert_string_equal(lk_verdict_name(LK_VERDICT_DEGRADED), "degraded");
    assert_string_equal(lk_verdict_name(LK_VERDICT_PENDING), "pending");
    assert_string_equal(lk_verdict_name(LK_VERDICT_COUNT), "unknown");
}

static void lk_result_describe__appends_exit_reason(void **state)
{
    (void) state;
    struct lk_result r = {.outcome = LK_OUTCOME_EXIT, .exit_status = 6};
    snprintf(r.exit_reason, sizeof(r.exit_reason), "ip address missing");
    assert_string_equal(describe(&r), "exit status 6: ip address missing");
    r.outcome = LK_OUTCOME_TIMEOUT;
    r.timeout_usec = 5000000;
    assert_string_equal(describe(&r), "timed out after 5 s: ip address missing");
    /* Bounded even when the reason fills its field without a NUL. */
    memset(r.exit_reason, 'x', sizeof(r.exit_reason));
    r.outcome = LK_OUTCOME_EXIT;
    char buf[1024];
    lk_result_describe(&r, buf, sizeof(buf));
    assert_int_equal(strlen(buf), strlen("exit status 6: ") + sizeof(r.exit_reason));
}

static void lk_outcome_name__out_of_range(void **state)
{
    (void) state;
    assert_string_equal(lk_outcome_name(LK_OUTCOME_COUNT), "unknown");
    assert_string_equal(lk_outcome_name((enum lk_outcome) - 1), "unknown");
}

static void lk_outcome_name__all(void **state)
{
    (void) state;
    assert_string_equal(lk_outcome_name(LK_OUTCOME_SUCCESS), "success");
    assert_string_equal(lk_outcome_name(LK_OUTCOME_EXIT), "exit");
    assert_string_equal(lk_outcome_name(LK_OUTCOME_SIGNAL), "signal");
    assert_string_equal(lk_outcome_name(LK_OUTCOME_EXEC_FAILED), "exec-failed");
    assert_string_equal(lk_outcome_name(LK_OUTCOME_TIMEOUT), "timeout");
    assert_string_equal(lk_outcome_name(LK_OUTCOME_REFUSED), "refused");
    assert_string_equal(lk_outcome_name(LK_OUTCOME_ABORTED), "aborted");
    for (int o = 0; o < LK_OUTCOME_COUNT; o++) {
        const char *name = lk_outcome_name((enum lk_outcome) o);
        assert_non_null(name);
        assert_null(strchr(name, ' '));
        for (int p = 0; p < o; p++) {
            assert_string_not_equal(name, lk_outcome_name((enum lk_outcome) p));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_result_describe__small_buffer_truncates_with_nul),
            cmocka_unit_test(lk_result_describe__zero_size_writes_nothing),
            cmocka_unit_test(lk_result_describe__unknown_outcome),
            cmocka_unit_test(lk_result_describe__exec_errno_table),
            cmocka_unit_test(lk_result_describe__exec_other_errno_uses_lowercase_strerror),
            cmocka_unit_test(lk_result_describe__exec_without_errno),
            cmocka_unit_test(lk_result_describe__exec_message_wins_over_errno),
            cmocka_unit_test(lk_result_describe__message_not_nul_terminated_is_bounded),
            cmocka_unit_test(lk_result_describe__success),
            cmocka_unit_test(lk_result_describe__exit),
            cmocka_unit_test(lk_result_describe__signal),
            cmocka_unit_test(lk_result_describe__signal_without_name),
            cmocka_unit_test(lk_result_describe__timeout_whole_seconds),
            cmocka_unit_test(lk_result_describe__timeout_fractional),
            cmocka_unit_test(lk_result_describe__refused),
            cmocka_unit_test(lk_result_describe__aborted),
            cmocka_unit_test(lk_result_ok__null_is_not_ok),
            cmocka_unit_test(lk_result_ok__only_success),
            cmocka_unit_test(lk_result_ok__inconsistent_success_is_not_ok),
            cmocka_unit_test(lk_result_verdict__by_outcome_resolves),
            cmocka_unit_test(lk_result_verdict__classified_wins),
            cmocka_unit_test(lk_result_ok__ok_and_degraded_only),
            cmocka_unit_test(lk_verdict_name__all),
            cmocka_unit_test(lk_result_describe__appends_exit_reason),
            cmocka_unit_test(lk_outcome_name__out_of_range),
            cmocka_unit_test(lk_outcome_name__all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
