/* Unit tests of the request layer (src/daemon/api/request.c) with no socket at all: a fake
 * in-memory transport records what the request sends and whether it ended or closed the
 * connection, and a request line goes straight to lk_req_dispatch. Malformed JSON, a
 * wrong version, a missing command, an unknown command and a missing role each get one
 * error reply and run no handler; a ping gets its ok reply; an event reaches a follower as
 * a message before any final reply; a transport that cannot take a message gets closed;
 * a closed request sends nothing. This is the contract an HTTP transport relies on. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "api_internal.h"
#include "proto.h"
#include "request.h"

#define MAX_SENT 8

struct fake {
    struct conn *req;
    char *sent[MAX_SENT];
    int n_sent;
    int ends, closes;
    bool refuse; /* send fails, as a full write queue does */
};

/* Takes msg as the socket transport does: it is ours, whatever we return. */
static int fake_send(void *tconn, char *msg, size_t len)
{
    struct fake *f = tconn;
    assert_int_equal(strlen(msg), len);
    assert_null(memchr(msg, '\n', len)); /* framing is the transport's */
    if (f->refuse) {
        free(msg);
        return -ENOBUFS;
    }
    assert_true(f->n_sent < MAX_SENT);
    f->sent[f->n_sent++] = msg;
    return 0;
}

static void fake_end(void *tconn)
{
    struct fake *f = tconn;
    f->ends++;
    lk_req_closed(f->req);
}

static void fake_close(void *tconn)
{
    struct fake *f = tconn;
    f->closes++;
    lk_req_closed(f->req);
}

static const struct lk_transport_ops fake_ops = {
        .send = fake_send,
        .end = fake_end,
        .close = fake_close,
};

struct ctx {
    struct lk_node node;
    struct lk_api api;
    struct fake fake;
};

static int setup(void **state)
{
    struct ctx *x = calloc(1, sizeof(*x));
    assert_non_null(x);
    snprintf(x->node.name, sizeof(x->node.name), "%s", "nodeA");
    x->api.node = &x->node;
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *x = *state;
    lk_req_free(x->fake.req);
    assert_null(x->api.conns);
    for (int i = 0; i < x->fake.n_sent; i++) {
        free(x->fake.sent[i]);
    }
    free(x);
    return 0;
}

static struct conn *new_req(struct ctx *x, enum lk_role role)
{
    x->fake.req = lk_req_new(&x->api, role, &fake_ops, &x->fake);
    assert_non_null(x->fake.req);
    assert_ptr_equal(x->api.conns, x->fake.req);
    return x->fake.req;
}

/* Parses message i, checks its version, and returns it (the caller decrefs). */
static json_t *sent(struct ctx *x, int i)
{
    assert_true(i < x->fake.n_sent);
    json_error_t jerr;
    json_t *msg = json_loads(x->fake.sent[i], JSON_REJECT_DUPLICATES, &jerr);
    assert_non_null(msg);
    assert_int_equal(json_integer_value(json_object_get(msg, LK_KEY_VERSION)), LK_PROTO_VERSION);
    return msg;
}

/* One final error reply with code and an error text starting with prefix, then end. */
static void assert_one_error(struct ctx *x, int code, const char *prefix)
{
    assert_int_equal(x->fake.n_sent, 1);
    assert_int_equal(x->fake.ends, 1);
    assert_int_equal(x->fake.closes, 0);
    json_t *msg = sent(x, 0);
    assert_true(json_is_false(json_object_get(msg, LK_KEY_OK)));
    assert_int_equal(json_integer_value(json_object_get(msg, LK_KEY_CODE)), code);
    const char *error = json_string_value(json_object_get(msg, LK_KEY_ERROR));
    assert_non_null(error);
    if (strncmp(error, prefix, strlen(prefix)) != 0) {
        fail_msg("error '%s' does not start with '%s'", error, prefix);
    }
    json_decref(msg);
    assert_true(x->fake.req->closing);
    assert_int_equal(x->fake.req->wait, WAIT_NONE);
}

static void lk_req_dispatch__malformed_json(void **state)
{
    struct ctx *x = *state;
    lk_req_dispatch(new_req(x, LK_ROLE_ADMIN), "{\"v\":1, \"cmd\":");
    assert_one_error(x, LK_EXIT_USAGE, "malformed request: ");
}

static void lk_req_dispatch__not_an_object(void **state)
{
    struct ctx *x = *state;
    lk_req_dispatch(new_req(x, LK_ROLE_ADMIN), "[1, 2]");
    assert_one_error(x, LK_EXIT_USAGE, "malformed request: ");
}

static void lk_req_dispatch__duplicate_key(void **state)
{
    struct ctx *x = *state;
    lk_req_dispatch(new_req(x, LK_ROLE_ADMIN), "{\"v\":1, \"cmd\":\"ping\", \"cmd\":\"ping\"}");
    assert_one_error(x, LK_EXIT_USAGE, "malformed request: ");
}

static void lk_req_dispatch__wrong_version(void **state)
{
    struct ctx *x = *state;
    lk_req_dispatch(new_req(x, LK_ROLE_ADMIN), "{\"v\":99, \"cmd\":\"ping\"}");
    assert_one_error(x, LK_EXIT_USAGE, "unsupported protocol version (this lkd speaks 1)");
}

static void lk_req_dispatch__version_as_text(void **state)
{
    struct ctx *x = *state;
    lk_req_dispatch(new_req(x, LK_ROLE_ADMIN), "{\"v\":\"1\", \"cmd\":\"ping\"}");
    assert_one_error(x, LK_EXIT_USAGE, "unsupported protocol version");
}

static void lk_req_dispatch__args_not_object(void **state)
{
    struct ctx *x = *state;
    lk_req_dispatch(new_req(x, LK_ROLE_ADMIN), "{\"v\":1, \"cmd\":\"ping\", \"args\":[]}");
    assert_one_error(x, LK_EXIT_USAGE, "malformed request: missing cmd or args");
}

static void lk_req_dispatch__unknown_command(void **state)
{
    struct ctx *x = *state;
    lk_req_dispatch(new_req(x, LK_ROLE_ADMIN), "{\"v\":1, \"cmd\":\"resource.explode\"}");
    assert_one_error(x, LK_EXIT_USAGE, "unknown command 'resource.explode'");
}

/* Found by tests/fuzz/fuzz_request: the name was quoted, carriage return and all. */
static void lk_req_dispatch__unknown_command_control_character(void **state)
{
    struct ctx *x = *state;
    lk_req_dispatch(new_req(x, LK_ROLE_ADMIN), "{\"v\":1, \"cmd\":\"\\resource.list\"}");
    assert_one_error(x, LK_EXIT_USAGE, "unknown command: its name contains a control character");
}

/* Found by tests/fuzz/fuzz_request: a long name of two-byte characters was cut in the
 * middle of one, so the reply could not be built and the client got no answer. */
static void lk_req_dispatch__unknown_command_long_utf8(void **state)
{
    struct ctx *x = *state;
    char line[2100];
    size_t n = (size_t) snprintf(line, sizeof(line), "{\"v\":1, \"cmd\":\"x");
    for (int i = 0; i < 700; i++) {
        n += (size_t) snprintf(line + n, sizeof(line) - n, "\xc3\xa9");
    }
    snprintf(line + n, sizeof(line) - n, "\"}");
    lk_req_dispatch(new_req(x, LK_ROLE_ADMIN), line);
    assert_one_error(x, LK_EXIT_USAGE, "unknown command 'x\xc3\xa9");
}

/* Found by tests/fuzz/fuzz_request: jansson quotes the input near the error, a carriage
 * return included. */
static void lk_req_dispatch__malformed_one_line(void **state)
{
    struct ctx *x = *state;
    lk_req_dispatch(new_req(x, LK_ROLE_ADMIN), "\"local_recover\\u000\r0}");
    assert_one_error(x, LK_EXIT_USAGE, "malformed request: ");
    assert_null(strpbrk(x->fake.sent[0], "\r\n"));
    json_t *msg = sent(x, 0);
    assert_null(strpbrk(json_string_value(json_object_get(msg, LK_KEY_ERROR)), "\r\n"));
    json_decref(msg);
}

/* A guest may not shut the daemon down: refused before the handler runs. */
static void lk_req_dispatch__role_denied(void **state)
{
    struct ctx *x = *state;
    lk_req_dispatch(new_req(x, LK_ROLE_GUEST),
                    "{\"v\":1, \"cmd\":\"shutdown\", \"args\":{\"mode\":\"force\"}}");
    assert_one_error(x, LK_EXIT_DENIED, "permission denied: 'shutdown' needs the admin role");
    assert_false(x->node.stopping);
}

/* A cluster command is found in the second route table, and its role checked too. */
static void lk_req_dispatch__cluster_role_denied(void **state)
{
    struct ctx *x = *state;
    lk_req_dispatch(new_req(x, LK_ROLE_OPERATOR), "{\"v\":1, \"cmd\":\"resource.extend\"}");
    assert_one_error(x, LK_EXIT_DENIED, "permission denied: 'resource.extend' needs the admin");
}

/* "as" lowers the role: an admin's request as a guest is refused what a guest is refused. */
static void lk_req_dispatch__as_lowers_role(void **state)
{
    struct ctx *x = *state;
    struct conn *c = new_req(x, LK_ROLE_ADMIN);
    lk_req_dispatch(c, "{\"v\":1, \"cmd\":\"shutdown\", \"as\":\"guest\", "
                       "\"args\":{\"mode\":\"force\"}}");
    assert_one_error(x, LK_EXIT_DENIED, "permission denied: 'shutdown' needs the admin role");
    assert_false(x->node.stopping);
}

/* "as" never raises: a guest asking to act as admin stays a guest. */
static void lk_req_dispatch__as_never_raises(void **state)
{
    struct ctx *x = *state;
    lk_req_dispatch(new_req(x, LK_ROLE_GUEST),
                    "{\"v\":1, \"cmd\":\"resource.extend\", \"as\":\"admin\"}");
    assert_one_error(x, LK_EXIT_DENIED, "permission denied: 'resource.extend' needs the admin");
}

/* An "as" that names no role (or is not a string) is a usage error. */
static void lk_req_dispatch__as_unknown(void **state)
{
    struct ctx *x = *state;
    lk_req_dispatch(new_req(x, LK_ROLE_ADMIN), "{\"v\":1, \"cmd\":\"ping\", \"as\":\"root\"}");
    assert_one_error(x, LK_EXIT_USAGE, "malformed request: 'as' must be guest, operator or admin");
}

static void lk_req_dispatch__as_not_string(void **state)
{
    struct ctx *x = *state;
    lk_req_dispatch(new_req(x, LK_ROLE_ADMIN), "{\"v\":1, \"cmd\":\"ping\", \"as\":3}");
    assert_one_error(x, LK_EXIT_USAGE, "malformed request: 'as' must be guest, operator or admin");
}

/* A lowered request that its role allows runs, with the lowered role. */
static void lk_req_dispatch__as_allowed_runs(void **state)
{
    struct ctx *x = *state;
    struct conn *c = new_req(x, LK_ROLE_ADMIN);
    lk_req_dispatch(c, "{\"v\":1, \"cmd\":\"ping\", \"as\":\"operator\"}");
    assert_int_equal(x->fake.n_sent, 1);
    json_t *msg = sent(x, 0);
    assert_true(json_is_true(json_object_get(msg, LK_KEY_OK)));
    json_decref(msg);
    assert_int_equal(c->role, LK_ROLE_OPERATOR);
}

static void lk_req_dispatch__ping_ok(void **state)
{
    struct ctx *x = *state;
    lk_req_dispatch(new_req(x, LK_ROLE_GUEST), "{\"v\":1, \"cmd\":\"ping\"}");
    assert_int_equal(x->fake.n_sent, 1);
    assert_int_equal(x->fake.ends, 1);
    assert_int_equal(x->fake.closes, 0);
    json_t *msg = sent(x, 0);
    assert_true(json_is_true(json_object_get(msg, LK_KEY_OK)));
    json_t *data = json_object_get(msg, LK_KEY_DATA);
    assert_string_equal(json_string_value(json_object_get(data, "node")), "nodeA");
    assert_int_equal(json_integer_value(json_object_get(data, "pid")), getpid());
    assert_int_equal(json_integer_value(json_object_get(data, "protocol")), LK_PROTO_VERSION);
    json_decref(msg);
}

/* A follower gets each event as a message of its own, and no final reply; once its
 * transport closed it, it gets nothing more. */
static void lk_api_on_event__follower_gets_messages(void **state)
{
    struct ctx *x = *state;
    struct conn *c = new_req(x, LK_ROLE_GUEST);
    c->wait = WAIT_FOLLOW;
    struct lk_event_record e = {.seq = 7, .number = 1234};
    snprintf(e.tag, sizeof(e.tag), "%s", "web");
    snprintf(e.message, sizeof(e.message), "%s", "restored");
    lk_api_on_event(&x->api, &e);
    lk_api_on_event(&x->api, &e);
    assert_int_equal(x->fake.n_sent, 2);
    assert_int_equal(x->fake.ends, 0);
    json_t *msg = sent(x, 1);
    json_t *event = json_object_get(msg, "event");
    assert_int_equal(json_integer_value(json_object_get(event, "seq")), 7);
    assert_string_equal(json_string_value(json_object_get(event, "message")), "restored");
    assert_null(json_object_get(msg, LK_KEY_OK));
    json_decref(msg);

    fake_close(&x->fake); /* the client went away */
    assert_int_equal(c->wait, WAIT_NONE);
    lk_api_on_event(&x->api, &e);
    api_reply_ok(c, NULL);
    assert_int_equal(x->fake.n_sent, 2);
    assert_int_equal(x->fake.ends, 0);
}

/* A transport that cannot take the reply is closed, not ended. */
static void api_reply_final__refused_send_closes(void **state)
{
    struct ctx *x = *state;
    struct conn *c = new_req(x, LK_ROLE_GUEST);
    x->fake.refuse = true;
    lk_req_dispatch(c, "{\"v\":1, \"cmd\":\"ping\"}");
    assert_int_equal(x->fake.n_sent, 0);
    assert_int_equal(x->fake.closes, 1);
    assert_int_equal(x->fake.ends, 0);
    assert_true(c->closing);
}

/* Requests of several connections stay in one list; freeing one unlinks only it. */
static void lk_req_free__unlinks(void **state)
{
    struct ctx *x = *state;
    struct fake other = {0};
    other.req = lk_req_new(&x->api, LK_ROLE_GUEST, &fake_ops, &other);
    struct conn *c = new_req(x, LK_ROLE_GUEST);
    assert_ptr_equal(c->next, other.req);
    lk_req_free(other.req);
    assert_ptr_equal(x->api.conns, c);
    assert_null(c->next);
    assert_null(c->prev);
    lk_req_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(lk_req_dispatch__malformed_json, setup, teardown),
            cmocka_unit_test_setup_teardown(lk_req_dispatch__not_an_object, setup, teardown),
            cmocka_unit_test_setup_teardown(lk_req_dispatch__duplicate_key, setup, teardown),
            cmocka_unit_test_setup_teardown(lk_req_dispatch__wrong_version, setup, teardown),
            cmocka_unit_test_setup_teardown(lk_req_dispatch__unknown_command_control_character,
                                            setup, teardown),
            cmocka_unit_test_setup_teardown(lk_req_dispatch__unknown_command_long_utf8, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(lk_req_dispatch__malformed_one_line, setup, teardown),
            cmocka_unit_test_setup_teardown(lk_req_dispatch__version_as_text, setup, teardown),
            cmocka_unit_test_setup_teardown(lk_req_dispatch__args_not_object, setup, teardown),
            cmocka_unit_test_setup_teardown(lk_req_dispatch__unknown_command, setup, teardown),
            cmocka_unit_test_setup_teardown(lk_req_dispatch__role_denied, setup, teardown),
            cmocka_unit_test_setup_teardown(lk_req_dispatch__cluster_role_denied, setup, teardown),
            cmocka_unit_test_setup_teardown(lk_req_dispatch__as_lowers_role, setup, teardown),
            cmocka_unit_test_setup_teardown(lk_req_dispatch__as_never_raises, setup, teardown),
            cmocka_unit_test_setup_teardown(lk_req_dispatch__as_unknown, setup, teardown),
            cmocka_unit_test_setup_teardown(lk_req_dispatch__as_not_string, setup, teardown),
            cmocka_unit_test_setup_teardown(lk_req_dispatch__as_allowed_runs, setup, teardown),
            cmocka_unit_test_setup_teardown(lk_req_dispatch__ping_ok, setup, teardown),
            cmocka_unit_test_setup_teardown(lk_api_on_event__follower_gets_messages, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(api_reply_final__refused_send_closes, setup, teardown),
            cmocka_unit_test_setup_teardown(lk_req_free__unlinks, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
