/* Unit tests for catalog.c: the table's shape (unique, sorted numbers; every entry named
 * and formatted), the seed system's 1517 text byte for byte, lk_catalog_format's return
 * values, and the severity names with lk_err's aliases. Pure: no loop, no files. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "catalog.h"

/* LifeKeeper's text as SPEC §3 quotes it, lkd's pid 2100, the check's 2200. */
#define TEXT_1517                                                                                  \
    "Process: lkd(2100) *WARNING* (No. 1517) System Failure Detected! quick Check process "        \
    "(PID=2200) did not return in 180 seconds for resource app1 Aborting check process. "          \
    "(Partner PID=0)"

/* lk_catalog_find and lk_catalog_format: unknown numbers first. */

static void lk_catalog_find__unknown_is_null(void **state)
{
    (void) state;
    assert_null(lk_catalog_find(0));
    assert_null(lk_catalog_find(-1));
    assert_null(lk_catalog_find(1517 + 1));
    assert_null(lk_catalog_find(9999));
}

static void lk_catalog_format__unknown_is_enoent(void **state)
{
    (void) state;
    char buf[64] = "untouched";
    assert_int_equal(lk_catalog_format(buf, sizeof(buf), 4242), -ENOENT);
    assert_string_equal(buf, "untouched");
}

static void lk_catalog_format__truncates(void **state)
{
    (void) state;
    char buf[16];
    int n = lk_catalog_format(buf, sizeof(buf), LK_MSG_CHECK_TIMEOUT, 2100, "quick", 2200, "180",
                              "app1");
    assert_int_equal(n, (int) sizeof(buf) - 1);
    assert_int_equal(strlen(buf), sizeof(buf) - 1);
    assert_memory_equal(buf, TEXT_1517, sizeof(buf) - 1);
}

static void lk_catalog_format__zero_size_writes_nothing(void **state)
{
    (void) state;
    char buf[4] = "abc";
    assert_int_equal(lk_catalog_format(buf, 0, LK_MSG_DAEMON_STOPPED), 0);
    assert_string_equal(buf, "abc");
    assert_int_equal(lk_catalog_format(NULL, 0, LK_MSG_DAEMON_STOPPED), 0);
}

static void lk_catalog_format__1517_exact_text(void **state)
{
    (void) state;
    char buf[512];
    int n = lk_catalog_format(buf, sizeof(buf), 1517, 2100, "quick", 2200, "180", "app1");
    assert_string_equal(buf, TEXT_1517);
    assert_int_equal(n, (int) strlen(TEXT_1517));
}

static void lk_catalog_format__numbers_and_strings(void **state)
{
    (void) state;
    char buf[256];
    lk_catalog_format(buf, sizeof(buf), LK_MSG_RESTORE_OK, 1234ULL);
    assert_string_equal(buf, "restore action has succeeded (1234 ms)");
    lk_catalog_format(buf, sizeof(buf), LK_MSG_DAEMON_STARTED, "node1", 42);
    assert_string_equal(buf, "lkd started on node node1 (pid 42)");
    lk_catalog_format(buf, sizeof(buf), LK_MSG_RESTORE_FAILED, "exit status 1");
    assert_string_equal(buf, "restore action failed: exit status 1");
}

static void lk_catalog_find__1517(void **state)
{
    (void) state;
    const struct lk_catalog_entry *e = lk_catalog_find(1517);
    assert_non_null(e);
    assert_int_equal(e->number, LK_MSG_CHECK_TIMEOUT);
    assert_int_equal(e->severity, LK_SEV_WARNING);
    assert_string_equal(e->name, "check-timeout");
}

static void lk_catalog_all__unique_sorted_complete(void **state)
{
    (void) state;
    size_t count = 0;
    const struct lk_catalog_entry *all = lk_catalog_all(&count);
    assert_non_null(all);
    assert_true(count > 0);
    for (size_t i = 0; i < count; i++) {
        const struct lk_catalog_entry *e = &all[i];
        if (i > 0 && all[i - 1].number >= e->number) {
            fail_msg("entry %d follows %d: numbers must be unique and ascending", e->number,
                     all[i - 1].number);
        }
        assert_non_null(e->name);
        assert_non_null(e->format);
        if (e->name[0] == '\0' || e->format[0] == '\0') {
            fail_msg("entry %d has an empty name or format", e->number);
        }
        assert_null(strchr(e->format, '\n'));
        assert_true(e->severity < LK_SEV_COUNT);
        assert_ptr_equal(lk_catalog_find(e->number), e);
        for (size_t j = 0; j < i; j++) {
            if (strcmp(all[j].name, e->name) == 0) {
                fail_msg("entries %d and %d share the name '%s'", all[j].number, e->number,
                         e->name);
            }
        }
    }
}

static void lk_catalog_all__has_every_enum_value(void **state)
{
    (void) state;
    static const int numbers[] = {
            LK_MSG_DAEMON_STARTED,
            LK_MSG_DAEMON_STOPPING,
            LK_MSG_DAEMON_STOPPED,
            LK_MSG_ACTION_INTERRUPTED,
            LK_MSG_STORE_FAILED,
            LK_MSG_RESOURCE_CREATED,
            LK_MSG_RESOURCE_DELETED,
            LK_MSG_RESOURCE_CONFIGURED,
            LK_MSG_SCRIPT_UPDATED,
            LK_MSG_RESTORE_STARTED,
            LK_MSG_RESTORE_OK,
            LK_MSG_RESTORE_FAILED,
            LK_MSG_REMOVE_STARTED,
            LK_MSG_REMOVE_OK,
            LK_MSG_REMOVE_FAILED,
            LK_MSG_PROBE_OK,
            LK_MSG_PROBE_FAILED,
            LK_MSG_PROBE_IMPOSSIBLE,
            LK_MSG_SCRIPT_REFUSED,
            LK_MSG_CHECK_TIMEOUT,
            /* the cluster (#5) */
            LK_MSG_PATH_ALIVE,
            LK_MSG_PATH_DEAD,
            LK_MSG_NODE_ALIVE,
            LK_MSG_NODE_DEAD,
            LK_MSG_FRAME_DROPPED,
            LK_MSG_SETTINGS_MISMATCH,
            LK_MSG_DAEMON_RESUMED,
            LK_MSG_UNKNOWN_PEER,
            LK_MSG_QUORUM_GAINED,
            LK_MSG_QUORUM_LOST,
            LK_MSG_FAILOVER,
            LK_MSG_TAKEOVER,
            LK_MSG_FAILOVER_LIMIT,
            LK_MSG_NEWER_GENERATION,
            LK_MSG_NO_TARGET,
            LK_MSG_SWITCHOVER,
            LK_MSG_SWITCHBACK,
            LK_MSG_ORPHAN,
            LK_MSG_CLUSTER_REMOVED,
            LK_MSG_FAILING_OVER,
            LK_MSG_FENCE_STARTED,
            LK_MSG_FENCE_OK,
            LK_MSG_FENCE_FAILED,
            LK_MSG_SWITCH_REFUSED,
            LK_MSG_DATA_RECEIVED,
            LK_MSG_DATA_SYNCED,
            LK_MSG_DATA_REJECTED,
            LK_MSG_EXTENDED,
            LK_MSG_UNEXTENDED,
            LK_MSG_CLUSTER_CONFIGURED,
            LK_MSG_COMMPATH_CREATED,
            LK_MSG_COMMPATH_DELETED,
    };
    for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
        if (!lk_catalog_find(numbers[i])) {
            fail_msg("catalog.h names %d but the catalog has no entry", numbers[i]);
        }
    }
}

static void lk_catalog_format__switchover_refused(void **state)
{
    (void) state;
    char buf[128];
    int n = lk_catalog_format(buf, sizeof(buf), LK_MSG_SWITCH_REFUSED, "node2", "no quorum");
    assert_string_equal(buf, "switchover to node2 refused: no quorum");
    assert_int_equal(n, (int) strlen(buf));
    assert_int_equal(lk_catalog_find(1633)->severity, LK_SEV_WARNING);
}

/* Severity names. */

static void lk_severity_from_name__rejects(void **state)
{
    (void) state;
    enum lk_severity sev = LK_SEV_ERROR;
    assert_int_equal(lk_severity_from_name(NULL, &sev), -EINVAL);
    assert_int_equal(lk_severity_from_name("", &sev), -EINVAL);
    assert_int_equal(lk_severity_from_name("DEBUG", &sev), -EINVAL);
    assert_int_equal(lk_severity_from_name("WARNINGS", &sev), -EINVAL);
    assert_int_equal(lk_severity_from_name(" INFO", &sev), -EINVAL);
    assert_int_equal(sev, LK_SEV_ERROR);
}

static void lk_severity_name__out_of_range(void **state)
{
    (void) state;
    assert_string_equal(lk_severity_name(LK_SEV_COUNT), "INFO");
}

static void lk_severity_name__round_trip(void **state)
{
    (void) state;
    assert_string_equal(lk_severity_name(LK_SEV_INFO), "INFO");
    assert_string_equal(lk_severity_name(LK_SEV_WARNING), "WARNING");
    assert_string_equal(lk_severity_name(LK_SEV_ERROR), "ERROR");
    for (int s = 0; s < LK_SEV_COUNT; s++) {
        enum lk_severity back = LK_SEV_COUNT;
        assert_int_equal(lk_severity_from_name(lk_severity_name((enum lk_severity) s), &back), 0);
        assert_int_equal(back, s);
    }
    enum lk_severity sev = LK_SEV_INFO;
    assert_int_equal(lk_severity_from_name("warning", &sev), 0);
    assert_int_equal(sev, LK_SEV_WARNING);
}

static void lk_severity_from_name__lk_err_aliases(void **state)
{
    (void) state;
    static const struct {
        const char *name;
        enum lk_severity sev;
    } aliases[] = {
            {"ERR", LK_SEV_ERROR},    {"FRS_ERR", LK_SEV_ERROR},    {"FATAL", LK_SEV_ERROR},
            {"WARN", LK_SEV_WARNING}, {"FRS_WARN", LK_SEV_WARNING}, {"FRS_MES", LK_SEV_INFO},
            {"MSG", LK_SEV_INFO},     {"NOTICE", LK_SEV_INFO},      {"frs_err", LK_SEV_ERROR},
            {"Warn", LK_SEV_WARNING},
    };
    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
        enum lk_severity sev = LK_SEV_COUNT;
        if (lk_severity_from_name(aliases[i].name, &sev) != 0 || sev != aliases[i].sev) {
            fail_msg("alias '%s': expected %s, got %s", aliases[i].name,
                     lk_severity_name(aliases[i].sev), lk_severity_name(sev));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_catalog_find__unknown_is_null),
            cmocka_unit_test(lk_catalog_format__unknown_is_enoent),
            cmocka_unit_test(lk_catalog_format__truncates),
            cmocka_unit_test(lk_catalog_format__zero_size_writes_nothing),
            cmocka_unit_test(lk_catalog_format__1517_exact_text),
            cmocka_unit_test(lk_catalog_format__switchover_refused),
            cmocka_unit_test(lk_catalog_format__numbers_and_strings),
            cmocka_unit_test(lk_catalog_find__1517),
            cmocka_unit_test(lk_catalog_all__unique_sorted_complete),
            cmocka_unit_test(lk_catalog_all__has_every_enum_value),
            cmocka_unit_test(lk_severity_from_name__rejects),
            cmocka_unit_test(lk_severity_name__out_of_range),
            cmocka_unit_test(lk_severity_name__round_trip),
            cmocka_unit_test(lk_severity_from_name__lk_err_aliases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
