/* Unit tests for timeline.c: checking a peer's record (every field, its bounds, its
 * sender), ordering records of several nodes, and finding the last incident and its root
 * cause (check failures recovered in place, a failover, a node death and takeover, a
 * failed restore explained by its output or by the script's lk_err message). Pure. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "catalog.h"
#include "timeline.h"

static json_t *ev(long long t, const char *node, int number, const char *tag, const char *message,
                  const char *detail)
{
    static long long seq = 0;
    return json_pack("{s:I, s:I, s:s, s:s, s:i, s:s, s:s, s:s, s:s}", "seq", (json_int_t) ++seq,
                     "time_ms", (json_int_t) t, "node", node, "severity", "INFO", "number", number,
                     "tag", tag, "process", "lkd", "message", message, "detail",
                     detail ? detail : "");
}

static json_t *lk_err_ev(long long t, const char *node, const char *message)
{
    json_t *e = ev(t, node, 9301, "app1", message, NULL);
    json_object_set_new(e, "process", json_string("restore"));
    json_object_set_new(e, "severity", json_string("ERROR"));
    return e;
}

static int numbers_from(const json_t *events, size_t start, int *out, size_t max)
{
    size_t n = 0;
    for (size_t i = start; i < json_array_size(events) && n < max; i++) {
        out[n++] = (int) json_integer_value(json_object_get(json_array_get(events, i), "number"));
    }
    return (int) n;
}

/* lk_timeline_check_event: bad records first. */

static void lk_timeline_check_event__rejects_bad_records(void **state)
{
    (void) state;
    char err[256];
    json_t *good = ev(1000, "node2", 1202, "app1", "restore action failed", "line 1\nline 2");
    assert_int_equal(lk_timeline_check_event(good, "node2", err, sizeof(err)), 0);
    assert_int_equal(lk_timeline_check_event(good, "node1", err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "another node"));

    struct {
        const char *key;
        json_t *value;
    } bad[] = {
            {"seq", json_integer(-1)},
            {"seq", json_string("1")},
            {"time_ms", json_integer(-1)},
            {"time_ms", json_integer(LK_TIMELINE_TIME_MAX + 1)},
            {"time_ms", json_real(1.5)},
            {"number", json_integer(1000000000)},
            {"severity", json_string("DEBUG")},
            {"severity", json_string("err")},
            {"tag", json_string("no such/tag")},
            {"tag", json_integer(1)},
            {"process",
             json_string("ppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp")},
            {"message", json_string("a\nb")},
            {"message", json_string("\x1b[2J")},
            {"detail", json_string("tab\there")},
            {"node", json_null()},
            {"extra", json_true()},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *e = json_deep_copy(good);
        json_object_set_new(e, bad[i].key, bad[i].value);
        if (lk_timeline_check_event(e, "node2", err, sizeof(err)) != -EINVAL) {
            fail_msg("record with bad %s accepted", bad[i].key);
        }
        json_decref(e);
    }
    json_t *missing = json_deep_copy(good);
    json_object_del(missing, "message");
    assert_int_equal(lk_timeline_check_event(missing, "node2", err, sizeof(err)), -EINVAL);
    json_decref(missing);
    assert_int_equal(lk_timeline_check_event(json_array_get(NULL, 0), "node2", err, sizeof(err)),
                     -EINVAL);

    char big[LK_TIMELINE_DETAIL_MAX + 2];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    json_t *e = json_deep_copy(good);
    json_object_set_new(e, "detail", json_string(big));
    assert_int_equal(lk_timeline_check_event(e, "node2", err, sizeof(err)), -EINVAL);
    big[sizeof(big) - 2] = '\0'; /* exactly the bound */
    json_object_set_new(e, "detail", json_string(big));
    assert_int_equal(lk_timeline_check_event(e, "node2", err, sizeof(err)), 0);
    json_object_set_new(e, "tag", json_string(""));
    assert_int_equal(lk_timeline_check_event(e, "node2", err, sizeof(err)), 0);
    json_decref(e);
    json_decref(good);
}

static void lk_timeline_clean_event__makes_script_output_acceptable(void **state)
{
    (void) state;
    char err[256];
    json_t *e = ev(1, "node2", 1202, "app1", "bell\a here", "col\tumn\r\nnext \x1b[1m\n");
    json_object_set_new(e, "process", json_string("p\x7f"));
    assert_int_equal(lk_timeline_check_event(e, "node2", err, sizeof(err)), -EINVAL);
    lk_timeline_clean_event(e);
    assert_int_equal(lk_timeline_check_event(e, "node2", err, sizeof(err)), 0);
    assert_string_equal(json_string_value(json_object_get(e, "message")), "bell? here");
    assert_string_equal(json_string_value(json_object_get(e, "detail")), "col?umn?\nnext ?[1m\n");
    assert_string_equal(json_string_value(json_object_get(e, "process")), "p?");
    json_decref(e);
}

/* lk_timeline_sort */

static void lk_timeline_sort__by_time_then_node_then_seq(void **state)
{
    (void) state;
    json_t *events = json_array();
    json_array_append_new(events, ev(30, "node1", 3, "", "c", NULL));
    json_array_append_new(events, ev(10, "node2", 1, "", "a", NULL));
    json_array_append_new(events, ev(20, "node2", 2, "", "b2", NULL));
    json_array_append_new(events, ev(20, "node1", 2, "", "b1", NULL));
    json_array_append_new(events, ev(20, "node1", 2, "", "b1 later", NULL));
    lk_timeline_sort(events);
    const char *want[] = {"a", "b1", "b1 later", "b2", "c"};
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(
                json_string_value(json_object_get(json_array_get(events, i), "message")), want[i]);
    }
    json_decref(events);
}

/* lk_timeline_incident and lk_timeline_root_cause */

static void lk_timeline_incident__none_without_a_failure(void **state)
{
    (void) state;
    json_t *events = json_array();
    assert_int_equal(lk_timeline_incident(events), 0);
    assert_null(lk_timeline_root_cause(events, 0));
    json_array_append_new(events, ev(1, "node1", LK_MSG_RESTORE_STARTED, "app1", "r", NULL));
    json_array_append_new(events, ev(2, "node1", LK_MSG_RESTORE_OK, "app1", "ok", NULL));
    assert_int_equal(lk_timeline_incident(events), 2);
    assert_null(lk_timeline_root_cause(events, 2));
    json_decref(events);
}

static void lk_timeline_incident__last_check_failure_chain(void **state)
{
    (void) state;
    json_t *events = json_array();
    json_array_append_new(events, ev(1, "n1", LK_MSG_RESTORE_OK, "wy", "ok", NULL));
    json_array_append_new(
            events, ev(2, "n1", LK_MSG_CHECK_FAILED, "wy", "quickchk failed: x", "disk full"));
    json_array_append_new(events, ev(3, "n1", LK_MSG_RECOVER_STARTED, "wy", "rec", NULL));
    json_array_append_new(events, ev(4, "n1", LK_MSG_RECOVERED, "wy", "recovered", NULL));
    json_array_append_new(events, ev(5, "n1", LK_MSG_CHECK_FAILED, "wy",
                                     "quickchk failed: exit status 1 (1 of 2 in a row)", NULL));
    json_array_append_new(events, ev(6, "n1", LK_MSG_CHECK_FAILED, "wy",
                                     "quickchk failed: exit status 1 (2 of 2 in a row)",
                                     "wy does not run\n"));
    json_array_append_new(events, ev(7, "n1", LK_MSG_RECOVER_STARTED, "wy", "rec", NULL));
    json_array_append_new(
            events, ev(8, "n1", LK_MSG_RECOVER_FAILED, "wy", "recover failed", "cannot repair"));
    json_array_append_new(events, ev(9, "n1", LK_MSG_RESOURCE_FAILED, "wy", "OSF", NULL));
    size_t start = lk_timeline_incident(events);
    int got[16];
    int n = numbers_from(events, start, got, 16);
    int want[] = {1500, 1500, 1501, 1503, 1505};
    assert_int_equal(n, 5);
    assert_memory_equal(got, want, sizeof(want));
    json_t *root = lk_timeline_root_cause(events, start);
    assert_non_null(root);
    assert_int_equal(json_integer_value(json_object_get(root, "number")), 1500);
    assert_string_equal(json_string_value(json_object_get(root, "cause")), "");
    json_decref(root);

    /* The first incident alone: from its check failure to the recovery. */
    json_t *first = json_array();
    for (size_t i = 0; i < 4; i++) {
        json_array_append(first, json_array_get(events, i));
    }
    assert_int_equal(lk_timeline_incident(first), 1);
    root = lk_timeline_root_cause(first, 1);
    assert_string_equal(json_string_value(json_object_get(root, "line")),
                        "n1: wy: quickchk failed: x: disk full");
    json_decref(root);
    json_decref(first);
    json_decref(events);
}

static void lk_timeline_incident__failover_across_nodes(void **state)
{
    (void) state;
    json_t *events = json_array();
    /* node2 was healthy long ago (a probe); node1 held the hierarchy and failed. */
    json_array_append_new(events, ev(1, "node2", LK_MSG_PROBE_OK, "app1", "probe", NULL));
    json_array_append_new(events, ev(2, "node1", LK_MSG_RESTORE_OK, "app1", "ok", NULL));
    json_array_append_new(
            events, ev(10, "node1", LK_MSG_CHECK_FAILED, "app1", "quickchk failed", "app1 hangs"));
    json_array_append_new(events, ev(11, "node1", LK_MSG_FAILING_OVER, "app1", "fails over", NULL));
    json_array_append_new(events, ev(12, "node2", LK_MSG_RESTORE_OK, "app1", "ok", NULL));
    json_array_append_new(events, ev(13, "node1", LK_MSG_FAILOVER, "app1", "failover", NULL));
    size_t start = lk_timeline_incident(events);
    assert_int_equal(start, 2); /* node2's restore in between does not end node1's incident */
    json_t *root = lk_timeline_root_cause(events, start);
    assert_string_equal(json_string_value(json_object_get(root, "line")),
                        "node1: app1: quickchk failed: app1 hangs");
    json_decref(root);
    json_decref(events);
}

static void lk_timeline_incident__node_death_and_takeover(void **state)
{
    (void) state;
    json_t *events = json_array();
    json_array_append_new(events, ev(1, "node1", LK_MSG_RESTORE_OK, "app1", "ok", NULL));
    json_array_append_new(events, ev(5, "node1", LK_MSG_CHECK_FAILED, "app1", "old", NULL));
    json_array_append_new(events, ev(6, "node1", LK_MSG_RECOVERED, "app1", "recovered", NULL));
    json_array_append_new(events,
                          ev(20, "node2", LK_MSG_NODE_DEAD, "", "node node1 is DEAD: gone", NULL));
    json_array_append_new(events, ev(21, "node2", LK_MSG_TAKEOVER, "app1", "taking over", NULL));
    json_array_append_new(events, ev(22, "node2", LK_MSG_RESTORE_OK, "app1", "ok", NULL));
    size_t start = lk_timeline_incident(events);
    assert_int_equal(start, 3);
    json_t *root = lk_timeline_root_cause(events, start);
    assert_string_equal(json_string_value(json_object_get(root, "line")),
                        "node2: node node1 is DEAD: gone");
    json_decref(root);

    /* A backup node found dead, and nothing followed for the hierarchy: no incident
     * (the last one is still the old check failure); a lost quorum is one. */
    json_t *backup = json_array();
    for (size_t i = 0; i < 4; i++) {
        json_array_append(backup, json_array_get(events, i));
    }
    assert_int_equal(lk_timeline_incident(backup), 1);
    json_array_append_new(backup, ev(30, "node2", LK_MSG_QUORUM_LOST, "", "quorum lost", NULL));
    assert_int_equal(lk_timeline_incident(backup), 3);
    root = lk_timeline_root_cause(backup, 3);
    assert_int_equal(json_integer_value(json_object_get(root, "number")), LK_MSG_NODE_DEAD);
    json_decref(backup);
    assert_string_equal(json_string_value(json_object_get(root, "tag")), "");
    json_decref(root);
    json_decref(events);
}

static void lk_timeline_root_cause__lk_err_message_before_output(void **state)
{
    (void) state;
    json_t *events = json_array();
    json_array_append_new(events, ev(1, "node1", LK_MSG_SWITCHOVER, "app1", "switch", NULL));
    json_array_append_new(events, ev(2, "node2", LK_MSG_RESTORE_STARTED, "app1", "r", NULL));
    json_array_append_new(events, ev(3, "node1", LK_MSG_REMOVE_OK, "app1", "removed", NULL));
    json_array_append_new(events, lk_err_ev(4, "node2", "cannot bind 10.9.9.9"));
    json_array_append_new(events,
                          ev(5, "node2", LK_MSG_RESTORE_FAILED, "app1",
                             "restore action failed: exit status 1", "trying\ngiving up\n\n"));
    size_t start = lk_timeline_incident(events);
    assert_int_equal(start, 3); /* the script's message belongs to the incident */
    json_t *root = lk_timeline_root_cause(events, start);
    assert_string_equal(json_string_value(json_object_get(root, "cause")), "cannot bind 10.9.9.9");
    assert_string_equal(json_string_value(json_object_get(root, "line")),
                        "node2: app1: restore action failed: exit status 1: cannot bind 10.9.9.9");
    json_decref(root);

    /* Another resource's message, or an INFO one, does not explain it. */
    json_t *other = lk_err_ev(4, "node2", "db is slow");
    json_object_set_new(other, "tag", json_string("db"));
    json_array_set_new(events, 3, other);
    root = lk_timeline_root_cause(events, lk_timeline_incident(events));
    assert_string_equal(json_string_value(json_object_get(root, "cause")), "giving up");
    json_decref(root);
    json_t *info = lk_err_ev(4, "node2", "starting");
    json_object_set_new(info, "severity", json_string("INFO"));
    json_array_set_new(events, 3, info);
    root = lk_timeline_root_cause(events, lk_timeline_incident(events));
    assert_string_equal(json_string_value(json_object_get(root, "cause")), "giving up");
    json_decref(root);

    /* Without it: the last line of the output. */
    json_array_remove(events, 3);
    start = lk_timeline_incident(events);
    assert_int_equal(start, 3);
    root = lk_timeline_root_cause(events, start);
    assert_string_equal(json_string_value(json_object_get(root, "cause")), "giving up");
    json_decref(root);
    json_decref(events);
}

/* lk_timeline_mentions */

static void lk_timeline_is_failure__the_types_verdicts(void **state)
{
    (void) state;
    /* Not installed, not configured and a hard error open an incident (why names them); a
     * degraded resource, a clean stop at start-up and an operator's reset do not. */
    assert_true(lk_timeline_is_failure(LK_MSG_NOT_INSTALLED));
    assert_true(lk_timeline_is_failure(LK_MSG_NOT_CONFIGURED));
    assert_true(lk_timeline_is_failure(LK_MSG_HARD_ERROR));
    assert_false(lk_timeline_is_failure(LK_MSG_DEGRADED));
    assert_false(lk_timeline_is_failure(LK_MSG_STOPPED_AT_PROBE));
    assert_false(lk_timeline_is_failure(LK_MSG_UNABLE_CLEARED));
    assert_false(lk_timeline_is_failure(LK_MSG_UNABLE_SKIPPED));
}

static void lk_timeline_mentions__whole_words_only(void **state)
{
    (void) state;
    assert_true(lk_timeline_mentions("node node1 is DEAD: x", "node1"));
    assert_true(lk_timeline_mentions("fencing node node1 failed", "node1"));
    assert_true(lk_timeline_mentions("node1", "node1"));
    assert_false(lk_timeline_mentions("node node12 is DEAD", "node1"));
    assert_false(lk_timeline_mentions("node anode1 is DEAD", "node1"));
    assert_false(lk_timeline_mentions("anything", ""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_timeline_check_event__rejects_bad_records),
            cmocka_unit_test(lk_timeline_is_failure__the_types_verdicts),
            cmocka_unit_test(lk_timeline_clean_event__makes_script_output_acceptable),
            cmocka_unit_test(lk_timeline_sort__by_time_then_node_then_seq),
            cmocka_unit_test(lk_timeline_incident__none_without_a_failure),
            cmocka_unit_test(lk_timeline_incident__last_check_failure_chain),
            cmocka_unit_test(lk_timeline_incident__failover_across_nodes),
            cmocka_unit_test(lk_timeline_incident__node_death_and_takeover),
            cmocka_unit_test(lk_timeline_root_cause__lk_err_message_before_output),
            cmocka_unit_test(lk_timeline_mentions__whole_words_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
