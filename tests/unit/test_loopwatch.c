/* Tests of the loop-stall recorder (src/daemon/core/loopwatch.c) on a real loop: a turn
 * that works 30 ms of CPU is recorded as a stall (wall and CPU time), turns that only wait
 * are not, and the JSON for status has every figure (zeros without a recorder). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "loopwatch.h"

/* Works ms of this thread's CPU time (on a busy machine, longer on the clock). */
static void spin_ms(unsigned ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    uint64_t end =
            (uint64_t) ts.tv_sec * 1000000000 + (uint64_t) ts.tv_nsec + (uint64_t) ms * 1000000;
    for (;;) {
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        if ((uint64_t) ts.tv_sec * 1000000000 + (uint64_t) ts.tv_nsec >= end) {
            return;
        }
    }
}

struct ticks {
    unsigned count;
    unsigned busy_at; /* the tick that works */
};

static void on_tick(uv_timer_t *t)
{
    struct ticks *k = t->data;
    if (++k->count == k->busy_at) {
        spin_ms(30);
    }
    if (k->count == 6) {
        uv_timer_stop(t);
        uv_close((uv_handle_t *) t, NULL);
    }
}

static double num(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    assert_non_null(v);
    return json_number_value(v);
}

static void run_ticks(struct lk_loopwatch *w, unsigned busy_at, uint64_t every_ms)
{
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(lk_loopwatch_start(w, &loop), 0);
    uv_timer_t t;
    struct ticks k = {.busy_at = busy_at};
    uv_timer_init(&loop, &t);
    t.data = &k;
    uv_timer_start(&t, on_tick, every_ms, every_ms);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(k.count, 6);
    lk_loopwatch_stop(w);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void lk_loopwatch_json__without_recorder_is_zeros(void **state)
{
    (void) state;
    json_t *j = lk_loopwatch_json(NULL);
    assert_non_null(j);
    assert_true(num(j, "max_stall_ms") == 0.0);
    assert_true(num(j, "recent_max_stall_ms") == 0.0);
    assert_true(num(j, "stalls_over_20ms") == 0.0);
    assert_true(num(j, "max_cpu_ms") == 0.0);
    assert_true(num(j, "recent_max_cpu_ms") == 0.0);
    assert_true(num(j, "turns") == 0.0);
    json_decref(j);
}

static void lk_loopwatch_start__waiting_turns_are_no_stall(void **state)
{
    (void) state;
    struct lk_loopwatch w;
    run_ticks(&w, 0, 100);
    assert_true(w.turns >= 5);
    /* The turns waited 100 ms each: none of that is work (the bound leaves room for a
     * busy machine's preemption). */
    assert_true(w.max_ns < UINT64_C(100000000));
    assert_true(w.max_cpu_ns < UINT64_C(20000000));
}

static void lk_loopwatch_start__a_working_turn_is_a_stall(void **state)
{
    (void) state;
    struct lk_loopwatch w;
    run_ticks(&w, 3, 5);
    assert_true(w.stalls >= 1);
    assert_true(w.max_ns >= UINT64_C(30000000));
    assert_true(w.max_cpu_ns >= UINT64_C(30000000)); /* it spun: its own CPU time */
    json_t *j = lk_loopwatch_json(&w);
    assert_non_null(j);
    assert_true(num(j, "max_stall_ms") >= 30.0);
    assert_true(num(j, "recent_max_stall_ms") >= 30.0);
    assert_true(num(j, "stalls_over_20ms") >= 1.0);
    assert_true(num(j, "turns") >= 5.0);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_loopwatch_json__without_recorder_is_zeros),
            cmocka_unit_test(lk_loopwatch_start__waiting_turns_are_no_stall),
            cmocka_unit_test(lk_loopwatch_start__a_working_turn_is_a_stall),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
