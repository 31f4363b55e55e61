/* What the request layer (request.c), the handlers (api.c) and the cluster commands
 * (api_cluster.c) share: the request, the route tables, the waits. The transports see
 * only request.h; nothing else includes this but tests/unit/test_request.c. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api.h"
#include "node.h"
#include "request.h"
#include "roles.h"

enum wait_kind {
    WAIT_NONE,
    WAIT_ACTION,   /* a restore or remove (or create + restore) until nothing is pending */
    WAIT_FOLLOW,   /* lkcli log --follow */
    WAIT_SHUTDOWN, /* lkstop: until nothing is pending */
    WAIT_TEST,     /* resource test: until the run ends */
    WAIT_IDLE,     /* lkstart: until the start-up actions have ended */
    WAIT_CLUSTER,  /* a switchover, a remote restore/remove, extend: until the cluster agrees */
};

struct test_ctx;
struct status_job;
struct lk_forward;
struct remote_job;
struct api_agent_job;

/* A request (request.h): what the handlers and the waits know of a client. Its transport
 * keeps the connection itself. */
struct conn {
    struct lk_api *api;
    struct conn *prev, *next; /* api->conns */
    const struct lk_transport_ops *ops;
    void *tconn; /* the transport's connection */
    enum lk_role role;
    bool closing; /* the transport is closing: nothing more is sent */
    enum wait_kind wait;
    char wait_tag[LK_TAG_MAX + 1];
    bool want_in_service;
    const char *verb;
    struct test_ctx *test;
    /* WAIT_CLUSTER */
    char want_node[LK_TAG_MAX + 1]; /* "" = out of service everywhere */
    int cluster_op;                 /* which check api_cluster_wait_check makes */
    json_t *seen;                   /* progress already reported */
    uint64_t deadline_usec;
    uint64_t start_gen; /* the hierarchy's generation when the wait began */
    /* resource why, log --cluster: waiting for the peers' events (incident.h) */
    struct lk_gather *gather;
    json_t *gathered; /* this node's records, the peers' are added */
    size_t gather_limit;
    /* status: its cgroup figures still being read on later turns (api.c) */
    struct status_job *status;
    /* describe-agent or a type's admission waiting for an agent (api_agent.c) */
    struct api_agent_job *agent_job;
    /* api_remote.c: the request forwarded to another node for this client; the node that
     * forwarded this request here ("" = a local client); a remote.exec running for it */
    struct lk_forward *forward;
    char from_node[LK_TAG_MAX + 1];
    struct remote_job *remote;
    long long uid; /* the caller's (lk_req_set_uid), forwarded with a request; -1 unknown */
};

struct lk_socket;

struct lk_api {
    struct lk_node *node;
    struct lk_cluster *cluster; /* the coordinator, given by main.c at start */
    struct lk_socket *socket;   /* the Unix socket transport (socket.c) */
    struct conn *conns;         /* every request, whatever carried it */
};

struct route {
    const char *cmd;
    enum lk_role role;
    void (*handler)(struct conn *c, const json_t *args);
};

/* The route tables, each NULL-terminated by cmd: the resource and daemon commands
 * (api.c), the cluster commands (api_cluster.c) and the web tokens (api_web.c).
 * lk_req_dispatch looks in each. */
extern const struct route lk_api_routes[];
extern const struct route lk_api_cluster_routes[];
extern const struct route lk_api_metrics_routes[]; /* api_metrics.c */
/* The web console's token commands (api_web.c). */
extern const struct route lk_api_web_routes[];
/* resource describe-agent (api_agent.c). */
extern const struct route lk_api_agent_routes[];
/* remote.exec, remote.put (api_remote.c). */
extern const struct route lk_api_remote_routes[];

/* api_remote.c: sends req (its envelope names node, another node) to node and relays the
 * replies to c; serves the requests peers forward here once api_remote_start ran; lets go
 * of what c holds there (a forward, a running command) when c is freed. */
void api_forward_request(struct conn *c, const json_t *req, const char *node);
void api_remote_start(struct lk_api *api);
void api_remote_release(struct conn *c);

/* What lk_req_dispatch checks before any handler runs, with nothing sent and nothing
 * changed (also the entry point of tests/fuzz/fuzz_request.c): the message parsed into
 * *ret_req (the caller decrefs; NULL when it is not a JSON object), its version, its
 * command's route and the role. Returns LK_EXIT_OK with the route in *ret_route, or the
 * exit code of the refusal (LK_EXIT_USAGE, LK_EXIT_DENIED) with its one-line message. */
int lk_req_parse(const char *line, enum lk_role role, json_t **ret_req,
                 const struct route **ret_route, char *err, size_t err_size);

/* The role a request's "as" names (guest, operator, admin): 0 with *ret_role set, or -1
 * when it is missing or names no role. lk_req_parse and lk_req_dispatch run a request with
 * the lesser of the caller's role and this one. */
int lk_req_as(const json_t *req, enum lk_role *ret_role);

/* What c holds for the handlers (a test run, progress seen), let go when c is freed. */
void api_release(struct conn *c);

/* The admission of a definition by its type (api_agent.c). done is called once, from the
 * loop, with status 0 (admitted: res->settings may hold the type's advised values, params
 * its secrets marked) or -errno and a one-line reason for the user, and with c NULL when the
 * client went away meanwhile (then only free what userdata holds). res and params must stay
 * valid until then. */
struct lk_params;
typedef void (*api_admit_cb)(struct conn *c, int status, const char *err, void *userdata);
/* Runs res's type's admit hook (restype.h) for c's create or parameter change; given: the
 * LK_TYPE_GIVEN_* bits of the settings the user gave (api_admit_given). Returns 0 when done
 * will be called, 1 when the type has nothing to check (go on at once; done is not called),
 * or -errno after replying the error to c (done is not called). Events 1540/1541. */
int api_admit(struct conn *c, struct lk_resource *res, struct lk_params *params, unsigned given,
              api_admit_cb done, void *userdata);
/* The LK_TYPE_GIVEN_* bits of the settings a request's "settings" names. */
unsigned api_admit_given(const json_t *args);
/* c's client went away: a job waiting for an agent goes on without it. */
void api_agent_release(struct conn *c);

const char *api_arg_str(const json_t *args, const char *key);
/* The resource args names with --tag, or NULL after replying with the error. */
struct lk_resource *api_want_resource(struct conn *c, const json_t *args);
bool api_refuse_while_stopping(struct conn *c);
/* Makes c wait for tag's pending action to end (see api.c). */
void api_start_waiting(struct conn *c, const char *tag, bool want_in_service, const char *verb);
/* Makes c wait for a cluster-wide operation on tag (see api_cluster.c). */
void api_start_cluster_wait(struct conn *c, const char *tag, const char *want_node,
                            const char *verb);
/* Stops the daemon now (lkstop -f), replying {"mode":mode} to c. */
void api_stop_now(struct conn *c, const char *why, const char *mode);
/* lkstop --switchover: makes c wait until this node holds nothing, then stops lkd. */
void api_start_switch_out_wait(struct conn *c);
/* Re-evaluates a connection waiting on the cluster; true when it replied. */
bool api_cluster_wait_check(struct conn *c);

/* Where a resource is extended: [{"node":…, "priority":N, "state":"ISP"|…|""}], best
 * priority first (api_cluster.c). */
json_t *api_resource_nodes_json(struct lk_api *api, const struct lk_resource *res);
