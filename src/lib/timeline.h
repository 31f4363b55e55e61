/* The cluster timeline of events (lkcli log --cluster, lkcli resource why): checking a
 * record received from a peer, ordering the records of several nodes by time, and finding
 * the last incident of a hierarchy and its root cause. Pure: no I/O, no loop.
 *
 * A record is a JSON object as the api prints it: {seq, time_ms, node, severity, number,
 * tag, process, message, detail}. Arrays of records are borrowed unless said otherwise. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define LK_TIMELINE_PROCESS_MAX 63               /* bytes of "process" (lk_err -p) */
#define LK_TIMELINE_MESSAGE_MAX 1023             /* bytes of "message" */
#define LK_TIMELINE_DETAIL_MAX  4199             /* bytes of "detail" (a script's output tail) */
#define LK_TIMELINE_TIME_MAX    32503680000000LL /* year 3000, in ms since the epoch */

/* Checks one record received from node from: every field present with its type, the
 * sizes above, no control characters (but newlines in detail), node equal to from, a tag
 * that is empty or a valid tag. Returns 0, or -EINVAL with a one-line reason in err. */
int lk_timeline_check_event(const json_t *e, const char *from, char *err, size_t err_size);

/* Makes a local record fit for sending: a control character in process, message or
 * detail (but a newline in detail) becomes '?', so that lk_timeline_check_event accepts
 * what a script printed. */
void lk_timeline_clean_event(json_t *e);

/* Sorts events (an array of records) in place by wall time, then node name, then seq: the
 * order in which one node's records were written is kept. */
void lk_timeline_sort(json_t *events);

/* Whether number is a failure: a failed check, restore, remove or recover, a process that
 * exited, a node found dead, a lost quorum, a fence, a failover or takeover, a failover
 * limit or no target, a hierarchy removed by the cluster. */
bool lk_timeline_is_failure(int number);

/* Whether word appears in text as a whole word (not inside a longer name). */
bool lk_timeline_mentions(const char *text, const char *word);

/* The index in events (sorted) where the last incident starts, or the array size when
 * there is none. The incident is anchored at the last failure of the hierarchy (a tagged
 * one, or a lost quorum or failed fence: a node found dead is not enough); it goes back over the
 * failures before it up to the hierarchy's last healthy point: a recover or a counter
 * reset anywhere, or a successful restore or start-up probe on the node of the earliest
 * failure found so far; the message a script wrote with lk_err just before the first
 * failure on its node belongs to it. The incident runs from there to the end. */
size_t lk_timeline_incident(const json_t *events);

/* The root cause of the incident that starts at index start of events (sorted): the
 * first failure, explained by the lk_err message its script wrote just before on the
 * same node, else by the last line of its output. Returns a new object {node, tag,
 * number, message, cause, line} where line is the one-line summary ("node2: app1:
 * restore action failed: exit status 1: cannot bind …"), or NULL when there is no
 * failure (or for ENOMEM). */
json_t *lk_timeline_root_cause(const json_t *events, size_t start);
