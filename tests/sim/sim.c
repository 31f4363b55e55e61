/* The simulator's world (docs/SIMULATOR.md): a virtual monotonic clock, one event queue
 * that orders everything (time, then insertion), a seeded PRNG (splitmix64) that draws
 * every delay, outcome and fault, the links between nodes (per-direction FIFO delivery
 * with delay; loss only when a link breaks), the runner (scripts that succeed, fail, hang
 * until their timeout or leave the application half up), the applications themselves (one
 * "process" per node and resource, which the observer sees), the fence hook, crashes,
 * freezes, operator commands, and the invariants checked after every step.
 *
 * Events enter from the queue only; each one is one step. The nodes' decisions are made
 * by shell.c over the real deciders of src/lib. It must never read the real clock or any
 * other source of nondeterminism: the same seed and options reproduce the same run. */
#include "sim.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sim_world W;

const char *const sim_tags[SIM_RES] = {"app", "db", "ip"};
const struct lk_dep sim_deps[] = {{"app", "ip"}};
const size_t sim_dep_count = 1;

int sim_hier_of(int res)
{
    return res == 1 ? 1 : 0;
}

uint32_t sim_prio(int hier, int node)
{
    /* Hierarchy 0 prefers n1, n2, ...; hierarchy 1 prefers the last node first. */
    int n = W.cfg.nodes;
    return hier == 0 ? (uint32_t) node + 1 : (uint32_t) ((n - 1 - node + n) % n) + 1;
}

uint64_t sim_dead_us(void)
{
    return W.cfg.hb_interval_ms * W.cfg.hb_misses * SIM_MS;
}

/* ------------------------------------------------------------------ PRNG */

uint64_t sim_rand(void)
{
    uint64_t z = (W.rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t sim_range(uint64_t lo, uint64_t hi)
{
    return lo + sim_rand() % (hi - lo + 1);
}

bool sim_chance(unsigned percent)
{
    return sim_rand() % 100 < percent;
}

/* ------------------------------------------------------------------ trace */

#define RING 120
static char ring[RING][2048];
static size_t ring_head;
static bool ring_mode;

void sim_trace(const struct sim_node *n, const char *fmt, ...)
{
    if (!W.trace) {
        return;
    }
    char line[2048];
    int len = snprintf(line, sizeof(line), "%10.3f %-3s ", (double) W.now / 1e6, n ? n->name : "-");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + len, sizeof(line) - (size_t) len, fmt, ap);
    va_end(ap);
    if (ring_mode) {
        snprintf(ring[ring_head++ % RING], sizeof(ring[0]), "%s", line);
    } else {
        printf("%s\n", line);
    }
}

/* ------------------------------------------------------------------ the event queue */

enum ev_type {
    E_KICK,
    E_TICK,
    E_HB,
    E_DELIVER,
    E_RUN_DONE,
    E_CHECK_DUE,
    E_CHECK_DONE,
    E_FENCE_DONE,
    E_FAULT,
    E_RESUME,
    E_RESTART,
    E_PHASE,
    E_COUNT,
};

static const char *const ev_names[E_COUNT] = {
        "kick",       "tick",       "heartbeat", "deliver", "run-done", "check-due",
        "check-done", "fence-done", "fault",     "resume",  "restart",  "phase",
};

struct ev {
    uint64_t t, seq;
    enum ev_type type;
    int node;
    uint32_t inc;
    int res;
    int target;
    enum lk_action action;
    uint64_t run_id;
    uint32_t power; /* power cycles of node when a script started */
    bool effect_done;
    bool ok;
    struct lk_result result;
    struct sim_msg *msg;
};

static struct ev *heap;
static size_t heap_n, heap_cap;
static uint64_t heap_seq;
static uint32_t power_cycles[SIM_NODES_MAX];

static bool ev_before(const struct ev *a, const struct ev *b)
{
    return a->t != b->t ? a->t < b->t : a->seq < b->seq;
}

static void push(struct ev e)
{
    if (heap_n == heap_cap) {
        heap_cap = heap_cap ? 2 * heap_cap : 1024;
        heap = realloc(heap, heap_cap * sizeof(*heap));
        if (!heap) {
            abort();
        }
    }
    e.seq = heap_seq++;
    size_t i = heap_n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!ev_before(&e, &heap[p])) {
            break;
        }
        heap[i] = heap[p];
        i = p;
    }
    heap[i] = e;
}

static struct ev pop(void)
{
    struct ev top = heap[0];
    struct ev last = heap[--heap_n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= heap_n) {
            break;
        }
        if (c + 1 < heap_n && ev_before(&heap[c + 1], &heap[c])) {
            c++;
        }
        if (!ev_before(&heap[c], &last)) {
            break;
        }
        heap[i] = heap[c];
        i = c;
    }
    if (heap_n > 0) {
        heap[i] = last;
    }
    return top;
}

static void at(uint64_t t, enum ev_type type, struct sim_node *n)
{
    push((struct ev){.t = t, .type = type, .node = n ? n->idx : -1, .inc = n ? n->inc : 0});
}

/* ------------------------------------------------------------------ the shell's effects */

void sim_kick(struct sim_node *n)
{
    if (!n->kick_queued) {
        n->kick_queued = true;
        at(W.now, E_KICK, n);
    }
}

void sim_send(struct sim_node *n, int to, struct sim_msg *msg)
{
    int from = n->idx;
    msg->from = from;
    msg->to = to;
    W.op_forwarded |= msg->type == MSG_SWITCH; /* only an operator's restore sends one */
    if (!W.link[from][to] || W.node[from].daemon != DAEMON_UP) {
        free(msg);
        return;
    }
    msg->epoch = W.epoch[from][to];
    uint64_t delay = sim_chance(95) ? sim_range(200, 3000) : sim_range(3000, 80000);
    uint64_t t = W.now + delay;
    if (t < W.last_delivery[from][to]) {
        t = W.last_delivery[from][to]; /* one connection: in order */
    }
    W.last_delivery[from][to] = t;
    push((struct ev){.t = t, .type = E_DELIVER, .node = to, .inc = W.node[to].inc, .msg = msg});
}

static void failure_event(int hier)
{
    size_t *c = &W.failure_count[hier];
    if (*c == 64) {
        memmove(W.failures_at[hier], W.failures_at[hier] + 1, 63 * sizeof(uint64_t));
        (*c)--;
    }
    W.failures_at[hier][(*c)++] = W.now;
    size_t recent = 0;
    for (size_t i = 0; i < *c; i++) {
        recent += W.now - W.failures_at[hier][i] <= W.cfg.failover_window_ms * SIM_MS;
    }
    if (recent > W.cfg.max_failovers) {
        W.limit_excused[hier] = true;
    }
}

/* Whether an action is pending on node n on a resource of the hierarchy. */
static bool hier_busy(const struct sim_node *n, int hier)
{
    for (int r = 0; r < SIM_RES; r++) {
        if (sim_hier_of(r) == hier && n->res[r].pending != LK_PENDING_NONE) {
            return true;
        }
    }
    return false;
}

static void operator_fresh(int hier)
{
    /* A failure of just before the operator's act may be found only after it (by a check,
     * or once the dead time passed): the product rightly counts it in the fresh budget. */
    size_t keep = 0;
    for (size_t i = 0; i < W.failure_count[hier]; i++) {
        if (W.now - W.failures_at[hier][i] <= sim_dead_us() + 2 * SIM_S) {
            W.failures_at[hier][keep++] = W.failures_at[hier][i];
        }
    }
    W.failure_count[hier] = keep;
    W.limit_excused[hier] = false;
}

/* Whether no other node whose daemon runs can hear node i (no link from i to it). */
static bool unheard(int i)
{
    for (int k = 0; k < W.cfg.nodes; k++) {
        if (k != i && W.node[k].daemon == DAEMON_UP && W.link[i][k]) {
            return false;
        }
    }
    return true;
}

/* Whether node i is cut off from a peer whose daemon runs: an operator's act written there
 * may lose to that peer's newer generation at the heal (records are ordered by generation),
 * so it does not start the budget afresh for the model. */
static bool cut_off(int i)
{
    for (int k = 0; k < W.cfg.nodes; k++) {
        if (k != i && W.node[k].daemon == DAEMON_UP && !(W.link[i][k] && W.link[k][i])) {
            return true;
        }
    }
    return false;
}

/* The greatest record of hierarchy h in node k's store (NULL: none), as shell.c merges. */
static const struct lk_owner_rec *stored_rec(int k, int h, uint32_t *prio)
{
    const struct lk_owner_rec *best = NULL;
    for (int r = 0; r < SIM_RES; r++) {
        const struct sim_own *o = &W.node[k].own[r];
        if (sim_hier_of(r) != h || !o->has) {
            continue;
        }
        uint32_t p = 0;
        for (int x = 0; x < W.cfg.nodes; x++) {
            p = strcmp(W.node[x].name, o->rec.owner) == 0 ? sim_prio(h, x) : p;
        }
        if (!best || lk_owner_cmp(&o->rec, p, best, *prio) > 0) {
            best = &o->rec;
            *prio = p;
        }
    }
    return best;
}

/* Whether a node whose daemon is down keeps in its store a record of hierarchy h that
 * orders after node i's and limits: it supersedes what node i wrote when that node starts
 * (records are committed before anything acts on them and ordered by generation), as a
 * cut-off peer's does at the heal, so an operator's act on node i does not start the budget
 * afresh for the model. Only a record with failovers counted in the window, meant to run or
 * left out by a failure (nodes tried, or nobody named: a takeover the limit refused): one
 * an operator's remove left out keeps it out for that reason, not for the budget. */
static bool superseded_by_a_down_node(int i, int h)
{
    uint32_t mine_prio = 0;
    const struct lk_owner_rec *mine = stored_rec(i, h, &mine_prio);
    for (int k = 0; k < W.cfg.nodes && mine; k++) {
        uint32_t prio = 0;
        const struct lk_owner_rec *theirs =
                k != i && W.node[k].daemon != DAEMON_UP ? stored_rec(k, h, &prio) : NULL;
        if (theirs && lk_owner_cmp(theirs, prio, mine, mine_prio) > 0 &&
            (theirs->active || theirs->tried_count > 0 || !theirs->owner[0]) &&
            lk_owner_failovers_within(theirs, (int64_t) (W.now / SIM_MS),
                                      W.cfg.failover_window_ms) > 0) {
            return true;
        }
    }
    return false;
}

/* An operator's restore accepted on node i: it starts the budget afresh when it takes
 * effect (here, or when its switch message reaches the holder: a lost one does not). */
static void operator_restore(int i, int h)
{
    /* Typed on the other side of a partition from an operator's remove typed there: the
     * nodes cannot order the two; the greater record wins at the heal (docs/CLUSTER.md
     * "Operator commands on both sides of a partition"). */
    int k = W.removed_cut_off[h] - 1;
    bool across =
            k >= 0 && k != i && (!(W.link[i][k] && W.link[k][i]) || !W.node[i].peers[k].alive);
    W.split_excused[h] = across ? k + 1 : 0;
    W.split_gen[h] = W.node[i].own[h == 0 ? 0 : 1].rec.gen;
    W.split_seq[h] = W.node[i].own[h == 0 ? 0 : 1].rec.seq;
    W.intent_in[h] = true;
    if (!cut_off(i) && !W.op_forwarded && !superseded_by_a_down_node(i, h)) {
        operator_fresh(h);
    }
}

/* A record that names as owner a node whose daemon has crashed or is frozen (nobody knows
 * yet: a failover or an operator's restore to it): that failure is the hierarchy's too,
 * and the takeover that follows counts, as when it ran there. */
void sim_note_record(const struct sim_node *n, int hier, const struct lk_owner_rec *rec)
{
    for (int k = 0; k < W.cfg.nodes && rec->active; k++) {
        const struct sim_node *o = &W.node[k];
        if (k != n->idx && strcmp(o->name, rec->owner) == 0 &&
            (o->daemon != DAEMON_UP || o->frozen) && !W.failing_counted[k][hier]) {
            W.failing_counted[k][hier] = true;
            failure_event(hier);
        }
    }
}

void sim_note_restore_start(struct sim_node *n, int res)
{
    W.restore_at[n->idx][sim_hier_of(res)] = W.now;
    uint32_t blind = 0;
    for (int k = 0; k < W.cfg.nodes; k++) {
        blind |= k != n->idx && !n->peers[k].alive ? 1u << k : 0;
    }
    W.restore_blind[n->idx][sim_hier_of(res)] = blind;
}

static bool in_fault_phase(void)
{
    return !W.quiet && W.cfg.fault_level == 2;
}

void sim_start_run(struct sim_node *n, int res, enum lk_action action)
{
    uint64_t id = ++W.next_run_id;
    n->run_id[res] = id;
    uint64_t timeout = W.cfg.action_timeout;
    bool check = action == LK_ACTION_QUICKCHK || action == LK_ACTION_DEEPCHK;
    if (check) {
        timeout = W.cfg.check_interval;
    }
    struct ev e = {.type = E_RUN_DONE,
                   .node = n->idx,
                   .inc = n->inc,
                   .res = res,
                   .action = action,
                   .run_id = id,
                   .power = power_cycles[n->idx]};
    uint64_t dur;
    switch (action) {
    case LK_ACTION_RESTORE:
        dur = sim_range(50, 400) * SIM_MS;
        break;
    case LK_ACTION_REMOVE:
        dur = sim_range(30, 300) * SIM_MS;
        break;
    case LK_ACTION_RECOVER:
        dur = sim_range(100, 300) * SIM_MS;
        break;
    default:
        dur = sim_range(5, 50) * SIM_MS;
        break;
    }
    /* The outcome is drawn when the script starts: the world decides, not the node. */
    e.result.outcome = LK_OUTCOME_SUCCESS;
    if (!check && in_fault_phase()) {
        unsigned fail = action == LK_ACTION_RECOVER ? 20 : 4;
        uint64_t roll = sim_range(0, 99);
        if (roll < 1) {
            e.result.outcome = LK_OUTCOME_TIMEOUT;
            e.result.timeout_usec = timeout;
            dur = timeout;
        } else if (roll < 1 + fail) {
            e.result.outcome = LK_OUTCOME_EXIT;
            e.result.exit_status = 1;
        }
        e.ok = sim_chance(50); /* a failed restore left the application half up */
    }
    if (e.result.outcome != LK_OUTCOME_SUCCESS) {
        failure_event(sim_hier_of(res)); /* a failure the cluster may fail over for */
        W.episode_failed[sim_hier_of(res)] |= 1u << n->idx;
    }
    e.result.duration_usec = dur;
    e.result.pid = (int) (id % 30000) + 100;
    e.t = W.now + dur;
    push(e);
    if (action == LK_ACTION_RESTORE) {
        sim_note_restore_start(n, res);
    }
    sim_trace(n, "run %s %s (%s in %.3f s)", sim_tags[res], lk_action_name(action),
              lk_outcome_name(e.result.outcome), (double) dur / 1e6);
}

void sim_start_fence(struct sim_node *n, int target)
{
    bool ok = true;
    if (W.fence_fails[target] > 0) {
        W.fence_fails[target]--;
        ok = false;
    }
    push((struct ev){.t = W.now + sim_range(300, 3000) * SIM_MS,
                     .type = E_FENCE_DONE,
                     .node = n->idx,
                     .inc = n->inc,
                     .target = target,
                     .ok = ok});
}

/* ------------------------------------------------------------------ nodes: life and death */

static void schedule_timers(struct sim_node *n)
{
    at(W.now + sim_range(1, 100) * SIM_MS, E_TICK, n);
    at(W.now + sim_range(1, W.cfg.hb_interval_ms) * SIM_MS, E_HB, n);
    if (!n->witness) {
        for (int r = 0; r < SIM_RES; r++) {
            push((struct ev){.t = W.now + W.cfg.check_interval + sim_range(0, 500) * SIM_MS,
                             .type = E_CHECK_DUE,
                             .node = n->idx,
                             .inc = n->inc,
                             .res = r});
        }
    }
}

static void boot(struct sim_node *n)
{
    n->inc++;
    n->daemon = DAEMON_UP;
    n->lkstopped = false;
    n->frozen = false;
    n->kick_queued = false;
    n->booted_at = W.now;
    sim_trace(n, "1000 daemon started");
    shell_boot(n);
    schedule_timers(n);
}

static void daemon_down(struct sim_node *n, bool close_links)
{
    n->daemon = DAEMON_DOWN;
    n->frozen = false;
    n->inc++;
    if (close_links) {
        for (int i = 0; i < W.count; i++) {
            if (i != n->idx && W.link[n->idx][i]) {
                struct sim_msg *m = calloc(1, sizeof(*m));
                if (!m) {
                    abort();
                }
                m->type = MSG_CLOSE;
                m->from = n->idx;
                m->to = i;
                m->epoch = W.epoch[n->idx][i];
                uint64_t t = W.now + sim_range(200, 2000);
                if (t < W.last_delivery[n->idx][i]) {
                    t = W.last_delivery[n->idx][i];
                }
                W.last_delivery[n->idx][i] = t;
                push((struct ev){
                        .t = t, .type = E_DELIVER, .node = i, .inc = W.node[i].inc, .msg = m});
            }
        }
    }
}

/* A restart planned before the machine was powered off is void: power-on restarts it. */
static void restart_at(struct sim_node *n, uint64_t t)
{
    push((struct ev){.t = t, .type = E_RESTART, .node = n->idx, .power = power_cycles[n->idx]});
}

static void fail_hiers_on(int i);

static void power_off(int i)
{
    struct sim_node *n = &W.node[i];
    sim_trace(n, "powered off by the fence hook");
    /* A node death as a crash is: the takeover that follows is a failover the product
     * counts in the budget (docs/CLUSTER.md, "Failover limit"). */
    fail_hiers_on(i);
    W.powered_off[i] = true;
    power_cycles[i]++;
    for (int r = 0; r < SIM_RES; r++) {
        W.app[i][r] = APP_OFF;
    }
    if (n->daemon == DAEMON_UP) {
        daemon_down(n, false);
    }
    n->lkstopped = false;
    restart_at(n, W.now + sim_range(5, 20) * SIM_S);
}

/* ------------------------------------------------------------------ links */

static void set_link(int a, int b, bool up)
{
    if (W.link[a][b] == up) {
        return;
    }
    W.link[a][b] = up;
    if (!up) {
        W.epoch[a][b]++; /* what is in flight on it is lost */
    } else {
        W.link_up_since[a][b] = W.now;
    }
}

static void heal_all(void)
{
    for (int a = 0; a < W.count; a++) {
        for (int b = 0; b < W.count; b++) {
            if (a != b) {
                set_link(a, b, true);
            }
        }
    }
}

/* ------------------------------------------------------------------ setup */

static void setup_node(int i, bool witness)
{
    struct sim_node *n = &W.node[i];
    memset(n, 0, sizeof(*n));
    n->idx = i;
    n->witness = witness;
    snprintf(n->name, sizeof(n->name), witness ? "w" : "n%d", i + 1);
    for (int r = 0; r < SIM_RES; r++) {
        struct lk_resource *res = &n->res[r];
        n->resp[r] = res;
        snprintf(res->tag, sizeof(res->tag), "%s", sim_tags[r]);
        snprintf(res->id, sizeof(res->id), "%s", sim_tags[r]);
        snprintf(res->app, sizeof(res->app), "gen");
        snprintf(res->type, sizeof(res->type), "app");
        lk_settings_init(&res->settings);
        for (int a = 0; a < LK_ACTION_COUNT; a++) {
            res->has_script[a] = a != LK_ACTION_DEEPCHK;
        }
        res->settings.quickchk_interval_usec = W.cfg.check_interval;
        res->settings.deepchk_interval_usec = 0;
        res->settings.action_timeout_usec = W.cfg.action_timeout;
        res->settings.local_recovery = W.cfg.local_recovery;
        res->settings.check_failures = 1;
        res->settings.monitor = true;
        res->settings.init = LK_INIT_AUTORES_ISP;
        res->settings.switchback =
                W.cfg.auto_switchback ? LK_SWITCHBACK_AUTOMATIC : LK_SWITCHBACK_INTELLIGENT;
        res->state = LK_STATE_OSU;
        res->pending = LK_PENDING_NONE;
        res->target_in_service = true;
        snprintf(res->reason, sizeof(res->reason), "created");
        if (!witness) {
            /* Every hierarchy starts owned by its best node (as after `restore`). */
            int h = sim_hier_of(r);
            int best = 0;
            for (int k = 0; k < W.cfg.nodes; k++) {
                if (sim_prio(h, k) < sim_prio(h, best)) {
                    best = k;
                }
            }
            struct lk_owner_rec *rec = &n->own[r].rec;
            rec->gen = 1;
            rec->active = true;
            snprintf(rec->owner, sizeof(rec->owner), "n%d", best + 1);
            snprintf(rec->reason, sizeof(rec->reason), "created");
            n->own[r].has = true;
        }
    }
}

static void world_reset(uint64_t seed, const struct sim_config *cfg)
{
    memset(&W, 0, sizeof(W));
    heap_n = 0;
    heap_seq = 0;
    memset(power_cycles, 0, sizeof(power_cycles));
    W.seed = seed;
    W.rng = seed * 0x2545f4914f6cdd1dULL + 1;
    W.cfg = *cfg;
    W.count = cfg->nodes + (cfg->witness ? 1 : 0);
    for (int i = 0; i < W.count; i++) {
        setup_node(i, cfg->witness && i == W.count - 1);
    }
    heal_all();
    for (int h = 0; h < SIM_HIER; h++) {
        W.intent_in[h] = true;
    }
    for (int i = 0; i < W.count; i++) {
        boot(&W.node[i]);
    }
    W.quiet = true; /* start quiet: the cluster comes up first */
    W.quiet_since = 0;
    W.phase_end = 60 * SIM_S;
    push((struct ev){.t = W.phase_end, .type = E_PHASE});
}

/* ------------------------------------------------------------------ faults */

static int random_node(bool with_witness)
{
    int n = with_witness ? W.count : W.cfg.nodes;
    return (int) sim_range(0, (uint64_t) n - 1);
}

static void fail_hiers_on(int i)
{
    for (int h = 0; h < SIM_HIER; h++) {
        W.failing_counted[i][h] = false;
    }
    for (int r = 0; r < SIM_RES; r++) {
        int h = sim_hier_of(r);
        /* It runs there, or a node's record names it the owner: a failover follows. */
        bool owner = false;
        for (int k = 0; k < W.cfg.nodes; k++) {
            const struct sim_own *o = &W.node[k].own[r];
            owner |= o->has && o->rec.active && strcmp(o->rec.owner, W.node[i].name) == 0;
        }
        if ((W.app[i][r] != APP_OFF || owner) && !W.failing_counted[i][h]) {
            W.failing_counted[i][h] = true;
            failure_event(h);
        }
    }
}

static void fault(void)
{
    int kind = (int) sim_range(0, 99);
    int i = random_node(false);
    struct sim_node *n = &W.node[i];
    int r = (int) sim_range(0, SIM_RES - 1);
    int h = sim_hier_of(r);
    if (!W.cfg.child_ops && kind >= 74) {
        r = h == 0 ? 0 : 1; /* operators name the root: the whole hierarchy */
    }
    char why[LK_REASON_MAX] = "";
    bool apps = W.cfg.fault_level >= 2;
    if (W.cfg.fault_level == 0) {
        return;
    }
    if (W.cfg.fault_level == 3 && sim_chance(40)) {
        /* Application deaths, often: failures that come one after another. */
        for (int k = 0; k < W.cfg.nodes * SIM_RES; k++) {
            int x = (int) ((uint64_t) (i * SIM_RES + r + k) % (uint64_t) (W.cfg.nodes * SIM_RES));
            int ni = x / SIM_RES, nr = x % SIM_RES;
            if (W.app[ni][nr] == APP_RUNNING) {
                W.app[ni][nr] = APP_OFF;
                sim_trace(&W.node[ni], "FAULT application %s dies", sim_tags[nr]);
                failure_event(sim_hier_of(nr));
                W.episode_failed[sim_hier_of(nr)] |= 1u << ni;
                return;
            }
        }
        return;
    }
    if (kind < 12 && apps) {
        if (W.app[i][r] == APP_RUNNING) {
            bool hang = W.cfg.fault_level == 2 && sim_chance(50);
            W.app[i][r] = hang ? APP_HUNG : APP_OFF;
            W.episode_failed[h] |= 1u << i;
            sim_trace(n, "FAULT application %s %s", sim_tags[r], hang ? "hangs" : "dies");
            failure_event(h);
        }
    } else if (kind < 22) {
        if (W.cfg.witness && sim_chance(20)) {
            n = &W.node[W.count - 1]; /* the witness crashes or freezes too */
            i = n->idx;
        }
        if (n->daemon == DAEMON_UP) {
            sim_trace(n, "FAULT daemon crashes (applications keep running)");
            fail_hiers_on(i);
            daemon_down(n, true);
            restart_at(n, W.now + sim_range(500, 8000) * SIM_MS);
        }
    } else if (kind < 32) {
        if (W.cfg.witness && sim_chance(20)) {
            n = &W.node[W.count - 1];
            i = n->idx;
        }
        if (n->daemon == DAEMON_UP && !n->frozen) {
            uint64_t d = sim_range(500, 12000) * SIM_MS;
            n->frozen = true;
            n->resume_at = W.now + d;
            sim_trace(n, "FAULT daemon frozen for %.3f s", (double) d / 1e6);
            fail_hiers_on(i);
            push((struct ev){
                    .t = n->resume_at, .type = E_RESUME, .node = i, .inc = n->inc, .run_id = d});
        }
    } else if (kind < 42) {
        int w = random_node(true);
        sim_trace(&W.node[w], "FAULT isolated from everyone");
        for (int k = 0; k < W.count; k++) {
            if (k != w) {
                set_link(w, k, false);
                set_link(k, w, false);
            }
        }
        for (int x = 0; x < SIM_HIER; x++) {
            failure_event(x);
        }
    } else if (kind < 48) {
        uint32_t side = (uint32_t) sim_range(1, (1u << W.count) - 2);
        sim_trace(NULL, "FAULT partition %#x | %#x", side, ~side & ((1u << W.count) - 1));
        for (int a = 0; a < W.count; a++) {
            for (int b = 0; b < W.count; b++) {
                if (a != b && ((side >> a) & 1) != ((side >> b) & 1)) {
                    set_link(a, b, false);
                }
            }
        }
        for (int x = 0; x < SIM_HIER; x++) {
            failure_event(x);
        }
    } else if (kind < 56) {
        int a = random_node(true), b = random_node(true);
        if (a != b) {
            sim_trace(NULL, "FAULT link %s -> %s breaks (one direction)", W.node[a].name,
                      W.node[b].name);
            set_link(a, b, false);
            for (int x = 0; x < SIM_HIER; x++) {
                failure_event(x);
            }
        }
    } else if (kind < 66) {
        sim_trace(NULL, "FAULT every link heals");
        heal_all();
    } else if (kind < 70) {
        int a = random_node(true), b = random_node(true);
        if (a != b) {
            sim_trace(NULL, "FAULT link %s <-> %s heals", W.node[a].name, W.node[b].name);
            set_link(a, b, true);
            set_link(b, a, true);
        }
    } else if (kind < 74) {
        if (W.cfg.fence) {
            W.fence_fails[i] += (int) sim_range(1, 3);
            sim_trace(n, "FAULT the fence hook against %s will fail %d times", n->name,
                      W.fence_fails[i]);
        }
    } else if (kind < 78 && n->daemon == DAEMON_DOWN && n->lkstopped) {
        sim_trace(n, "OPERATOR lkstart");
        boot(n);
    } else if (n->daemon != DAEMON_UP || n->frozen || n->stopping) {
        return;
    } else if (kind < 82) {
        int target = random_node(false);
        W.op_forwarded = false;
        bool ok = shell_op_restore(n, r, target, why, sizeof(why));
        sim_trace(n, "OPERATOR restore --tag %s --node %s: %s", sim_tags[r], W.node[target].name,
                  ok ? "accepted" : why);
        if (ok) {
            operator_restore(i, h);
        }
    } else if (kind < 87) {
        bool ok = shell_op_remove(n, r, why, sizeof(why));
        sim_trace(n, "OPERATOR remove --tag %s --hierarchy: %s", sim_tags[r],
                  ok ? "accepted" : why);
        if (ok) {
            W.intent_in[h] = false;
            bool cut = false;
            for (int k = 0; k < W.cfg.nodes; k++) {
                cut |= k != i && !(W.link[i][k] && W.link[k][i]);
            }
            W.removed_cut_off[h] = cut ? i + 1 : 0;
            W.split_excused[h] = 0;
        }
    } else if (kind < 92) {
        if (W.app[i][r] != APP_OFF && n->res[r].state == LK_STATE_OSF) {
            /* Resetting a failed resource vouches that it no longer runs: the operator
             * stops it by hand first. */
            W.app[i][r] = APP_OFF;
            sim_trace(n, "OPERATOR stops %s by hand", sim_tags[r]);
        }
        sim_trace(n, "OPERATOR resource reset --tag %s", sim_tags[r]);
        shell_op_reset(n, r);
    } else if (kind < 96) {
        sim_trace(n, "OPERATOR lkstop");
        shell_op_lkstop(n);
    } else {
        W.op_forwarded = false;
        bool ok = shell_op_restore(n, r, i, why, sizeof(why));
        sim_trace(n, "OPERATOR restore --tag %s (here): %s", sim_tags[r], ok ? "accepted" : why);
        if (ok) {
            operator_restore(i, h);
        }
    }
}

/* ------------------------------------------------------------------ invariants */

__attribute__((format(printf, 1, 2))) static void violate(const char *fmt, ...)
{
    if (W.violation[0]) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(W.violation, sizeof(W.violation), fmt, ap);
    va_end(ap);
    W.violation_step = W.steps;
}

static uint64_t grace_us(void)
{
    return 2 * sim_dead_us() + 2 * W.cfg.action_timeout + 2 * SIM_S;
}

static bool connected_both(int a, int b)
{
    return W.link[a][b] && W.link[b][a];
}

/* Whether a copy on node i is inside a documented fencing window (docs/CLUSTER.md):
 * (a) cut off without quorum, (b) quorum none and cut from the others, (c) frozen or
 * crashed while its application kept running, each with the time to notice and remove. */
/* Whether the copy on node i is one whose remove failed after every other copy had
 * started: nothing can stop it but an operator or the fence hook ("may still be
 * running"); the other copies were not restored because of it. */
static bool stale_failed_remove(int i, int hier, uint32_t holders)
{
    uint64_t failed = W.remove_failed_at[i][hier];
    if (!failed) {
        return false;
    }
    for (int k = 0; k < W.cfg.nodes; k++) {
        if (k != i && (holders >> k & 1) && W.restore_at[k][hier] > failed) {
            return false;
        }
    }
    return true;
}

/* The fencing window when the cut-off node's remove fails: its remove failed while it
 * had no quorum (a), while no running peer could hear it (a partition: (a) or (b)) or
 * while its daemon was frozen or down (c), and every other holder restored after that
 * while it saw the node dead, so nobody could know (without a fence script nothing can). */
static bool cut_off_failed_remove(int i, int hier, uint32_t holders)
{
    uint64_t failed = W.remove_failed_at[i][hier];
    if (!failed || !W.remove_failed_cut_off[i][hier]) {
        return false;
    }
    for (int k = 0; k < W.cfg.nodes; k++) {
        if (k != i && (holders >> k & 1) &&
            !(W.restore_at[k][hier] > failed && (W.restore_blind[k][hier] >> i & 1))) {
            return false;
        }
    }
    return true;
}

static bool excused(int i, uint32_t holders)
{
    if (W.cfg.fence) {
        return false; /* "a fence script closes all three" */
    }
    const struct sim_node *n = &W.node[i];
    if (n->daemon != DAEMON_UP || n->frozen || W.now - n->up_since < grace_us()) {
        return true; /* (c) */
    }
    if (!W.cfg.quorum_none && !n->quorate) {
        return true; /* (a) */
    }
    if (W.cfg.quorum_none) {
        for (int k = 0; k < W.count; k++) {
            if (k != i && (holders >> k & 1) &&
                (!connected_both(i, k) || W.now - W.link_up_since[i][k] < grace_us() ||
                 W.now - W.link_up_since[k][i] < grace_us())) {
                return true; /* (b) */
            }
        }
    }
    return false;
}

static const char *app_name(enum app_state a)
{
    return a == APP_OFF ? "off" : a == APP_RUNNING ? "running" : "hung";
}

static void describe_node(int i, int hier, char *buf, size_t size)
{
    const struct sim_node *n = &W.node[i];
    size_t used = 0;
    used += (size_t) snprintf(buf + used, size - used, "%s(%s%s%s)", n->name,
                              n->daemon == DAEMON_UP ? "up" : "down", n->frozen ? ",frozen" : "",
                              n->quorate ? ",quorate" : "");
    for (int r = 0; r < SIM_RES && used < size; r++) {
        if (sim_hier_of(r) != hier) {
            continue;
        }
        const struct lk_resource *res = &n->res[r];
        used += (size_t) snprintf(buf + used, size - used, " %s=%s/%s/app %s [%s]", res->tag,
                                  lk_state_name(res->state), lk_pending_name(res->pending),
                                  app_name(W.app[i][r]), res->reason);
    }
}

/* The node's own greatest record of the hierarchy. */
static const struct lk_owner_rec *own_rec(int i, int hier)
{
    return &W.node[i].own[hier == 0 ? 0 : 1].rec;
}

static bool hier_pending(int i, int hier, enum lk_pending a, enum lk_pending b)
{
    for (int r = 0; r < SIM_RES; r++) {
        enum lk_pending p = W.node[i].res[r].pending;
        if (sim_hier_of(r) == hier && (p == a || p == b)) {
            return true;
        }
    }
    return false;
}

/* Names the known sequence (issue 9, "Sequences that break today") a pair of copies
 * looks like, from what the two nodes hold now. */
static const char *classify_split(int a, int b, int hier)
{
    int pair[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        for (int r = 0; r < SIM_RES; r++) {
            /* A failed copy that nothing will remove (no remove pending for it). */
            const struct lk_resource *res = &W.node[pair[k]].res[r];
            if (sim_hier_of(r) == hier && res->stop_failed && W.app[pair[k]][r] != APP_OFF) {
                return stale_failed_remove(pair[k], hier, 1u << a | 1u << b)
                               ? "X10 a stale copy whose remove failed runs next to the owner's "
                                 "(nobody fences it)"
                               : "S1 a failed remove may still run, restored elsewhere anyway";
            }
            if (sim_hier_of(r) == hier && res->state == LK_STATE_OSF &&
                W.app[pair[k]][r] != APP_OFF &&
                (res->pending == LK_PENDING_NONE || res->pending == LK_PENDING_RESTORE ||
                 res->pending == LK_PENDING_RESTORE_WAIT)) {
                return "S1 a failed resource is never removed";
            }
        }
    }
    for (int k = 0; k < 2; k++) {
        int i = pair[k];
        if (strcmp(own_rec(i, hier)->owner, W.node[i].name) != 0 &&
            !hier_pending(i, hier, LK_PENDING_REMOVE, LK_PENDING_REMOVE_WAIT) &&
            !hier_pending(i, hier, LK_PENDING_FAIL_REMOVE, LK_PENDING_FAIL_REMOVE_WAIT)) {
            return "S3 a restore (or copy) here ignores the lost ownership";
        }
    }
    for (int k = 0; k < 2; k++) {
        if (strncmp(own_rec(pair[k], hier)->reason, "restore requested on", 20) == 0 &&
            strcmp(own_rec(pair[k], hier)->owner, W.node[pair[k]].name) == 0) {
            return "X7 an operator restore while the other copy may still run";
        }
    }
    for (int k = 0; k < 2; k++) {
        const struct sim_node *n = &W.node[pair[k]];
        if (n->daemon == DAEMON_UP && !n->frozen &&
            ((!W.cfg.quorum_none && !n->quorate) || W.now - n->booted_at < grace_us())) {
            return "X6 start-up restores from a stale record (no quorum, no fencing)";
        }
    }
    for (int k = 0; k < 2; k++) {
        if (hier_pending(pair[k], hier, LK_PENDING_REMOVE, LK_PENDING_REMOVE_WAIT) ||
            hier_pending(pair[k], hier, LK_PENDING_FAIL_REMOVE, LK_PENDING_FAIL_REMOVE_WAIT)) {
            return "S2 handed over while the old holder still runs it";
        }
    }
    if (strcmp(own_rec(a, hier)->owner, own_rec(b, hier)->owner) != 0) {
        return "X1 two owners: records not yet converged, both restored";
    }
    return "X0 other";
}

/* The oracle's failover episode: it ends when the hierarchy is whole in service again. */
static void track_episodes(void)
{
    for (int h = 0; h < SIM_HIER; h++) {
        for (int i = 0; i < W.cfg.nodes && W.episode_failed[h]; i++) {
            bool all = true;
            for (int r = 0; r < SIM_RES; r++) {
                if (sim_hier_of(r) == h) {
                    all &= lk_state_in_service(W.node[i].res[r].state) &&
                           W.app[i][r] == APP_RUNNING;
                }
            }
            if (all) {
                W.episode_failed[h] = 0;
            }
        }
    }
}

static void check_split(void)
{
    for (int h = 0; h < SIM_HIER; h++) {
        uint32_t holders = 0;
        int count = 0;
        for (int i = 0; i < W.cfg.nodes; i++) {
            for (int r = 0; r < SIM_RES; r++) {
                if (sim_hier_of(r) == h && W.app[i][r] != APP_OFF) {
                    holders |= 1u << i;
                    count++;
                    break;
                }
            }
        }
        if (count < 2) {
            continue;
        }
        int guilty[SIM_NODES_MAX], g = 0;
        for (int i = 0; i < W.cfg.nodes; i++) {
            if ((holders >> i & 1) && !excused(i, holders) &&
                !((stale_failed_remove(i, h, holders) || cut_off_failed_remove(i, h, holders)) &&
                  !W.cfg.fence)) {
                guilty[g++] = i;
            }
        }
        if (g >= 2) {
            char a[300], b[300];
            describe_node(guilty[0], h, a, sizeof(a));
            describe_node(guilty[1], h, b, sizeof(b));
            W.label = W.violation[0] ? W.label : classify_split(guilty[0], guilty[1], h);
            violate("two copies: hierarchy of '%s' runs on %s and on %s, outside every fencing "
                    "window",
                    h == 0 ? "app" : "db", a, b);
        }
    }
}

static void check_stuck(void)
{
    for (int i = 0; i < W.cfg.nodes; i++) {
        const struct sim_node *n = &W.node[i];
        if (n->daemon != DAEMON_UP || n->frozen || !n->settled) {
            continue;
        }
        for (int r = 0; r < SIM_RES; r++) {
            enum lk_pending p = n->res[r].pending;
            if (p == LK_PENDING_NONE) {
                continue;
            }
            bool waiting = p == LK_PENDING_RESTORE_WAIT || p == LK_PENDING_REMOVE_WAIT ||
                           p == LK_PENDING_FAIL_REMOVE_WAIT;
            uint64_t bound = waiting ? 3 * SIM_RES * W.cfg.action_timeout + 30 * SIM_S
                                     : W.cfg.action_timeout + 15 * SIM_S;
            uint64_t since = n->pending_since[r] > n->up_since ? n->pending_since[r] : n->up_since;
            if (W.now - since > bound) {
                W.label = W.violation[0] ? W.label
                          : waiting      ? "S4 start-up deadlock (queued forever)"
                                         : "X2 an action never ends";
                violate("stuck: %s on %s has been %s for %.1f s (reason: %s)", n->res[r].tag,
                        n->name, lk_pending_name(p), (double) (W.now - since) / 1e6,
                        n->res[r].reason);
            }
        }
    }
}

static bool same_rec(const struct sim_own *a, const struct sim_own *b)
{
    return a->has == b->has &&
           (!a->has || (a->rec.gen == b->rec.gen && a->rec.seq == b->rec.seq &&
                        strcmp(a->rec.owner, b->rec.owner) == 0 && a->rec.active == b->rec.active));
}

/* Whether some node has part of the hierarchy in service and part of it failed. */
static bool half_up(int hier)
{
    for (int i = 0; i < W.cfg.nodes; i++) {
        bool in = false, failed = false;
        for (int r = 0; r < SIM_RES; r++) {
            if (sim_hier_of(r) == hier) {
                in |= lk_state_in_service(W.node[i].res[r].state);
                failed |= W.node[i].res[r].state == LK_STATE_OSF;
            }
        }
        if (in && failed) {
            return true;
        }
    }
    return false;
}

/* At the end of a quiet phase: every node up, every link up for long. */
static void check_quiet_end(void)
{
    for (int i = 0; i < W.cfg.nodes; i++) {
        const struct sim_node *n = &W.node[i];
        if (n->daemon != DAEMON_UP || n->frozen || W.now - n->up_since < grace_us()) {
            return; /* not every node has been up long enough to judge */
        }
    }
    for (int r = 0; r < SIM_RES; r++) {
        for (int i = 1; i < W.cfg.nodes; i++) {
            if (!same_rec(&W.node[0].own[r], &W.node[i].own[r])) {
                const struct lk_owner_rec *a = &W.node[0].own[r].rec, *b = &W.node[i].own[r].rec;
                W.label = W.violation[0] ? W.label : "X3 records diverged after healing";
                violate("diverged: record of '%s' on n1 gen=%llu seq=%llu owner=%s, on %s "
                        "gen=%llu seq=%llu owner=%s",
                        sim_tags[r], (unsigned long long) a->gen, (unsigned long long) a->seq,
                        a->owner, W.node[i].name, (unsigned long long) b->gen,
                        (unsigned long long) b->seq, b->owner);
                return;
            }
        }
    }
    for (int h = 0; h < SIM_HIER; h++) {
        if (!W.intent_in[h] || W.limit_excused[h]) {
            continue;
        }
        bool somewhere = false, stop_failed = false;
        for (int i = 0; i < W.cfg.nodes; i++) {
            for (int r = 0; r < SIM_RES; r++) {
                /* A remove that failed: it may still run there; nobody restores it until
                 * an operator acts (the expected rule, Pacemaker's failed stop).
                 * The flag stays while the reason changes (a restore there that did not
                 * get to it): docs/CLUSTER.md "A failed remove holds the hierarchy". */
                const struct lk_resource *res = &W.node[i].res[r];
                stop_failed |= sim_hier_of(r) == h && res->state == LK_STATE_OSF &&
                               (W.app[i][r] != APP_OFF || strstr(res->reason, "remove failed") ||
                                strstr(res->reason, "remove action failed") || res->stop_failed);
            }
        }
        uint32_t everyone = (1u << W.cfg.nodes) - 1;
        if (stop_failed || (W.episode_failed[h] & everyone) == everyone) {
            continue; /* documented: a failed remove, or it failed on every node (1624) */
        }
        char removed[64];
        snprintf(removed, sizeof(removed), "removed by an operator on %s",
                 W.node[W.split_excused[h] > 0 ? W.split_excused[h] - 1 : 0].name);
        const struct lk_owner_rec *won = &W.node[0].own[h == 0 ? 0 : 1].rec;
        if (W.split_excused[h] > 0 && strcmp(won->reason, removed) == 0 &&
            (won->gen > W.split_gen[h] ||
             (won->gen == W.split_gen[h] && won->seq > W.split_seq[h]))) {
            continue; /* documented: the remove's greater record won over a restore there */
        }
        for (int i = 0; i < W.cfg.nodes && !somewhere; i++) {
            bool all = true;
            for (int r = 0; r < SIM_RES; r++) {
                if (sim_hier_of(r) == h) {
                    all &= lk_state_in_service(W.node[i].res[r].state) &&
                           W.app[i][r] == APP_RUNNING;
                }
            }
            somewhere = all;
        }
        if (!somewhere) {
            const struct lk_owner_rec *rec = &W.node[0].own[h == 0 ? 0 : 1].rec;
            char a[300];
            describe_node(0, h, a, sizeof(a));
            W.label = W.violation[0] ? W.label
                      : strstr(rec->reason, "no other node") &&
                                      rec->tried_count >= (size_t) W.cfg.nodes
                              ? "S5 failures accumulate into an outage (1624)"
                      : strstr(rec->reason, "no other node")
                              ? "X11 1624 while the other nodes were away: not retried when "
                                "they return"
                      : strstr(rec->reason, "is dead") && strstr(rec->reason, "failovers used")
                              ? "X12 a failover-limit record written on the cut-off side wins at "
                                "the heal"
                      : strstr(rec->reason, "failover limit") || strstr(a, "failover limit") ||
                                      strstr(rec->reason, "failovers used")
                              ? "S5 failures accumulate into an outage (1622)"
                      : strstr(rec->reason, "removed by an operator")
                              ? "X4 a refused remove still takes it out later"
                      : half_up(h) ? "X9 a failed restore leaves the hierarchy half in service"
                                   : "X5 out of service, other";
            violate("out of service: hierarchy of '%s' runs nowhere after %llu s with every "
                    "node up and connected (record: owner=%s active=%d tried=%zu reason: %s; "
                    "%s)",
                    h == 0 ? "app" : "db", (unsigned long long) ((W.now - W.quiet_since) / SIM_S),
                    rec->owner[0] ? rec->owner : "-", rec->active, rec->tried_count, rec->reason,
                    a);
        }
    }
}

/* ------------------------------------------------------------------ the loop */

static void phase(void)
{
    if (W.quiet) {
        check_quiet_end();
        W.quiet = false;
        uint64_t len = sim_range(10, 90) * SIM_S;
        W.phase_end = W.now + len;
        sim_trace(NULL, "PHASE faults for %llu s", (unsigned long long) (len / SIM_S));
        push((struct ev){.t = W.now + sim_range(100, 3000) * SIM_MS, .type = E_FAULT});
    } else {
        W.quiet = true;
        W.quiet_since = W.now;
        W.phase_end = W.now + 120 * SIM_S;
        sim_trace(NULL, "PHASE quiet: every link heals, every node is started");
        heal_all();
        for (int i = 0; i < W.count; i++) {
            struct sim_node *n = &W.node[i];
            if (n->daemon == DAEMON_DOWN && !W.powered_off[i] && n->lkstopped) {
                boot(n);
            }
        }
    }
    push((struct ev){.t = W.phase_end, .type = E_PHASE});
}

static void step(struct ev *e)
{
    struct sim_node *n = e->node >= 0 ? &W.node[e->node] : NULL;
    if (e->type == E_RUN_DONE && !e->effect_done) {
        /* The script ran to its end whatever became of the daemon; not if the machine
         * was powered off meanwhile. */
        e->effect_done = true;
        if (e->power == power_cycles[e->node]) {
            enum app_state *app = &W.app[e->node][e->res];
            bool ok = e->result.outcome == LK_OUTCOME_SUCCESS;
            if (e->action == LK_ACTION_RESTORE) {
                *app = ok || e->ok ? APP_RUNNING : *app;
            } else if (e->action == LK_ACTION_REMOVE) {
                if (!ok && *app != APP_OFF) {
                    W.remove_failed_at[e->node][sim_hier_of(e->res)] = W.now;
                    /* Nobody can hear of it: no quorum (window (a)), no link from it to
                     * any running peer (a partition, (a) or (b)), or its daemon frozen or
                     * down (c). */
                    const struct sim_node *rn = &W.node[e->node];
                    W.remove_failed_cut_off[e->node][sim_hier_of(e->res)] =
                            (!W.cfg.quorum_none && !rn->quorate) || unheard(e->node) ||
                            rn->frozen || rn->daemon != DAEMON_UP;
                }
                *app = ok ? APP_OFF : *app;
            } else if (e->action == LK_ACTION_RECOVER) {
                *app = ok ? APP_RUNNING : *app;
            } else if (*app != APP_RUNNING) {
                /* a check finds it not running (or hung) */
                e->result.outcome = LK_OUTCOME_EXIT;
                e->result.exit_status = *app == APP_HUNG ? 1 : 7;
            }
        }
    }
    if (e->type == E_FENCE_DONE && !e->effect_done) {
        e->effect_done = true;
        if (e->ok) {
            power_off(e->target);
        }
    }
    switch (e->type) {
    case E_PHASE:
        phase();
        return;
    case E_FAULT:
        if (!W.quiet) {
            fault();
            push((struct ev){.t = W.now + sim_range(200, 6000) * SIM_MS, .type = E_FAULT});
        }
        return;
    case E_RESTART:
        if (e->power != power_cycles[n->idx]) {
            return;
        }
        if (n->daemon == DAEMON_DOWN && (W.quiet || !n->lkstopped)) {
            W.powered_off[n->idx] = false;
            boot(n);
        } else if (n->daemon == DAEMON_DOWN) {
            W.powered_off[n->idx] = false;
        }
        return;
    case E_DELIVER:
        if (e->msg->epoch != W.epoch[e->msg->from][e->msg->to] || n->daemon != DAEMON_UP ||
            e->inc != n->inc) {
            free(e->msg);
            return;
        }
        break;
    case E_RESUME:
        if (e->inc == n->inc && n->frozen) {
            n->frozen = false;
            n->up_since = W.now;
            shell_resumed(n, e->run_id);
        }
        return;
    default:
        break;
    }
    if (!n || e->inc != n->inc || n->daemon != DAEMON_UP) {
        if (e->type == E_DELIVER) {
            free(e->msg);
        }
        return;
    }
    if (n->frozen) {
        e->t = n->resume_at;
        if (e->type == E_DELIVER) {
            e->msg->late = true;
        }
        push(*e); /* it happens when the daemon runs again */
        return;
    }
    switch (e->type) {
    case E_KICK:
        shell_kick(n);
        break;
    case E_TICK:
        shell_tick(n);
        at(W.now + 100 * SIM_MS, E_TICK, n);
        break;
    case E_HB:
        shell_heartbeat(n);
        at(W.now + W.cfg.hb_interval_ms * SIM_MS, E_HB, n);
        break;
    case E_DELIVER:
        if (e->msg->type == MSG_SWITCH && !e->msg->late && !cut_off(n->idx) &&
            !(e->msg->to_node == n->idx && hier_busy(n, sim_hier_of(e->msg->res)))) {
            /* (A restore to the holder itself while an action runs there is ignored:
             * placement.c switch_message starts the budget afresh only when idle.) */
            /* A forwarded restore arrives (one that waited for a frozen holder may find
             * the hierarchy taken over meanwhile: the operator's command did not work). */
            operator_fresh(sim_hier_of(e->msg->res));
        }
        shell_receive(n, e->msg);
        free(e->msg);
        break;
    case E_RUN_DONE:
        if (n->run_id[e->res] == e->run_id) {
            n->run_id[e->res] = 0;
            shell_run_done(n, e->res, e->action, &e->result);
        }
        break;
    case E_CHECK_DUE:
        if (shell_monitored(n, e->res) && !n->holding) {
            struct ev c = *e;
            c.type = E_CHECK_DONE;
            c.action = LK_ACTION_QUICKCHK;
            c.result = (struct lk_result){.outcome = LK_OUTCOME_SUCCESS};
            c.power = power_cycles[n->idx];
            uint64_t dur = sim_range(5, 50) * SIM_MS;
            if (W.app[n->idx][e->res] == APP_HUNG && sim_chance(30)) {
                dur = W.cfg.check_interval;
                c.result.outcome = LK_OUTCOME_TIMEOUT;
                c.result.timeout_usec = dur;
            }
            c.result.duration_usec = dur;
            c.t = W.now + dur;
            push(c);
        }
        e->t = W.now + W.cfg.check_interval;
        push(*e);
        break;
    case E_CHECK_DONE:
        if (W.app[n->idx][e->res] != APP_RUNNING && e->result.outcome == LK_OUTCOME_SUCCESS) {
            e->result.outcome = LK_OUTCOME_EXIT;
            e->result.exit_status = W.app[n->idx][e->res] == APP_HUNG ? 1 : 7;
        }
        if (e->result.outcome != LK_OUTCOME_SUCCESS) {
            sim_trace(n, "quickchk %s failed (application %s)", sim_tags[e->res],
                      app_name(W.app[n->idx][e->res]));
        }
        shell_check_done(n, e->res, LK_ACTION_QUICKCHK, &e->result);
        break;
    case E_FENCE_DONE:
        shell_fence_done(n, e->target, e->ok);
        break;
    default:
        break;
    }
    if (n->stopping && !shell_busy(n) && n->daemon == DAEMON_UP) {
        shell_stopped(n);
        sim_trace(n, "1002 daemon stopped (lkstop)");
        daemon_down(n, true);
        n->lkstopped = true;
        if (W.quiet) {
            restart_at(n, W.now + SIM_S); /* the quiet phase starts every node */
        }
    }
}

static const char *ev_name(enum ev_type t)
{
    return t < E_COUNT ? ev_names[t] : "?";
}

/* Runs one seed; returns true when no invariant broke. */
static bool run_seed(uint64_t seed, const struct sim_config *cfg, uint64_t max_steps, bool trace)
{
    world_reset(seed, cfg);
    W.trace = trace;
    if (trace) {
        sim_trace(NULL, "seed %llu: %d nodes%s, %s, quorum %s, faults %d",
                  (unsigned long long) seed, cfg->nodes, cfg->witness ? " and a witness" : "",
                  cfg->fence ? "fence script" : "no fence script",
                  cfg->quorum_none ? "none" : "majority", cfg->fault_level);
    }
    uint64_t same_time = 0;
    while (W.steps < max_steps && heap_n > 0) {
        struct ev e = pop();
        same_time = e.t == W.now ? same_time + 1 : 0;
        W.now = e.t;
        if (same_time > 20000) {
            W.label = "X8 livelock: the clock no longer advances";
            snprintf(W.violation, sizeof(W.violation),
                     "livelock: 20000 steps without the clock advancing (last: %s on %s)",
                     ev_name(e.type), e.node >= 0 ? W.node[e.node].name : "-");
            W.violation_step = W.steps;
            break;
        }
        W.steps++;
        if (trace && e.type != E_KICK && e.type != E_TICK && e.type != E_DELIVER &&
            e.type != E_HB && e.type != E_CHECK_DUE && e.type != E_CHECK_DONE) {
            sim_trace(e.node >= 0 ? &W.node[e.node] : NULL, "step %llu: %s",
                      (unsigned long long) W.steps, ev_name(e.type));
        } else if (trace && e.type == E_DELIVER && e.msg->type != MSG_HB) {
            static const char *const names[MSG_COUNT] = {"hb",     "hello",  "state",
                                                         "state?", "synced", "started",
                                                         "switch", "remove", "close"};
            sim_trace(&W.node[e.node], "step %llu: from %s: %s", (unsigned long long) W.steps,
                      W.node[e.msg->from].name, names[e.msg->type]);
        }
        step(&e);
        track_episodes();
        check_split();
        check_stuck();
        if (W.violation[0]) {
            break;
        }
    }
    while (heap_n > 0) {
        struct ev e = pop();
        if (e.type == E_DELIVER) {
            free(e.msg);
        }
    }
    return W.violation[0] == '\0';
}

/* ------------------------------------------------------------------ main */

#define LABELS_MAX 16
static struct {
    const char *label;
    uint64_t count;
    uint64_t seeds[8];
} labels[LABELS_MAX];

static void note_label(const char *label, uint64_t seed)
{
    for (int i = 0; i < LABELS_MAX; i++) {
        if (!labels[i].label || strcmp(labels[i].label, label) == 0) {
            labels[i].label = label;
            if (labels[i].count < 8) {
                labels[i].seeds[labels[i].count] = seed;
            }
            labels[i].count++;
            return;
        }
    }
}

static void print_labels(void)
{
    for (int i = 0; i < LABELS_MAX && labels[i].label; i++) {
        printf("  %-60s %4llu seeds, e.g.", labels[i].label, (unsigned long long) labels[i].count);
        for (uint64_t k = 0; k < labels[i].count && k < 8; k++) {
            printf(" %llu", (unsigned long long) labels[i].seeds[k]);
        }
        printf("\n");
    }
}

static void usage(void)
{
    fprintf(stderr,
            "usage: lksim [--seed S] [--seeds K] [--steps N] [--nodes 2..5] [--witness|"
            "--no-witness]\n"
            "             [--fence|--no-fence] [--faults 0|1|2|3] [--decider mirror|placement]\n"
            "             [--only S1,S2,...] [--child-ops] [--trace] [--keep-going] [--summary]\n"
            "             [--labels]\n"
            "  runs K seeds from S, N simulated steps each; prints the first broken "
            "invariant\n"
            "  of a seed with the command that replays it (docs/SIMULATOR.md)\n");
}

static bool parse_u64(const char *s, uint64_t *ret)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || !*s || *end || s[0] == '-') {
        return false;
    }
    *ret = v;
    return true;
}

static void config_for(uint64_t seed, int nodes, int witness, int fence, int faults,
                       struct sim_config *cfg)
{
    uint64_t save = W.rng;
    W.rng = seed ^ 0x5bd1e995ULL;
    memset(cfg, 0, sizeof(*cfg));
    cfg->nodes = nodes;
    cfg->witness = witness >= 0 ? witness : sim_chance(30);
    cfg->fence = fence >= 0 ? fence : sim_chance(50);
    cfg->local_recovery = sim_chance(50);
    cfg->auto_switchback = sim_chance(30);
    cfg->quorum_none = nodes + (cfg->witness ? 1 : 0) < 3;
    cfg->hb_interval_ms = 1000;
    cfg->hb_misses = 3;
    cfg->max_failovers = (uint32_t) (nodes > 1 ? nodes - 1 : 1);
    cfg->failover_window_ms = 30 * 1000;
    cfg->action_timeout = 5 * SIM_S;
    cfg->check_interval = 2 * SIM_S;
    cfg->fault_level = faults;
    W.rng = save;
}

int main(int argc, char **argv)
{
    uint64_t seed = 1, seeds = 1, steps = 100000;
    const char *only = NULL; /* a comma-separated list of seeds instead of a range */
    int decider = shell_have_placement() ? 1 : 0;
    int nodes = 3, witness = -1, fence = -1, faults = 2;
    bool trace = false, keep_going = false, child_ops = false, quiet_fail = false;
    bool list_labels = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t x;
        if (strcmp(a, "--trace") == 0) {
            trace = true;
        } else if (strcmp(a, "--child-ops") == 0) {
            child_ops = true;
        } else if (v && strcmp(a, "--decider") == 0 &&
                   (strcmp(v, "mirror") == 0 || strcmp(v, "placement") == 0)) {
            decider = strcmp(v, "placement") == 0;
            if (decider && !shell_have_placement()) {
                fprintf(stderr, "lksim: built without src/lib/placement.h\n");
                return 2;
            }
            i++;
        } else if (v && strcmp(a, "--only") == 0) {
            only = v;
            i++;
        } else if (strcmp(a, "--labels") == 0) {
            quiet_fail = keep_going = list_labels = true;
        } else if (strcmp(a, "--summary") == 0) {
            quiet_fail = keep_going = true;
        } else if (strcmp(a, "--keep-going") == 0) {
            keep_going = true;
        } else if (strcmp(a, "--witness") == 0 || strcmp(a, "--no-witness") == 0) {
            witness = strcmp(a, "--witness") == 0;
        } else if (strcmp(a, "--fence") == 0 || strcmp(a, "--no-fence") == 0) {
            fence = strcmp(a, "--fence") == 0;
        } else if (v && parse_u64(v, &x) && strcmp(a, "--seed") == 0) {
            seed = x;
            i++;
        } else if (v && parse_u64(v, &x) && x > 0 && strcmp(a, "--seeds") == 0) {
            seeds = x;
            i++;
        } else if (v && parse_u64(v, &x) && x > 0 && strcmp(a, "--steps") == 0) {
            steps = x;
            i++;
        } else if (v && parse_u64(v, &x) && x >= 2 && x <= 5 && strcmp(a, "--nodes") == 0) {
            nodes = (int) x;
            i++;
        } else if (v && parse_u64(v, &x) && x <= 3 && strcmp(a, "--faults") == 0) {
            faults = (int) x;
            i++;
        } else {
            fprintf(stderr, "lksim: bad argument '%s'\n", a);
            usage();
            return 2;
        }
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t total = 0, failed = 0;
    uint64_t list[256];
    size_t list_count = 0;
    if (only) {
        char buf[4096];
        snprintf(buf, sizeof(buf), "%s", only);
        for (char *save = NULL, *t = strtok_r(buf, ",", &save); t && list_count < 256;
             t = strtok_r(NULL, ",", &save)) {
            if (!parse_u64(t, &list[list_count++])) {
                fprintf(stderr, "lksim: bad seed '%s' in --only\n", t);
                return 2;
            }
        }
        seeds = list_count;
    }
    for (uint64_t idx = 0; idx < seeds; idx++) {
        uint64_t s = only ? list[idx] : seed + idx;
        struct sim_config cfg;
        config_for(s, nodes, witness, fence, faults, &cfg);
        cfg.child_ops = child_ops;
        cfg.decider = decider;
        bool ok = run_seed(s, &cfg, steps, trace);
        if (quiet_fail && !ok) {
            total += W.steps;
            failed++;
            note_label(W.label ? W.label : "?", s);
            if (list_labels) {
                printf("seed %llu\t%s\n", (unsigned long long) s, W.label ? W.label : "?");
            }
            continue;
        }
        total += W.steps;
        if (ok) {
            continue;
        }
        failed++;
        char replay[256];
        snprintf(replay, sizeof(replay),
                 "build/tests/sim/lksim --seed %llu --steps %llu --nodes %d%s%s --faults %d%s "
                 "--decider %s --trace",
                 (unsigned long long) s, (unsigned long long) W.violation_step, nodes,
                 witness < 0 ? ""
                 : witness   ? " --witness"
                             : " --no-witness",
                 fence < 0 ? ""
                 : fence   ? " --fence"
                           : " --no-fence",
                 faults, child_ops ? " --child-ops" : "", decider ? "placement" : "mirror");
        char violation[sizeof(W.violation)];
        snprintf(violation, sizeof(violation), "%s", W.violation);
        uint64_t at_step = W.violation_step;
        double at_time = (double) W.now / 1e6;
        if (!trace) {
            /* Replay it into a ring to show the steps that led there. */
            ring_mode = true;
            ring_head = 0;
            (void) run_seed(s, &cfg, at_step, true);
            ring_mode = false;
            size_t from = ring_head > RING ? ring_head - RING : 0;
            printf("--- seed %llu: the last steps before the violation\n", (unsigned long long) s);
            for (size_t k = from; k < ring_head; k++) {
                printf("%s\n", ring[k % RING]);
            }
        }
        const char *label = W.label ? W.label : "?";
        note_label(label, s);
        printf("FAIL seed %llu at step %llu (%.3f s simulated; %d nodes%s, %s): [%s] %s\n"
               "replay: %s\n",
               (unsigned long long) s, (unsigned long long) at_step, at_time, cfg.nodes,
               cfg.witness ? " + witness" : "", cfg.fence ? "fence" : "no fence", label, violation,
               replay);
        if (!keep_going) {
            break;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("lksim (%s): %llu steps, %llu seed(s) from %llu, %llu failed, %.2f s, %.0f steps/s\n",
           decider ? "src/lib/placement.c" : "mirror of cluster_owner.c",
           (unsigned long long) total, (unsigned long long) seeds, (unsigned long long) seed,
           (unsigned long long) failed, secs, secs > 0 ? (double) total / secs : 0.0);
    print_labels();
    free(heap);
    return failed ? 1 : 0;
}
