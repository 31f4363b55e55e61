/* Folding repeated events: which events may be folded (lk_aggregate_foldable, the rule and
 * its exceptions), and a bounded table that lets the first LK_AGGREGATE_BURST events of a
 * kind and source through at once, counts the further repeats within an interval and
 * hands back one summary per interval. Pure: no loop, no clock (the caller passes now), no I/O.
 * docs/DESIGN.md, "Hardening: events under a flood". */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "validate.h"

#define LK_AGGREGATE_INTERVAL_MS 10000 /* repeats are counted for this long, then summarised */
#define LK_AGGREGATE_BURST       10    /* events of a kind and source written before folding */
#define LK_AGGREGATE_ENTRIES     64    /* kinds and sources followed at once */
#define LK_AGGREGATE_PER_KIND    8 /* sources of one number followed at once; more fold together */
#define LK_AGGREGATE_KEY_MAX     256  /* bytes of a message's shape that tell sources apart */
#define LK_AGGREGATE_TEXT_MAX    1024 /* as struct lk_event_record's message */

/* Whether an event may be folded with its repeats. Never: an event with a resource tag
 * (a resource's state changes and action results), an event written by a script
 * (process not "lkd"), a number outside the daemon's range 1000-1999, an ERROR, and the
 * listed node-level numbers that state machines, `lkcli resource why` and `lkcli log
 * --cluster` read (lifecycle, paths, nodes, quorum, failover, fencing, configuration).
 * Every other untagged INFO or WARNING event may be: they are what strangers, peers and
 * paths can repeat at will. */
bool lk_aggregate_foldable(int number, enum lk_severity severity, const char *tag,
                           const char *process);

/* The shape of a message: the text with every number that stands alone (a run of letters
 * and digits that starts with a digit and does not continue a word: "127.0.0.1",
 * "seq 42", "0x1f") replaced by '#', cut at LK_AGGREGATE_KEY_MAX - 1 bytes. Two events of
 * one number and tag are the same kind from the same source when their shapes are equal:
 * "node2" and "node3" differ, the sequence numbers of two replays do not. */
void lk_aggregate_shape(const char *message, char *buf, size_t size);

/* A summary: the event to write instead of the folded ones. */
struct lk_aggregate_summary {
    int number;
    enum lk_severity severity;
    char tag[LK_TAG_MAX + 1];
    /* The last folded message, then " (repeated N times in the last 10 s)", or for the
     * sources beyond LK_AGGREGATE_PER_KIND " (and N more like it from other sources in
     * the last 10 s)". */
    char message[LK_AGGREGATE_TEXT_MAX];
    uint64_t count;
};

typedef void (*lk_aggregate_cb)(const struct lk_aggregate_summary *summary, void *userdata);

/* The table; NULL for ENOMEM. interval_ms > 0. */
struct lk_aggregate *lk_aggregate_new(uint64_t interval_ms);
/* NULL-safe; drops what is pending (call lk_aggregate_flush first to keep it). */
struct lk_aggregate *lk_aggregate_free(struct lk_aggregate *agg);

/* Offers one foldable event at now_ms. Returns true when it must be written now (one of
 * the first LK_AGGREGATE_BURST of its kind and source since it was quiet for an
 * interval), false when it was counted (folded).
 * When the table is full, the oldest entry is summarised first: cb (may be NULL) is
 * called with its summary if it folded anything, before this returns. O(1). */
bool lk_aggregate_offer(struct lk_aggregate *agg, uint64_t now_ms, int number,
                        enum lk_severity severity, const char *tag, const char *message,
                        lk_aggregate_cb cb, void *userdata);

/* Ends every interval that is over at now_ms: cb gets a summary for each entry that
 * folded something (its interval starts again, so a steady flood gives one summary per
 * interval); an entry that folded nothing is forgotten. Returns the summaries made. */
size_t lk_aggregate_expire(struct lk_aggregate *agg, uint64_t now_ms, lk_aggregate_cb cb,
                           void *userdata);

/* Summarises and forgets everything (at a stop). Returns the summaries made. */
size_t lk_aggregate_flush(struct lk_aggregate *agg, lk_aggregate_cb cb, void *userdata);

/* When the next interval ends (ms, the clock of offer), or UINT64_MAX with none. */
uint64_t lk_aggregate_next_due(const struct lk_aggregate *agg);

/* Entries followed now (tests). */
size_t lk_aggregate_size(const struct lk_aggregate *agg);
