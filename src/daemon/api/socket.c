/* The Unix socket transport: listens on $LKROOT/run/lkd.sock, takes the caller's role
 * from SO_PEERCRED, reads one request line per connection and hands it to the request
 * layer (lk_req_dispatch), and writes what the request sends, one message a line. It
 * owns the connections, their read buffers, their write queues and the limits that keep
 * local clients from stalling the loop or using up lkd's descriptors (docs/DESIGN.md,
 * "Hardening: the command socket"): a line is framed as it arrives (each byte is looked
 * at once), per-connection limits (line size by role, a deadline for the whole request,
 * one request), totals (connections, buffered bytes, requests a second per user), the
 * descriptor budget (io/fdbudget.h), with a reserve of connections, bytes and descriptors
 * that only root and lkadmin members may use (they have no rate). When a limit is hit,
 * the oldest connection that has not sent its request yet (or the one holding the most
 * bytes) is closed first; what is shed or refused is reported as events 1020-1026, at
 * most one per kind every 10 s, with a count.
 *
 * Events that enter: connections, reads, write completions, the sweep timer, each loop
 * turn (the count of connections taken). It knows nothing of commands or handlers, and
 * must never block, nor search a byte for the newline twice. A
 * connection is freed only from its close callback, and frees its request there. */
#include "socket.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"
#include "eventlog.h"
#include "fdbudget.h"
#include "node.h"
#include "proto.h"
#include "request.h"
#include "roles.h"
#include "runner.h"

#define MAX_QUEUED_WRITES 4096

/* The limits (docs/DESIGN.md, "Hardening: the command socket"). "Others" are guests and
 * operators; admins are root and the members of lkadmin. */
#define LINE_MAX_ADMIN             LK_PROTO_MAX_LINE  /* scripts travel in an admin's requests */
#define LINE_MAX_OTHER             (64 * 1024)        /* no guest or operator request is near it */
#define BUFFERED_MAX               (64 * 1024 * 1024) /* bytes of unfinished requests, all clients */
#define BUFFERED_MAX_OTHER         (16 * 1024 * 1024) /* of which guests and operators may hold */
#define CONNS_MAX_OTHER            1024
#define CONNS_RESERVE_ADMIN        64
#define RATE_PER_S_USER            20  /* a guest's or operator's requests a second, */
#define RATE_BURST_USER            40  /* with this many at once */
#define RATE_PER_S_OTHERS          200 /* all guests and operators together */
#define RATE_BURST_OTHERS          400
#define REQUEST_TIMEOUT_OTHER_USEC (3 * 1000000ULL)  /* to send the whole request */
#define REQUEST_TIMEOUT_ADMIN_USEC (10 * 1000000ULL) /* 16 MiB from a busy script */
#define AFTER_REQUEST_MAX          4096              /* bytes tolerated after the one request */
#define SHED_MAX_PER_ACCEPT        8
#define ACCEPTS_PER_TURN           64 /* the rest wait in the backlog for the next turn */
#define SWEEP_MS                   500
#define COUNT_EVERY_SWEEPS         2 /* /proc/self/fd counted every second */
#define REPORT_EVERY_USEC          (10 * 1000000ULL)
#define RATE_SLOTS                 64
#define ROLE_CACHE_USEC            (5 * 1000000ULL) /* roles from other sources than files */

enum report_kind {
    REP_BUSY,      /* too many connections */
    REP_FDS,       /* the descriptor budget */
    REP_SHED,      /* an idle connection closed to make room */
    REP_RATE,      /* too many requests a second from one user, or from all */
    REP_TOO_LARGE, /* a request line over the role's limit */
    REP_TIMEOUT,   /* no whole request in time */
    REP_BUFFERED,  /* closed for the total of buffered bytes */
    REP_COUNT,
};

static const int report_number[REP_COUNT] = {
        LK_MSG_CLIENTS_BUSY,     LK_MSG_CLIENTS_FDS,       LK_MSG_CLIENTS_SHED,
        LK_MSG_CLIENTS_RATE,     LK_MSG_CLIENTS_TOO_LARGE, LK_MSG_CLIENTS_TIMEOUT,
        LK_MSG_CLIENTS_BUFFERED,
};

struct report {
    uint64_t pending;    /* occurrences not reported yet */
    uint64_t since_usec; /* the first of them */
    uint64_t last_usec;  /* the last report, 0 = never */
    unsigned last_uid;
    uint64_t total; /* since start, for status */
};

/* A user's token bucket (milli-tokens), and the role last found for it: a user known to be
 * no admin whose bucket is empty is refused without looking its groups up again. */
struct rate_slot {
    bool used;
    uid_t uid;
    bool known;        /* role holds an answer */
    enum lk_role role; /* as looked up for gid at role_usec, with the files at files_gen */
    gid_t gid;
    uint64_t role_usec;
    unsigned files_gen;
    uint64_t mtokens;
    uint64_t last_usec;
};

/* What /etc/group and /etc/passwd were at the last look: a role found before they
 * changed is looked up again. */
struct files_stamp {
    struct timespec mtime[2];
    ino_t ino[2];
    off_t size[2];
};

struct sock_conn {
    uv_pipe_t pipe;
    struct lk_socket *sock;
    struct sock_conn *prev, *next; /* in accept order: the oldest first */
    struct conn *req;              /* NULL until accepted */
    char *buf;
    size_t len, cap;
    size_t after_request; /* bytes received after the request line */
    bool have_request;
    bool admin;
    bool kept; /* counted in the totals and the budget */
    uid_t uid;
    uint64_t accepted_usec;
    bool closing;
    bool close_after_write;
    unsigned writes_in_flight;
};

struct lk_socket {
    struct lk_api *api;
    struct lk_node *node;
    uv_loop_t *loop;
    uv_pipe_t listener;
    uv_timer_t sweeper; /* deadlines, the descriptor count, reports */
    uv_check_t turn;    /* a new loop turn: accepts counted from 0 */
    uv_idle_t later;    /* takes a connection left for the next turn */
    unsigned accepts;   /* connections taken in this turn */
    bool deferred;      /* libuv holds one accepted connection for us */
    struct sock_conn *head, *tail;
    size_t conns_admin, conns_other;
    size_t buffered, buffered_other;
    unsigned sweeps;
    struct lk_fdbudget *budget; /* node's, NULL without one */
    struct rate_slot rates[RATE_SLOTS];
    struct rate_slot others; /* every guest and operator together */
    struct files_stamp files;
    unsigned files_gen;
    struct report reports[REP_COUNT];
};

struct write_req {
    uv_write_t req;
    struct sock_conn *conn;
    char *data;
};

/* ---------------------------------------------------------------- reports */

/* Notes one occurrence of kind; an event at most every REPORT_EVERY_USEC per kind, with
 * the count since the last one (the sweep reports what is left). */
static void report_flush(struct lk_socket *sock, enum report_kind kind, uint64_t now)
{
    struct report *r = &sock->reports[kind];
    if (r->pending == 0 || (r->last_usec != 0 && now - r->last_usec < REPORT_EVERY_USEC)) {
        return;
    }
    int secs = (int) ((now - r->since_usec + 500000) / 1000000);
    lk_eventlog_msg(sock->node, NULL, report_number[kind], (unsigned long long) r->pending, secs,
                    r->last_uid);
    r->pending = 0;
    r->last_usec = now;
}

static void report(struct lk_socket *sock, enum report_kind kind, uid_t uid)
{
    struct report *r = &sock->reports[kind];
    uint64_t now = lk_mono_usec();
    if (r->pending == 0) {
        r->since_usec = now;
    }
    r->pending++;
    r->total++;
    r->last_uid = (unsigned) uid;
    report_flush(sock, kind, now);
}

/* ---------------------------------------------------------------- accounting */

static void buffered_add(struct sock_conn *c, size_t n)
{
    c->sock->buffered += n;
    if (!c->admin) {
        c->sock->buffered_other += n;
    }
}

static void buffered_drop(struct sock_conn *c)
{
    c->sock->buffered -= c->len;
    if (!c->admin) {
        c->sock->buffered_other -= c->len;
    }
    free(c->buf);
    c->buf = NULL;
    c->len = c->cap = 0;
}

static void keep(struct sock_conn *c)
{
    struct lk_socket *sock = c->sock;
    c->kept = true;
    if (c->admin) {
        sock->conns_admin++;
    } else {
        sock->conns_other++;
    }
    if (sock->budget) {
        lk_fdbudget_hold(sock->budget);
    }
}

static void unkeep(struct sock_conn *c)
{
    struct lk_socket *sock = c->sock;
    buffered_drop(c);
    if (!c->kept) {
        return;
    }
    c->kept = false;
    if (c->admin) {
        sock->conns_admin--;
    } else {
        sock->conns_other--;
    }
    if (sock->budget) {
        lk_fdbudget_release(sock->budget);
    }
}

/* ---------------------------------------------------------------- closing */

static void on_close(uv_handle_t *h)
{
    struct sock_conn *c = h->data;
    struct lk_socket *sock = c->sock;
    if (c->prev) {
        c->prev->next = c->next;
    } else if (sock->head == c) {
        sock->head = c->next;
    }
    if (c->next) {
        c->next->prev = c->prev;
    } else if (sock->tail == c) {
        sock->tail = c->prev;
    }
    lk_req_free(c->req);
    free(c->buf);
    free(c);
}

/* Closes c now: its descriptor is closed at once (uv_close on a pipe), its memory goes
 * with the close callback. */
static void conn_close(struct sock_conn *c)
{
    if (c->closing) {
        return;
    }
    c->closing = true;
    if (c->req) {
        lk_req_closed(c->req);
    }
    unkeep(c);
    uv_close((uv_handle_t *) &c->pipe, on_close);
}

/* Tells the client why in one line, written without waiting (a fresh socket's buffer
 * always takes it; if not, the client only sees the close), then closes now. */
static void conn_refuse(struct sock_conn *c, const char *why)
{
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *) &c->pipe, &fd) == 0) {
        char line[256];
        int n = snprintf(line, sizeof(line),
                         "{\"v\":1,\"ok\":false,\"code\":%d,\"error\":\"%s\"}\n", LK_EXIT_FAILED,
                         why);
        ssize_t w = send(fd, line, (size_t) n, MSG_DONTWAIT | MSG_NOSIGNAL);
        (void) w;
    }
    conn_close(c);
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

/* ---------------------------------------------------------------- shedding */

/* The oldest guest's or operator's connection that has not sent its request, other than
 * except; NULL if none. The list is in accept order. */
static struct sock_conn *oldest_idle(struct lk_socket *sock, const struct sock_conn *except)
{
    for (struct sock_conn *c = sock->head; c; c = c->next) {
        if (c != except && !c->closing && c->kept && !c->admin && !c->have_request) {
            return c;
        }
    }
    return NULL;
}

/* The guest's or operator's connection holding the most bytes of an unfinished request;
 * NULL if none holds any. */
static struct sock_conn *most_buffered(struct lk_socket *sock)
{
    struct sock_conn *best = NULL;
    for (struct sock_conn *c = sock->head; c; c = c->next) {
        if (!c->closing && !c->admin && c->len > 0 && (!best || c->len > best->len)) {
            best = c;
        }
    }
    return best;
}

static void shed(struct sock_conn *victim, enum report_kind kind)
{
    report(victim->sock, kind, victim->uid);
    conn_refuse(victim, "lkd is busy: connection closed to make room, try again");
}

/* ---------------------------------------------------------------- rates */

static struct rate_slot *rate_slot(struct lk_socket *sock, uid_t uid, uint64_t now)
{
    struct rate_slot *free_slot = NULL, *oldest = NULL;
    for (size_t i = 0; i < RATE_SLOTS; i++) {
        struct rate_slot *s = &sock->rates[i];
        if (s->used && s->uid == uid) {
            return s;
        }
        if (!s->used) {
            free_slot = free_slot ? free_slot : s;
        } else if (!oldest || s->last_usec < oldest->last_usec) {
            oldest = s;
        }
    }
    struct rate_slot *s = free_slot ? free_slot : oldest;
    *s = (struct rate_slot){.used = true,
                            .uid = uid,
                            .role = LK_ROLE_NONE,
                            .mtokens = RATE_BURST_USER * 1000ULL,
                            .last_usec = now};
    return s;
}

static void refill(struct rate_slot *s, uint64_t now, unsigned per_s, unsigned burst)
{
    uint64_t add = (now - s->last_usec) * per_s / 1000;
    s->mtokens = s->mtokens + add > burst * 1000ULL ? burst * 1000ULL : s->mtokens + add;
    s->last_usec = now;
}

/* Whether another request of a guest or an operator is within the rates (taken if so). */
static bool rate_take(struct lk_socket *sock, struct rate_slot *s, uint64_t now)
{
    refill(s, now, RATE_PER_S_USER, RATE_BURST_USER);
    refill(&sock->others, now, RATE_PER_S_OTHERS, RATE_BURST_OTHERS);
    if (s->mtokens < 1000 || sock->others.mtokens < 1000) {
        return false;
    }
    s->mtokens -= 1000;
    sock->others.mtokens -= 1000;
    return true;
}

/* ---------------------------------------------------------------- reading */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void) h;
    (void) suggested;
    static char slab[65536];
    *buf = uv_buf_init(slab, sizeof(slab));
}

/* Room for n more bytes of c's request within the totals, closing the guests' and
 * operators' connections that hold the most first. False when c itself had to go (it is
 * closed) or, for an admin, when there is no room (nothing closed). */
static bool make_room(struct sock_conn *c, size_t n)
{
    struct lk_socket *sock = c->sock;
    for (;;) {
        bool over = sock->buffered + n > BUFFERED_MAX ||
                    (!c->admin && sock->buffered_other + n > BUFFERED_MAX_OTHER);
        if (!over) {
            return true;
        }
        struct sock_conn *victim = most_buffered(sock);
        if (!victim || (victim != c && !c->admin && victim->len < c->len + n)) {
            victim = c;
        }
        if (victim == c && c->admin) {
            return false;
        }
        report(sock, REP_BUFFERED, victim->uid);
        bool self = victim == c;
        conn_refuse(victim, "lkd is busy: too many bytes of requests buffered, try again");
        if (self) {
            return false;
        }
    }
}

/* Takes the bytes of c's request line out of a chunk: only the new bytes are searched for
 * the newline, and the buffer grows by doubling, so a long line costs linear time. */
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
    if (nread == 0 || c->closing) {
        return;
    }
    if (c->have_request) {
        /* One request per connection: what follows is read only to see the end. */
        c->after_request += (size_t) nread;
        if (c->after_request > AFTER_REQUEST_MAX) {
            conn_close(c);
        }
        return;
    }
    const char *nl = memchr(buf->base, '\n', (size_t) nread);
    size_t take = nl ? (size_t) (nl - buf->base) : (size_t) nread;
    size_t max = c->admin ? LINE_MAX_ADMIN : LINE_MAX_OTHER;
    if (c->len + take > max) {
        c->have_request = true;
        c->after_request = (size_t) nread;
        buffered_drop(c);
        report(c->sock, REP_TOO_LARGE, c->uid);
        api_reply_error(c->req, LK_EXIT_USAGE, "request too large (at most %zu bytes)", max);
        return;
    }
    if (!make_room(c, take)) {
        if (!c->closing) {
            c->have_request = true;
            buffered_drop(c);
            api_reply_error(c->req, LK_EXIT_FAILED,
                            "lkd is busy: too many bytes of requests "
                            "buffered, try again");
        }
        return;
    }
    if (c->len + take + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap < c->len + take + 1) {
            cap *= 2;
        }
        char *bigger = realloc(c->buf, cap);
        if (!bigger) {
            conn_close(c);
            return;
        }
        c->buf = bigger;
        c->cap = cap;
    }
    memcpy(c->buf + c->len, buf->base, take);
    c->len += take;
    buffered_add(c, take);
    if (!nl) {
        return;
    }
    c->buf[c->len] = '\0';
    c->have_request = true;
    c->after_request = (size_t) nread - take - 1;
    bool nul = memchr(c->buf, '\0', c->len) != NULL;
    /* The line leaves the totals now; the buffer is freed once it is handled. */
    char *line = c->buf;
    c->sock->buffered -= c->len;
    if (!c->admin) {
        c->sock->buffered_other -= c->len;
    }
    c->buf = NULL;
    c->len = c->cap = 0;
    if (!c->admin &&
        !rate_take(c->sock, rate_slot(c->sock, c->uid, lk_mono_usec()), lk_mono_usec())) {
        report(c->sock, REP_RATE, c->uid);
        api_reply_error(c->req, LK_EXIT_FAILED, "lkd is busy: too many requests, try again later");
    } else if (nul) {
        api_reply_error(c->req, LK_EXIT_USAGE, "malformed request: NUL byte");
    } else {
        lk_req_dispatch(c->req, line);
    }
    free(line);
}

/* ---------------------------------------------------------------- accepting */

/* Whether one more connection of c's kind fits the connection totals and the budget. */
static bool fits(const struct lk_socket *sock, const struct sock_conn *c, enum report_kind *why)
{
    size_t conns = sock->conns_admin + sock->conns_other;
    if (c->admin ? conns >= CONNS_MAX_OTHER + CONNS_RESERVE_ADMIN
                 : sock->conns_other >= CONNS_MAX_OTHER) {
        *why = REP_BUSY;
        return false;
    }
    if (sock->budget && !lk_fdbudget_allows(sock->budget, c->admin, lk_run_count())) {
        *why = REP_FDS;
        return false;
    }
    return true;
}

/* Decides whether c (just accepted, not counted yet) stays: admins use the reserves; when a total
 * is reached, the oldest idle connections of guests and operators are closed to make room, and c is
 * refused only when there is none. */
static bool admit(struct lk_socket *sock, struct sock_conn *c)
{
    enum report_kind why = REP_BUSY;
    for (int shed_count = 0; !fits(sock, c, &why); shed_count++) {
        struct sock_conn *victim = shed_count < SHED_MAX_PER_ACCEPT ? oldest_idle(sock, c) : NULL;
        if (!victim) {
            report(sock, why, c->uid);
            conn_refuse(c, why == REP_FDS ? "lkd is busy: file descriptors low, try again later"
                                          : "lkd is busy: too many connections, try again later");
            return false;
        }
        shed(victim, REP_SHED);
    }
    keep(c);
    return true;
}

static void on_later(uv_idle_t *h);

static void files_look(struct lk_socket *sock)
{
    static const char *const paths[2] = {"/etc/group", "/etc/passwd"};
    struct files_stamp now = {0};
    for (int i = 0; i < 2; i++) {
        struct stat st;
        if (stat(paths[i], &st) == 0) {
            now.mtime[i] = st.st_mtim;
            now.ino[i] = st.st_ino;
            now.size[i] = st.st_size;
        }
    }
    if (memcmp(&now, &sock->files, sizeof(now)) != 0) {
        sock->files = now;
        sock->files_gen++;
    }
}

/* The role of slot's user with primary group gid. Looking it up reads the group and
 * password files (a quarter of a millisecond here), so the answer is kept while those
 * files stay the same, for at most ROLE_CACHE_USEC (for users and groups from elsewhere
 * than the files): a change of groups still takes effect at the next connection. */
static enum lk_role role_of(struct lk_socket *sock, struct rate_slot *slot, gid_t gid, uint64_t now)
{
    files_look(sock);
    if (slot->known && slot->gid == gid && slot->files_gen == sock->files_gen &&
        now - slot->role_usec < ROLE_CACHE_USEC) {
        return slot->role;
    }
    slot->role = lk_role_of(slot->uid, gid);
    slot->known = true;
    slot->gid = gid;
    slot->files_gen = sock->files_gen;
    slot->role_usec = now;
    return slot->role;
}

/* Takes the connection libuv accepted on the listener: who it is, whether it stays. */
static void take_connection(struct lk_socket *sock)
{
    uv_stream_t *server = (uv_stream_t *) &sock->listener;
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
    c->prev = sock->tail;
    if (sock->tail) {
        sock->tail->next = c;
    } else {
        sock->head = c;
    }
    sock->tail = c;
    if (uv_accept(server, (uv_stream_t *) &c->pipe) < 0) {
        conn_close(c);
        return;
    }
    uv_os_fd_t fd;
    struct ucred cred = {.uid = (uid_t) -1};
    socklen_t len = sizeof(cred);
    if (uv_fileno((uv_handle_t *) &c->pipe, &fd) < 0 ||
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
        conn_close(c);
        return;
    }
    c->uid = cred.uid;
    enum lk_role role = LK_ROLE_ADMIN;
    if (cred.uid != 0) {
        uint64_t now = lk_mono_usec();
        struct rate_slot *slot = rate_slot(sock, cred.uid, now);
        /* A known non-admin over its rate is refused without reading the group files. */
        if (slot->known && slot->role != LK_ROLE_ADMIN) {
            refill(slot, now, RATE_PER_S_USER, RATE_BURST_USER);
            if (slot->mtokens < 1000) {
                report(sock, REP_RATE, c->uid);
                conn_refuse(c, "lkd is busy: too many requests, try again later");
                return;
            }
        }
        role = role_of(sock, slot, cred.gid, now);
    }
    c->admin = role == LK_ROLE_ADMIN;
    c->req = lk_req_new(sock->api, role, &socket_ops, c);
    if (c->req) {
        lk_req_set_uid(c->req, (long long) c->uid);
    }
    if (!c->req) {
        conn_close(c);
        return;
    }
    if (!admit(sock, c)) {
        return;
    }
    if (role == LK_ROLE_NONE) {
        /* Denials count as requests: a user without a role cannot flood either. */
        if (!rate_take(sock, rate_slot(sock, c->uid, lk_mono_usec()), lk_mono_usec())) {
            report(sock, REP_RATE, c->uid);
            conn_close(c);
            return;
        }
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

/* At most ACCEPTS_PER_TURN connections a turn, so that a flood of connections cannot make
 * one turn long: when the count is reached, the connection libuv accepted stays with it
 * (libuv stops watching the listener until it is taken) and the next turn takes it. */
static void on_connection(uv_stream_t *server, int status)
{
    struct lk_socket *sock = server->data;
    if (status < 0) {
        /* EMFILE or ENFILE: libuv has accepted and closed what waited. */
        report(sock, REP_FDS, 0);
        return;
    }
    if (sock->accepts >= ACCEPTS_PER_TURN) {
        sock->deferred = true;
        (void) uv_idle_start(&sock->later, on_later);
        return;
    }
    sock->accepts++;
    take_connection(sock);
}

static void on_later(uv_idle_t *h)
{
    struct lk_socket *sock = h->data;
    (void) uv_idle_stop(h);
    if (sock->deferred) {
        sock->deferred = false;
        sock->accepts++;
        take_connection(sock);
    }
}

static void on_turn(uv_check_t *h)
{
    struct lk_socket *sock = h->data;
    sock->accepts = 0;
}

static void on_sweep(uv_timer_t *t)
{
    struct lk_socket *sock = t->data;
    uint64_t now = lk_mono_usec();
    for (struct sock_conn *c = sock->head, *next; c; c = next) {
        next = c->next;
        uint64_t limit = c->admin ? REQUEST_TIMEOUT_ADMIN_USEC : REQUEST_TIMEOUT_OTHER_USEC;
        if (!c->have_request && !c->closing && now - c->accepted_usec > limit) {
            report(sock, REP_TIMEOUT, c->uid);
            conn_close(c);
        }
    }
    if (sock->budget && sock->sweeps++ % COUNT_EVERY_SWEEPS == 0) {
        (void) lk_fdbudget_count(sock->budget, lk_run_count());
    }
    for (int k = 0; k < REP_COUNT; k++) {
        report_flush(sock, (enum report_kind) k, now);
    }
}

/* ---------------------------------------------------------------- lifecycle */

int lk_socket_start(struct lk_api *api, struct lk_node *node, struct lk_socket **ret_socket,
                    char *err, size_t err_size)
{
    struct lk_socket *sock = calloc(1, sizeof(*sock));
    if (!sock) {
        return -ENOMEM;
    }
    sock->api = api;
    sock->node = node;
    sock->loop = node->loop;
    sock->budget = node->fdbudget;
    sock->others = (struct rate_slot){
            .used = true, .mtokens = RATE_BURST_OTHERS * 1000ULL, .last_usec = lk_mono_usec()};
    char path[LK_PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/%s", node->root, LK_SOCKET_NAME);
    /* We hold the root's lock, so a socket file left here is from a dead daemon. */
    (void) unlink(path);
    int r = uv_pipe_init(sock->loop, &sock->listener, 0);
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
    if (sock->budget) {
        (void) lk_fdbudget_count(sock->budget, lk_run_count());
    }
    uv_check_init(sock->loop, &sock->turn);
    sock->turn.data = sock;
    uv_check_start(&sock->turn, on_turn);
    uv_unref((uv_handle_t *) &sock->turn);
    uv_idle_init(sock->loop, &sock->later);
    sock->later.data = sock;
    uv_unref((uv_handle_t *) &sock->later);
    uv_timer_init(sock->loop, &sock->sweeper);
    sock->sweeper.data = sock;
    uv_timer_start(&sock->sweeper, on_sweep, SWEEP_MS, SWEEP_MS);
    uv_unref((uv_handle_t *) &sock->sweeper);
    *ret_socket = sock;
    return 0;
}

json_t *lk_socket_status_json(const struct lk_socket *sock)
{
    json_t *shed = json_object();
    static const char *const names[REP_COUNT] = {
            "busy", "fds", "idle_shed", "rate", "too_large", "timeout", "buffered",
    };
    for (int k = 0; sock && shed && k < REP_COUNT; k++) {
        json_object_set_new(shed, names[k], json_integer((json_int_t) sock->reports[k].total));
    }
    const struct lk_fdbudget *b = sock ? sock->budget : NULL;
    json_t *fds = b ? json_pack("{s:I, s:I, s:I, s:I}", "limit", (json_int_t) b->limit, "reserve",
                                (json_int_t) b->reserve, "in_use",
                                (json_int_t) lk_fdbudget_in_use(b, lk_run_count()), "clients",
                                (json_int_t) b->clients)
                    : json_null();
    return json_pack("{s:I, s:I, s:I, s:o*, s:o*}", "connections",
                     (json_int_t) (sock ? sock->conns_admin + sock->conns_other : 0), "admin",
                     (json_int_t) (sock ? sock->conns_admin : 0), "buffered_bytes",
                     (json_int_t) (sock ? sock->buffered : 0), "refused", shed, "fds", fds);
}

void lk_socket_stop(struct lk_socket *sock)
{
    if (!sock) {
        return;
    }
    for (struct sock_conn *c = sock->head; c; c = c->next) {
        conn_close(c);
    }
    uv_close((uv_handle_t *) &sock->listener, NULL);
    uv_close((uv_handle_t *) &sock->sweeper, NULL);
    uv_close((uv_handle_t *) &sock->turn, NULL);
    uv_close((uv_handle_t *) &sock->later, NULL);
}

void lk_socket_free(struct lk_socket *sock)
{
    free(sock);
}
