/* Alert delivery (docs/ALERTS.md): each event this node logs goes to every alert hook of
 * the cluster settings that selects it, in order, one delivery at a time per hook, each a
 * child process started by the runner (an executable, or lk_webhook for a webhook) with
 * the event as JSON on stdin and as LK_ALERT_* variables; retried with a backoff, given
 * up after a bound, its failures logged (at most one event per hook per interval) and
 * counted.
 *
 * Owner: main.c creates it (lk_alerts_new) after the event log, subscribes
 * lk_alerts_on_event to the bus's "event" topic, keeps it in node->alerts for the api's
 * list and status, and stops it (lk_alerts_stop) after the loop. */
#pragma once

#include <jansson.h>

#include "node.h"

struct lk_alerts;
struct lk_event_record;

#define LK_ALERT_QUEUE_MAX        1000 /* events waiting per hook; more: the oldest dropped */
#define LK_ALERT_ATTEMPTS_MAX     10   /* attempts per event before it is given up */
#define LK_ALERT_GIVE_UP_MS       (3600ULL * 1000) /* or this long after its first attempt */
#define LK_ALERT_BACKOFF_FIRST_MS 1000
#define LK_ALERT_BACKOFF_MAX_MS   60000
#define LK_ALERT_REPORT_MS        60000 /* at most one failure (and one drop) event a hook */
#define LK_WEBHOOK_PROGRAM        "lk_webhook"

/* Allocates the alerts of node (hooks follow node->config.cluster from then on). NULL when
 * out of memory. */
struct lk_alerts *lk_alerts_new(struct lk_node *node);

/* The bus's "event" subscriber: queues e for every hook that selects it. */
void lk_alerts_on_event(void *userdata, const struct lk_event_record *e);

/* Takes the hooks from node->config.cluster now (the api calls it after a change; events
 * and timers also notice a new settings version by themselves). */
void lk_alerts_reload(struct lk_alerts *alerts);

/* The hooks with their counters, for `cluster alert list` and status: an array of
 * {name, kind, target, events, timeout, recipient?, secret? ("set"), queued, in_flight,
 * delivered, failed, timeouts, gave_up, dropped, last_error?, last_delivered_seq?}. Never
 * a secret. NULL when out of memory. */
json_t *lk_alerts_json(const struct lk_alerts *alerts);

/* Stops delivering: waiting events are dropped, running deliveries killed (their process
 * groups), handles closed. The struct stays allocated until exit (callbacks may still
 * reach it while the loop drains). */
void lk_alerts_stop(struct lk_alerts *alerts);
