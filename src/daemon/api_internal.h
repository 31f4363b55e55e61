/* What the command socket (api.c) and its cluster commands (api_cluster.c) share: the
 * connection, the reply helpers. Nothing else includes this. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "api.h"
#include "node.h"
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

struct conn {
    uv_pipe_t pipe;
    struct lk_api *api;
    struct conn *prev, *next;
    enum lk_role role;
    char *buf;
    size_t len;
    bool have_request;
    uint64_t accepted_usec;
    bool closing;
    bool close_after_write;
    unsigned writes_in_flight;
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
};

struct lk_api {
    struct lk_node *node;
    uv_pipe_t listener;
    uv_timer_t sweeper; /* closes connections that never sent a request */
    struct conn *conns;
};

struct route {
    const char *cmd;
    enum lk_role role;
    void (*handler)(struct conn *c, const json_t *args);
};

/* The cluster commands (api_cluster.c), NULL-terminated by cmd. */
extern const struct route lk_api_cluster_routes[];

/* Sends msg (stolen) on c. */
void api_send_msg(struct conn *c, json_t *msg);
/* The final reply: c closes once it is written. */
void api_reply_final(struct conn *c, json_t *msg);
void api_reply_ok(struct conn *c, json_t *data);
__attribute__((format(printf, 3, 4))) void api_reply_error(struct conn *c, int code,
                                                           const char *fmt, ...);
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
json_t *api_resource_nodes_json(struct lk_node *node, const struct lk_resource *res);
