/* Folding repeated events (aggregate.h): the rule of what may be folded, with its
 * exceptions in two tables below, and a fixed table of at most LK_AGGREGATE_ENTRIES
 * kinds and sources, found by hash and kept in the order their intervals started, so
 * that an offer, an expiry and an eviction are O(1) each.
 *
 * Events enter from the daemon's event log (core/eventlog.c), one offer per foldable
 * event, and the log's timer asks for the intervals that are over. A summary is handed
 * back through a callback, never written here.
 * It must never fold an event the rule keeps, never allocate after lk_aggregate_new, and
 * never look at a clock: the caller's now_ms is the only time. */
#include "aggregate.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

#define BUCKETS      128 /* a power of two, twice the entries */
#define NONE         (-1)
#define DAEMON_FIRST 1000
#define DAEMON_LAST  1999

/* Untagged INFO and WARNING numbers that are never folded: state changes of the node, its
 * paths, peers, quorum and hierarchies, which the cluster's state machines, `why` (the
 * node-level events of cluster/incident.c, the failures of lib/timeline.c) and an
 * operator read one by one. Tagged events are never folded anyway. */
static const int never_folded[] = {
        LK_MSG_DAEMON_STARTED,     LK_MSG_DAEMON_STOPPING,
        LK_MSG_DAEMON_STOPPED,     LK_MSG_ACTION_INTERRUPTED,
        LK_MSG_PROCESS_EXITED,     LK_MSG_CHECK_TIMEOUT,
        LK_MSG_PATH_ALIVE,         LK_MSG_PATH_DEAD,
        LK_MSG_NODE_ALIVE,         LK_MSG_DAEMON_RESUMED,
        LK_MSG_QUORUM_GAINED,      LK_MSG_FAILOVER,
        LK_MSG_TAKEOVER,           LK_MSG_SWITCHOVER,
        LK_MSG_SWITCHBACK,         LK_MSG_ORPHAN,
        LK_MSG_FENCE_STARTED,      LK_MSG_FENCE_OK,
        LK_MSG_SWITCH_REFUSED,     LK_MSG_RECORD_HANDED,
        LK_MSG_EXTENDED,           LK_MSG_UNEXTENDED,
        LK_MSG_CLUSTER_CONFIGURED, LK_MSG_COMMPATH_CREATED,
        LK_MSG_COMMPATH_DELETED,   LK_MSG_CONTAINMENT,
        LK_MSG_PEER_FENCED_ITSELF, LK_MSG_STORE_WRITABLE,
        LK_MSG_STORE_RESERVE_USED, LK_MSG_STORE_NO_RESERVE,
};

static bool listed(const int *list, size_t count, int number)
{
    for (size_t i = 0; i < count; i++) {
        if (list[i] == number) {
            return true;
        }
    }
    return false;
}

bool lk_aggregate_foldable(int number, enum lk_severity severity, const char *tag,
                           const char *process)
{
    if ((tag && tag[0]) || (process && process[0] && strcmp(process, "lkd") != 0) ||
        number < DAEMON_FIRST || number > DAEMON_LAST) {
        return false;
    }
    return severity < LK_SEV_ERROR &&
           !listed(never_folded, sizeof(never_folded) / sizeof(never_folded[0]), number);
}

void lk_aggregate_shape(const char *message, char *buf, size_t size)
{
    if (size == 0) {
        return;
    }
    size_t n = 0;
    bool in_word = false; /* the previous byte continues a word (letter, digit, '_', '-') */
    for (const unsigned char *p = (const unsigned char *) (message ? message : ""); *p;) {
        if (isdigit(*p) && !in_word) {
            while (isalnum(*p)) {
                p++;
            }
            if (n + 1 < size) {
                buf[n++] = '#';
            }
            in_word = true;
            continue;
        }
        in_word = isalnum(*p) || *p == '_' || *p == '-';
        if (n + 1 < size) {
            buf[n++] = (char) *p;
        }
        p++;
    }
    buf[n] = '\0';
}

struct entry {
    bool used;
    bool overflow; /* the sources of number beyond LK_AGGREGATE_PER_KIND, folded together */
    int number;
    enum lk_severity severity;
    uint64_t hash;
    uint64_t start_ms;
    uint64_t count;  /* folded in this interval */
    unsigned passed; /* written at once since the entry was made (at most the burst) */
    int hnext;       /* the bucket's chain */
    int prev, next;  /* the order intervals started: head is the oldest */
    char tag[LK_TAG_MAX + 1];
    char key[LK_AGGREGATE_KEY_MAX];
    char last[LK_AGGREGATE_TEXT_MAX]; /* the last folded message */
};

struct lk_aggregate {
    uint64_t interval_ms;
    struct entry entries[LK_AGGREGATE_ENTRIES];
    int buckets[BUCKETS];
    int head, tail, free_list; /* free entries chained through next */
    size_t size;
    unsigned char per_kind[DAEMON_LAST - DAEMON_FIRST + 1]; /* live, not overflow */
};

struct lk_aggregate *lk_aggregate_new(uint64_t interval_ms)
{
    struct lk_aggregate *agg = calloc(1, sizeof(*agg));
    if (!agg) {
        return NULL;
    }
    agg->interval_ms = interval_ms ? interval_ms : LK_AGGREGATE_INTERVAL_MS;
    for (size_t i = 0; i < BUCKETS; i++) {
        agg->buckets[i] = NONE;
    }
    agg->head = agg->tail = NONE;
    agg->free_list = NONE;
    for (int i = LK_AGGREGATE_ENTRIES - 1; i >= 0; i--) {
        agg->entries[i].next = agg->free_list;
        agg->free_list = i;
    }
    return agg;
}

struct lk_aggregate *lk_aggregate_free(struct lk_aggregate *agg)
{
    free(agg);
    return NULL;
}

static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t hash_of(int number, bool overflow, const char *tag, const char *key)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    h = fnv(h, &number, sizeof(number));
    h = fnv(h, &overflow, sizeof(overflow));
    h = fnv(h, tag, strlen(tag) + 1);
    return fnv(h, key, strlen(key));
}

static int find(const struct lk_aggregate *agg, uint64_t h, int number, bool overflow,
                const char *tag, const char *key)
{
    for (int i = agg->buckets[h % BUCKETS]; i != NONE; i = agg->entries[i].hnext) {
        const struct entry *e = &agg->entries[i];
        if (e->hash == h && e->number == number && e->overflow == overflow &&
            strcmp(e->tag, tag) == 0 && strcmp(e->key, key) == 0) {
            return i;
        }
    }
    return NONE;
}

static void fifo_unlink(struct lk_aggregate *agg, int i)
{
    struct entry *e = &agg->entries[i];
    if (e->prev != NONE) {
        agg->entries[e->prev].next = e->next;
    } else {
        agg->head = e->next;
    }
    if (e->next != NONE) {
        agg->entries[e->next].prev = e->prev;
    } else {
        agg->tail = e->prev;
    }
    e->prev = e->next = NONE;
}

static void fifo_append(struct lk_aggregate *agg, int i)
{
    struct entry *e = &agg->entries[i];
    e->prev = agg->tail;
    e->next = NONE;
    if (agg->tail != NONE) {
        agg->entries[agg->tail].next = i;
    } else {
        agg->head = i;
    }
    agg->tail = i;
}

static void forget(struct lk_aggregate *agg, int i)
{
    struct entry *e = &agg->entries[i];
    for (int *pp = &agg->buckets[e->hash % BUCKETS]; *pp != NONE; pp = &agg->entries[*pp].hnext) {
        if (*pp == i) {
            *pp = e->hnext;
            break;
        }
    }
    fifo_unlink(agg, i);
    if (!e->overflow) {
        agg->per_kind[e->number - DAEMON_FIRST]--;
    }
    e->used = false;
    e->next = agg->free_list;
    agg->free_list = i;
    agg->size--;
}

/* Hands e's summary to cb when it folded anything; its count starts again. */
static bool summarise(const struct lk_aggregate *agg, struct entry *e, lk_aggregate_cb cb,
                      void *userdata)
{
    if (e->count == 0) {
        return false;
    }
    struct lk_aggregate_summary s = {
            .number = e->number, .severity = e->severity, .count = e->count};
    snprintf(s.tag, sizeof(s.tag), "%s", e->tag);
    char span[48];
    if (agg->interval_ms % 1000 == 0) {
        snprintf(span, sizeof(span), "%llu s", (unsigned long long) (agg->interval_ms / 1000));
    } else {
        snprintf(span, sizeof(span), "%llu ms", (unsigned long long) agg->interval_ms);
    }
    char tail[160];
    if (e->overflow) {
        snprintf(tail, sizeof(tail), " (and %llu more like it from other sources in the last %s)",
                 (unsigned long long) e->count, span);
    } else {
        snprintf(tail, sizeof(tail), " (repeated %llu time%s in the last %s)",
                 (unsigned long long) e->count, e->count == 1 ? "" : "s", span);
    }
    /* The tail always fits: the message is cut to leave room for it. */
    int room = (int) (sizeof(s.message) - strlen(tail) - 1);
    snprintf(s.message, sizeof(s.message), "%.*s%s", room, e->last, tail);
    e->count = 0;
    if (cb) {
        cb(&s, userdata);
    }
    return true;
}

static int take(struct lk_aggregate *agg, lk_aggregate_cb cb, void *userdata)
{
    if (agg->free_list == NONE) {
        int oldest = agg->head;
        (void) summarise(agg, &agg->entries[oldest], cb, userdata);
        forget(agg, oldest);
    }
    int i = agg->free_list;
    agg->free_list = agg->entries[i].next;
    return i;
}

bool lk_aggregate_offer(struct lk_aggregate *agg, uint64_t now_ms, int number,
                        enum lk_severity severity, const char *tag, const char *message,
                        lk_aggregate_cb cb, void *userdata)
{
    if (number < DAEMON_FIRST || number > DAEMON_LAST) {
        return true;
    }
    tag = tag ? tag : "";
    message = message ? message : "";
    char key[LK_AGGREGATE_KEY_MAX];
    lk_aggregate_shape(message, key, sizeof(key));
    uint64_t h = hash_of(number, false, tag, key);
    int i = find(agg, h, number, false, tag, key);
    bool overflow = false;
    if (i == NONE && agg->per_kind[number - DAEMON_FIRST] >= LK_AGGREGATE_PER_KIND) {
        overflow = true;
        key[0] = '\0';
        h = hash_of(number, true, tag, key);
        i = find(agg, h, number, true, tag, key);
    }
    if (i != NONE) {
        struct entry *e = &agg->entries[i];
        if (!e->overflow && e->passed < LK_AGGREGATE_BURST) {
            e->passed++;
            return true;
        }
        e->count++;
        snprintf(e->last, sizeof(e->last), "%s", message);
        return false;
    }
    i = take(agg, cb, userdata);
    /* The eviction may have freed a place for number's sources. */
    if (overflow && agg->per_kind[number - DAEMON_FIRST] < LK_AGGREGATE_PER_KIND) {
        overflow = false;
        lk_aggregate_shape(message, key, sizeof(key));
        h = hash_of(number, false, tag, key);
    }
    struct entry *e = &agg->entries[i];
    memset(e, 0, sizeof(*e));
    e->used = true;
    e->overflow = overflow;
    e->number = number;
    e->severity = severity;
    e->hash = h;
    e->start_ms = now_ms;
    snprintf(e->tag, sizeof(e->tag), "%s", tag);
    snprintf(e->key, sizeof(e->key), "%s", key);
    e->hnext = agg->buckets[h % BUCKETS];
    agg->buckets[h % BUCKETS] = i;
    fifo_append(agg, i);
    agg->size++;
    if (overflow) {
        /* The first event of a source beyond the limit is already a repeat of its kind. */
        e->count = 1;
        snprintf(e->last, sizeof(e->last), "%s", message);
        return false;
    }
    agg->per_kind[number - DAEMON_FIRST]++;
    e->passed = 1;
    return true;
}

size_t lk_aggregate_expire(struct lk_aggregate *agg, uint64_t now_ms, lk_aggregate_cb cb,
                           void *userdata)
{
    size_t made = 0;
    while (agg->head != NONE) {
        int i = agg->head;
        struct entry *e = &agg->entries[i];
        if (e->start_ms + agg->interval_ms > now_ms) {
            break;
        }
        if (summarise(agg, e, cb, userdata)) {
            made++;
            e->start_ms = now_ms;
            fifo_unlink(agg, i);
            fifo_append(agg, i);
        } else {
            forget(agg, i);
        }
    }
    return made;
}

size_t lk_aggregate_flush(struct lk_aggregate *agg, lk_aggregate_cb cb, void *userdata)
{
    size_t made = 0;
    while (agg->head != NONE) {
        int i = agg->head;
        made += summarise(agg, &agg->entries[i], cb, userdata) ? 1 : 0;
        forget(agg, i);
    }
    return made;
}

uint64_t lk_aggregate_next_due(const struct lk_aggregate *agg)
{
    return agg->head == NONE ? UINT64_MAX : agg->entries[agg->head].start_ms + agg->interval_ms;
}

size_t lk_aggregate_size(const struct lk_aggregate *agg)
{
    return agg->size;
}
