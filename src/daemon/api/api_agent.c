/* The agents' side of the API: `resource describe-agent` (an OCF agent's parameters and
 * advised timeouts, from its meta-data, docs/OCF.md) and the admission of a definition by
 * its type (restype.h's admit hook: OCF meta-data and validate-all) that a create and a
 * parameter change go through before anything is written.
 *
 * Events that enter: the requests above, and the completions of the runs they start (the
 * runner's callbacks, through io/type_ocf.c). A client may go away meanwhile: its job is
 * detached (api_agent_release) and the completion only frees what the job holds.
 *
 * It must never write a definition (the caller does, once admitted), nor show a parameter's
 * value in an event: 1540/1541 name the agent and the reason only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "catalog.h"
#include "eventlog.h"
#include "ocf.h"
#include "params.h"
#include "proto.h"
#include "restype.h"
#include "type_ocf.h"

/* One request waiting for an agent: a describe-agent or an admission. */
struct api_agent_job {
    struct conn *conn; /* NULL once the client went away */
    struct lk_node *node;
    char tag[LK_TAG_MAX + 1];
    struct lk_resource *res;
    struct lk_params *params;
    api_admit_cb done;
    void *userdata;
};

/* The client of c went away: its job finishes without it. */
void api_agent_release(struct conn *c)
{
    if (c->agent_job) {
        c->agent_job->conn = NULL;
        c->agent_job = NULL;
    }
}

static struct api_agent_job *job_new(struct conn *c)
{
    struct api_agent_job *job = calloc(1, sizeof(*job));
    if (!job) {
        return NULL;
    }
    job->conn = c;
    job->node = c->api->node;
    c->agent_job = job;
    return job;
}

/* Detaches job from its client; returns the client, or NULL when it is gone. */
static struct conn *job_take_conn(struct api_agent_job *job)
{
    struct conn *c = job->conn;
    if (c) {
        c->agent_job = NULL;
    }
    job->conn = NULL;
    return c;
}

/* ---------------------------------------------------------------- describe-agent */

static void describe_done(int status, const char *err, const struct lk_ocf_meta *meta,
                          const char *agent, void *userdata)
{
    struct api_agent_job *job = userdata;
    struct conn *c = job_take_conn(job);
    free(job);
    if (!c) {
        return;
    }
    if (status < 0) {
        api_reply_error(c, LK_EXIT_FAILED, "%s", err);
        return;
    }
    json_t *data = lk_ocf_meta_json(meta, agent);
    if (!data) {
        api_reply_error(c, LK_EXIT_FAILED, "out of memory");
        return;
    }
    api_reply_ok(c, data);
}

static void h_describe_agent(struct conn *c, const json_t *args)
{
    struct lk_node *node = c->api->node;
    if (api_refuse_while_stopping(c)) {
        return; /* no agent run starts while lkd stops */
    }
    const char *agent = api_arg_str(args, "agent");
    char err[1024];
    struct lk_ocf_agent parsed;
    if (lk_ocf_agent_parse(agent, &parsed, err, sizeof(err)) < 0) {
        api_reply_error(c, LK_EXIT_USAGE, "%s", err);
        return;
    }
    if (c->agent_job) {
        api_reply_error(c, LK_EXIT_FAILED, "this connection is already waiting for an agent");
        return;
    }
    struct api_agent_job *job = job_new(c);
    if (!job) {
        api_reply_error(c, LK_EXIT_FAILED, "out of memory");
        return;
    }
    int r = lk_type_ocf_meta(node->loop, node->root, node->name, agent, describe_done, job, err,
                             sizeof(err));
    if (r < 0) {
        c->agent_job = NULL;
        free(job);
        api_reply_error(c, LK_EXIT_FAILED, "%s", err);
    }
}

const struct route lk_api_agent_routes[] = {
        {LK_CMD_RES_AGENT, LK_ROLE_OPERATOR, h_describe_agent},
        {NULL, 0, NULL},
};

/* ---------------------------------------------------------------- admission */

unsigned api_admit_given(const json_t *args)
{
    static const struct {
        const char *key;
        unsigned bit;
    } keys[] = {
            {"action-timeout", LK_TYPE_GIVEN_ACTION_TIMEOUT},
            {"quickchk-timeout", LK_TYPE_GIVEN_QUICKCHK_TIMEOUT},
            {"deepchk-timeout", LK_TYPE_GIVEN_DEEPCHK_TIMEOUT},
            {"quickchk-interval", LK_TYPE_GIVEN_QUICKCHK_INTERVAL},
            {"deepchk-interval", LK_TYPE_GIVEN_DEEPCHK_INTERVAL},
    };
    json_t *settings = json_object_get(args, "settings");
    unsigned given = 0;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (json_object_get(settings, keys[i].key)) {
            given |= keys[i].bit;
        }
    }
    return given;
}

/* OCF parameters named like secrets are marked secret, whatever the user said. */
static void mark_secrets(const struct lk_resource *res, struct lk_params *params)
{
    if (!params || strcmp(res->app, "ocf") != 0) {
        return;
    }
    for (size_t i = 0; i < params->count; i++) {
        if (lk_ocf_secret_name(params->items[i].name)) {
            (void) lk_params_mark_secret(params, params->items[i].name);
        }
    }
}

/* A refusal's text without the secret values (an agent may echo one in its reason). */
static void scrub(const struct lk_resource *res, const struct lk_params *params, char *text,
                  size_t size)
{
    for (size_t i = 0; params && i < params->count; i++) {
        if (params->items[i].secret ||
            (strcmp(res->app, "ocf") == 0 && lk_ocf_secret_name(params->items[i].name))) {
            lk_ocf_scrub(text, size, params->items[i].value);
        }
    }
}

static void admit_done(int status, const char *err, void *userdata)
{
    struct api_agent_job *job = userdata;
    struct conn *c = job_take_conn(job);
    char what[LK_TYPE_MAX + 32], shown[1024];
    lk_type_describe(job->res, what, sizeof(what));
    snprintf(shown, sizeof(shown), "%s", err ? err : "");
    scrub(job->res, job->params, shown, sizeof(shown));
    if (status < 0) {
        lk_eventlog_msg(job->node, job->tag, LK_MSG_TYPE_REFUSED, what, shown);
    } else {
        mark_secrets(job->res, job->params);
        lk_eventlog_msg(job->node, job->tag, LK_MSG_TYPE_ADMITTED, what);
    }
    api_admit_cb done = job->done;
    void *ud = job->userdata;
    free(job);
    done(c, status, status < 0 ? shown : NULL, ud);
}

int api_admit(struct conn *c, struct lk_resource *res, struct lk_params *params, unsigned given,
              api_admit_cb done, void *userdata)
{
    struct lk_node *node = c->api->node;
    if (c->agent_job) {
        api_reply_error(c, LK_EXIT_FAILED, "this connection is already waiting for an agent");
        return -EBUSY;
    }
    struct api_agent_job *job = job_new(c);
    if (!job) {
        api_reply_error(c, LK_EXIT_FAILED, "out of memory");
        return -ENOMEM;
    }
    snprintf(job->tag, sizeof(job->tag), "%s", res->tag);
    job->res = res;
    job->params = params;
    job->done = done;
    job->userdata = userdata;
    struct lk_type_ctx ctx = {.root = node->root, .node_name = node->name, .exe_dir = NULL};
    char err[1024];
    int r = lk_type_admit(node->loop, &ctx, res, params, given, admit_done, job, err, sizeof(err));
    if (r != 0) {
        c->agent_job = NULL;
        free(job);
    }
    if (r == 1) {
        mark_secrets(res, params);
        return 1;
    }
    if (r < 0) {
        char what[LK_TYPE_MAX + 32];
        lk_type_describe(res, what, sizeof(what));
        scrub(res, params, err, sizeof(err));
        lk_eventlog_msg(node, res->tag, LK_MSG_TYPE_REFUSED, what, err);
        api_reply_error(c, r == -EINVAL ? LK_EXIT_USAGE : LK_EXIT_FAILED, "%s", err);
    }
    return r;
}
