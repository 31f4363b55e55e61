/* The event log: every event goes to the node database (bounded per severity), to
 * $LKROOT/log/lk.log as a line of text (rotated beyond [node] log-max-size), and to
 * syslog; subscribers (lkcli log --follow, commands waiting for an action) hear it
 * through the bus. Repeats of a node-level info or warning are folded into one summary
 * per interval (lib/aggregate.h; docs/DESIGN.md, "Hardening: events under a flood"). */
#pragma once

#include <jansson.h>

#include "catalog.h"
#include "node.h"

#define LK_LOG_NAME "log/lk.log"

/* Opens $LKROOT/log/lk.log for appending and syslog, and sets up the folding of repeats
 * (its timer on node->loop, which must exist) and lk.log's rotation from node->config. */
int lk_eventlog_open(struct lk_node *node);
void lk_eventlog_close(struct lk_node *node);

/* Writes one event, or counts it when it repeats a foldable one (its summary is written
 * at the end of the interval). process is "lkd" for the daemon's own events; detail may
 * be NULL.
 * Failures to write the file or the database are reported on stderr and otherwise
 * ignored: losing a log line must never stop an action. */
void lk_eventlog_write(struct lk_node *node, enum lk_severity severity, int number, const char *tag,
                       const char *process, const char *message, const char *detail);

/* Writes catalog message number with its arguments. */
void lk_eventlog_msg(struct lk_node *node, const char *tag, int number, ...);

/* Formats a record as lk.log and `lkcli log` print it (no newline). */
char *lk_eventlog_format(const struct lk_event_record *e, char *buf, size_t size);

/* A record as the api and the "events" message carry it: {seq, time_ms, node, severity,
 * number, tag, process, message, detail}. NULL for ENOMEM. */
json_t *lk_eventlog_json(const struct lk_event_record *e);
