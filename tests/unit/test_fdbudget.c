/* Tests of the descriptor budget (src/daemon/io/fdbudget.c): the reserve for a limit,
 * what guests and operators may use against what admins may use, the runs started since
 * the last count, the real count from /proc/self/fd, and the raise of the soft limit. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "fdbudget.h"

static void lk_fdbudget_allows__limit_within_reserve_allows_nobody(void **state)
{
    (void) state;
    struct lk_fdbudget b;
    lk_fdbudget_init(&b, 64);
    assert_int_equal(b.reserve, 64);
    assert_false(lk_fdbudget_allows(&b, false, 0));
    assert_false(lk_fdbudget_allows(&b, true, 0));
    lk_fdbudget_init(&b, 0);
    assert_false(lk_fdbudget_allows(&b, true, 0));
}

static void lk_fdbudget_reserve_for__a_quarter_within_bounds(void **state)
{
    (void) state;
    assert_int_equal(lk_fdbudget_reserve_for(0), 64);
    assert_int_equal(lk_fdbudget_reserve_for(100), 64);
    assert_int_equal(lk_fdbudget_reserve_for(1024), 256);
    assert_int_equal(lk_fdbudget_reserve_for(4096), 1024);
    assert_int_equal(lk_fdbudget_reserve_for(20000), 4096);
    assert_int_equal(lk_fdbudget_reserve_for(UINT64_C(1) << 20), 4096);
}

/* At a systemd service's 1,024: 20 descriptors of lkd's own, then clients until refused. */
static void lk_fdbudget_allows__admins_keep_their_reserve_at_1024(void **state)
{
    (void) state;
    struct lk_fdbudget b;
    lk_fdbudget_init(&b, 1024);
    lk_fdbudget_counted(&b, 20, 0);
    unsigned others = 0;
    while (lk_fdbudget_allows(&b, false, 0)) {
        lk_fdbudget_hold(&b);
        others++;
    }
    assert_int_equal(others, 1024 - 256 - LK_FDBUDGET_ADMIN_RESERVE - 20);
    unsigned admins = 0;
    while (lk_fdbudget_allows(&b, true, 0)) {
        lk_fdbudget_hold(&b);
        admins++;
    }
    assert_int_equal(admins, LK_FDBUDGET_ADMIN_RESERVE);
    assert_int_equal(lk_fdbudget_in_use(&b, 0), 1024 - 256);
    /* The admins go and one guest: one guest fits again, and not two. */
    lk_fdbudget_release(&b);
    for (unsigned i = 0; i < LK_FDBUDGET_ADMIN_RESERVE; i++) {
        lk_fdbudget_release(&b);
    }
    assert_true(lk_fdbudget_allows(&b, false, 0));
    lk_fdbudget_hold(&b);
    assert_false(lk_fdbudget_allows(&b, false, 0));
    assert_true(lk_fdbudget_allows(&b, true, 0));
}

/* Script runs started since the last count take three descriptors each; a recount folds
 * them into the others. */
static void lk_fdbudget_in_use__runs_since_the_count(void **state)
{
    (void) state;
    struct lk_fdbudget b;
    lk_fdbudget_init(&b, 1024);
    lk_fdbudget_hold(&b);
    lk_fdbudget_hold(&b);
    lk_fdbudget_counted(&b, 30, 2); /* 30 open, 2 of them clients' */
    assert_int_equal(b.others, 28);
    assert_int_equal(lk_fdbudget_in_use(&b, 2), 30);
    assert_int_equal(lk_fdbudget_in_use(&b, 5), 39);
    assert_int_equal(lk_fdbudget_in_use(&b, 0), 30); /* runs ended: known at the next count */
    /* A count below what the clients hold (they closed meanwhile): no others. */
    lk_fdbudget_counted(&b, 1, 0);
    assert_int_equal(b.others, 0);
}

static void lk_fdbudget_release__never_below_zero(void **state)
{
    (void) state;
    struct lk_fdbudget b;
    lk_fdbudget_init(&b, 1024);
    lk_fdbudget_release(&b);
    assert_int_equal(b.clients, 0);
}

static void lk_fdbudget_count__sees_opened_descriptors(void **state)
{
    (void) state;
    struct lk_fdbudget b;
    lk_fdbudget_init(&b, 1024);
    int before = lk_fdbudget_count(&b, 0);
    assert_true(before >= 3);
    int fds[10];
    for (int i = 0; i < 10; i++) {
        fds[i] = dup(0);
        assert_true(fds[i] >= 0);
    }
    assert_int_equal(lk_fdbudget_count(&b, 0), before + 10);
    assert_int_equal(b.others, (uint64_t) before + 10);
    for (int i = 0; i < 10; i++) {
        close(fds[i]);
    }
    assert_int_equal(lk_fdbudget_count(&b, 0), before);
}

static void lk_fdbudget_raise__soft_to_hard(void **state)
{
    (void) state;
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max < 256) {
        skip();
    }
    struct rlimit low = {.rlim_cur = 128, .rlim_max = rl.rlim_max};
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    uint64_t limit = 0;
    assert_int_equal(lk_fdbudget_raise(&limit), 0);
    assert_int_equal(limit, rl.rlim_max);
    struct rlimit now;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &now), 0);
    assert_int_equal(now.rlim_cur, rl.rlim_max);
    /* Already at the hard limit: nothing to do, same answer. */
    assert_int_equal(lk_fdbudget_raise(&limit), 0);
    assert_int_equal(limit, rl.rlim_max);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_fdbudget_allows__limit_within_reserve_allows_nobody),
            cmocka_unit_test(lk_fdbudget_reserve_for__a_quarter_within_bounds),
            cmocka_unit_test(lk_fdbudget_allows__admins_keep_their_reserve_at_1024),
            cmocka_unit_test(lk_fdbudget_in_use__runs_since_the_count),
            cmocka_unit_test(lk_fdbudget_release__never_below_zero),
            cmocka_unit_test(lk_fdbudget_count__sees_opened_descriptors),
            cmocka_unit_test(lk_fdbudget_raise__soft_to_hard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
