/* The bus: typed notifications inside lkd ("tell, don't call up").
 *
 * A module that changed something publishes the fact; the modules that care subscribed
 * at start (main.c wires every subscription, in one place). Notifications carry facts,
 * never decisions, and a subscriber must not stop the daemon or publish a stop from
 * inside one (main.c defers the shutdown to its own loop turn). Delivery is synchronous,
 * in subscription order, on the loop thread.
 *
 * Owner: main.c creates it with lk_bus_new before anything publishes and frees it after
 * the loop has stopped. The bus knows no other daemon module. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct lk_bus;
struct lk_event_record;
struct lk_result;

/* Why lkd stops (lk_bus_stop): the peers hear which it is. */
enum lk_bus_stop {
    LK_BUS_STOP_RUNNING, /* lkstop -f or --switchover, a signal: leave what runs running */
    LK_BUS_STOP_APPS,    /* lkstop: take the applications out of service first */
    LK_BUS_STOP_COUNT,
};

/* These tags changed (state, ownership, a peer's view): waits may end. tag NULL = many. */
typedef void (*lk_bus_changed_cb)(void *userdata, const char *tag);
/* An event was logged (borrowed for the call). */
typedef void (*lk_bus_event_cb)(void *userdata, const struct lk_event_record *e);
/* A plan was committed: the states of these tags changed in the store and the view
 * (tags NULL: maybe any of them). */
typedef void (*lk_bus_committed_cb)(void *userdata, const char *const *tags, size_t count);
/* Definitions changed (created, deleted, dependencies, extends, scripts, settings); tag
 * NULL = many or the cluster settings. */
typedef void (*lk_bus_defined_cb)(void *userdata, const char *tag);
/* The ownership state (owners.h) changed: records were written (records true: the peers
 * must hear them), or a fence run ended or a switchover started. */
typedef void (*lk_bus_owners_cb)(void *userdata, bool records);
/* A script run of a resource ended (all borrowed for the call): its action's name
 * ("restore", "remove", "recover", "quickchk", "deepchk"), whether it was a scheduled
 * check (the monitor's) rather than a run of an action (the executor's, the start-up
 * probe included), and its result (outcome, duration). */
struct lk_bus_run {
    const char *tag;
    const char *action;
    bool check;
    const struct lk_result *result;
};
typedef void (*lk_bus_ran_cb)(void *userdata, const struct lk_bus_run *run);
/* Someone asked lkd to stop (lk_bus_stop_request); main.c runs the order. */
typedef void (*lk_bus_stop_cb)(void *userdata, enum lk_bus_stop why);
/* lkd is stopping now (main.c, outside any notification): answer waiting commands. */
typedef void (*lk_bus_stopping_cb)(void *userdata, enum lk_bus_stop why);

/* Allocates an empty bus; NULL when out of memory. */
struct lk_bus *lk_bus_new(void);
/* Frees bus (NULL is fine); returns NULL. */
struct lk_bus *lk_bus_free(struct lk_bus *bus);

/* Subscriptions, made at start. Each returns 0, or -EINVAL (no bus or no callback) or
 * -ENOSPC (too many subscribers on that topic), in which case cb is never called. */
int lk_bus_on_changed(struct lk_bus *bus, lk_bus_changed_cb cb, void *userdata);
int lk_bus_on_event(struct lk_bus *bus, lk_bus_event_cb cb, void *userdata);
int lk_bus_on_committed(struct lk_bus *bus, lk_bus_committed_cb cb, void *userdata);
int lk_bus_on_defined(struct lk_bus *bus, lk_bus_defined_cb cb, void *userdata);
int lk_bus_on_owners(struct lk_bus *bus, lk_bus_owners_cb cb, void *userdata);
int lk_bus_on_ran(struct lk_bus *bus, lk_bus_ran_cb cb, void *userdata);
int lk_bus_on_stop(struct lk_bus *bus, lk_bus_stop_cb cb, void *userdata);
int lk_bus_on_stopping(struct lk_bus *bus, lk_bus_stopping_cb cb, void *userdata);

/* Publications: each calls the topic's subscribers in order. A NULL bus publishes to
 * nobody (unit tests that run a module alone). */
void lk_bus_changed(struct lk_bus *bus, const char *tag);
void lk_bus_event(struct lk_bus *bus, const struct lk_event_record *e);
void lk_bus_committed(struct lk_bus *bus, const char *const *tags, size_t count);
void lk_bus_defined(struct lk_bus *bus, const char *tag);
void lk_bus_owners(struct lk_bus *bus, bool records);
void lk_bus_ran(struct lk_bus *bus, const struct lk_bus_run *run);
void lk_bus_stop_request(struct lk_bus *bus, enum lk_bus_stop why);
void lk_bus_stopping(struct lk_bus *bus, enum lk_bus_stop why);
