/* The node's counters for /metrics (docs/METRICS.md): what happened since lkd started,
 * heard on the bus: check runs, failures, timeouts and their durations per resource and
 * kind, the durations of restore, remove and recover runs, local recoveries by result,
 * failovers by reason, switchovers, events by severity, and the last definition change.
 * The api's metrics handler writes them into the exposition with lk_counters_write; the
 * states it reads from the view itself.
 *
 * Owner: main.c creates it with lk_counters_new (node->counters) before wiring the bus,
 * and frees it after the loop has stopped. */
#pragma once

#include "bus.h"
#include "metrics.h"
#include "node.h"

/* Above this many resources on the node, the duration histograms are written per node
 * (labelled by kind or action only), not per resource: each is a dozen lines a scrape. */
#define LK_COUNTERS_TAGGED_HIST_MAX 1000

struct lk_counters;

/* Allocates empty counters for node (borrowed; it must outlive them), the start time
 * taken from the wall clock now; NULL when out of memory. */
struct lk_counters *lk_counters_new(const struct lk_node *node);
/* Frees c (NULL is fine); returns NULL. */
struct lk_counters *lk_counters_free(struct lk_counters *c);

/* Bus subscribers (userdata: the struct lk_counters), wired by main.c: an event was
 * logged (by severity; recoveries, failovers and switchovers by number), a run ended
 * (checks and actions), a definition changed (its time; counters of a deleted resource
 * are forgotten). They only count: nothing is logged, stopped or published. */
void lk_counters_on_event(void *userdata, const struct lk_event_record *e);
void lk_counters_on_ran(void *userdata, const struct lk_bus_run *run);
void lk_counters_on_defined(void *userdata, const char *tag);

/* Writes the counters' families into m: per resource only those of the resources the
 * view holds now, in its order, and per check kind or action only once it ran; the
 * histograms per node instead above LK_COUNTERS_TAGGED_HIST_MAX resources. c may be
 * NULL (a node without counters: every total 0). Returns m's error (0, -ENOMEM). */
int lk_counters_write(const struct lk_counters *c, struct lk_metrics *m);

/* The wall-clock time lkd started, in ms since the epoch (0 for NULL). */
int64_t lk_counters_start_ms(const struct lk_counters *c);
