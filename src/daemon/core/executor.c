/* The executor: engine in, actions out. It is the only caller of the engine and the only
 * code that turns a plan into store writes, log lines and script runs.
 *
 * A run's completion is a new event; while it runs, the resource's pending action (in
 * the store) says what is going on, so that a crash in between is seen at the next start.
 * The output tail of a failed run travels into the detail of the plan's ERROR events.
 * It tells, never calls up: "these tags changed" after each event and run, "a plan was
 * committed" after each commit, "a run ended" after each run of an action, "the ownership
 * state changed" after a record write, a fence run or a switchover entry (bus.h); the cluster and
 * the checks subscribe. Of a placement plan it does the acts of this node (owners.h, engine events,
 * fence runs, the event log), never the peers' (SEND_*) nor the verdict: the cluster does those.
 * What a big plan, many run ends or start-up and lkstop ask for is spread across loop
 * turns, in order, a few milliseconds of work a turn (below): it never holds the loop
 * for a whole hierarchy, and never reorders what it does. */
#include "executor.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "catchup.h"
#include "cgroup.h"
#include "decision.h"
#include "eventlog.h"
#include "guardlink.h"
#include "interrupted.h"
#include "log.h"
#include "owners.h"
#include "placement.h"
#include "probe.h"
#include "restype.h"
#include "runner.h"
#include "safeopen.h"

struct run_ctx {
    struct lk_node *node;
    char tag[LK_TAG_MAX + 1];
    enum lk_action action;
    int64_t start_ms;
    unsigned flags; /* the type's LK_TYPE_* flags of the run (LK_TYPE_PROBE) */
    bool noted;     /* run/actions/<tag> says this run is going on (interrupted.h) */
};

static int apply(struct lk_node *node, const struct lk_plan *plan, const char *detail, char *err,
                 size_t err_size);

/* ------------------------------------------------------------ work across loop turns
 *
 * A plan's log lines and runs, a run's end, and start-up's and lkstop's events are done
 * at once while this turn of the loop has worked less than TURN_BUDGET_NS (and nothing is
 * queued); otherwise they wait in one queue, in order, and an idle handle does them on
 * the next turns, TURN_BUDGET_NS' worth a turn (at least one item). A queued run counts
 * as in flight: its resource's pending action was committed with the plan, as for a run
 * that has started; a queued end as not yet ended; and every queued item in
 * lk_node_busy_count. "Changed" is told behind the queued items (tell_changed). */
#define TURN_BUDGET_NS (5ULL * 1000 * 1000)

enum item_kind { ITEM_LOG, ITEM_RUN, ITEM_DONE, ITEM_EVENT, ITEM_CHANGED };

struct item {
    struct item *next;
    enum item_kind kind;
    char tag[LK_TAG_MAX + 1];
    /* LOG */
    enum lk_severity severity;
    int number;
    char *text;
    char *detail;
    /* RUN */
    enum lk_action action;
    /* DONE */
    struct run_ctx *ctx;
    struct lk_result result;
    char *output;
    size_t output_len;
    /* EVENT */
    enum lk_event_type type;
    /* CHANGED: every tag (NULL), not tag */
    bool all;
};

struct lk_turns {
    struct lk_node *node;
    uv_idle_t idle;       /* active while the queue holds something */
    uv_prepare_t prepare; /* once a turn, before the kernel's wait: the turn's start */
    uint64_t prepare_ns;  /* uv_hrtime then (or when the queue was made) */
    uint64_t prepare_idle_ns;
    struct item *head, *tail;
    size_t count;
    bool draining;
    int open_handles; /* while closing */
};

static void on_prepare(uv_prepare_t *h)
{
    struct lk_turns *t = h->data;
    t->prepare_ns = uv_hrtime();
    t->prepare_idle_ns = uv_metrics_idle_time(h->loop);
}

/* What this turn has worked so far: the time since the previous turn's prepare without
 * the kernel's wait in between (loopwatch.h's measure). */
static uint64_t turn_work_ns(const struct lk_turns *t)
{
    uint64_t wall = uv_hrtime() - t->prepare_ns;
    uint64_t waited = uv_metrics_idle_time(t->node->loop) - t->prepare_idle_ns;
    return wall > waited ? wall - waited : 0;
}

static void on_idle(uv_idle_t *h);

/* The node's queue, made at its first use; NULL without a loop or memory (then all is
 * done at once, as before). */
static struct lk_turns *turns_of(struct lk_node *node)
{
    if (node->turns || !node->loop) {
        return node->turns;
    }
    struct lk_turns *t = calloc(1, sizeof(*t));
    if (!t) {
        return NULL;
    }
    t->node = node;
    uv_idle_init(node->loop, &t->idle);
    uv_prepare_init(node->loop, &t->prepare);
    t->idle.data = t;
    t->prepare.data = t;
    uv_prepare_start(&t->prepare, on_prepare);
    uv_unref((uv_handle_t *) &t->prepare);
    on_prepare(&t->prepare); /* before the loop's first turn: the work since now */
    node->turns = t;
    return t;
}

/* Whether one more item may be done now, in this turn. */
static bool now_ok(struct lk_node *node)
{
    struct lk_turns *t = turns_of(node);
    return !t || (t->count == 0 && !t->draining && turn_work_ns(t) < TURN_BUDGET_NS);
}

static struct item *item_new(enum item_kind kind, const char *tag)
{
    struct item *it = calloc(1, sizeof(*it));
    if (it) {
        it->kind = kind;
        snprintf(it->tag, sizeof(it->tag), "%s", tag ? tag : "");
    }
    return it;
}

static void item_free(struct item *it)
{
    free(it->text);
    free(it->detail);
    free(it->output);
    free(it);
}

static void enqueue(struct lk_node *node, struct item *it)
{
    struct lk_turns *t = node->turns;
    node->queued_events++;
    if (t->tail) {
        t->tail->next = it;
    } else {
        t->head = it;
    }
    t->tail = it;
    t->count++;
    uv_idle_start(&t->idle, on_idle);
}

/* "tag changed" (NULL: many) on the bus: at once when nothing is queued, else queued
 * behind what is (the log lines of the plan that changed it among them), so that whoever
 * waits for the change (a command, lkstop) has had those events first. */
static void tell_changed(struct lk_node *node, const char *tag)
{
    struct lk_turns *t = node->turns;
    struct item *it = t && (t->count > 0 || t->draining) ? item_new(ITEM_CHANGED, tag) : NULL;
    if (it) {
        it->all = tag == NULL;
        enqueue(node, it);
        return;
    }
    lk_bus_changed(node->bus, tag);
}

static void do_item(struct lk_node *node, struct item *it);

/* Does queued items in order while the turn's budget lasts (at least one). */
static void drain(struct lk_turns *t)
{
    if (t->draining) {
        return;
    }
    t->draining = true;
    bool first = true;
    enum item_kind last = ITEM_CHANGED;
    while (t->head && (first || turn_work_ns(t) < TURN_BUDGET_NS)) {
        struct item *it = t->head;
        t->head = it->next;
        if (!t->head) {
            t->tail = NULL;
        }
        t->count--;
        t->node->queued_events--;
        last = it->kind;
        do_item(t->node, it);
        item_free(it);
        first = false;
    }
    t->draining = false;
    if (!t->head) {
        uv_idle_stop(&t->idle);
        if (last != ITEM_CHANGED) {
            /* The queue is empty: the node may be idle now (lkstop waits for that). */
            lk_bus_changed(t->node->bus, NULL);
        }
    }
}

static void on_idle(uv_idle_t *h)
{
    drain(h->data);
}

/* Both handles closed (in whatever order libuv finishes them): t goes. */
static void close_freed(uv_handle_t *h)
{
    struct lk_turns *t = h->data;
    if (--t->open_handles == 0) {
        free(t);
    }
}

/* Writes one decision as one JSON line ("lkd: decision {…}"): its inputs and its acts,
 * for replay (src/lib/decision.h, scripts/golden-from-log.py). */
static void log_json(json_t *json)
{
    char *text = json ? json_dumps(json, JSON_COMPACT) : NULL;
    if (text) {
        fprintf(stderr, "lkd: decision %s\n", text);
    } else {
        lk_log(LK_LOG_WARNING, "cannot write a decision to the log: out of memory");
    }
    free(text);
    json_decref(json);
}

static void log_decision(struct lk_node *node, const struct lk_event *ev,
                         const struct lk_plan *plan)
{
    /* The engine's inputs and outputs, for replaying "why did it do that?": the event and
     * its acts to read, then the whole decision as one JSON line to replay, unless it does
     * nothing (a check that passed: that repeats at every check). */
    if (!lk_log_enabled(LK_LOG_DEBUG)) {
        return;
    }
    lk_log(LK_LOG_DEBUG, "event %s %s", lk_event_type_name(ev->type), ev->tag);
    for (size_t i = 0; i < plan->count; i++) {
        char line[LK_REASON_MAX + 128];
        lk_log(LK_LOG_DEBUG, "  %s", lk_act_format(&plan->acts[i], line, sizeof(line)));
    }
    if (plan->count > 0) {
        log_json(lk_decision_engine_json(plan->view, ev, plan));
    }
    (void) node;
}

/* The grace between SIGTERM and SIGKILL when a resource's cgroup is killed. */
#define CGROUP_KILL_GRACE_USEC (5ULL * 1000 * 1000)

static void run_finished(struct run_ctx *ctx, const struct lk_result *result, const char *output,
                         size_t output_len);

/* A remove's end waiting for its cgroup to be killed (kill-mode control-group). */
struct remove_kill {
    struct run_ctx *ctx;
    struct lk_result result;
    size_t output_len;
    char output[];
};

static void on_remove_killed(void *userdata, const char *tag, bool empty, const char *before)
{
    struct remove_kill *k = userdata;
    struct run_ctx *ctx = k->ctx;
    struct lk_result result = k->result;
    char desc[320];
    lk_result_describe(&k->result, desc, sizeof(desc));
    if (!empty) {
        char left[1024] = "";
        (void) lk_cgroups_describe(ctx->node->cgroups, tag, left, sizeof(left));
        lk_eventlog_msg(ctx->node, tag, LK_MSG_KILL_FAILED, left);
        if (lk_result_ok(&result)) {
            result.outcome = LK_OUTCOME_EXIT;
            result.exit_status = 1;
            result.verdict = LK_VERDICT_FAILED; /* whatever its type had said */
            result.exit_reason[0] = '\0';
            snprintf(result.message, sizeof(result.message),
                     "processes survived SIGKILL in the resource's cgroup");
        }
    } else if (before[0] && lk_result_ok(&result)) {
        lk_eventlog_msg(ctx->node, tag, LK_MSG_LEFTOVERS_KILLED, before);
    } else if (!lk_result_ok(&result) && before[0]) {
        /* The resource's processes were there and are gone now: the remove did its job
         * after all, and the hierarchy may move (as systemd's stop ends with the kill,
         * whatever ExecStop said). The failure stays in the event log. An empty cgroup
         * proves nothing of what is not a process (an address, a mount): then the failure
         * stands ("remove failed: may still be running"). */
        lk_eventlog_msg(ctx->node, tag, LK_MSG_REMOVE_KILLED, desc, before);
        result = (struct lk_result){.outcome = LK_OUTCOME_SUCCESS,
                                    .duration_usec = k->result.duration_usec,
                                    .pid = k->result.pid};
    }
    run_finished(ctx, &result, k->output, k->output_len);
    free(k);
}

/* kill-mode control-group: after a remove, whatever is left in the resource's cgroup is
 * killed before the remove counts as done. Returns true when the kill was started (the
 * end reaches the engine from on_remove_killed). */
static bool kill_after_remove(struct run_ctx *ctx, const struct lk_result *result,
                              const char *output, size_t output_len)
{
    struct lk_node *node = ctx->node;
    const struct lk_resource *res = lk_node_find(node, ctx->tag);
    if (ctx->action != LK_ACTION_REMOVE || !node->cgroups || !res ||
        res->settings.kill_mode != LK_KILL_CONTROL_GROUP || result->outcome == LK_OUTCOME_REFUSED ||
        !lk_cgroups_populated(node->cgroups, ctx->tag)) {
        return false;
    }
    struct remove_kill *k = malloc(sizeof(*k) + output_len + 1);
    if (!k) {
        return false;
    }
    k->ctx = ctx;
    k->result = *result;
    k->output_len = output_len;
    if (output_len) {
        memcpy(k->output, output, output_len);
    }
    if (lk_cgroups_kill(node->cgroups, node->loop, ctx->tag, CGROUP_KILL_GRACE_USEC,
                        on_remove_killed, k) < 0) {
        free(k);
        return false;
    }
    return true;
}

static void run_done_now(struct run_ctx *ctx, const struct lk_result *result, const char *output,
                         size_t output_len)
{
    if (ctx->noted) {
        lk_interrupted_clear(ctx->node->root, ctx->tag);
    }
    if (kill_after_remove(ctx, result, output, output_len)) {
        return;
    }
    run_finished(ctx, result, output, output_len);
}

/* A run's end: at once, or queued for its turn (the work queue across loop turns). */
static void queue_done(struct run_ctx *ctx, const struct lk_result *result, const char *output,
                       size_t output_len)
{
    struct item *it = now_ok(ctx->node) ? NULL : item_new(ITEM_DONE, ctx->tag);
    if (it && output_len > 0) {
        it->output = malloc(output_len);
        if (!it->output) {
            item_free(it);
            it = NULL;
        }
    }
    if (!it) {
        run_done_now(ctx, result, output, output_len);
        return;
    }
    /* The run's end waits its turn: until then its resource is still pending. */
    it->ctx = ctx;
    it->result = *result;
    if (output_len > 0) {
        memcpy(it->output, output, output_len);
    }
    it->output_len = output_len;
    enqueue(ctx->node, it);
}

static void run_done(struct lk_run *run, const struct lk_result *result, const char *output,
                     size_t output_len, void *userdata)
{
    struct run_ctx *ctx = userdata;
    /* What the run means is the resource's type's to say (an OCF agent's 7, 5, 190...),
     * once, before anything counts or logs it; only a run of the type's own process, not
     * a built-in check's result made inside lkd (probe_done). */
    struct lk_result classified = *result;
    const struct lk_resource *res = run ? lk_node_find(ctx->node, ctx->tag) : NULL;
    /* Secrets the run printed (an agent echoing a password) never reach an event. */
    char masked[LK_RUN_OUTPUT_MAX];
    if (res) {
        struct lk_type_ctx tctx = {.root = ctx->node->root, .node_name = ctx->node->name};
        output = lk_type_read_run(&tctx, res, ctx->action, ctx->flags, &classified, output,
                                  output_len, masked);
    }
    queue_done(ctx, &classified, output, output_len);
}

static void run_finished(struct run_ctx *ctx, const struct lk_result *result, const char *output,
                         size_t output_len)
{
    struct lk_node *node = ctx->node;

    char desc[320];
    lk_result_describe(result, desc, sizeof(desc));
    struct lk_run_record rec = {
            .start_ms = ctx->start_ms,
            .duration_ms = (int64_t) (result->duration_usec / 1000),
            .exit_status = result->exit_status,
            .term_signal = result->term_signal,
            .output = output,
            .output_len = output_len,
    };
    snprintf(rec.tag, sizeof(rec.tag), "%s", ctx->tag);
    snprintf(rec.action, sizeof(rec.action), "%s", lk_action_name(ctx->action));
    snprintf(rec.outcome, sizeof(rec.outcome), "%s", lk_outcome_name(result->outcome));
    snprintf(rec.description, sizeof(rec.description), "%s", desc);
    if (lk_store_add_run(node->store, &rec) < 0) {
        if (lk_catchup_failed(node, NULL)) {
            lk_catchup_keep_run(node, &rec);
        } else {
            fprintf(stderr, "lkd: cannot store the run of %s for '%s': %s, ignoring\n", rec.action,
                    rec.tag, lk_store_why(node->store));
        }
    }
    lk_bus_ran(node->bus, &(struct lk_bus_run){.tag = ctx->tag,
                                               .action = lk_action_name(ctx->action),
                                               .result = result});
    if (result->outcome == LK_OUTCOME_REFUSED) {
        lk_eventlog_msg(node, ctx->tag, LK_MSG_SCRIPT_REFUSED, lk_action_name(ctx->action),
                        result->message);
    }

    struct lk_event ev = {
            .type = LK_EV_RUN_FINISHED,
            .tag = ctx->tag,
            .action = ctx->action,
            .result = *result,
            .now_usec = lk_mono_usec(),
    };
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    struct lk_view view = lk_node_view(node);
    if (lk_engine_decide(&view, &ev, &plan) == 0) {
        log_decision(node, &ev, &plan);
        char *detail = NULL;
        /* A failed run's output explains the failure; recover's output also tells what it
         * did when it succeeded (lkcli resource why shows it). */
        if ((!lk_result_ok(result) || ctx->action == LK_ACTION_RECOVER) && output_len > 0) {
            detail = strndup(output, output_len);
        }
        char err[LK_REASON_MAX];
        (void) apply(node, &plan, detail, err, sizeof(err));
        free(detail);
    }
    if (node->stopping && node->stop_apps) {
        struct lk_event stop = {.type = LK_EV_SHUTDOWN, .tag = ctx->tag};
        char err[LK_REASON_MAX];
        (void) lk_executor_handle(node, &stop, err, sizeof(err));
    }
    tell_changed(node, ctx->tag);
    free(ctx);
}

/* A new run's context, for a script (start_run) or a built-in check (start_builtin): NULL
 * after a line on stderr when there is no memory for it, or for what the caller allocated
 * with it (!allocated). */
static struct run_ctx *new_run_ctx(struct lk_node *node, const struct lk_resource *res,
                                   enum lk_action action, bool allocated)
{
    struct run_ctx *ctx = allocated ? calloc(1, sizeof(*ctx)) : NULL;
    if (!ctx) {
        fprintf(stderr, "lkd: out of memory starting %s of '%s'\n", lk_action_name(action),
                res->tag);
        return NULL;
    }
    ctx->node = node;
    ctx->action = action;
    ctx->start_ms = lk_now_ms();
    snprintf(ctx->tag, sizeof(ctx->tag), "%s", res->tag);
    return ctx;
}

static void start_run(struct lk_node *node, struct lk_resource *res, enum lk_action action)
{
    lk_guardlink_exit_if_fenced(node);
    struct lk_type_run *prep = malloc(sizeof(*prep));
    struct run_ctx *ctx = new_run_ctx(node, res, action, prep != NULL);
    struct lk_result failed = {.outcome = LK_OUTCOME_EXEC_FAILED, .exec_errno = ENOMEM};
    if (!ctx) {
        free(prep);
        return;
    }
    ctx->flags = res->pending == LK_PENDING_PROBE ? LK_TYPE_PROBE : 0;
    struct lk_type_ctx tctx = {.root = node->root,
                               .node_name = node->name,
                               .exe_dir = lk_type_exe_dir(),
                               .tunables = node->config.cluster.tunables};
    char why[sizeof(failed.message)];
    int r = lk_type_prepare(&tctx, res, action, ctx->flags, prep, why, sizeof(why));
    if (r < 0) {
        /* The type cannot even say how to run it: a run that could not execute. */
        free(prep);
        failed.exec_errno = -r;
        snprintf(failed.message, sizeof(failed.message), "%s", why);
        run_done_now(ctx, &failed, NULL, 0);
        return;
    }
    lk_node_contain(node, res->tag, &prep->spec);
    struct lk_run *run = NULL;
    r = lk_run_start(node->loop, &prep->spec, run_done, ctx, &run);
    lk_type_run_free(prep);
    free(prep);
    if (r == 0 && lk_run_pid(run) > 0 &&
        (action == LK_ACTION_RESTORE || action == LK_ACTION_REMOVE ||
         action == LK_ACTION_RECOVER)) {
        lk_interrupted_note(node->root, ctx->tag, action, lk_run_pid(run));
        ctx->noted = true;
    }
    if (r < 0) {
        /* The runner could not even try (no memory, no file descriptors): the action has
         * failed, and the engine hears so like any other failure. */
        failed.exec_errno = -r;
        snprintf(failed.message, sizeof(failed.message), "%s", strerror(-r));
        run_done_now(ctx, &failed, NULL, 0);
    }
}

/* ------------------------------------------------------------ built-in checks */

/* A built-in check's end. Its result is lkd's own words, not a script's exit status: the
 * resource's type has nothing to classify in it (run_done's path after that). */
static void probe_done(struct lk_probe *probe, const struct lk_result *result, const char *output,
                       size_t output_len, void *userdata)
{
    (void) probe;
    queue_done(userdata, result, output, output_len);
}

/* A check action (the start-up probe) of a resource with a built-in check spec: run inside
 * lkd (io/probe.c) instead of the script, its end the way of a script's (run_done). */
static void start_builtin(struct lk_node *node, struct lk_resource *res, enum lk_action action)
{
    lk_guardlink_exit_if_fenced(node);
    struct run_ctx *ctx = new_run_ctx(node, res, action, true);
    struct lk_probe_spec ps;
    struct lk_result failed = {.outcome = LK_OUTCOME_EXEC_FAILED, .exec_errno = ENOMEM};
    if (!ctx) {
        return;
    }
    int r = lk_probe_spec_for(&ps, res, action, node->cgroups);
    if (r == 0) {
        r = lk_probe_start(node->loop, &ps, probe_done, ctx, NULL);
    }
    if (r < 0) {
        failed.exec_errno = -r;
        snprintf(failed.message, sizeof(failed.message), "%s", strerror(-r));
        run_done_now(ctx, &failed, NULL, 0);
    }
}

/* Runs action of res: a check with a built-in check spec inside lkd, anything else through
 * the resource's type (start_run). */
static void start_action(struct lk_node *node, struct lk_resource *res, enum lk_action action)
{
    if (lk_resource_builtin_check(res, action)) {
        start_builtin(node, res, action);
    } else {
        start_run(node, res, action);
    }
}

/* Publishes the tags plan committed; all of them (NULL) if the list cannot be built. */
static void publish_committed(struct lk_node *node, const struct lk_plan *plan)
{
    const char **tags = calloc(plan->count, sizeof(*tags));
    size_t n = 0;
    for (size_t i = 0; tags && i < plan->count; i++) {
        if (plan->acts[i].type == LK_ACT_COMMIT) {
            tags[n++] = plan->acts[i].tag;
        }
    }
    lk_bus_committed(node->bus, tags, tags ? n : 0);
    free(tags);
}

/* The plan's COMMITs in one transaction: 0, or <0 after a rollback (lk_store_why). */
static int write_commits(struct lk_node *node, const struct lk_plan *plan)
{
    int r = lk_store_begin(node->store);
    for (size_t i = 0; r == 0 && i < plan->count; i++) {
        const struct lk_act *act = &plan->acts[i];
        if (act->type != LK_ACT_COMMIT) {
            continue;
        }
        const struct lk_resource *cur = lk_node_find(node, act->tag);
        if (!cur) {
            r = -ENOENT;
            break;
        }
        struct lk_resource next = *cur;
        next.state = act->state;
        next.pending = act->pending;
        next.target_in_service = act->target_in_service;
        next.check_failures_in_row = act->check_failures_in_row;
        next.local_recoveries = act->local_recoveries;
        next.stop_failed = act->stop_failed;
        next.unable = act->unable;
        next.not_configured = act->not_configured;
        snprintf(next.reason, sizeof(next.reason), "%s", act->text);
        r = lk_store_save_state(node->store, node->name, &next);
    }
    if (r == 0) {
        r = lk_store_commit(node->store);
    }
    if (r < 0) {
        lk_store_rollback(node->store);
    }
    return r;
}

static int apply(struct lk_node *node, const struct lk_plan *plan, const char *detail, char *err,
                 size_t err_size)
{
    for (size_t i = 0; i < plan->count; i++) {
        if (plan->acts[i].type == LK_ACT_REFUSE) {
            snprintf(err, err_size, "%s", plan->acts[i].text);
            return -EAGAIN;
        }
    }

    /* 1. Commit every state change in one transaction, before anything acts on it. */
    bool any_commit = false;
    for (size_t i = 0; i < plan->count; i++) {
        any_commit |= plan->acts[i].type == LK_ACT_COMMIT;
    }
    if (any_commit) {
        int r = write_commits(node, plan);
        bool retry = false;
        if (r < 0 && r != -ENOENT &&
            (lk_catchup_failed(node, &retry) || !lk_catchup_writable(node))) {
            /* The disk failed the write, not the data: the plan is carried out from
             * memory all the same (a failure must never hide behind a full disk), and the
             * states are written when the disk takes them again (catchup.h). Once, right
             * after the reserve was freed, the write is tried again. */
            if (retry) {
                r = write_commits(node, plan);
            }
            if (r < 0) {
                (void) lk_catchup_failed(node, NULL);
                lk_catchup_dirty_states(node);
                r = 0;
            }
        }
        if (r < 0) {
            char why[256];
            snprintf(why, sizeof(why), "%s", lk_store_why(node->store));
            snprintf(err, err_size, "cannot write the node database: %s", why);
            lk_eventlog_msg(node, NULL, LK_MSG_STORE_FAILED, why);
            return -EIO;
        }
        for (size_t i = 0; i < plan->count; i++) {
            const struct lk_act *act = &plan->acts[i];
            struct lk_resource *res = lk_node_find(node, act->tag);
            if (act->type != LK_ACT_COMMIT || !res) {
                continue;
            }
            lk_act_apply(act, res);
        }
        /* Whether the next decision may look only near what it changes (engine.h). */
        node->settled = plan->settles && plan->hier == &node->hier;
        node->settled_serial = node->hier.serial;
    }

    /* 2. Tell. */
    for (size_t i = 0; i < plan->count; i++) {
        const struct lk_act *act = &plan->acts[i];
        if (act->type == LK_ACT_LOG) {
            /* The failed run's output belongs to the first warning or error it caused. */
            bool attach =
                    detail && (act->severity != LK_SEV_INFO || act->number == LK_MSG_RECOVERED);
            struct item *it = now_ok(node) ? NULL : item_new(ITEM_LOG, act->tag);
            if (it) {
                it->severity = act->severity;
                it->number = act->number;
                it->text = strdup(act->text);
                it->detail = attach ? strdup(detail) : NULL;
            }
            if (it && it->text && (!attach || it->detail)) {
                enqueue(node, it);
            } else {
                if (it) {
                    item_free(it);
                }
                lk_eventlog_write(node, act->severity, act->number, act->tag, "lkd", act->text,
                                  attach ? detail : NULL);
            }
            if (attach) {
                detail = NULL;
            }
        }
    }

    /* 3. Act. */
    for (size_t i = 0; i < plan->count; i++) {
        const struct lk_act *act = &plan->acts[i];
        struct lk_resource *res = lk_node_find(node, act->tag);
        if (act->type != LK_ACT_RUN || !res) {
            continue;
        }
        struct item *it = now_ok(node) ? NULL : item_new(ITEM_RUN, act->tag);
        if (it) {
            it->action = act->action;
            enqueue(node, it); /* its resource is pending already (step 1) */
        } else {
            start_action(node, res, act->action);
        }
    }

    /* 4. Tell who follows the committed states (the peers, the checks). */
    if (any_commit) {
        publish_committed(node, plan);
    }
    return 0;
}

int lk_executor_handle(struct lk_node *node, const struct lk_event *event, char *err,
                       size_t err_size)
{
    return lk_executor_handle_detail(node, event, NULL, err, err_size);
}

int lk_executor_handle_detail(struct lk_node *node, const struct lk_event *event,
                              const char *detail, char *err, size_t err_size)
{
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    struct lk_view view = lk_node_view(node);
    int r = lk_engine_decide(&view, event, &plan);
    if (r < 0) {
        snprintf(err, err_size, r == -ENOENT ? "no resource with tag '%s'" : "cannot handle '%s'",
                 event->tag);
        return r;
    }
    log_decision(node, event, &plan);
    r = apply(node, &plan, detail, err, err_size);
    if (r == 0) {
        tell_changed(node, event->tag);
    }
    return r;
}

/* Appends resource i after its children (depth first, each once, in the order of the
 * dependency list: the index's children lists keep it) to order. */
static void children_first(const struct lk_hier *h, size_t i, bool *seen, size_t *order,
                           size_t *count)
{
    if (seen[i]) {
        return;
    }
    seen[i] = true;
    size_t n = 0;
    const size_t *children = lk_hier_children(h, i, &n);
    for (size_t k = 0; k < n; k++) {
        if (children[k] < h->count) {
            children_first(h, children[k], seen, order, count);
        }
    }
    order[(*count)++] = i;
}

static void feed_all(struct lk_node *node, enum lk_event_type type)
{
    /* Copy the tags first: handling an event may not add or drop resources, but it is
     * cheaper to reason about a list that cannot move under the loop. */
    size_t n = node->count;
    char(*tags)[LK_TAG_MAX + 1] = calloc(n ? n : 1, sizeof(*tags));
    bool *seen = calloc(n ? n : 1, sizeof(*seen));
    size_t *order = calloc(n ? n : 1, sizeof(*order));
    const struct lk_hier *h = lk_node_hier(node);
    if (!tags || !seen || !order || !h) {
        free(order);
        free(seen);
        free(tags);
        return;
    }
    /* Children before parents: at start-up a parent decided before its children would
     * see them in service as they were before the stop, not yet probed, and could be
     * restored on top of a child that is gone. */
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        children_first(h, i, seen, order, &count);
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(tags[i], sizeof(tags[i]), "%s", node->resources[order[i]]->tag);
    }
    free(order);
    free(seen);
    /* Queued, then done in order at once while the turn's budget lasts and on the next
     * turns for the rest: the runs these events start and the runs' ends queue behind
     * them, so every resource has had its event before any of those runs ends, as when
     * they were all handled in one turn. A resource still to be handled counts as busy
     * (lk_node_busy_count): lkstop and the commands that wait for an idle node wait. */
    struct lk_turns *t = turns_of(node);
    for (size_t i = 0; i < n; i++) {
        struct item *it = t ? item_new(ITEM_EVENT, tags[i]) : NULL;
        if (it) {
            it->type = type;
            enqueue(node, it);
            continue;
        }
        struct lk_event ev = {.type = type, .tag = tags[i]};
        char err[LK_REASON_MAX];
        (void) lk_executor_handle(node, &ev, err, sizeof(err));
    }
    free(tags);
    if (type == LK_EV_STARTUP) {
        tell_changed(node, NULL);
    }
    if (t && !t->draining) {
        drain(t);
    }
}

static void do_item(struct lk_node *node, struct item *it)
{
    char err[LK_REASON_MAX];
    switch (it->kind) {
    case ITEM_LOG:
        lk_eventlog_write(node, it->severity, it->number, it->tag, "lkd", it->text, it->detail);
        break;
    case ITEM_RUN: {
        struct lk_resource *res = lk_node_find(node, it->tag);
        if (res) {
            start_action(node, res, it->action);
        }
        break;
    }
    case ITEM_DONE:
        run_done_now(it->ctx, &it->result, it->output, it->output_len);
        break;
    case ITEM_EVENT: {
        struct lk_event ev = {.type = it->type, .tag = it->tag};
        if (lk_executor_handle(node, &ev, err, sizeof(err)) < 0) {
            /* Handled or not, it no longer counts as busy: whoever waits for an idle
             * node (lkstop) hears of it. */
            tell_changed(node, it->tag);
        }
        break;
    }
    case ITEM_CHANGED:
    default:
        lk_bus_changed(node->bus, it->all ? NULL : it->tag);
        break;
    }
}

void lk_executor_stop(struct lk_node *node)
{
    struct lk_turns *t = node->turns;
    if (!t) {
        return;
    }
    node->turns = NULL;
    /* What is still queued is dropped: the runs never started and the ends not seen are
     * found at the next start like any interrupted action (their pending action is in the
     * store). */
    while (t->head) {
        struct item *it = t->head;
        t->head = it->next;
        if (it->kind == ITEM_DONE) {
            free(it->ctx);
        }
        item_free(it);
    }
    node->queued_events = 0;
    uv_idle_stop(&t->idle);
    uv_prepare_stop(&t->prepare);
    t->open_handles = 2;
    uv_close((uv_handle_t *) &t->idle, close_freed);
    uv_close((uv_handle_t *) &t->prepare, close_freed);
}

static void startup_now(struct lk_node *node)
{
    node->started_up = true;
    feed_all(node, LK_EV_STARTUP);
}

void lk_executor_startup(struct lk_node *node)
{
    /* A run an earlier lkd left running ends (or is killed) before anything is probed,
     * removed or restored (interrupted.h). */
    if (lk_interrupted_wait(node, startup_now) == 0) {
        startup_now(node);
    }
}

void lk_executor_shutdown(struct lk_node *node)
{
    feed_all(node, LK_EV_SHUTDOWN);
}

/* ---------------------------------------------------------------- placement */

#define FENCE_TIMEOUT_USEC (120ULL * 1000 * 1000)

static void log_placement(struct lk_node *node, const struct lk_pevent *ev,
                          const struct lk_pplan *plan)
{
    /* Placement's inputs and outputs, as the engine's above. A reconciliation that decides
     * nothing is not logged: it repeats at every tick. */
    if (!lk_log_enabled(LK_LOG_DEBUG) || (ev->type == LK_PEV_RECONCILE && plan->count == 0)) {
        return;
    }
    char *view = malloc(8192);
    if (view) {
        fprintf(stderr, "lkd: placement %s %s: %s\n", lk_pevent_type_name(ev->type),
                ev->tag ? ev->tag : "-", lk_placement_view_format(plan->view, view, 8192));
        free(view);
    }
    for (size_t i = 0; i < plan->count; i++) {
        char line[LK_REASON_MAX + 256];
        fprintf(stderr, "lkd:   %s\n", lk_pact_format(&plan->acts[i], line, sizeof(line)));
    }
    log_json(lk_decision_placement_json(plan->view, ev, plan));
    (void) node;
}

static int save_owner_text(struct lk_store *store, const char *tag, const char *text)
{
    return text ? lk_store_save_owner(store, tag, text) : -ENOMEM;
}

static char *owner_text(const struct lk_owner_rec *rec)
{
    json_t *json = lk_owner_json(rec);
    char *text = json ? json_dumps(json, JSON_COMPACT) : NULL;
    json_decref(json);
    return text;
}

/* Copies rec into tag's entry: a new record, not yet acted under. */
static int owner_set(struct lk_owners *owners, const char *tag, const struct lk_owner_rec *rec)
{
    struct lk_owner_entry *e = lk_owners_add(owners, tag);
    if (!e) {
        return -ENOMEM;
    }
    e->rec = *rec;
    e->acted = false;
    return 0;
}

int lk_executor_save_owner(struct lk_node *node, struct lk_owners *owners, const char *tag,
                           const struct lk_owner_rec *rec)
{
    struct lk_owner_entry *p = NULL;
    if (owners->batch && !owners->batch_open) {
        /* The batch's transaction opens with its first record: a message that changes
         * nothing costs nothing. When it cannot open, the records commit one by one. */
        owners->batch_open = lk_store_begin(node->store) == 0;
        owners->batch = owners->batch_open;
    }
    if (owners->batch) {
        if (owners->pending_count == owners->pending_cap) {
            size_t cap = owners->pending_cap ? 2 * owners->pending_cap : 16;
            p = realloc(owners->pending, cap * sizeof(*p));
            if (!p) {
                return -ENOMEM;
            }
            owners->pending = p;
            owners->pending_cap = cap;
        }
        p = &owners->pending[owners->pending_count];
    }
    char *text = owner_text(rec);
    int r = save_owner_text(node->store, tag, text);
    bool encoded = text != NULL;
    free(text);
    if (r < 0 && encoded && (lk_catchup_failed(node, NULL) || !lk_catchup_writable(node))) {
        /* Kept in memory, written at the catch-up (catchup.h). */
        lk_catchup_dirty_owners(node);
        r = 0;
    } else if (r < 0) {
        lk_eventlog_msg(node, NULL, LK_MSG_STORE_FAILED, lk_store_why(node->store));
        return r;
    }
    if (p) {
        memset(p, 0, sizeof(*p));
        snprintf(p->tag, sizeof(p->tag), "%s", tag);
        p->rec = *rec;
        owners->pending_count++;
        return 0;
    }
    return owner_set(owners, tag, rec);
}

void lk_executor_begin_owners(struct lk_owners *owners)
{
    if (!owners->batch_open) {
        owners->batch = true;
        owners->pending_count = 0;
    }
}

void lk_executor_commit_owners(struct lk_node *node, struct lk_owners *owners)
{
    bool open = owners->batch_open;
    owners->batch = false;
    owners->batch_open = false;
    if (!open) {
        return;
    }
    bool keep = true;
    if (lk_store_commit(node->store) < 0) {
        lk_store_rollback(node->store);
        /* A failing disk (or one known to fail: SQLite may have ended the batch's
         * transaction at its first failed write): the records live in memory until the
         * catch-up writes them. */
        if (lk_catchup_failed(node, NULL) || !lk_catchup_writable(node)) {
            lk_catchup_dirty_owners(node);
        } else {
            keep = false;
            lk_eventlog_msg(node, NULL, LK_MSG_STORE_FAILED, lk_store_why(node->store));
        }
    }
    if (keep) {
        for (size_t i = 0; i < owners->pending_count; i++) {
            (void) owner_set(owners, owners->pending[i].tag, &owners->pending[i].rec);
        }
    }
    free(owners->pending);
    owners->pending = NULL;
    owners->pending_count = 0;
    owners->pending_cap = 0;
}

/* The plan's WRITE_RECs for every tag of the hierarchy in one transaction: 0, or <0 after
 * a rollback. */
static int write_records(struct lk_node *node, const struct lk_pplan *plan)
{
    const struct lk_phier *h = &plan->view->hier;
    int r = lk_store_begin(node->store);
    for (size_t i = 0; r == 0 && i < plan->count; i++) {
        if (plan->acts[i].type != LK_PACT_WRITE_REC) {
            continue;
        }
        char *text = owner_text(&plan->acts[i].rec);
        for (size_t t = 0; r == 0 && t < h->count; t++) {
            r = save_owner_text(node->store, h->tags[t].tag, text);
        }
        free(text);
    }
    if (r == 0) {
        r = lk_store_commit(node->store);
    }
    if (r < 0) {
        lk_store_rollback(node->store);
    }
    return r;
}

/* Every WRITE_REC of the plan for every tag of the hierarchy, in one transaction; then
 * the in-memory records. */
static bool place_records(struct lk_node *node, struct lk_owners *owners,
                          const struct lk_pplan *plan)
{
    const struct lk_phier *h = &plan->view->hier;
    bool any = false;
    for (size_t i = 0; i < plan->count; i++) {
        any |= plan->acts[i].type == LK_PACT_WRITE_REC;
    }
    if (!any) {
        return true;
    }
    int r = write_records(node, plan);
    bool retry = false;
    if (r < 0 && r != -ENOMEM && (lk_catchup_failed(node, &retry) || !lk_catchup_writable(node))) {
        /* The disk failed the write: the records hold in memory, placement's plan goes
         * on (the failover a full disk must not stop), the catch-up writes them. */
        if (retry) {
            r = write_records(node, plan);
        }
        if (r < 0) {
            (void) lk_catchup_failed(node, NULL);
            lk_catchup_dirty_owners(node);
            r = 0;
        }
    }
    if (r < 0) {
        lk_eventlog_msg(node, NULL, LK_MSG_STORE_FAILED, lk_store_why(node->store));
        return false;
    }
    for (size_t i = 0; i < plan->count; i++) {
        if (plan->acts[i].type != LK_PACT_WRITE_REC) {
            continue;
        }
        for (size_t t = 0; t < h->count; t++) {
            struct lk_owner_entry *e = lk_owners_add(owners, h->tags[t].tag);
            if (e) {
                e->rec = plan->acts[i].rec;
                e->acted = false;
            }
        }
    }
    lk_bus_owners(node->bus, true);
    lk_bus_changed(node->bus, NULL);
    return true;
}

void lk_executor_fence_forget(struct lk_owners *owners, const char *peer)
{
    for (size_t i = 0; i < owners->fence_count; i++) {
        if (strcmp(owners->fences[i].node, peer) == 0 && !owners->fences[i].running) {
            owners->fences[i].ok = false;
            owners->fences[i].failed_at = 0;
        }
    }
}

struct fence_ctx {
    struct lk_node *node;
    struct lk_owners *owners;
    char peer[LK_TAG_MAX + 1];
};

static void fence_done(struct lk_run *run, const struct lk_result *result, const char *output,
                       size_t output_len, void *userdata)
{
    (void) run;
    struct fence_ctx *ctx = userdata;
    struct lk_node *node = ctx->node;
    struct lk_fence_run *f = lk_owners_fence(ctx->owners, ctx->peer);
    if (f) {
        f->running = false;
        f->ok = lk_result_ok(result);
        if (f->ok) {
            lk_eventlog_msg(node, NULL, LK_MSG_FENCE_OK, ctx->peer);
        } else {
            char desc[320];
            lk_result_describe(result, desc, sizeof(desc));
            char *detail = output_len ? strndup(output, output_len) : NULL;
            char msg[1024];
            lk_catalog_format(msg, sizeof(msg), LK_MSG_FENCE_FAILED, ctx->peer, desc);
            lk_eventlog_write(node, LK_SEV_ERROR, LK_MSG_FENCE_FAILED, NULL, "lkd", msg, detail);
            free(detail);
            f->failed_at = uv_now(node->loop);
        }
    }
    free(ctx);
    lk_bus_owners(node->bus, false);
}

/* Starts the fence hook against peer (placement asked: it is needed and not running). */
static void start_fence(struct lk_node *node, struct lk_owners *owners, const char *peer)
{
    const char *script = node->config.cluster.fence_script;
    struct lk_fence_run *f = lk_owners_fence(owners, peer);
    if (!script[0] || !f || f->running) {
        return;
    }
    /* The hook runs as root: it must pass the resource scripts' check here, on the node that
     * runs it, at every run (it may have changed since it was set, or never have been here).
     * A refusal is a failed fence: nothing is taken over, and it is tried again after the
     * same pause as a hook that failed. */
    char why[LK_PATH_MAX + 256];
    if (lk_safeopen_check_hook(script, why, sizeof(why)) < 0) {
        lk_eventlog_msg(node, NULL, LK_MSG_FENCE_REFUSED, peer, why);
        f->ok = false;
        f->failed_at = uv_now(node->loop);
        return;
    }
    struct fence_ctx *ctx = calloc(1, sizeof(*ctx));
    if (!ctx) {
        return;
    }
    ctx->node = node;
    ctx->owners = owners;
    snprintf(ctx->peer, sizeof(ctx->peer), "%s", peer);
    char env[6][LK_PATH_MAX + 64];
    snprintf(env[0], sizeof(env[0]), "LKROOT=%s", node->root);
    snprintf(env[1], sizeof(env[1]), "LK_NODE=%s", node->name);
    snprintf(env[2], sizeof(env[2]), "LK_FENCE_NODE=%s", peer);
    snprintf(env[3], sizeof(env[3]),
             "PATH=%s/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:"
             "/usr/bin:/sbin:/bin",
             node->root);
    snprintf(env[4], sizeof(env[4]), "LANG=C");
    char *envp[] = {env[0], env[1], env[2], env[3], env[4], NULL};
    struct lk_run_spec spec = {
            .path = script,
            .cwd = node->root,
            .env = envp,
            .timeout_usec = FENCE_TIMEOUT_USEC,
            .secure_root = "/", /* the same check again, as close to the exec as it gets */
    };
    lk_eventlog_msg(node, NULL, LK_MSG_FENCE_STARTED, peer, script);
    f->running = true;
    if (lk_run_start(node->loop, &spec, fence_done, ctx, NULL) < 0) {
        f->running = false;
        f->failed_at = uv_now(node->loop);
        free(ctx);
    }
}

static bool start_switch_entry(struct lk_node *node, struct lk_owners *o, const struct lk_phier *h,
                               const char *tag, const char *to)
{
    struct lk_switch_entry *s = NULL;
    for (size_t i = 0; i < o->switch_count && !s; i++) {
        for (size_t t = 0; t < h->count; t++) {
            if (strcmp(h->tags[t].tag, o->switches[i].tag) == 0) {
                s = &o->switches[i];
                break;
            }
        }
    }
    if (!s) {
        struct lk_switch_entry *bigger =
                realloc(o->switches, (o->switch_count + 1) * sizeof(*bigger));
        if (!bigger) {
            return false;
        }
        o->switches = bigger;
        s = &o->switches[o->switch_count++];
    }
    snprintf(s->tag, sizeof(s->tag), "%s", tag);
    snprintf(s->to, sizeof(s->to), "%s", to);
    lk_bus_owners(node->bus, false);
    return true;
}

static void drop_switch_entry(struct lk_owners *o, const char *tag)
{
    for (size_t i = 0; i < o->switch_count; i++) {
        if (strcmp(o->switches[i].tag, tag) == 0) {
            memmove(&o->switches[i], &o->switches[i + 1],
                    (o->switch_count - i - 1) * sizeof(*o->switches));
            o->switch_count--;
            return;
        }
    }
}

static void note_removing(struct lk_owners *o, const char *tag)
{
    char(*bigger)[LK_TAG_MAX + 1] = realloc(o->removing, (o->removing_count + 1) * sizeof(*bigger));
    if (bigger) {
        o->removing = bigger;
        snprintf(o->removing[o->removing_count++], sizeof(o->removing[0]), "%s", tag);
    }
}

static void drop_removing(struct lk_owners *o, const char *tag)
{
    for (size_t i = 0; i < o->removing_count; i++) {
        if (strcmp(o->removing[i], tag) == 0) {
            memmove(&o->removing[i], &o->removing[i + 1],
                    (o->removing_count - i - 1) * sizeof(o->removing[0]));
            o->removing_count--;
            return;
        }
    }
}

static void mark_acted(struct lk_owners *o, const struct lk_phier *h)
{
    for (size_t i = 0; i < h->count; i++) {
        struct lk_owner_entry *e = lk_owners_find(o, h->tags[i].tag);
        if (e) {
            e->acted = true;
            e->held_gen = e->rec.gen;
        }
    }
}

int lk_executor_place(struct lk_node *node, struct lk_owners *owners, const struct lk_pevent *ev,
                      const struct lk_pplan *plan, char *err, size_t err_size)
{
    if (err_size) {
        err[0] = '\0';
    }
    log_placement(node, ev, plan);
    /* 1. The record, before anything acts on it. */
    if (!place_records(node, owners, plan)) {
        snprintf(err, err_size, "cannot write the node database");
        return -EIO;
    }
    const struct lk_phier *h = &plan->view->hier;
    int ret = 0;
    for (size_t i = 0; i < plan->count; i++) {
        const struct lk_pact *act = &plan->acts[i];
        char e[LK_REASON_MAX];
        switch (act->type) {
        case LK_PACT_MARK_ACTED:
            mark_acted(owners, h);
            break;
        case LK_PACT_RESTORE: {
            struct lk_event rev = {.type = LK_EV_RESTORE_REQUESTED, .tag = act->tag};
            if (lk_executor_handle(node, &rev, e, sizeof(e)) < 0) {
                fprintf(stderr, "lkd: cannot restore '%s': %s\n", act->tag, e);
            }
            break;
        }
        case LK_PACT_REMOVE: {
            struct lk_event rev = {.type = LK_EV_REMOVE_REQUESTED,
                                   .tag = act->tag,
                                   .whole_hierarchy = act->whole,
                                   .preempt = act->preempt};
            if (lk_executor_handle(node, &rev, e, sizeof(e)) < 0 &&
                ev->type != LK_PEV_REMOVE_MESSAGE) {
                fprintf(stderr, "lkd: cannot remove '%s': %s\n", act->tag, e);
            }
            break;
        }
        case LK_PACT_FAIL_HERE: {
            struct lk_event fev = {
                    .type = LK_EV_CLUSTER_FAILED, .tag = act->tag, .detail = act->text};
            (void) lk_executor_handle(node, &fev, e, sizeof(e));
            break;
        }
        case LK_PACT_FENCE:
            start_fence(node, owners, act->node);
            break;
        case LK_PACT_LOG:
            lk_eventlog_write(node, act->severity, act->number, act->tag[0] ? act->tag : NULL,
                              "lkd", act->text, NULL);
            break;
        case LK_PACT_START_SWITCH:
            if (!start_switch_entry(node, owners, h, act->tag, act->node)) {
                snprintf(err, err_size, "out of memory");
                ret = -ENOMEM;
            }
            break;
        case LK_PACT_DROP_SWITCH:
            drop_switch_entry(owners, act->tag);
            break;
        case LK_PACT_NOTE_REMOVING:
            note_removing(owners, act->tag);
            break;
        case LK_PACT_DROP_REMOVING:
            drop_removing(owners, act->tag);
            break;
        case LK_PACT_WRITE_REC:   /* done first */
        case LK_PACT_SEND_SWITCH: /* the cluster's (membership) */
        case LK_PACT_SEND_REMOVE:
        case LK_PACT_WAIT:
        case LK_PACT_VERDICT:
        default:
            break;
        }
    }
    return ret;
}
