/* Unit tests for bus.c: the libuv-style contract (a subscription that fails returns
 * -errno and is never called), delivery to every subscriber in subscription order, the
 * arguments passed through unchanged, publications on a NULL bus, and a subscriber that
 * publishes from inside its call. Pure: no loop. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bus.h"
#include "result.h"
#include "store.h"

struct seen {
    char log[512];
    struct lk_bus *bus; /* for the subscriber that publishes again */
};

static void note(struct seen *s, const char *who, const char *what)
{
    size_t len = strlen(s->log);
    snprintf(s->log + len, sizeof(s->log) - len, "%s:%s;", who, what ? what : "NULL");
}

static void changed_a(void *userdata, const char *tag)
{
    note(userdata, "a", tag);
}

static void changed_b(void *userdata, const char *tag)
{
    note(userdata, "b", tag);
}

static void never(void *userdata, const char *tag)
{
    (void) userdata;
    (void) tag;
    fail_msg("a subscription that failed was called");
}

static void event_cb(void *userdata, const struct lk_event_record *e)
{
    note(userdata, "event", e->tag);
}

static void committed_cb(void *userdata, const char *const *tags, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        note(userdata, "committed", tags[i]);
    }
    if (!tags) {
        note(userdata, "committed", NULL);
    }
}

static void defined_cb(void *userdata, const char *tag)
{
    struct seen *s = userdata;
    note(s, "defined", tag);
    /* Publishing from inside a delivery reaches the other topic's subscribers at once. */
    lk_bus_changed(s->bus, "from-defined");
}

static void ran_cb(void *userdata, const struct lk_bus_run *run)
{
    char what[64];
    snprintf(what, sizeof(what), "%s/%s/%s/%llu", run->tag, run->action,
             run->check ? "check" : "action", (unsigned long long) run->result->duration_usec);
    note(userdata, "ran", what);
}

static void stop_cb(void *userdata, enum lk_bus_stop why)
{
    note(userdata, "stop", why == LK_BUS_STOP_APPS ? "apps" : "running");
}

static void stopping_cb(void *userdata, enum lk_bus_stop why)
{
    note(userdata, "stopping", why == LK_BUS_STOP_APPS ? "apps" : "running");
}

static void lk_bus_on_changed__invalid(void **state)
{
    (void) state;
    struct lk_bus *bus = lk_bus_new();
    assert_non_null(bus);
    assert_int_equal(lk_bus_on_changed(NULL, changed_a, NULL), -EINVAL);
    assert_int_equal(lk_bus_on_changed(bus, NULL, NULL), -EINVAL);
    assert_int_equal(lk_bus_on_event(bus, NULL, NULL), -EINVAL);
    assert_int_equal(lk_bus_on_committed(bus, NULL, NULL), -EINVAL);
    assert_int_equal(lk_bus_on_defined(bus, NULL, NULL), -EINVAL);
    assert_int_equal(lk_bus_on_ran(bus, NULL, NULL), -EINVAL);
    assert_int_equal(lk_bus_on_stop(bus, NULL, NULL), -EINVAL);
    assert_int_equal(lk_bus_on_stopping(bus, NULL, NULL), -EINVAL);
    lk_bus_changed(bus, "x"); /* nobody subscribed: nothing happens */
    assert_null(lk_bus_free(bus));
}

static void lk_bus_on_changed__full_table_never_calls_back(void **state)
{
    (void) state;
    struct seen s = {0};
    struct lk_bus *bus = lk_bus_new();
    assert_non_null(bus);
    size_t accepted = 0;
    int r;
    while ((r = lk_bus_on_changed(bus, changed_a, &s)) == 0) {
        accepted++;
        assert_true(accepted < 1000);
    }
    assert_int_equal(r, -ENOSPC);
    assert_true(accepted >= 4);
    assert_int_equal(lk_bus_on_changed(bus, never, NULL), -ENOSPC);
    /* Other topics have tables of their own. */
    assert_int_equal(lk_bus_on_event(bus, event_cb, &s), 0);
    lk_bus_changed(bus, "t");
    size_t calls = 0;
    for (const char *p = s.log; (p = strstr(p, "a:t;")); p++) {
        calls++;
    }
    assert_int_equal(calls, accepted);
    lk_bus_free(bus);
}

static void lk_bus_changed__order_and_arguments(void **state)
{
    (void) state;
    struct seen s = {0};
    struct lk_bus *bus = lk_bus_new();
    assert_non_null(bus);
    s.bus = bus;
    assert_int_equal(lk_bus_on_changed(bus, changed_b, &s), 0);
    assert_int_equal(lk_bus_on_changed(bus, changed_a, &s), 0);
    assert_int_equal(lk_bus_on_event(bus, event_cb, &s), 0);
    assert_int_equal(lk_bus_on_committed(bus, committed_cb, &s), 0);
    assert_int_equal(lk_bus_on_defined(bus, defined_cb, &s), 0);
    assert_int_equal(lk_bus_on_ran(bus, ran_cb, &s), 0);
    assert_int_equal(lk_bus_on_stop(bus, stop_cb, &s), 0);
    assert_int_equal(lk_bus_on_stopping(bus, stopping_cb, &s), 0);

    lk_bus_changed(bus, "web");
    lk_bus_changed(bus, NULL);
    struct lk_event_record e = {0};
    snprintf(e.tag, sizeof(e.tag), "%s", "db");
    lk_bus_event(bus, &e);
    const char *tags[] = {"p", "c"};
    lk_bus_committed(bus, tags, 2);
    lk_bus_committed(bus, NULL, 0);
    lk_bus_defined(bus, "ip");
    struct lk_result result = {.duration_usec = 1500};
    lk_bus_ran(bus, &(struct lk_bus_run){
                            .tag = "web", .action = "quickchk", .check = true, .result = &result});
    lk_bus_stop_request(bus, LK_BUS_STOP_APPS);
    lk_bus_stopping(bus, LK_BUS_STOP_RUNNING);
    assert_string_equal(s.log, "b:web;a:web;b:NULL;a:NULL;event:db;committed:p;committed:c;"
                               "committed:NULL;defined:ip;b:from-defined;a:from-defined;"
                               "ran:web/quickchk/check/1500;stop:apps;stopping:running;");
    lk_bus_free(bus);
}

static void lk_bus_changed__null_bus(void **state)
{
    (void) state;
    lk_bus_changed(NULL, "x");
    lk_bus_event(NULL, NULL);
    lk_bus_committed(NULL, NULL, 0);
    lk_bus_defined(NULL, NULL);
    lk_bus_ran(NULL, NULL);
    lk_bus_stop_request(NULL, LK_BUS_STOP_RUNNING);
    lk_bus_stopping(NULL, LK_BUS_STOP_RUNNING);
    assert_null(lk_bus_free(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_bus_on_changed__invalid),
            cmocka_unit_test(lk_bus_on_changed__full_table_never_calls_back),
            cmocka_unit_test(lk_bus_changed__order_and_arguments),
            cmocka_unit_test(lk_bus_changed__null_bus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
