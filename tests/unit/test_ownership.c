/* Unit tests for ownership.c: the order in which records replace each other (the rule
 * that decides which side keeps a hierarchy after a partition heals), the JSON form and
 * its validation, the failover history and window, and the placement rule. Pure. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ownership.h"

static struct lk_owner_rec rec(uint64_t gen, uint64_t seq, const char *owner)
{
    struct lk_owner_rec r = {.gen = gen, .seq = seq, .active = true};
    strcpy(r.owner, owner);
    return r;
}

static void lk_owner_cmp__generation_then_sequence(void **state)
{
    (void) state;
    struct lk_owner_rec a = rec(3, 0, "node1"), b = rec(2, 9, "node1");
    assert_true(lk_owner_cmp(&a, 1, &b, 1) > 0);
    assert_true(lk_owner_cmp(&b, 1, &a, 1) < 0);
    b.gen = 3;
    assert_true(lk_owner_cmp(&b, 1, &a, 1) > 0); /* same gen: the later sequence */
    b.seq = 0;
    assert_int_equal(lk_owner_cmp(&a, 1, &b, 1), 0);
}

static void lk_owner_cmp__equal_generation_better_priority_wins(void **state)
{
    (void) state;
    /* Both sides of a partition took over with the same generation: the owner with the
     * better priority keeps it, whichever side compares. */
    struct lk_owner_rec a = rec(5, 0, "node1"), b = rec(5, 0, "node2");
    assert_true(lk_owner_cmp(&a, 1, &b, 10) > 0);
    assert_true(lk_owner_cmp(&b, 10, &a, 1) < 0);
    /* An unknown priority (0) is the worst. */
    assert_true(lk_owner_cmp(&a, 0, &b, 1024) < 0);
    /* Equal priorities (cannot happen for one resource, but records are input): the
     * smaller name, still antisymmetric. */
    assert_true(lk_owner_cmp(&a, 7, &b, 7) > 0);
    assert_true(lk_owner_cmp(&b, 7, &a, 7) < 0);
    /* Nobody (left out of service) against an owner at the same generation. */
    struct lk_owner_rec none = rec(5, 0, "");
    assert_true(lk_owner_cmp(&none, 0, &a, 1) < 0);
}

static void lk_owner_cmp__same_step_different_content_converges(void **state)
{
    (void) state;
    /* X3: the owner wrote seq 1 for an operator's remove while another node wrote seq 1
     * for a budget reset: both sides must keep the same one, the remove. */
    struct lk_owner_rec removed = rec(4, 1, "node2"), reset = rec(4, 1, "node2");
    removed.active = false;
    snprintf(removed.reason, sizeof(removed.reason), "removed by an operator on node2");
    snprintf(reset.reason, sizeof(reset.reason), "failover budget reset by an operator on node1");
    assert_true(lk_owner_cmp(&removed, 1, &reset, 1) > 0);
    assert_true(lk_owner_cmp(&reset, 1, &removed, 1) < 0);
    /* Only the reason differs: still a strict order, antisymmetric. */
    removed.active = true;
    int c = lk_owner_cmp(&removed, 1, &reset, 1);
    assert_true(c != 0);
    assert_int_equal(lk_owner_cmp(&reset, 1, &removed, 1), -c);
    /* More failovers counted wins over a budget reset of the same step. */
    struct lk_owner_rec counted = reset;
    lk_owner_note_failover(&counted, 1000);
    assert_true(lk_owner_cmp(&counted, 1, &reset, 1) > 0);
    /* Identical records are equal. */
    struct lk_owner_rec same = reset;
    assert_int_equal(lk_owner_cmp(&same, 1, &reset, 1), 0);
}

static void lk_owner_json__round_trip(void **state)
{
    (void) state;
    struct lk_owner_rec a = rec(12, 3, "node2");
    a.left = true;
    lk_owner_add_tried(&a, "node3");
    lk_owner_add_tried(&a, "node3"); /* once */
    lk_owner_note_failover(&a, 1000);
    lk_owner_note_failover(&a, 2000);
    strcpy(a.reason, "node node1 is dead");
    json_t *j = lk_owner_json(&a);
    struct lk_owner_rec b;
    assert_int_equal(lk_owner_parse(j, &b), 0);
    json_decref(j);
    assert_int_equal(b.gen, 12);
    assert_int_equal(b.seq, 3);
    assert_string_equal(b.owner, "node2");
    assert_true(b.active && b.left);
    assert_int_equal(b.tried_count, 1);
    assert_true(lk_owner_tried(&b, "node3"));
    assert_int_equal(b.failover_count, 2);
    assert_string_equal(b.reason, "node node1 is dead");
}

static void lk_owner_parse__refuses_bad_records(void **state)
{
    (void) state;
    const char *bad[] = {
            "[]",
            "{}",
            "{\"g\":1,\"s\":0,\"o\":\"n\",\"a\":true,\"l\":false,\"t\":[],\"f\":[]}",
            "{\"g\":-1,\"s\":0,\"o\":\"n\",\"a\":true,\"l\":false,\"t\":[],\"f\":[],\"r\":\"\"}",
            "{\"g\":1,\"s\":0,\"o\":\"bad "
            "name!\",\"a\":true,\"l\":false,\"t\":[],\"f\":[],\"r\":\"\"}",
            "{\"g\":1,\"s\":0,\"o\":\"n\",\"a\":1,\"l\":false,\"t\":[],\"f\":[],\"r\":\"\"}",
            "{\"g\":1,\"s\":0,\"o\":\"n\",\"a\":true,\"l\":false,\"t\":[3],\"f\":[],\"r\":\"\"}",
            "{\"g\":1,\"s\":0,\"o\":\"n\",\"a\":true,\"l\":false,\"t\":[\"\"],\"f\":[],\"r\":\"\"}",
            "{\"g\":1,\"s\":0,\"o\":\"n\",\"a\":true,\"l\":false,\"t\":[],\"f\":[5,4],\"r\":\"\"}",
            "{\"g\":1,\"s\":0,\"o\":\"n\",\"a\":true,\"l\":false,\"t\":[],\"f\":[-1],\"r\":\"\"}",
            "{\"g\":1,\"s\":0,\"o\":\"n\",\"a\":true,\"l\":false,\"t\":[],\"f\":[],\"r\":\"\","
            "\"x\":1}",
            "{\"g\":\"1\",\"s\":0,\"o\":\"n\",\"a\":true,\"l\":false,\"t\":[],\"f\":[],\"r\":\"\"}",
            "{\"g\":1,\"s\":0,\"o\":\"n\",\"a\":true,\"l\":false,\"k\":false,\"x\":false,"
            "\"t\":[],\"f\":[],\"r\":\"\",\"p\":1}",
            "{\"g\":1,\"s\":0,\"o\":\"n\",\"a\":true,\"l\":false,\"k\":false,\"x\":false,"
            "\"t\":[],\"f\":[],\"r\":\"\",\"sf\":\"n\"}",
            "{\"g\":1,\"s\":0,\"o\":\"n\",\"a\":true,\"l\":false,\"k\":false,\"x\":false,"
            "\"t\":[],\"f\":[],\"r\":\"\",\"sf\":[\"\"]}",
            "{\"g\":1,\"s\":0,\"o\":\"n\",\"a\":true,\"l\":false,\"k\":false,\"x\":false,"
            "\"t\":[],\"f\":[],\"r\":\"\",\"sf\":[\"bad name!\"]}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *j = json_loads(bad[i], 0, NULL);
        assert_non_null(j);
        struct lk_owner_rec r = rec(99, 0, "keep");
        assert_int_equal(lk_owner_parse(j, &r), -EINVAL);
        assert_int_equal(r.gen, 99); /* untouched */
        json_decref(j);
    }
}

static void lk_owner_failovers__window_and_history(void **state)
{
    (void) state;
    struct lk_owner_rec a = rec(1, 0, "n");
    for (int i = 0; i < LK_FAILOVERS_KEPT + 5; i++) {
        lk_owner_note_failover(&a, 1000 * (int64_t) i);
    }
    assert_int_equal(a.failover_count, LK_FAILOVERS_KEPT);
    assert_int_equal(a.failovers_ms[0], 5000); /* the oldest were dropped */
    int64_t now = 1000 * (LK_FAILOVERS_KEPT + 4);
    assert_int_equal(lk_owner_failovers_within(&a, now, 3500), 4); /* now-3000 .. now */
    assert_int_equal(lk_owner_failovers_within(&a, now, 1), 1);
    assert_int_equal(lk_owner_failovers_within(&a, now, 1000000), LK_FAILOVERS_KEPT);
}

static void lk_owner_json__planned_only_when_set(void **state)
{
    (void) state;
    struct lk_owner_rec a = rec(4, 0, "node2");
    json_t *j = lk_owner_json(&a);
    assert_null(json_object_get(j, "p")); /* older nodes read it as before */
    json_decref(j);
    a.planned = true;
    j = lk_owner_json(&a);
    assert_true(json_is_true(json_object_get(j, "p")));
    struct lk_owner_rec b;
    assert_int_equal(lk_owner_parse(j, &b), 0);
    assert_true(b.planned);
    json_object_set_new(j, "p", json_false());
    assert_int_equal(lk_owner_parse(j, &b), 0);
    assert_false(b.planned);
    json_decref(j);
}

/* "Remove failed on X" (issue 9 S1): sent as "sf" only when set, so a record without it
 * (an older node's, or the store's from before) reads as none; sorted, once per node; a
 * record with more marks wins over the same step without; a newer generation keeps the
 * marks of the record it replaces. */
static void lk_owner_stop_failed__marks(void **state)
{
    (void) state;
    struct lk_owner_rec a = rec(4, 0, "node2");
    json_t *j = lk_owner_json(&a);
    assert_null(json_object_get(j, "sf"));
    struct lk_owner_rec b;
    assert_int_equal(lk_owner_parse(j, &b), 0);
    assert_int_equal(b.stop_failed_count, 0);
    json_decref(j);
    assert_true(lk_owner_set_stop_failed(&a, "node3", true));
    assert_true(lk_owner_set_stop_failed(&a, "node1", true));
    assert_false(lk_owner_set_stop_failed(&a, "node3", true)); /* once */
    assert_int_equal(a.stop_failed_count, 2);
    assert_string_equal(a.stop_failed[0], "node1");
    assert_string_equal(a.stop_failed[1], "node3");
    j = lk_owner_json(&a);
    assert_int_equal(json_array_size(json_object_get(j, "sf")), 2);
    assert_int_equal(lk_owner_parse(j, &b), 0);
    json_decref(j);
    assert_true(lk_owner_stop_failed(&b, "node1") && lk_owner_stop_failed(&b, "node3"));
    assert_false(lk_owner_stop_failed(&b, "node2"));
    assert_int_equal(lk_owner_cmp(&a, 1, &b, 1), 0);
    /* The same step with a mark wins over the one without (a copy is not forgotten). */
    struct lk_owner_rec plain = rec(4, 0, "node2");
    assert_true(lk_owner_cmp(&a, 1, &plain, 1) > 0);
    /* The owner's next sequence clears it. */
    struct lk_owner_rec cleared = a;
    cleared.seq++;
    assert_true(lk_owner_set_stop_failed(&cleared, "node1", false));
    assert_false(lk_owner_set_stop_failed(&cleared, "node1", false));
    assert_true(lk_owner_cmp(&cleared, 1, &a, 1) > 0);
    struct lk_owner_rec same_gen = cleared;
    lk_owner_carry_stop_failed(&same_gen, &a);
    assert_false(lk_owner_stop_failed(&same_gen, "node1")); /* same generation: stays cleared */
    /* A takeover written by a node that had not heard of it keeps it. */
    struct lk_owner_rec next = rec(5, 0, "node3");
    lk_owner_carry_stop_failed(&next, &a);
    assert_true(lk_owner_stop_failed(&next, "node1") && lk_owner_stop_failed(&next, "node3"));
    assert_false(lk_owner_stop_failed(NULL, "node1"));
}

static void lk_owner_budget__reset_episode_and_words(void **state)
{
    (void) state;
    char buf[160];
    assert_int_equal(lk_owner_max_failovers(0, 1), 1);
    assert_int_equal(lk_owner_max_failovers(0, 2), 1);
    assert_int_equal(lk_owner_max_failovers(0, 4), 3);
    assert_int_equal(lk_owner_max_failovers(7, 2), 7);
    assert_string_equal(lk_owner_window_text(21600, buf, sizeof(buf)), "6 h");
    assert_string_equal(lk_owner_window_text(600, buf, sizeof(buf)), "10 min");
    assert_string_equal(lk_owner_window_text(90, buf, sizeof(buf)), "90 s");

    int64_t now = 100000000;
    struct lk_owner_rec a = rec(2, 0, "node2");
    assert_string_equal(lk_owner_budget_text(&a, 1, 21600, now, buf, sizeof(buf)),
                        "0 of 1 failovers used in the last 6 h");
    assert_string_equal(lk_owner_budget_text(NULL, 2, 600, now, buf, sizeof(buf)),
                        "0 of 2 failovers used in the last 10 min");
    lk_owner_note_failover(&a, now - 21600 * 1000); /* just out of the window */
    lk_owner_note_failover(&a, now - 60 * 1000);
    assert_string_equal(lk_owner_budget_text(&a, 2, 21600, now, buf, sizeof(buf)),
                        "1 of 2 failovers used in the last 6 h");
    assert_string_equal(lk_owner_budget_text(&a, 1, 21600, now, buf, sizeof(buf)),
                        "1 of 1 failovers used in the last 6 h: the next failure leaves it out "
                        "of service");

    /* The episode ends in service: tried and planned go, the history stays. */
    lk_owner_add_tried(&a, "node1");
    a.planned = true;
    assert_true(lk_owner_episode_over(&a));
    assert_int_equal(a.tried_count, 0);
    assert_false(a.planned);
    assert_int_equal(a.failover_count, 2);
    assert_false(lk_owner_episode_over(&a));

    /* An operator action: the history goes too. */
    lk_owner_add_tried(&a, "node1");
    assert_true(lk_owner_budget_reset(&a));
    assert_int_equal(a.tried_count, 0);
    assert_int_equal(a.failover_count, 0);
    assert_false(lk_owner_budget_reset(&a));
}

static void lk_placement_best__priority_alive_tried(void **state)
{
    (void) state;
    struct lk_candidate c[] = {
            {.name = "node1", .priority = 1, .alive = false},
            {.name = "node2", .priority = 10, .alive = true},
            {.name = "node3", .priority = 5, .alive = true},
            {.name = "node4", .priority = 0, .alive = true}, /* not extended */
            {.name = "node0", .priority = 5, .alive = true}, /* ties: the smaller name */
    };
    assert_string_equal(lk_placement_best(c, 5, NULL, NULL), "node0");
    assert_string_equal(lk_placement_best(c, 4, NULL, NULL), "node3");
    struct lk_owner_rec r = rec(1, 0, "node1");
    lk_owner_add_tried(&r, "node0");
    lk_owner_add_tried(&r, "node3");
    assert_string_equal(lk_placement_best(c, 5, &r, NULL), "node2");
    assert_null(lk_placement_best(c, 5, &r, "node2"));
    c[0].alive = true;
    assert_string_equal(lk_placement_best(c, 5, &r, NULL), "node1");
    assert_null(lk_placement_best(c, 0, NULL, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_owner_cmp__generation_then_sequence),
            cmocka_unit_test(lk_owner_cmp__equal_generation_better_priority_wins),
            cmocka_unit_test(lk_owner_cmp__same_step_different_content_converges),
            cmocka_unit_test(lk_owner_json__round_trip),
            cmocka_unit_test(lk_owner_parse__refuses_bad_records),
            cmocka_unit_test(lk_owner_failovers__window_and_history),
            cmocka_unit_test(lk_owner_json__planned_only_when_set),
            cmocka_unit_test(lk_owner_stop_failed__marks),
            cmocka_unit_test(lk_owner_budget__reset_episode_and_words),
            cmocka_unit_test(lk_placement_best__priority_alive_tried),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
