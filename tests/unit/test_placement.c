/* Unit tests for placement.c, in the style of test_engine.c: one table of cases, each a
 * cluster as node "a" sees it (the hierarchy's states here, its ownership record, the
 * peers, quorum, fencing, the time), one cluster event, and the plan placement must
 * produce, written exactly as lk_pact_format prints it. One loop runs every case and
 * prints, for each mismatch, the case's name with the expected and the actual lines.
 *
 * A case's view is built by small helpers from compact strings, so a row stays one
 * readable block: "app=ISP db=OSF+busy" for the hierarchy here (the first tag is the
 * one asked about and a root; "^tag" marks another root, "tag=-" a tag not defined
 * here), "app=ISP db=OSU+busy" for what a peer reports, "a c" for whom a peer sees
 * alive. Defaults: this node a (priority 1) with peers b (2) and c (3), all alive,
 * configured, synced, reporting nothing in service, seeing a; quorate; no fence
 * script; one failover per hour; dead time 3 s; the monotonic clock at 100 s. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "placement.h"

#define MAX_TAGS  8
#define MAX_PEERS 6
#define MAX_ACTS  24
#define LINE_LEN  (LK_REASON_MAX + 256)
#define NOW_MS    INT64_C(1700000000000) /* wall clock */
#define MONO_MS   UINT64_C(100000)

/* Peer flags (default: alive, configured, synced, has sent states and its alive set). */
#define DEAD     (1u << 0)
#define WITNESS  (1u << 1)
#define UNSYNCED (1u << 2)
#define NOSTATES (1u << 3)
#define NOSEES   (1u << 4)
#define UNCONF   (1u << 5)

/* Cluster flags. */
#define UNSETTLED (1u << 0)
#define HOLDING   (1u << 1)
#define ORPHAN    (1u << 2)
#define NOQUORUM  (1u << 3)
#define QNONE     (1u << 4)
#define LOSS_OSU  (1u << 5)
#define FENCE     (1u << 6)
#define LOCALONLY (1u << 7) /* the hierarchy is extended to no other node */

struct tpeer {
    const char *name; /* NULL: the default peer list (b, c) */
    uint32_t prio;    /* the hierarchy's priority there; 0 = not extended */
    unsigned flags;
    const char *sees;   /* names it reports alive; NULL: every other node */
    const char *states; /* "app=ISP db=OSU+busy"; NULL: each tag OSU */
    uint64_t dead_since_ms;
};

struct trec {
    const char *owner; /* NULL: no record; "": nobody */
    uint64_t gen, seq;
    bool inactive, left, kept, failed_over;
    const char *tried;  /* "b c" */
    unsigned failovers; /* recent failovers (each a minute apart, the latest 1 min ago) */
    const char *reason; /* NULL: "r" */
};

struct tfence {
    const char *node; /* NULL ends */
    bool running, ok;
    uint64_t failed_ago_ms; /* > 0: failed that long ago */
};

struct pcase {
    const char *name;
    const char *here; /* the hierarchy here; NULL: "app=OSU" */
    struct trec rec;
    struct {
        unsigned flags;
        uint32_t prio; /* here; 0: 1 */
        bool acted;
        uint64_t held;
        bool switchback_auto;
        const char *switch_to;
        bool removing;
        uint32_t max_failovers;  /* 0: 1 */
        uint64_t started_ago_ms; /* 0: long ago */
    } with;
    struct tpeer peers[MAX_PEERS]; /* name NULL ends; all NULL: b and c */
    struct tfence fences[4];
    struct lk_pevent ev;
    int ret;
    const char *plan[MAX_ACTS + 1]; /* NULL-terminated */
};

/* ---------------------------------------------------------------- building a view */

struct built {
    struct lk_placement_view v;
    char names[MAX_TAGS][LK_TAG_MAX + 1];
    struct lk_ptag tags[MAX_TAGS];
    struct lk_ppeer peers[MAX_PEERS];
    struct lk_ppeer_state states[MAX_PEERS][MAX_TAGS];
    char sees_buf[MAX_PEERS][128];
    const char *sees[MAX_PEERS][MAX_PEERS + 1];
    struct lk_pfence fences[4];
};

static const struct tpeer default_peers[] = {{.name = "b", .prio = 2}, {.name = "c", .prio = 3}};

/* "ISP+busy" → state and busy. */
static void parse_state(const char *text, enum lk_state *state, bool *busy, bool *exists)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%s", text);
    char *plus = strchr(buf, '+');
    *busy = plus && strcmp(plus, "+busy") == 0;
    if (plus) {
        *plus = '\0';
    }
    *exists = strcmp(buf, "-") != 0;
    if (*exists && lk_state_from_name(buf, state) < 0) {
        fail_msg("bad state '%s'", buf);
    }
}

static void build_here(struct built *b, const char *here)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", here ? here : "app=OSU");
    size_t n = 0;
    for (char *save = NULL, *w = strtok_r(buf, " ", &save); w && n < MAX_TAGS;
         w = strtok_r(NULL, " ", &save)) {
        struct lk_ptag *t = &b->tags[n];
        bool root = n == 0;
        if (w[0] == '^') {
            root = true;
            w++;
        }
        char *eq = strchr(w, '=');
        assert_non_null(eq);
        *eq = '\0';
        snprintf(b->names[n], sizeof(b->names[n]), "%s", w);
        t->tag = b->names[n];
        t->root = root;
        t->clustered = true;
        parse_state(eq + 1, &t->state, &t->busy, &t->exists);
        n++;
    }
    b->v.hier.tags = b->tags;
    b->v.hier.count = n;
}

static size_t tag_index(const struct built *b, const char *tag)
{
    for (size_t i = 0; i < b->v.hier.count; i++) {
        if (strcmp(b->names[i], tag) == 0) {
            return i;
        }
    }
    fail_msg("no tag '%s' in the hierarchy", tag);
    return 0;
}

static void build_peer(struct built *b, size_t i, const struct tpeer *tp, const char *me)
{
    struct lk_ppeer *p = &b->peers[i];
    p->name = tp->name;
    p->priority = tp->prio;
    p->alive = !(tp->flags & DEAD);
    p->witness = tp->flags & WITNESS;
    p->configured = !(tp->flags & UNCONF);
    p->synced = !(tp->flags & UNSYNCED);
    p->has_states = !(tp->flags & NOSTATES);
    p->has_alive_set = !(tp->flags & NOSEES);
    p->dead_since_ms = tp->dead_since_ms;
    if (p->has_states) {
        for (size_t t = 0; t < b->v.hier.count; t++) {
            b->states[i][t] = (struct lk_ppeer_state){.known = true};
        }
        char buf[256];
        snprintf(buf, sizeof(buf), "%s", tp->states ? tp->states : "");
        for (char *save = NULL, *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
            char *eq = strchr(w, '=');
            assert_non_null(eq);
            *eq = '\0';
            size_t t = tag_index(b, w);
            enum lk_state st = LK_STATE_OSU;
            bool busy, exists;
            parse_state(eq + 1, &st, &busy, &exists);
            b->states[i][t].known = exists;
            b->states[i][t].in_service = exists && lk_state_in_service(st);
            b->states[i][t].busy = busy;
        }
        p->states = b->states[i];
    }
    if (p->has_alive_set) {
        size_t n = 0;
        if (tp->sees) {
            snprintf(b->sees_buf[i], sizeof(b->sees_buf[i]), "%s", tp->sees);
            for (char *save = NULL, *w = strtok_r(b->sees_buf[i], " ", &save); w && n < MAX_PEERS;
                 w = strtok_r(NULL, " ", &save)) {
                b->sees[i][n++] = w;
            }
        } else {
            /* This node only. */
            b->sees[i][n++] = me;
        }
        p->alive_set = b->sees[i];
        p->alive_count = n;
    }
}

static void build(struct built *b, const struct pcase *c)
{
    memset(b, 0, sizeof(*b));
    struct lk_placement_view *v = &b->v;
    unsigned f = c->with.flags;
    v->node = "a";
    v->settled = !(f & UNSETTLED);
    v->holding = f & HOLDING;
    v->orphan_check = f & ORPHAN;
    v->quorate = !(f & NOQUORUM);
    v->quorum_none = f & QNONE;
    v->quorum_loss_osu = f & LOSS_OSU;
    v->fence_script = f & FENCE;
    v->max_failovers = c->with.max_failovers ? c->with.max_failovers : 1;
    v->failover_window_s = 3600;
    v->dead_ms = 3000;
    v->now_ms = NOW_MS;
    v->mono_ms = MONO_MS;
    v->started_ms = c->with.started_ago_ms ? MONO_MS - c->with.started_ago_ms : 0;

    build_here(b, c->here);
    struct lk_phier *h = &v->hier;
    for (size_t i = 0; i < h->count; i++) {
        b->tags[i].clustered = !(f & LOCALONLY);
    }
    h->priority = c->with.prio ? c->with.prio : 1;
    h->acted = c->with.acted;
    h->held_gen = c->with.held;
    h->has_root = true;
    h->switchback = c->with.switchback_auto ? LK_SWITCHBACK_AUTOMATIC : LK_SWITCHBACK_INTELLIGENT;
    if (c->with.switch_to) {
        h->switch_tag = b->names[0];
        h->switch_to = c->with.switch_to;
    }
    if (c->with.removing) {
        h->removing_tag = b->names[0];
    }
    if (c->rec.owner) {
        struct lk_owner_rec *r = &h->rec;
        h->has_rec = true;
        r->gen = c->rec.gen ? c->rec.gen : 1;
        r->seq = c->rec.seq;
        snprintf(r->owner, sizeof(r->owner), "%s", c->rec.owner);
        r->active = !c->rec.inactive;
        r->left = c->rec.left;
        r->kept = c->rec.kept;
        r->failed_over = c->rec.failed_over;
        snprintf(r->reason, sizeof(r->reason), "%s", c->rec.reason ? c->rec.reason : "r");
        char buf[128];
        snprintf(buf, sizeof(buf), "%s", c->rec.tried ? c->rec.tried : "");
        for (char *save = NULL, *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
            lk_owner_add_tried(r, w);
        }
        for (unsigned i = c->rec.failovers; i > 0; i--) {
            lk_owner_note_failover(r, NOW_MS - (int64_t) i * 60000);
        }
    }

    const struct tpeer *tp = c->peers[0].name ? c->peers : default_peers;
    size_t n = c->peers[0].name ? MAX_PEERS : sizeof(default_peers) / sizeof(default_peers[0]);
    size_t count = 0;
    for (size_t i = 0; i < n && tp[i].name; i++) {
        build_peer(b, count++, &tp[i], v->node);
    }
    v->peers = b->peers;
    v->peer_count = count;
    for (size_t i = 0; i < 4 && c->fences[i].node; i++) {
        b->fences[i] = (struct lk_pfence){
                .node = c->fences[i].node,
                .running = c->fences[i].running,
                .ok = c->fences[i].ok,
                .failed_at_ms =
                        c->fences[i].failed_ago_ms ? MONO_MS - c->fences[i].failed_ago_ms : 0,
        };
        v->fence_count = i + 1;
    }
    v->fences = b->fences;
}

/* ---------------------------------------------------------------- the table */

#define R(...)      .rec = {__VA_ARGS__}
#define WITH(...)   .with = {__VA_ARGS__}
#define PEERS(...)  .peers = {__VA_ARGS__}
#define FENCES(...) .fences = {__VA_ARGS__}
#define EV(...)     .ev = {.type = __VA_ARGS__}
#define PLAN(...)   .plan = {__VA_ARGS__, NULL}
#define NOTHING     .plan = {NULL}
#define B_DEAD                                                                                     \
    {                                                                                              \
        .name = "b", .prio = 2, .flags = DEAD, .dead_since_ms = 10000                              \
    }
#define C_SEES_A                                                                                   \
    {                                                                                              \
        .name = "c", .prio = 3, .sees = "a"                                                        \
    }

/* What a takeover from b writes and logs (generation gen). */
#define TAKEOVER(gen)                                                                              \
    "WRITE_REC gen=" #gen " seq=0 owner=a active failed_over tried=- failovers=1 reason=node b "   \
    "is dead",                                                                                     \
            "LOG app 1621 INFO taking the hierarchy over (generation " #gen "): node b is dead"

static const struct pcase cases[] = {
        /* ---- errors */
        {"error/empty-hierarchy", .here = "", EV(LK_PEV_RECONCILE), .ret = -EINVAL, NOTHING},
        {"error/switch-message-without-target", EV(LK_PEV_SWITCH_MESSAGE, .from = "b"),
         .ret = -EINVAL, NOTHING},

        /* ---- reconcile: no record yet */
        {"reconcile/no-record-out-of-service", EV(LK_PEV_RECONCILE), NOTHING},
        {"reconcile/no-record-in-service", .here = "app=ISP", EV(LK_PEV_RECONCILE),
         PLAN("WRITE_REC gen=1 seq=0 owner=a active tried=- failovers=0 reason=in service on a",
              "MARK_ACTED")},
        {"reconcile/no-record-not-clustered", .here = "app=ISP", WITH(.flags = LOCALONLY),
         EV(LK_PEV_RECONCILE), NOTHING},
        {"reconcile/busy-here-waits", .here = "app=OSU+busy", R(.owner = "a"), EV(LK_PEV_RECONCILE),
         NOTHING},

        /* ---- reconcile: someone else owns it */
        {"reconcile/newer-generation-elsewhere-removes", .here = "app=ISP db=ISP",
         R(.owner = "b", .gen = 3), WITH(.held = 2), EV(LK_PEV_RECONCILE),
         PLAN("LOG app 1623 ERROR node b holds the hierarchy with generation 3 (ours 2): "
              "removing it here",
              "REMOVE app whole")},
        {"reconcile/removed-by-the-cluster", .here = "app=ISP",
         R(.owner = "", .gen = 4, .inactive = true, .reason = "failover limit reached"),
         EV(LK_PEV_RECONCILE),
         PLAN("LOG app 1628 ERROR the cluster left the hierarchy out of service (generation 4: "
              "failover limit reached): removing it here",
              "REMOVE app whole")},
        {"reconcile/owner-alive-nothing", R(.owner = "b", .gen = 2), EV(LK_PEV_RECONCILE), NOTHING},
        {"reconcile/takeover-owner-dead", R(.owner = "b", .gen = 2), PEERS(B_DEAD, C_SEES_A),
         EV(LK_PEV_RECONCILE), PLAN(TAKEOVER(3))},
        {"reconcile/takeover-waits-while-a-peer-hears-the-owner", R(.owner = "b", .gen = 2),
         PEERS(B_DEAD, {.name = "c", .prio = 3, .sees = "a b"}), EV(LK_PEV_RECONCILE),
         PLAN("WAIT")},
        {"reconcile/takeover-better-node-does-it", R(.owner = "b", .gen = 2), WITH(.prio = 4),
         PEERS(B_DEAD, C_SEES_A), EV(LK_PEV_RECONCILE), NOTHING},
        {"reconcile/takeover-not-while-a-peer-holds-it", R(.owner = "b", .gen = 2),
         PEERS(B_DEAD, {.name = "c", .prio = 3, .sees = "a", .states = "app=ISP"}),
         EV(LK_PEV_RECONCILE), NOTHING},
        {"reconcile/takeover-waits-for-a-fresh-picture", R(.owner = "b", .gen = 2),
         PEERS(B_DEAD, {.name = "c", .prio = 3, .flags = UNSYNCED, .sees = "a"}),
         EV(LK_PEV_RECONCILE), PLAN("WAIT")},
        {"reconcile/takeover-fences-first", R(.owner = "b", .gen = 2), WITH(.flags = FENCE),
         PEERS(B_DEAD, C_SEES_A), EV(LK_PEV_RECONCILE), PLAN("FENCE b", "WAIT")},
        {"reconcile/takeover-fence-running", R(.owner = "b", .gen = 2), WITH(.flags = FENCE),
         PEERS(B_DEAD, C_SEES_A), FENCES({.node = "b", .running = true}), EV(LK_PEV_RECONCILE),
         PLAN("WAIT")},
        {"reconcile/takeover-fence-failed-pauses", R(.owner = "b", .gen = 2), WITH(.flags = FENCE),
         PEERS(B_DEAD, C_SEES_A), FENCES({.node = "b", .failed_ago_ms = 1000}),
         EV(LK_PEV_RECONCILE), PLAN("WAIT")},
        {"reconcile/takeover-fence-failed-retries", R(.owner = "b", .gen = 2), WITH(.flags = FENCE),
         PEERS(B_DEAD, C_SEES_A), FENCES({.node = "b", .failed_ago_ms = 6000}),
         EV(LK_PEV_RECONCILE), PLAN("FENCE b", "WAIT")},
        {"reconcile/takeover-after-fence-ok", R(.owner = "b", .gen = 2), WITH(.flags = FENCE),
         PEERS(B_DEAD, C_SEES_A), FENCES({.node = "b", .ok = true}), EV(LK_PEV_RECONCILE),
         PLAN(TAKEOVER(3))},
        {"reconcile/takeover-self-fence-window", R(.owner = "b", .gen = 2),
         PEERS({.name = "b", .prio = 2, .flags = DEAD, .dead_since_ms = MONO_MS - 1000}, C_SEES_A),
         EV(LK_PEV_RECONCILE), PLAN("WAIT")},
        {"reconcile/takeover-no-self-fence-window-with-quorum-none", R(.owner = "b", .gen = 2),
         WITH(.flags = QNONE | NOQUORUM),
         PEERS({.name = "b", .prio = 2, .flags = DEAD, .dead_since_ms = MONO_MS - 1000}, C_SEES_A),
         EV(LK_PEV_RECONCILE), PLAN(TAKEOVER(3))},
        {"reconcile/takeover-needs-quorum", R(.owner = "b", .gen = 2), WITH(.flags = NOQUORUM),
         PEERS(B_DEAD, C_SEES_A), EV(LK_PEV_RECONCILE), NOTHING},
        {"reconcile/takeover-not-while-holding", R(.owner = "b", .gen = 2), WITH(.flags = HOLDING),
         PEERS(B_DEAD, C_SEES_A), EV(LK_PEV_RECONCILE), NOTHING},
        {"reconcile/owner-left-is-not-a-failure", R(.owner = "b", .gen = 2, .left = true),
         PEERS(B_DEAD, C_SEES_A), EV(LK_PEV_RECONCILE), NOTHING},
        {"reconcile/orphan-taken-over", R(.owner = "b", .gen = 2, .left = true),
         WITH(.flags = ORPHAN), PEERS(B_DEAD, C_SEES_A), EV(LK_PEV_RECONCILE),
         PLAN("WRITE_REC gen=3 seq=0 owner=a active tried=- failovers=1 reason=orphaned: b "
              "stopped and nobody holds it",
              "LOG app 1627 WARNING hierarchy is in service nowhere: bringing it in service here",
              "LOG app 1621 INFO taking the hierarchy over (generation 3): orphaned: b stopped "
              "and nobody holds it")},
        {"reconcile/owner-kept-running-waits", R(.owner = "b", .gen = 2, .kept = true),
         PEERS(B_DEAD, C_SEES_A), EV(LK_PEV_RECONCILE), NOTHING},
        {"reconcile/takeover-failover-limit", .here = "app=OSU db=OSF",
         R(.owner = "b", .gen = 2, .failovers = 1), PEERS(B_DEAD, C_SEES_A), EV(LK_PEV_RECONCILE),
         PLAN("LOG app 1622 ERROR 1 failovers within 3600 s: left out of service instead of "
              "bouncing between nodes",
              "WRITE_REC gen=3 seq=0 owner=- inactive tried=- failovers=1 reason=failover limit "
              "reached (1 within 3600 s)",
              "FAIL_HERE app failover limit reached (1 within 3600 s)")},

        /* ---- reconcile: this node owns it */
        {"reconcile/owned-restores", R(.owner = "a"), EV(LK_PEV_RECONCILE),
         PLAN("MARK_ACTED", "RESTORE app")},
        {"reconcile/owned-restores-every-root", .here = "app=OSU db=OSU ^web=OSU", R(.owner = "a"),
         EV(LK_PEV_RECONCILE), PLAN("MARK_ACTED", "RESTORE app", "RESTORE web")},
        {"reconcile/owned-in-service-marks", .here = "app=ISP", R(.owner = "a"),
         EV(LK_PEV_RECONCILE), PLAN("MARK_ACTED")},
        {"reconcile/owned-inactive-stays-out", R(.owner = "a", .inactive = true),
         EV(LK_PEV_RECONCILE), NOTHING},
        {"reconcile/owned-not-while-holding", R(.owner = "a"), WITH(.flags = HOLDING),
         EV(LK_PEV_RECONCILE), NOTHING},
        {"reconcile/owned-waits-for-a-fresh-picture", R(.owner = "a"),
         PEERS({.name = "b", .prio = 2, .flags = NOSTATES}, {.name = "c", .prio = 3}),
         EV(LK_PEV_RECONCILE), PLAN("WAIT")},
        {"reconcile/owned-back-after-lkstop", R(.owner = "a", .gen = 2, .left = true),
         EV(LK_PEV_RECONCILE),
         PLAN("WRITE_REC gen=2 seq=1 owner=a active tried=- failovers=0 reason=r")},
        {"reconcile/failed-here-fails-over", .here = "app=OSU db=OSF", R(.owner = "a", .gen = 2),
         WITH(.acted = true), EV(LK_PEV_RECONCILE),
         PLAN("LOG app 1620 WARNING hierarchy failing over from a to b: db failed on a",
              "WRITE_REC gen=3 seq=0 owner=b active failed_over tried=a failovers=1 reason=db "
              "failed on a")},
        {"reconcile/failed-here-no-other-node", .here = "app=OSF", R(.owner = "a", .gen = 2),
         WITH(.acted = true),
         PEERS({.name = "b", .prio = 0}, {.name = "c", .prio = 3, .flags = DEAD}),
         EV(LK_PEV_RECONCILE),
         PLAN("LOG app 1624 ERROR no live node can take the hierarchy (app failed on a): left "
              "out of service",
              "WRITE_REC gen=2 seq=1 owner=a inactive tried=a failovers=0 reason=app failed on a; "
              "no other node to try")},
        {"reconcile/failed-here-not-acted-restores", .here = "app=OSF", R(.owner = "a", .gen = 2),
         EV(LK_PEV_RECONCILE), PLAN("MARK_ACTED", "RESTORE app")},
        {"reconcile/no-quorum-osu-removes", .here = "app=ISP", R(.owner = "a"),
         WITH(.flags = NOQUORUM | LOSS_OSU), EV(LK_PEV_RECONCILE),
         PLAN("MARK_ACTED", "REMOVE app whole")},
        {"reconcile/no-quorum-keeps-running", .here = "app=ISP", R(.owner = "a"),
         WITH(.flags = NOQUORUM), EV(LK_PEV_RECONCILE), PLAN("MARK_ACTED")},
        {"reconcile/switchover-removed-hands-record", R(.owner = "a", .gen = 2),
         WITH(.switch_to = "b"), EV(LK_PEV_RECONCILE),
         PLAN("DROP_SWITCH app",
              "WRITE_REC gen=3 seq=0 owner=b active tried=- failovers=0 reason=switchover from a")},
        {"reconcile/switchover-still-in-service-removes", .here = "app=ISP",
         R(.owner = "a", .gen = 2), WITH(.switch_to = "b"), EV(LK_PEV_RECONCILE),
         PLAN("MARK_ACTED", "REMOVE app whole")},
        {"reconcile/switchover-remove-failed", .here = "app=OSF", R(.owner = "a", .gen = 2),
         WITH(.switch_to = "b"), EV(LK_PEV_RECONCILE),
         PLAN("DROP_SWITCH app",
              "LOG app 1624 ERROR no live node can take the hierarchy (the switchover stopped: "
              "remove failed here): left out of service",
              "WRITE_REC gen=2 seq=1 owner=a inactive tried=- failovers=0 reason=switchover to b: "
              "remove failed on a")},
        {"reconcile/operator-remove-done", R(.owner = "a", .gen = 2), WITH(.removing = true),
         EV(LK_PEV_RECONCILE),
         PLAN("DROP_REMOVING app", "WRITE_REC gen=2 seq=1 owner=a inactive tried=- failovers=0 "
                                   "reason=removed by an operator on a")},
        {"reconcile/switchback-to-a-better-node", .here = "app=ISP",
         R(.owner = "a", .gen = 3, .failed_over = true), WITH(.prio = 3, .switchback_auto = true),
         PEERS({.name = "b", .prio = 1}, {.name = "c", .prio = 2}), EV(LK_PEV_RECONCILE),
         PLAN("MARK_ACTED", "LOG app 1626 INFO switchback automatic: returning the hierarchy to b",
              "START_SWITCH app to=b", "LOG app 1625 INFO switchover from a to b requested",
              "REMOVE app whole")},
        {"reconcile/no-switchback-after-an-operator-switchover", .here = "app=ISP",
         R(.owner = "a", .gen = 3), WITH(.prio = 3, .switchback_auto = true),
         PEERS({.name = "b", .prio = 1}, {.name = "c", .prio = 2}), EV(LK_PEV_RECONCILE),
         PLAN("MARK_ACTED")},

        /* ---- operator restore */
        {"restore/unsettled", EV(LK_PEV_RESTORE_REQUESTED, .target = "a", .target_priority = 1),
         WITH(.flags = UNSETTLED),
         PLAN("VERDICT REFUSED this node is still joining the cluster (waiting for its peers' "
              "data); try again in a moment")},
        {"restore/not-extended", EV(LK_PEV_RESTORE_REQUESTED, .target = "d"),
         PLAN("VERDICT REFUSED the hierarchy of 'app' is not extended to node 'd' (lkcli "
              "resource extend)")},
        {"restore/target-dead", PEERS(B_DEAD, C_SEES_A),
         EV(LK_PEV_RESTORE_REQUESTED, .target = "b", .target_priority = 2),
         PLAN("VERDICT REFUSED node 'b' is not ALIVE")},
        {"restore/no-quorum", WITH(.flags = NOQUORUM),
         EV(LK_PEV_RESTORE_REQUESTED, .target = "a", .target_priority = 1),
         PLAN("VERDICT REFUSED this node has no quorum: nothing is brought in service")},
        {"restore/kept-elsewhere", R(.owner = "b", .kept = true), PEERS(B_DEAD, C_SEES_A),
         EV(LK_PEV_RESTORE_REQUESTED, .target = "a", .target_priority = 1),
         PLAN("VERDICT REFUSED node 'b' stopped with lkstop -f and its applications may still "
              "run there: start lkd on 'b' first (or stop them there by hand and restore on "
              "'b')")},
        {"restore/in-service-here", .here = "app=ISP", R(.owner = "a"),
         EV(LK_PEV_RESTORE_REQUESTED, .target = "a", .target_priority = 1), PLAN("VERDICT LOCAL")},
        {"restore/switchover-from-here", .here = "app=ISP", R(.owner = "a"),
         EV(LK_PEV_RESTORE_REQUESTED, .target = "b", .target_priority = 2),
         PLAN("START_SWITCH app to=b", "LOG app 1625 INFO switchover from a to b requested",
              "REMOVE app whole", "VERDICT HANDLED")},
        {"restore/busy-here", .here = "app=ISP+busy", R(.owner = "a"),
         EV(LK_PEV_RESTORE_REQUESTED, .target = "b", .target_priority = 2),
         PLAN("VERDICT REFUSED the hierarchy of 'app' is busy here; try again when it is idle")},
        {"restore/asks-the-holder", R(.owner = "b"),
         PEERS({.name = "b", .prio = 2, .states = "app=ISP"}, {.name = "c", .prio = 3}),
         EV(LK_PEV_RESTORE_REQUESTED, .target = "c", .target_priority = 3),
         PLAN("SEND_SWITCH b app to=c", "VERDICT HANDLED")},
        {"restore/already-on-the-target", R(.owner = "b"),
         PEERS({.name = "b", .prio = 2, .states = "app=ISP"}, {.name = "c", .prio = 3}),
         EV(LK_PEV_RESTORE_REQUESTED, .target = "b", .target_priority = 2),
         PLAN("VERDICT HANDLED")},
        {"restore/here-first-record",
         EV(LK_PEV_RESTORE_REQUESTED, .target = "a", .target_priority = 1),
         PLAN("WRITE_REC gen=1 seq=0 owner=a active tried=- failovers=0 reason=restore requested "
              "on a",
              "MARK_ACTED", "VERDICT LOCAL")},
        {"restore/elsewhere-new-generation", R(.owner = "a", .gen = 4, .inactive = true),
         EV(LK_PEV_RESTORE_REQUESTED, .target = "b", .target_priority = 2),
         PLAN("WRITE_REC gen=5 seq=0 owner=b active tried=- failovers=0 reason=restore requested "
              "on a",
              "VERDICT HANDLED")},
        {"restore/same-owner-raises-sequence", R(.owner = "a", .gen = 4, .seq = 2),
         EV(LK_PEV_RESTORE_REQUESTED, .target = "a", .target_priority = 1),
         PLAN("WRITE_REC gen=4 seq=3 owner=a active tried=- failovers=0 reason=restore requested "
              "on a",
              "MARK_ACTED", "VERDICT LOCAL")},

        /* ---- operator remove */
        {"remove/forwarded-to-the-holder", R(.owner = "b"),
         PEERS({.name = "b", .prio = 2, .states = "app=ISP"}, {.name = "c", .prio = 3}),
         EV(LK_PEV_REMOVE_REQUESTED, .whole = true),
         PLAN("SEND_REMOVE b app whole", "VERDICT HANDLED")},
        {"remove/here", .here = "app=ISP", R(.owner = "a"), EV(LK_PEV_REMOVE_REQUESTED),
         PLAN("NOTE_REMOVING app", "VERDICT LOCAL")},

        /* ---- peers' requests */
        {"switch-message/in-service-here", .here = "app=ISP", R(.owner = "a"),
         EV(LK_PEV_SWITCH_MESSAGE, .from = "c", .target = "b", .target_priority = 2),
         PLAN("START_SWITCH app to=b", "LOG app 1625 INFO switchover from a to b requested",
              "REMOVE app whole")},
        {"switch-message/out-of-service-ours", R(.owner = "a", .gen = 2),
         EV(LK_PEV_SWITCH_MESSAGE, .from = "c", .target = "b", .target_priority = 2),
         PLAN("WRITE_REC gen=3 seq=0 owner=b active tried=- failovers=0 reason=switchover asked "
              "by c")},
        {"switch-message/to-this-node-ignored", .here = "app=ISP", R(.owner = "a"),
         EV(LK_PEV_SWITCH_MESSAGE, .from = "c", .target = "a", .target_priority = 1), NOTHING},
        {"remove-message/removes", .here = "app=ISP", R(.owner = "a"),
         EV(LK_PEV_REMOVE_MESSAGE, .from = "b"), PLAN("NOTE_REMOVING app", "REMOVE app")},

        /* ---- lkstop --switchover, lkstop */
        {"switch-all/unsettled", WITH(.flags = UNSETTLED), EV(LK_PEV_SWITCH_ALL),
         PLAN("VERDICT REFUSED this node is still joining the cluster; try again in a moment")},
        {"switch-all/hands-on", .here = "app=ISP", R(.owner = "a"), EV(LK_PEV_SWITCH_ALL),
         PLAN("START_SWITCH app to=b", "LOG app 1625 INFO switchover from a to b requested",
              "REMOVE app whole", "VERDICT HANDLED")},
        {"switch-all/no-backup-removes", .here = "app=ISP", R(.owner = "a"),
         PEERS({.name = "b", .prio = 0}, {.name = "c", .prio = 3, .flags = DEAD}),
         EV(LK_PEV_SWITCH_ALL), PLAN("NOTE_REMOVING app", "REMOVE app whole", "VERDICT HANDLED")},
        {"leave/running", .here = "app=ISP", R(.owner = "a", .gen = 2),
         EV(LK_PEV_LEAVE, .running = true),
         PLAN("WRITE_REC gen=2 seq=1 owner=a active left kept tried=- failovers=0 reason=a "
              "stopped")},
        {"leave/not-ours", .here = "app=OSU", R(.owner = "b", .gen = 2), EV(LK_PEV_LEAVE), NOTHING},
};

/* ---------------------------------------------------------------- running */

static bool run_case(const struct pcase *c)
{
    struct built *b = calloc(1, sizeof(*b));
    assert_non_null(b);
    build(b, c);
    LK_CLEANUP_PPLAN struct lk_pplan plan = {0};
    int r = lk_placement_decide(&b->v, &c->ev, &plan);
    bool ok = r == c->ret;
    size_t expected = 0;
    while (c->plan[expected]) {
        expected++;
    }
    ok &= plan.count == expected;
    char line[LINE_LEN];
    for (size_t i = 0; ok && i < plan.count; i++) {
        ok &= strcmp(lk_pact_format(&plan.acts[i], line, sizeof(line)), c->plan[i]) == 0;
    }
    if (!ok) {
        print_message("case %s: returned %d (expected %d)\n  expected:\n", c->name, r, c->ret);
        for (size_t i = 0; i < expected; i++) {
            print_message("    %s\n", c->plan[i]);
        }
        print_message("  actual:\n");
        for (size_t i = 0; i < plan.count; i++) {
            print_message("    %s\n", lk_pact_format(&plan.acts[i], line, sizeof(line)));
        }
    }
    free(b);
    return ok;
}

static void lk_placement_decide__table(void **state)
{
    (void) state;
    size_t failed = 0, n = sizeof(cases) / sizeof(cases[0]);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcmp(cases[i].name, cases[j].name) == 0) {
                fail_msg("two cases are named '%s'", cases[i].name);
            }
        }
        if (!run_case(&cases[i])) {
            failed++;
        }
    }
    print_message("%zu placement cases\n", n);
    if (failed) {
        fail_msg("%zu of %zu placement cases failed", failed, n);
    }
}

/* The engine's questions. */
static void lk_placement_queries__backup_and_owner(void **state)
{
    (void) state;
    struct built *b = calloc(1, sizeof(*b));
    assert_non_null(b);
    struct pcase c = {.name = "q", R(.owner = "b")};
    build(b, &c);
    assert_true(lk_placement_has_backup(&b->v));
    assert_true(lk_placement_owned_elsewhere(&b->v));
    struct pcase lone = {.name = "q",
                         R(.owner = "a"),
                         PEERS({.name = "b", .prio = 0}, {.name = "c", .prio = 3, .flags = DEAD})};
    build(b, &lone);
    assert_false(lk_placement_has_backup(&b->v));
    assert_false(lk_placement_owned_elsewhere(&b->v));
    free(b);
}

/* The decision log's view line names the facts a case is built from. */
static void lk_placement_view_format__names_the_facts(void **state)
{
    (void) state;
    struct built *b = calloc(1, sizeof(*b));
    assert_non_null(b);
    struct pcase c = {.name = "f",
                      .here = "app=ISP db=OSF+busy",
                      R(.owner = "b", .gen = 7),
                      PEERS(B_DEAD, C_SEES_A),
                      FENCES({.node = "b", .running = true})};
    build(b, &c);
    char buf[4096];
    lk_placement_view_format(&b->v, buf, sizeof(buf));
    assert_non_null(strstr(buf, "node=a"));
    assert_non_null(strstr(buf, "db=OSF+busy"));
    assert_non_null(strstr(buf, "rec=g7.s0 owner=b active"));
    assert_non_null(strstr(buf, "peer b dead"));
    assert_non_null(strstr(buf, "fence b running"));
    char tiny[16];
    lk_placement_view_format(&b->v, tiny, sizeof(tiny));
    assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_placement_decide__table),
            cmocka_unit_test(lk_placement_queries__backup_and_owner),
            cmocka_unit_test(lk_placement_view_format__names_the_facts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
