/* The node database when the disk fails it: "not writable", what memory holds ahead of
 * the disk, the retry that catches up, and the disk reserve (catchup.h).
 *
 * Events enter as calls: a failed store write (the executor, define.c, the event log),
 * the executor's dirty marks, the retry timer. A full disk must never hide a failure: the
 * executor carries out the engine's and placement's plans from memory while the database
 * is not writable; this file says so (events 1011-1014, status), refuses what needs the
 * database, and writes every state, ownership record, run and kept event once it can,
 * in that order, then keeps the reserve again. While the database IS writable it does
 * nothing: commit before acting stays the rule. It never decides, and never drops what it
 * cannot write (only the oldest runs and events beyond a bound). */
#include "catchup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eventlog.h"
#include "log.h"

#define KEPT_RUNS_MAX   64
#define KEPT_EVENTS_MAX 512
#define RUN_OUTPUT_MAX  4096

struct kept_run {
    struct lk_run_record rec;
    char *output; /* owned; rec.output points here */
};

struct lk_catchup {
    struct lk_node *node;
    struct lk_owners *owners;
    uv_timer_t timer;
    bool timer_armed;
    bool writable;
    int64_t since_ms;
    char why[256];
    bool states_dirty, owners_dirty;
    bool reserve; /* the reserve file is there */
    char reserve_path[LK_PATH_MAX + 32];
    struct kept_run runs[KEPT_RUNS_MAX];
    size_t run_first, run_count;    /* a ring */
    struct lk_event_record *events; /* KEPT_EVENTS_MAX, a ring */
    size_t event_first, event_count;
    bool writing; /* the catch-up is writing: a failure there is its own to handle */
};

static void arm(struct lk_catchup *c);

static void not_writable(struct lk_catchup *c, const char *why)
{
    snprintf(c->why, sizeof(c->why), "%s", why && why[0] ? why : "unknown error");
    if (c->writable) {
        /* Not writable first, then the event: its own database write fails too, and must
         * not come back here as a new failure. */
        c->writable = false;
        c->since_ms = lk_now_ms();
        lk_log(LK_LOG_ERR, "the node database is not writable: %s", c->why);
        lk_eventlog_msg(c->node, NULL, LK_MSG_STORE_NOT_WRITABLE, c->why);
    }
    arm(c);
}

static void make_reserve(struct lk_catchup *c, bool quiet)
{
    int r = lk_store_reserve_make(c->reserve_path, LK_RESERVE_BYTES);
    c->reserve = r == 0;
    if (r < 0 && !quiet) {
        lk_eventlog_msg(c->node, NULL, LK_MSG_STORE_NO_RESERVE, c->reserve_path, strerror(-r));
    }
}

bool lk_catchup_failed(struct lk_node *node, bool *retry)
{
    struct lk_catchup *c = node->catchup;
    if (retry) {
        *retry = false;
    }
    if (!node->store || !lk_store_disk_failed(node->store)) {
        return false;
    }
    if (!c) {
        return false;
    }
    char why[256];
    snprintf(why, sizeof(why), "%s", lk_store_why(node->store));
    bool full = lk_store_full(node->store);
    if (c->writing) {
        snprintf(c->why, sizeof(c->why), "%s", why);
        return true;
    }
    /* The reserve is for this moment: the state table and the event log first (and the
     * event saying the database is not writable). */
    bool freed = full && c->reserve && lk_store_reserve_free(c->reserve_path) == 0;
    if (freed) {
        c->reserve = false;
    }
    not_writable(c, why);
    if (freed) {
        lk_eventlog_msg(node, NULL, LK_MSG_STORE_RESERVE_USED, c->reserve_path,
                        (unsigned long long) (LK_RESERVE_BYTES >> 20));
        if (retry) {
            *retry = true;
        }
    }
    return true;
}

void lk_catchup_dirty_states(struct lk_node *node)
{
    if (node->catchup) {
        node->catchup->states_dirty = true;
        arm(node->catchup);
    }
}

void lk_catchup_dirty_owners(struct lk_node *node)
{
    if (node->catchup) {
        node->catchup->owners_dirty = true;
        arm(node->catchup);
    }
}

void lk_catchup_keep_run(struct lk_node *node, const struct lk_run_record *run)
{
    struct lk_catchup *c = node->catchup;
    if (!c) {
        return;
    }
    if (c->run_count == KEPT_RUNS_MAX) {
        struct kept_run *old = &c->runs[c->run_first];
        free(old->output);
        old->output = NULL;
        c->run_first = (c->run_first + 1) % KEPT_RUNS_MAX;
        c->run_count--;
    }
    struct kept_run *k = &c->runs[(c->run_first + c->run_count) % KEPT_RUNS_MAX];
    k->rec = *run;
    /* The output's tail is what explains a failure; it is bounded here. */
    size_t len = run->output_len > RUN_OUTPUT_MAX ? RUN_OUTPUT_MAX : run->output_len;
    const char *from = run->output ? run->output + (run->output_len - len) : "";
    k->output = malloc(len + 1);
    if (k->output) {
        memcpy(k->output, from, len);
        k->output[len] = '\0';
    }
    k->rec.output = k->output;
    k->rec.output_len = k->output ? len : 0;
    c->run_count++;
    arm(c);
}

void lk_catchup_keep_event(struct lk_node *node, const struct lk_event_record *event)
{
    struct lk_catchup *c = node->catchup;
    if (!c || !c->events) {
        return;
    }
    if (c->event_count == KEPT_EVENTS_MAX) {
        c->event_first = (c->event_first + 1) % KEPT_EVENTS_MAX;
        c->event_count--;
    }
    c->events[(c->event_first + c->event_count) % KEPT_EVENTS_MAX] = *event;
    c->event_count++;
    /* An event the database refused is a failure of the disk like any other (once: the
     * events that say so come back here). */
    if (c->writable) {
        (void) lk_catchup_failed(node, NULL);
    }
    arm(c);
}

bool lk_catchup_writable(const struct lk_node *node)
{
    return !node->catchup || node->catchup->writable;
}

int lk_catchup_refuse(const struct lk_node *node, char *err, size_t err_size)
{
    if (lk_catchup_writable(node)) {
        return 0;
    }
    snprintf(err, err_size, "the node database is not writable: %s", node->catchup->why);
    return -EROFS;
}

json_t *lk_catchup_status_json(const struct lk_node *node)
{
    const struct lk_catchup *c = node->catchup;
    if (!c) {
        return json_pack("{s:b}", "writable", true);
    }
    return json_pack("{s:b, s:I, s:s, s:b, s:b, s:I, s:I}", "writable", c->writable, "since",
                     (json_int_t) (c->writable ? 0 : c->since_ms), "why", c->writable ? "" : c->why,
                     "reserve", c->reserve, "dirty",
                     c->states_dirty || c->owners_dirty || c->run_count || c->event_count,
                     "kept_events", (json_int_t) c->event_count, "kept_runs",
                     (json_int_t) c->run_count);
}

/* ---------------------------------------------------------------- the catch-up */

static int write_states(struct lk_catchup *c)
{
    struct lk_node *node = c->node;
    int r = 0;
    for (size_t i = 0; r == 0 && i < node->count; i++) {
        r = lk_store_save_state(node->store, node->name, node->resources[i]);
        if (r == -ENOENT) {
            r = 0; /* no state row here (a definition not applied yet): nothing to catch up */
        }
    }
    return r;
}

static int write_owners(struct lk_catchup *c)
{
    int r = 0;
    for (size_t i = 0; r == 0 && c->owners && i < c->owners->count; i++) {
        json_t *json = lk_owner_json(&c->owners->entries[i].rec);
        char *text = json ? json_dumps(json, JSON_COMPACT) : NULL;
        json_decref(json);
        r = text ? lk_store_save_owner(c->node->store, c->owners->entries[i].tag, text) : -ENOMEM;
        free(text);
    }
    return r;
}

/* Writes what memory holds ahead of the disk: states and records in one transaction,
 * then the runs, then the kept events (oldest first). 0 when all of it is written. */
static int catch_up(struct lk_catchup *c)
{
    struct lk_store *store = c->node->store;
    if (c->states_dirty || c->owners_dirty) {
        int r = lk_store_begin(store);
        if (r == 0 && c->states_dirty) {
            r = write_states(c);
        }
        if (r == 0 && c->owners_dirty) {
            r = write_owners(c);
        }
        if (r == 0) {
            r = lk_store_commit(store);
        }
        if (r < 0) {
            lk_store_rollback(store);
            return r;
        }
        c->states_dirty = c->owners_dirty = false;
    }
    while (c->run_count) {
        struct kept_run *k = &c->runs[c->run_first];
        int r = lk_store_add_run(store, &k->rec);
        if (r < 0) {
            return r;
        }
        free(k->output);
        k->output = NULL;
        c->run_first = (c->run_first + 1) % KEPT_RUNS_MAX;
        c->run_count--;
    }
    while (c->event_count) {
        struct lk_event_record *e = &c->events[c->event_first];
        int r = lk_store_add_event(store, e);
        if (r < 0) {
            return r;
        }
        c->event_first = (c->event_first + 1) % KEPT_EVENTS_MAX;
        c->event_count--;
    }
    return 0;
}

static void on_retry(uv_timer_t *timer)
{
    struct lk_catchup *c = timer->data;
    c->timer_armed = false;
    c->writing = true;
    int r = catch_up(c);
    c->writing = false;
    if (r < 0) {
        if (lk_store_disk_failed(c->node->store)) {
            snprintf(c->why, sizeof(c->why), "%s", lk_store_why(c->node->store));
        } else {
            lk_log(LK_LOG_ERR, "cannot catch up the node database: %s",
                   lk_store_why(c->node->store));
        }
        arm(c);
        return;
    }
    /* What memory held is on disk. The database is writable again once the reserve is
     * back too: until then the disk is still full, or nearly. */
    if (!c->reserve) {
        make_reserve(c, true);
    }
    if (!c->reserve) {
        if (c->writable) {
            not_writable(c, "no room for the disk reserve");
        }
        arm(c);
        return;
    }
    if (!c->writable) {
        c->writable = true;
        unsigned long long secs = (unsigned long long) ((lk_now_ms() - c->since_ms) / 1000);
        c->since_ms = 0;
        lk_log(LK_LOG_NOTICE, "the node database is writable again");
        lk_eventlog_msg(c->node, NULL, LK_MSG_STORE_WRITABLE, secs);
    }
}

static void arm(struct lk_catchup *c)
{
    if (!c->timer_armed && c->node->loop) {
        c->timer_armed = uv_timer_start(&c->timer, on_retry, LK_CATCHUP_RETRY_MS, 0) == 0;
    }
}

int lk_catchup_start(struct lk_node *node, struct lk_owners *owners)
{
    struct lk_catchup *c = calloc(1, sizeof(*c));
    if (!c) {
        return -ENOMEM;
    }
    c->events = calloc(KEPT_EVENTS_MAX, sizeof(*c->events));
    if (!c->events) {
        free(c);
        return -ENOMEM;
    }
    c->node = node;
    c->owners = owners;
    c->writable = true;
    snprintf(c->reserve_path, sizeof(c->reserve_path), "%s/%s", node->root, LK_RESERVE_NAME);
    uv_timer_init(node->loop, &c->timer);
    c->timer.data = c;
    node->catchup = c;
    make_reserve(c, false);
    if (!c->reserve) {
        not_writable(c, "no room for the disk reserve");
    }
    return 0;
}

static void free_catchup(uv_handle_t *handle)
{
    struct lk_catchup *c = handle->data;
    for (size_t i = 0; i < KEPT_RUNS_MAX; i++) {
        free(c->runs[i].output);
    }
    free(c->events);
    free(c);
}

void lk_catchup_stop(struct lk_node *node)
{
    struct lk_catchup *c = node->catchup;
    if (!c) {
        return;
    }
    /* A last try: what memory holds ahead of the disk would be lost with the process (the
     * next start then probes from the older states on disk). */
    if (!c->writable && !c->writing && catch_up(c) < 0) {
        lk_log(LK_LOG_WARNING, "stopping with the node database behind memory: %s",
               lk_store_why(node->store));
    }
    node->catchup = NULL;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *) &c->timer, free_catchup);
}
