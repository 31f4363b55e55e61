/* The Unix socket transport: listens on $LKROOT/run/lkd.sock, takes the caller's role
 * from SO_PEERCRED, reads one request line per connection and hands it to the request
 * layer (lk_req_dispatch), and writes what the request sends, one message a line. It
 * owns the connections, their read buffers, their write queues and the limits that keep
 * a client from holding the daemon: a request line of at most LK_PROTO_MAX_LINE, at most
 * MAX_QUEUED_WRITES unwritten messages, REQUEST_TIMEOUT_USEC to send a whole request.
 *
 * It knows nothing of commands or handlers. A connection is freed only from its close
 * callback, and frees its request there (request.h states the contract). */
#include "socket.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node.h"
#include "proto.h"
#include "request.h"
#include "roles.h"

#define MAX_QUEUED_WRITES 4096

/* A connection that has not sent a whole request within this time is closed, so that
 * idle clients cannot use up the daemon's file descriptors. */
#define REQUEST_TIMEOUT_USEC (10 * 1000000ULL)

struct sock_conn {
    uv_pipe_t pipe;
    struct lk_socket *sock;
    struct sock_conn *prev, *next;
    struct conn *req; /* NULL until accepted */
    char *buf;
    size_t len;
    bool have_request;
    uint64_t accepted_usec;
    bool closing;
    bool close_after_write;
    unsigned writes_in_flight;
};

struct lk_socket {
    struct lk_api *api;
    uv_loop_t *loop;
    uv_pipe_t listener;
    uv_timer_t sweeper; /* closes connections that never sent a request */
    struct sock_conn *conns;
};

struct write_req {
    uv_write_t req;
    struct sock_conn *conn;
    char *data;
};

/* ---------------------------------------------------------------- closing */

static void on_close(uv_handle_t *h)
{
    struct sock_conn *c = h->data;
    struct lk_socket *sock = c->sock;
    if (c->prev) {
        c->prev->next = c->next;
    } else if (sock->conns == c) {
        sock->conns = c->next;
    }
    if (c->next) {
        c->next->prev = c->prev;
    }
    lk_req_free(c->req);
    free(c->buf);
    free(c);
}

static void conn_close(struct sock_conn *c)
{
    if (c->closing) {
        return;
    }
    c->closing = true;
    if (c->req) {
        lk_req_closed(c->req);
    }
    uv_close((uv_handle_t *) &c->pipe, on_close);
}

/* ---------------------------------------------------------------- writing */

static void on_write(uv_write_t *req, int status)
{
    struct write_req *w = (struct write_req *) req;
    struct sock_conn *c = w->conn;
    free(w->data);
    free(w);
    c->writes_in_flight--;
    if (status < 0) {
        conn_close(c);
        return;
    }
    if (c->close_after_write && c->writes_in_flight == 0) {
        conn_close(c);
    }
}

/* The transport's send: msg (ours from now on) and a newline, queued on the pipe as two
 * buffers, so that the message is never copied. */
static int conn_send(void *tconn, char *msg, size_t len)
{
    static char newline[] = "\n";
    struct sock_conn *c = tconn;
    if (c->closing) {
        free(msg);
        return -EPIPE;
    }
    /* A follower that stopped reading must not make the daemon buffer without end. */
    if (c->writes_in_flight >= MAX_QUEUED_WRITES) {
        free(msg);
        return -ENOBUFS;
    }
    struct write_req *w = calloc(1, sizeof(*w));
    if (!w) {
        free(msg);
        return -ENOMEM;
    }
    w->conn = c;
    w->data = msg;
    uv_buf_t bufs[2] = {uv_buf_init(msg, (unsigned) len), uv_buf_init(newline, 1)};
    c->writes_in_flight++;
    int r = uv_write(&w->req, (uv_stream_t *) &c->pipe, bufs, 2, on_write);
    if (r < 0) {
        c->writes_in_flight--;
        free(msg);
        free(w);
        return r;
    }
    return 0;
}

/* After the final reply: the connection closes once every line is written. */
static void conn_end(void *tconn)
{
    struct sock_conn *c = tconn;
    if (c->closing) {
        return;
    }
    c->close_after_write = true;
    if (c->writes_in_flight == 0) {
        conn_close(c);
    }
}

static void conn_abort(void *tconn)
{
    conn_close(tconn);
}

static const struct lk_transport_ops socket_ops = {
        .send = conn_send,
        .end = conn_end,
        .close = conn_abort,
};

/* ---------------------------------------------------------------- reading */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void) h;
    (void) suggested;
    static char slab[65536];
    *buf = uv_buf_init(slab, sizeof(slab));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct sock_conn *c = stream->data;
    if (nread < 0) {
        /* EOF or error: a command that went away stops waiting; a follower too. */
        if (!c->close_after_write) {
            conn_close(c);
        }
        return;
    }
    if (nread == 0 || c->have_request) {
        return;
    }
    if (c->len + (size_t) nread > LK_PROTO_MAX_LINE) {
        c->have_request = true;
        api_reply_error(c->req, LK_EXIT_USAGE, "request too large (at most %d bytes)",
                        LK_PROTO_MAX_LINE);
        return;
    }
    char *bigger = realloc(c->buf, c->len + (size_t) nread + 1);
    if (!bigger) {
        conn_close(c);
        return;
    }
    c->buf = bigger;
    memcpy(c->buf + c->len, buf->base, (size_t) nread);
    c->len += (size_t) nread;
    c->buf[c->len] = '\0';
    char *nl = memchr(c->buf, '\n', c->len);
    if (!nl) {
        return;
    }
    *nl = '\0';
    c->have_request = true;
    if (strlen(c->buf) != (size_t) (nl - c->buf)) {
        api_reply_error(c->req, LK_EXIT_USAGE, "malformed request: NUL byte");
        return;
    }
    lk_req_dispatch(c->req, c->buf);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct lk_socket *sock = server->data;
    if (status < 0) {
        return;
    }
    struct sock_conn *c = calloc(1, sizeof(*c));
    if (!c) {
        return;
    }
    c->sock = sock;
    c->accepted_usec = lk_mono_usec();
    if (uv_pipe_init(sock->loop, &c->pipe, 0) < 0) {
        free(c);
        return;
    }
    c->pipe.data = c;
    c->next = sock->conns;
    if (sock->conns) {
        sock->conns->prev = c;
    }
    sock->conns = c;
    if (uv_accept(server, (uv_stream_t *) &c->pipe) < 0) {
        conn_close(c);
        return;
    }
    uv_os_fd_t fd;
    enum lk_role role = uv_fileno((uv_handle_t *) &c->pipe, &fd) == 0
                                ? lk_role_of_socket(fd, NULL, NULL)
                                : LK_ROLE_NONE;
    c->req = lk_req_new(sock->api, role, &socket_ops, c);
    if (!c->req) {
        conn_close(c);
        return;
    }
    if (role == LK_ROLE_NONE) {
        c->have_request = true;
        api_reply_error(c->req, LK_EXIT_DENIED,
                        "permission denied: you are not root nor in the lkadmin, lkoper or lkguest "
                        "group");
        return;
    }
    if (uv_read_start((uv_stream_t *) &c->pipe, on_alloc, on_read) < 0) {
        conn_close(c);
    }
}

static void on_sweep(uv_timer_t *t)
{
    struct lk_socket *sock = t->data;
    uint64_t now = lk_mono_usec();
    for (struct sock_conn *c = sock->conns; c; c = c->next) {
        if (!c->have_request && !c->closing && now - c->accepted_usec > REQUEST_TIMEOUT_USEC) {
            conn_close(c);
        }
    }
}

/* ---------------------------------------------------------------- lifecycle */

int lk_socket_start(struct lk_api *api, uv_loop_t *loop, const char *root,
                    struct lk_socket **ret_socket, char *err, size_t err_size)
{
    struct lk_socket *sock = calloc(1, sizeof(*sock));
    if (!sock) {
        return -ENOMEM;
    }
    sock->api = api;
    sock->loop = loop;
    char path[LK_PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/%s", root, LK_SOCKET_NAME);
    /* We hold the root's lock, so a socket file left here is from a dead daemon. */
    (void) unlink(path);
    int r = uv_pipe_init(loop, &sock->listener, 0);
    if (r < 0) {
        free(sock);
        snprintf(err, err_size, "cannot create the command socket: %s", uv_strerror(r));
        return r;
    }
    sock->listener.data = sock;
    mode_t old = umask(0117);
    r = uv_pipe_bind(&sock->listener, path);
    umask(old);
    if (r == 0) {
        r = uv_listen((uv_stream_t *) &sock->listener, 128, on_connection);
    }
    if (r < 0) {
        snprintf(err, err_size, "cannot listen on '%s': %s", path, uv_strerror(r));
        uv_close((uv_handle_t *) &sock->listener, NULL);
        /* The handle is closed on the next loop turn; sock is leaked deliberately then
         * freed by the caller's exit. */
        return r;
    }
    r = lk_roles_grant_socket(path);
    if (r < 0) {
        fprintf(stderr, "lkd: cannot set the permissions of '%s': %s, ignoring\n", path,
                strerror(-r));
    }
    uv_timer_init(loop, &sock->sweeper);
    sock->sweeper.data = sock;
    uv_timer_start(&sock->sweeper, on_sweep, 2000, 2000);
    uv_unref((uv_handle_t *) &sock->sweeper);
    *ret_socket = sock;
    return 0;
}

void lk_socket_stop(struct lk_socket *sock)
{
    if (!sock) {
        return;
    }
    for (struct sock_conn *c = sock->conns; c; c = c->next) {
        conn_close(c);
    }
    uv_close((uv_handle_t *) &sock->listener, NULL);
    uv_close((uv_handle_t *) &sock->sweeper, NULL);
}

void lk_socket_free(struct lk_socket *sock)
{
    free(sock);
}
