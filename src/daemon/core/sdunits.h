/* The systemd units this node holds for the cluster (docs/SYSTEMD.md, "Holding a unit"):
 * every systemd resource defined here gets `lk_systemd own` once per lkd start (runtime
 * drop-in: Restart=no, After=lkd.service; autostart disabled, the earlier enablement
 * recorded under $LKROOT/subsys/gen/resources/systemd/<TAG>), and every record whose
 * resource is gone from this node (deleted, unextended) gets `lk_systemd release`.
 *
 * Owner: main.c creates it after the event log, subscribes lk_sdunits_on_defined and
 * lk_sdunits_on_stopping, and calls lk_sdunits_stop after the loop. */
#pragma once

#include "bus.h"
#include "node.h"

struct lk_sdunits;

/* Allocates it and schedules the first pass on node->loop; NULL when out of memory. */
struct lk_sdunits *lk_sdunits_new(struct lk_node *node);

/* The bus's "defined" subscriber: schedules a pass (tag's earlier outcome is forgotten). */
void lk_sdunits_on_defined(void *userdata, const char *tag);

/* The bus's "stopping" subscriber: no new run starts. */
void lk_sdunits_on_stopping(void *userdata, enum lk_bus_stop why);

/* Stops: the run in flight is aborted, the timer closed. The struct stays allocated until
 * exit (callbacks may still reach it while the loop drains). */
void lk_sdunits_stop(struct lk_sdunits *units);
