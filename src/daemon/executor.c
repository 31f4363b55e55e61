/* The executor: engine in, actions out. It is the only caller of the engine and the only
 * code that turns a plan into store writes, log lines and script runs.
 *
 * A run's completion is a new event; while it runs, the resource's pending action (in
 * the store) says what is going on, so that a crash in between is seen at the next start.
 * The output tail of a failed run travels into the detail of the plan's ERROR events.
 * It tells, never calls up: "these tags changed" after each event and run, "a plan was
 * committed" after each commit (bus.h); the cluster and the checks subscribe. */
#include "executor.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "eventlog.h"
#include "log.h"
#include "scripts.h"

struct run_ctx {
    struct lk_node *node;
    char tag[LK_TAG_MAX + 1];
    enum lk_action action;
    int64_t start_ms;
};

static int apply(struct lk_node *node, const struct lk_plan *plan, const char *detail, char *err,
                 size_t err_size);

static void log_decision(struct lk_node *node, const struct lk_event *ev,
                         const struct lk_plan *plan)
{
    /* The engine's inputs and outputs, for replaying "why did it do that?". */
    if (!lk_log_enabled(LK_LOG_DEBUG)) {
        return;
    }
    lk_log(LK_LOG_DEBUG, "event %s %s", lk_event_type_name(ev->type), ev->tag);
    for (size_t i = 0; i < plan->count; i++) {
        char line[LK_REASON_MAX + 128];
        lk_log(LK_LOG_DEBUG, "  %s", lk_act_format(&plan->acts[i], line, sizeof(line)));
    }
    (void) node;
}

static void run_done(struct lk_run *run, const struct lk_result *result, const char *output,
                     size_t output_len, void *userdata)
{
    (void) run;
    struct run_ctx *ctx = userdata;
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
        fprintf(stderr, "lkd: cannot store the run of %s for '%s': %s, ignoring\n", rec.action,
                rec.tag, lk_store_errmsg(node->store));
    }
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
    lk_bus_changed(node->bus, ctx->tag);
    free(ctx);
}

static void start_run(struct lk_node *node, struct lk_resource *res, enum lk_action action)
{
    struct run_ctx *ctx = calloc(1, sizeof(*ctx));
    struct lk_script_run *prep = malloc(sizeof(*prep));
    struct lk_result failed = {.outcome = LK_OUTCOME_EXEC_FAILED, .exec_errno = ENOMEM};
    if (!ctx || !prep) {
        free(prep);
        free(ctx);
        fprintf(stderr, "lkd: out of memory starting %s of '%s'\n", lk_action_name(action),
                res->tag);
        return;
    }
    ctx->node = node;
    ctx->action = action;
    ctx->start_ms = lk_now_ms();
    snprintf(ctx->tag, sizeof(ctx->tag), "%s", res->tag);
    lk_scripts_prepare(node, res, action, prep);
    int r = lk_run_start(node->loop, &prep->spec, run_done, ctx, NULL);
    free(prep);
    if (r < 0) {
        /* The runner could not even try (no memory, no file descriptors): the action has
         * failed, and the engine hears so like any other failure. */
        failed.exec_errno = -r;
        snprintf(failed.message, sizeof(failed.message), "%s", strerror(-r));
        run_done(NULL, &failed, NULL, 0, ctx);
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
            snprintf(next.reason, sizeof(next.reason), "%s", act->text);
            r = lk_store_save_state(node->store, node->name, &next);
        }
        if (r == 0) {
            r = lk_store_commit(node->store);
        }
        if (r < 0) {
            snprintf(err, err_size, "cannot write the node database: %s",
                     lk_store_errmsg(node->store));
            lk_store_rollback(node->store);
            lk_eventlog_msg(node, NULL, LK_MSG_STORE_FAILED, lk_store_errmsg(node->store));
            return -EIO;
        }
        for (size_t i = 0; i < plan->count; i++) {
            const struct lk_act *act = &plan->acts[i];
            struct lk_resource *res = lk_node_find(node, act->tag);
            if (act->type != LK_ACT_COMMIT || !res) {
                continue;
            }
            res->state = act->state;
            res->pending = act->pending;
            res->target_in_service = act->target_in_service;
            res->check_failures_in_row = act->check_failures_in_row;
            res->local_recoveries = act->local_recoveries;
            res->stop_failed = act->stop_failed;
            if (act->forget_recoveries) {
                memset(res->recovery_at_usec, 0, sizeof(res->recovery_at_usec));
                res->recovery_head = 0;
            }
            if (act->recovery_at_usec) {
                lk_resource_note_recovery(res, act->recovery_at_usec);
            }
            snprintf(res->reason, sizeof(res->reason), "%s", act->text);
        }
    }

    /* 2. Tell. */
    for (size_t i = 0; i < plan->count; i++) {
        const struct lk_act *act = &plan->acts[i];
        if (act->type == LK_ACT_LOG) {
            /* The failed run's output belongs to the first warning or error it caused. */
            bool attach =
                    detail && (act->severity != LK_SEV_INFO || act->number == LK_MSG_RECOVERED);
            lk_eventlog_write(node, act->severity, act->number, act->tag, "lkd", act->text,
                              attach ? detail : NULL);
            if (attach) {
                detail = NULL;
            }
        }
    }

    /* 3. Act. */
    for (size_t i = 0; i < plan->count; i++) {
        const struct lk_act *act = &plan->acts[i];
        struct lk_resource *res = lk_node_find(node, act->tag);
        if (act->type == LK_ACT_RUN && res) {
            start_run(node, res, act->action);
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
        lk_bus_changed(node->bus, event->tag);
    }
    return r;
}

/* Appends resource i after its children (depth first, each once) to order. */
static void children_first(const struct lk_node *node, size_t i, bool *seen, size_t *order,
                           size_t *count)
{
    if (seen[i]) {
        return;
    }
    seen[i] = true;
    const char *tag = node->resources[i]->tag;
    for (size_t d = 0; d < node->dep_count; d++) {
        if (strcmp(node->deps[d].parent, tag) != 0) {
            continue;
        }
        for (size_t c = 0; c < node->count; c++) {
            if (strcmp(node->resources[c]->tag, node->deps[d].child) == 0) {
                children_first(node, c, seen, order, count);
                break;
            }
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
    if (!tags || !seen || !order) {
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
        children_first(node, i, seen, order, &count);
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(tags[i], sizeof(tags[i]), "%s", node->resources[order[i]]->tag);
    }
    free(order);
    free(seen);
    for (size_t i = 0; i < n; i++) {
        struct lk_event ev = {.type = type, .tag = tags[i]};
        char err[LK_REASON_MAX];
        (void) lk_executor_handle(node, &ev, err, sizeof(err));
    }
    free(tags);
}

void lk_executor_startup(struct lk_node *node)
{
    feed_all(node, LK_EV_STARTUP);
}

void lk_executor_shutdown(struct lk_node *node)
{
    feed_all(node, LK_EV_SHUTDOWN);
}
