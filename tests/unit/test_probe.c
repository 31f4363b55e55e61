/* Tests of the built-in checks (src/daemon/io/probe.c) on a real loop against servers of the
 * same loop on 127.0.0.1: a tcp connect accepted or refused; an HTTP answer with the right
 * or the wrong status or body, a malformed status line, an answer that is not HTTP, a server
 * that accepts and says nothing (a timeout); an abort; the pidfile of a live and of a dead
 * process. Each probe's callback fires once, and the loop closes with nothing left open. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "probe.h"

struct server {
    uv_tcp_t listener;
    const char *answer; /* written to each connection, then closed; NULL: silent */
    char copy[256];     /* the answer, for the write */
    uv_tcp_t conn;
    bool has_conn;
    uv_write_t write;
    int port;
};

struct outcome {
    int calls;
    struct lk_result result;
    char output[600];
};

static void on_conn_closed(uv_handle_t *h)
{
    (void) h;
}

static void on_answered(uv_write_t *req, int status)
{
    (void) status;
    struct server *s = req->data;
    uv_close((uv_handle_t *) &s->conn, on_conn_closed);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void) h;
    (void) suggested;
    static char sink[4096];
    *buf = uv_buf_init(sink, sizeof(sink));
}

/* The request is read before the answer goes out: a server that closes with unread bytes
 * would reset the connection. */
static void on_request(uv_stream_t *conn, ssize_t nread, const uv_buf_t *buf)
{
    (void) buf;
    struct server *s = conn->data;
    if (s->write.data || nread == 0) {
        return;
    }
    if (nread < 0) {
        uv_close((uv_handle_t *) conn, on_conn_closed); /* the probe went away first */
        s->write.data = s;
        return;
    }
    uv_read_stop(conn);
    uv_buf_t b = uv_buf_init(s->copy, (unsigned) strlen(s->copy));
    s->write.data = s;
    uv_write(&s->write, conn, &b, 1, on_answered);
}

static void on_connection(uv_stream_t *listener, int status)
{
    struct server *s = listener->data;
    assert_int_equal(status, 0);
    if (s->has_conn) {
        return; /* one connection per test */
    }
    uv_tcp_init(listener->loop, &s->conn);
    assert_int_equal(uv_accept(listener, (uv_stream_t *) &s->conn), 0);
    s->has_conn = true;
    if (s->answer) {
        s->conn.data = s;
        uv_read_start((uv_stream_t *) &s->conn, on_alloc, on_request);
    }
}

static void server_start(uv_loop_t *loop, struct server *s, const char *answer)
{
    memset(s, 0, sizeof(*s));
    s->answer = answer;
    snprintf(s->copy, sizeof(s->copy), "%s", answer ? answer : "");
    uv_tcp_init(loop, &s->listener);
    s->listener.data = s;
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    assert_int_equal(uv_tcp_bind(&s->listener, (const struct sockaddr *) &addr, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *) &s->listener, 8, on_connection), 0);
    struct sockaddr_storage name;
    int len = sizeof(name);
    uv_tcp_getsockname(&s->listener, (struct sockaddr *) &name, &len);
    s->port = ntohs(((struct sockaddr_in *) &name)->sin_port);
}

static void server_stop(struct server *s)
{
    uv_close((uv_handle_t *) &s->listener, on_conn_closed);
    if (s->has_conn && !s->answer) {
        uv_close((uv_handle_t *) &s->conn, on_conn_closed);
    }
}

static void on_done(struct lk_probe *probe, const struct lk_result *result, const char *output,
                    size_t output_len, void *userdata)
{
    (void) probe;
    struct outcome *o = userdata;
    o->calls++;
    o->result = *result;
    snprintf(o->output, sizeof(o->output), "%.*s", (int) output_len, output);
}

/* Runs one probe of text (with timeout_ms) to its end on loop; the server, if any, is
 * stopped after. */
static struct outcome run_probe(uv_loop_t *loop, const char *text, unsigned timeout_ms,
                                struct server *srv)
{
    struct lk_probe_spec spec = {.timeout_usec = timeout_ms * 1000ULL};
    char err[256];
    assert_int_equal(lk_checkspec_parse(text, &spec.check, err, sizeof(err)), 0);
    struct outcome o = {0};
    struct lk_probe *p = NULL;
    assert_int_equal(lk_probe_start(loop, &spec, on_done, &o, &p), 0);
    assert_non_null(p);
    assert_int_equal(o.calls, 0); /* never from the start's own call */
    while (o.calls == 0) {
        uv_run(loop, UV_RUN_ONCE);
    }
    if (srv) {
        server_stop(srv);
    }
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(o.calls, 1);
    assert_int_equal(lk_probe_count(), 0);
    return o;
}

static int setup(void **state)
{
    uv_loop_t *loop = malloc(sizeof(*loop));
    uv_loop_init(loop);
    *state = loop;
    return 0;
}

static int teardown(void **state)
{
    uv_loop_t *loop = *state;
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(loop), 0);
    free(loop);
    return 0;
}

static void lk_probe_start__refuses_an_empty_check(void **state)
{
    struct lk_probe_spec spec = {0};
    struct outcome o = {0};
    assert_int_equal(lk_probe_start(*state, &spec, on_done, &o, NULL), -EINVAL);
    assert_int_equal(o.calls, 0);
}

static void lk_probe_start__tcp_refused_fails(void **state)
{
    uv_loop_t *loop = *state;
    struct server s;
    server_start(loop, &s, NULL);
    int port = s.port;
    server_stop(&s);
    uv_run(loop, UV_RUN_DEFAULT);
    char text[64];
    snprintf(text, sizeof(text), "tcp:127.0.0.1:%d", port);
    struct outcome o = run_probe(loop, text, 2000, NULL);
    assert_int_equal(o.result.outcome, LK_OUTCOME_EXIT);
    assert_int_equal(o.result.exit_status, 1);
    assert_false(lk_result_ok(&o.result));
    assert_non_null(strstr(o.output, "connect: connection refused"));
    assert_non_null(strstr(o.result.message, "connection refused"));
}

static void lk_probe_start__tcp_accepted_succeeds(void **state)
{
    uv_loop_t *loop = *state;
    struct server s;
    server_start(loop, &s, NULL);
    char text[64];
    snprintf(text, sizeof(text), "tcp:127.0.0.1:%d", s.port);
    struct outcome o = run_probe(loop, text, 2000, &s);
    assert_true(lk_result_ok(&o.result));
    char want[96];
    snprintf(want, sizeof(want), "tcp 127.0.0.1:%d: connected\n", s.port);
    assert_string_equal(o.output, want);
    assert_int_equal(o.result.pid, 0);
}

/* IPv6: a listener on [::1], and the Host header in brackets (the answer says what came). */
static void lk_probe_start__ipv6_loopback(void **state)
{
    uv_loop_t *loop = *state;
    uv_tcp_t listener;
    uv_tcp_init(loop, &listener);
    struct sockaddr_in6 addr;
    uv_ip6_addr("::1", 0, &addr);
    if (uv_tcp_bind(&listener, (const struct sockaddr *) &addr, 0) < 0 ||
        uv_listen((uv_stream_t *) &listener, 8, on_connection) < 0) {
        uv_close((uv_handle_t *) &listener, on_conn_closed);
        skip(); /* no IPv6 loopback here */
    }
    struct server s = {0};
    listener.data = &s;
    struct sockaddr_storage name;
    int len = sizeof(name);
    uv_tcp_getsockname(&listener, (struct sockaddr *) &name, &len);
    int port = ntohs(((struct sockaddr_in6 *) &name)->sin6_port);
    char text[64], err[256];
    snprintf(text, sizeof(text), "tcp:[::1]:%d", port);
    struct lk_probe_spec spec = {.timeout_usec = 2000000};
    assert_int_equal(lk_checkspec_parse(text, &spec.check, err, sizeof(err)), 0);
    struct outcome o = {0};
    assert_int_equal(lk_probe_start(loop, &spec, on_done, &o, NULL), 0);
    while (o.calls == 0) {
        uv_run(loop, UV_RUN_ONCE);
    }
    if (s.has_conn) {
        uv_close((uv_handle_t *) &s.conn, on_conn_closed);
    }
    uv_close((uv_handle_t *) &listener, on_conn_closed);
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(o.calls, 1);
    assert_true(lk_result_ok(&o.result));
    char want[96];
    snprintf(want, sizeof(want), "tcp [::1]:%d: connected\n", port);
    assert_string_equal(o.output, want);
}

static struct outcome http(uv_loop_t *loop, const char *answer, const char *suffix)
{
    struct server s;
    server_start(loop, &s, answer);
    char text[128];
    snprintf(text, sizeof(text), "http://127.0.0.1:%d/h%s", s.port, suffix);
    return run_probe(loop, text, 2000, &s);
}

static void lk_probe_start__http_answers(void **state)
{
    uv_loop_t *loop = *state;
    const char *ok = "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nstate=up\n";
    struct outcome o = http(loop, ok, "");
    assert_true(lk_result_ok(&o.result));
    assert_non_null(strstr(o.output, "HTTP/1.1 200 OK"));
    o = http(loop, ok, "~state=up");
    assert_true(lk_result_ok(&o.result));
    o = http(loop, ok, "~state=down");
    assert_int_equal(o.result.outcome, LK_OUTCOME_EXIT);
    assert_non_null(strstr(o.output, "the body does not hold 'state=down'"));
    /* The text must be in the body, not in the headers. */
    o = http(loop, ok, "~Content-Length");
    assert_int_equal(o.result.outcome, LK_OUTCOME_EXIT);
    o = http(loop, ok, "=204");
    assert_int_equal(o.result.outcome, LK_OUTCOME_EXIT);
    assert_non_null(strstr(o.output, "status 200, expected 204"));
    o = http(loop, "HTTP/1.0 503\r\n\r\n", "");
    assert_non_null(strstr(o.output, "status 503, expected 200"));
    o = http(loop, "HTTP/1.0 503\r\n\r\n", "=503");
    assert_true(lk_result_ok(&o.result));
}

static void lk_probe_start__http_strict_status_line(void **state)
{
    uv_loop_t *loop = *state;
    static const char *const bad[] = {
            "HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 200 OK\n\r\n",
            "HTTP/1.1 099 x\r\n\r\n",   "HTTP/1.1  200\r\n\r\n",  "HTTP/1.1 2x0 OK\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct outcome o = http(loop, bad[i], "");
        assert_int_equal(o.result.outcome, LK_OUTCOME_EXIT);
        if (!strstr(o.output, "malformed status line")) {
            fail_msg("'%s': %s", bad[i], o.output);
        }
    }
    struct outcome o = http(loop, "SSH-2.0-OpenSSH_9.2\r\n", "");
    assert_non_null(strstr(o.output, "not an HTTP/1.x answer"));
    o = http(loop, "HTTP/2 200\r\n\r\n", "");
    assert_non_null(strstr(o.output, "not an HTTP/1.x answer"));
    o = http(loop, "HTTP/1.1 20", "");
    assert_non_null(strstr(o.output, "connection closed before a whole status line"));
}

static void lk_probe_start__silent_server_times_out(void **state)
{
    uv_loop_t *loop = *state;
    struct server s;
    server_start(loop, &s, NULL);
    char text[64];
    snprintf(text, sizeof(text), "http://127.0.0.1:%d/", s.port);
    struct outcome o = run_probe(loop, text, 200, &s);
    assert_int_equal(o.result.outcome, LK_OUTCOME_TIMEOUT);
    assert_int_equal(o.result.timeout_usec, 200000);
    assert_non_null(strstr(o.output, "no complete answer within 0.2 s"));
}

static void lk_probe_abort__fires_once_aborted(void **state)
{
    uv_loop_t *loop = *state;
    struct server s;
    server_start(loop, &s, NULL);
    struct lk_probe_spec spec = {.timeout_usec = 0};
    char err[256], text[64];
    snprintf(text, sizeof(text), "http://127.0.0.1:%d/", s.port);
    assert_int_equal(lk_checkspec_parse(text, &spec.check, err, sizeof(err)), 0);
    struct outcome o = {0};
    struct lk_probe *p = NULL;
    assert_int_equal(lk_probe_start(loop, &spec, on_done, &o, &p), 0);
    while (!s.has_conn) {
        uv_run(loop, UV_RUN_ONCE);
    }
    lk_probe_abort(p);
    lk_probe_abort(p); /* a second call changes nothing */
    while (o.calls == 0) {
        uv_run(loop, UV_RUN_ONCE);
    }
    server_stop(&s);
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.result.outcome, LK_OUTCOME_ABORTED);
}

static struct outcome process(uv_loop_t *loop, const char *pidfile)
{
    struct lk_probe_spec spec = {.timeout_usec = 1000000, .pidfile = pidfile};
    char err[256];
    assert_int_equal(lk_checkspec_parse("process", &spec.check, err, sizeof(err)), 0);
    struct outcome o = {0};
    assert_int_equal(lk_probe_start(loop, &spec, on_done, &o, NULL), 0);
    assert_int_equal(o.calls, 0);
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(o.calls, 1);
    return o;
}

static void lk_probe_start__process_of_a_pidfile(void **state)
{
    uv_loop_t *loop = *state;
    char dir[] = "/tmp/lkprobeXXXXXX";
    assert_non_null(mkdtemp(dir));
    char pf[64];
    snprintf(pf, sizeof(pf), "%s/app.pid", dir);
    /* This process: alive, started before its pidfile was written. */
    FILE *f = fopen(pf, "w");
    fprintf(f, "%d\n", (int) getpid());
    fclose(f);
    struct outcome o = process(loop, pf);
    assert_true(lk_result_ok(&o.result));
    assert_non_null(strstr(o.output, "of the pidfile is running"));
    /* A child that exited and was reaped. */
    pid_t child = fork();
    if (child == 0) {
        _exit(0);
    }
    assert_int_equal(waitpid(child, NULL, 0), child);
    f = fopen(pf, "w");
    fprintf(f, "%d\n", (int) child);
    fclose(f);
    o = process(loop, pf);
    assert_int_equal(o.result.outcome, LK_OUTCOME_EXIT);
    assert_non_null(strstr(o.output, "is not running"));
    /* No pid in it; then no file. */
    f = fopen(pf, "w");
    fprintf(f, "pid\n");
    fclose(f);
    o = process(loop, pf);
    assert_non_null(strstr(o.output, "no pid in the pidfile"));
    unlink(pf);
    o = process(loop, pf);
    assert_non_null(strstr(o.output, "pidfile: "));
    /* Neither a pidfile nor containment. */
    o = process(loop, "");
    assert_non_null(strstr(o.output, "no pidfile, and containment is off"));
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(lk_probe_start__refuses_an_empty_check, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(lk_probe_start__tcp_refused_fails, setup, teardown),
            cmocka_unit_test_setup_teardown(lk_probe_start__tcp_accepted_succeeds, setup, teardown),
            cmocka_unit_test_setup_teardown(lk_probe_start__ipv6_loopback, setup, teardown),
            cmocka_unit_test_setup_teardown(lk_probe_start__http_answers, setup, teardown),
            cmocka_unit_test_setup_teardown(lk_probe_start__http_strict_status_line, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(lk_probe_start__silent_server_times_out, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(lk_probe_abort__fires_once_aborted, setup, teardown),
            cmocka_unit_test_setup_teardown(lk_probe_start__process_of_a_pidfile, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
