/* Unit tests for aggregate.c: which events may be folded (the rule and its exception
 * tables), the shape that tells sources apart, and the table: the first event passes,
 * repeats are counted, one summary per interval, the per-kind limit, eviction of the
 * oldest when full, flush. Pure: the clock is the test's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "aggregate.h"

struct got {
    size_t n;
    struct lk_aggregate_summary last;
    uint64_t total; /* every summary's count */
};

static void on_summary(const struct lk_aggregate_summary *s, void *userdata)
{
    struct got *g = userdata;
    g->n++;
    g->last = *s;
    g->total += s->count;
}

static bool offer(struct lk_aggregate *agg, uint64_t now, int number, const char *message,
                  struct got *g)
{
    return lk_aggregate_offer(agg, now, number, LK_SEV_WARNING, "", message, on_summary, g);
}

static void lk_aggregate_foldable__rule_and_exceptions(void **state)
{
    (void) state;
    /* never: a tag, a script, an error, a listed state change, outside the daemon range */
    assert_false(lk_aggregate_foldable(LK_MSG_FRAME_DROPPED, LK_SEV_WARNING, "app1", "lkd"));
    assert_false(lk_aggregate_foldable(LK_MSG_CHECK_FAILED, LK_SEV_WARNING, "app1", "lkd"));
    assert_false(lk_aggregate_foldable(1500, LK_SEV_WARNING, "", "quickchk"));
    assert_false(lk_aggregate_foldable(LK_MSG_NODE_DEAD, LK_SEV_ERROR, "", "lkd"));
    assert_false(lk_aggregate_foldable(LK_MSG_QUORUM_LOST, LK_SEV_ERROR, "", "lkd"));
    assert_false(lk_aggregate_foldable(LK_MSG_RESTORE_FAILED, LK_SEV_ERROR, "", "lkd"));
    assert_false(lk_aggregate_foldable(LK_MSG_NODE_ALIVE, LK_SEV_INFO, "", "lkd"));
    assert_false(lk_aggregate_foldable(LK_MSG_PATH_DEAD, LK_SEV_WARNING, "", "lkd"));
    assert_false(lk_aggregate_foldable(LK_MSG_DAEMON_RESUMED, LK_SEV_WARNING, "", "lkd"));
    assert_false(lk_aggregate_foldable(LK_MSG_FENCE_STARTED, LK_SEV_WARNING, NULL, "lkd"));
    assert_false(lk_aggregate_foldable(LK_MSG_DAEMON_STARTED, LK_SEV_INFO, "", "lkd"));
    assert_false(lk_aggregate_foldable(9301, LK_SEV_WARNING, "", "lkd"));
    /* folded: untagged warnings and infos a stranger or a peer repeats */
    assert_true(lk_aggregate_foldable(LK_MSG_FRAME_DROPPED, LK_SEV_WARNING, "", "lkd"));
    assert_true(lk_aggregate_foldable(LK_MSG_FRAME_DROPPED, LK_SEV_WARNING, NULL, NULL));
    assert_true(lk_aggregate_foldable(LK_MSG_UNKNOWN_PEER, LK_SEV_WARNING, "", "lkd"));
    assert_true(lk_aggregate_foldable(LK_MSG_SETTINGS_MISMATCH, LK_SEV_WARNING, "", "lkd"));
    assert_false(lk_aggregate_foldable(LK_MSG_DATA_REJECTED, LK_SEV_ERROR, "", "lkd"));
}

static void lk_aggregate_foldable__matches_the_catalog(void **state)
{
    (void) state;
    /* Every catalog row judged by its own severity: no ERROR folds, and the numbers `why`
     * reads as node-level events (cluster/incident.c) never do. */
    size_t n = 0;
    const struct lk_catalog_entry *all = lk_catalog_all(&n);
    size_t folded = 0;
    for (size_t i = 0; i < n; i++) {
        bool f = lk_aggregate_foldable(all[i].number, all[i].severity, "", "lkd");
        if (all[i].severity == LK_SEV_ERROR) {
            assert_false(f);
        }
        folded += f ? 1 : 0;
    }
    assert_true(folded > 0);
    static const int node_level[] = {
            LK_MSG_NODE_ALIVE,   LK_MSG_NODE_DEAD,      LK_MSG_FENCE_STARTED, LK_MSG_FENCE_OK,
            LK_MSG_FENCE_FAILED, LK_MSG_DAEMON_RESUMED, LK_MSG_QUORUM_GAINED, LK_MSG_QUORUM_LOST};
    for (size_t i = 0; i < sizeof(node_level) / sizeof(node_level[0]); i++) {
        const struct lk_catalog_entry *e = lk_catalog_find(node_level[i]);
        assert_non_null(e);
        assert_false(lk_aggregate_foldable(e->number, e->severity, "", "lkd"));
    }
}

static void lk_aggregate_shape__numbers_alone_not_names(void **state)
{
    (void) state;
    char a[LK_AGGREGATE_KEY_MAX], b[LK_AGGREGATE_KEY_MAX];
    lk_aggregate_shape("dropped a frame from 127.0.0.1: replayed frame (seq 42); closed", a,
                       sizeof(a));
    assert_string_equal(a, "dropped a frame from #.#.#.#: replayed frame (seq #); closed");
    lk_aggregate_shape("session 00ab12ff, 0x1f, 12ms", a, sizeof(a));
    assert_string_equal(a, "session #, #, #");
    lk_aggregate_shape("node node2 and node-3 and a_4", a, sizeof(a));
    lk_aggregate_shape("node node3 and node-3 and a_4", b, sizeof(b));
    assert_string_equal(a, "node node2 and node-3 and a_4");
    assert_string_not_equal(a, b);
    lk_aggregate_shape("0123456789", a, 4);
    assert_string_equal(a, "#");
    lk_aggregate_shape("abcdefgh", a, 4);
    assert_string_equal(a, "abc");
    lk_aggregate_shape(NULL, a, sizeof(a));
    assert_string_equal(a, "");
}

static void lk_aggregate_offer__first_passes_repeats_fold(void **state)
{
    (void) state;
    struct lk_aggregate *agg = lk_aggregate_new(10000);
    assert_non_null(agg);
    struct got g = {0};
    /* a burst goes out as it comes, then the repeats are counted */
    for (int i = 0; i < LK_AGGREGATE_BURST; i++) {
        assert_true(offer(agg, 1000, 1604, "from 127.0.0.1: malformed frame header", &g));
    }
    for (int i = 0; i < 374; i++) {
        assert_false(offer(agg, 1000 + (uint64_t) i, 1604, "from 127.0.0.1: malformed frame header",
                           &g));
    }
    /* another kind of drop, another source, another number: each passes once */
    assert_true(offer(agg, 1500, 1604, "from 127.0.0.1: frame with a bad HMAC", &g));
    for (int i = 0; i < LK_AGGREGATE_BURST; i++) {
        assert_true(offer(agg, 1500, 1604, "from ghost: replayed frame (seq 3)", &g));
    }
    assert_false(offer(agg, 1600, 1604, "from ghost: replayed frame (seq 9)", &g));
    assert_true(offer(agg, 1500, 1607, "from 127.0.0.1: malformed frame header", &g));
    assert_int_equal(lk_aggregate_size(agg), 4);
    assert_int_equal(lk_aggregate_next_due(agg), 11000);
    assert_int_equal(g.n, 0);

    /* nothing is over before its interval */
    assert_int_equal(lk_aggregate_expire(agg, 10999, on_summary, &g), 0);
    assert_int_equal(lk_aggregate_expire(agg, 11000, on_summary, &g), 1);
    assert_int_equal(g.last.number, 1604);
    assert_int_equal(g.last.count, 374);
    assert_int_equal(g.last.severity, LK_SEV_WARNING);
    assert_string_equal(g.last.message, "from 127.0.0.1: malformed frame header (repeated 374 "
                                        "times in the last 10 s)");
    /* ghost's one repeat: singular; the entries that folded nothing are forgotten */
    assert_int_equal(lk_aggregate_expire(agg, 11500, on_summary, &g), 1);
    assert_string_equal(g.last.message,
                        "from ghost: replayed frame (seq 9) (repeated 1 time in the last 10 s)");
    assert_int_equal(lk_aggregate_size(agg), 2); /* the two that summarised, restarted */
    /* a steady flood: one summary per interval, no new first event */
    assert_false(offer(agg, 12000, 1604, "from 127.0.0.1: malformed frame header", &g));
    assert_int_equal(lk_aggregate_expire(agg, 21000, on_summary, &g), 1);
    assert_int_equal(g.last.count, 1);
    /* quiet for an interval: forgotten, and the next burst passes again */
    assert_int_equal(lk_aggregate_expire(agg, 40000, on_summary, &g), 0);
    assert_int_equal(lk_aggregate_size(agg), 0);
    assert_int_equal(lk_aggregate_next_due(agg), UINT64_MAX);
    for (int i = 0; i < LK_AGGREGATE_BURST; i++) {
        assert_true(offer(agg, 40001, 1604, "from 127.0.0.1: malformed frame header", &g));
    }
    assert_false(offer(agg, 40001, 1604, "from 127.0.0.1: malformed frame header", &g));
    assert_null(lk_aggregate_free(agg));
    assert_null(lk_aggregate_free(NULL));
}

static void lk_aggregate_offer__sources_beyond_the_limit_fold_together(void **state)
{
    (void) state;
    struct lk_aggregate *agg = lk_aggregate_new(10000);
    assert_non_null(agg);
    struct got g = {0};
    char msg[64];
    size_t passed = 0;
    for (int i = 0; i < 100; i++) {
        snprintf(msg, sizeof(msg), "HELLO from 'name%d'", i);
        passed += offer(agg, 5, 1604, msg, &g) ? 1 : 0;
    }
    assert_int_equal(passed, LK_AGGREGATE_PER_KIND);
    assert_int_equal(lk_aggregate_size(agg), LK_AGGREGATE_PER_KIND + 1);
    /* another number still has its own places */
    assert_true(offer(agg, 5, 1605, "node x differs", &g));
    assert_int_equal(lk_aggregate_flush(agg, on_summary, &g), 1);
    assert_int_equal(g.last.count, 100 - LK_AGGREGATE_PER_KIND);
    assert_string_equal(g.last.message,
                        "HELLO from 'name99' (and 92 more like it from other sources in the last "
                        "10 s)");
    assert_int_equal(lk_aggregate_size(agg), 0);
    lk_aggregate_free(agg);
}

static void lk_aggregate_offer__full_table_summarises_the_oldest(void **state)
{
    (void) state;
    struct lk_aggregate *agg = lk_aggregate_new(1500);
    assert_non_null(agg);
    struct got g = {0};
    char msg[64];
    /* LK_AGGREGATE_ENTRIES kinds, each with one repeat */
    for (int i = 0; i < LK_AGGREGATE_ENTRIES; i++) {
        snprintf(msg, sizeof(msg), "x");
        for (int k = 0; k < LK_AGGREGATE_BURST; k++) {
            assert_true(offer(agg, (uint64_t) i, 1000 + i, msg, &g));
        }
        assert_false(offer(agg, (uint64_t) i, 1000 + i, msg, &g));
    }
    assert_int_equal(lk_aggregate_size(agg), LK_AGGREGATE_ENTRIES);
    assert_int_equal(g.n, 0);
    /* one more kind: the oldest (number 1000) is summarised and forgotten */
    assert_true(offer(agg, 100, 1900, "y", &g));
    assert_int_equal(g.n, 1);
    assert_int_equal(g.last.number, 1000);
    assert_string_equal(g.last.message, "x (repeated 1 time in the last 1500 ms)");
    assert_int_equal(lk_aggregate_size(agg), LK_AGGREGATE_ENTRIES);
    assert_int_equal(lk_aggregate_next_due(agg), 1 + 1500);
    /* so number 1000 passes again */
    assert_true(offer(agg, 101, 1000, "x", &g));
    /* the count is never lost: everything folded comes back in summaries */
    lk_aggregate_flush(agg, on_summary, &g);
    assert_int_equal(g.total, LK_AGGREGATE_ENTRIES);
    lk_aggregate_free(agg);
}

static void lk_aggregate_offer__long_message_keeps_its_tail(void **state)
{
    (void) state;
    struct lk_aggregate *agg = lk_aggregate_new(10000);
    assert_non_null(agg);
    struct got g = {0};
    char big[LK_AGGREGATE_TEXT_MAX];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    for (int k = 0; k < LK_AGGREGATE_BURST; k++) {
        assert_true(offer(agg, 0, 1604, big, &g));
    }
    assert_false(offer(agg, 0, 1604, big, &g));
    assert_int_equal(lk_aggregate_flush(agg, on_summary, &g), 1);
    size_t len = strlen(g.last.message);
    assert_true(len < sizeof(g.last.message));
    const char *tail = " (repeated 1 time in the last 10 s)";
    assert_string_equal(g.last.message + len - strlen(tail), tail);
    /* numbers outside the daemon range are never held */
    assert_true(offer(agg, 0, 9301, "x", &g));
    assert_true(offer(agg, 0, 9301, "x", &g));
    assert_int_equal(lk_aggregate_size(agg), 0);
    lk_aggregate_free(agg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_aggregate_foldable__rule_and_exceptions),
            cmocka_unit_test(lk_aggregate_foldable__matches_the_catalog),
            cmocka_unit_test(lk_aggregate_shape__numbers_alone_not_names),
            cmocka_unit_test(lk_aggregate_offer__first_passes_repeats_fold),
            cmocka_unit_test(lk_aggregate_offer__sources_beyond_the_limit_fold_together),
            cmocka_unit_test(lk_aggregate_offer__full_table_summarises_the_oldest),
            cmocka_unit_test(lk_aggregate_offer__long_message_keeps_its_tail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
