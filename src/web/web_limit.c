/* lkweb's limits (web.h): the request rates and the request-head deadline. lkweb talks to
 * lkd as root, so lkd's own per-user rates do not apply to its callers; they are applied
 * here instead, before lkd is asked anything: per token (guest and operator tokens: 20
 * requests/s, bursts of 40; all of them together 200/s, bursts of 400; admin tokens
 * unlimited, as root on the socket) and per client address for what is not yet known to
 * be a valid token (bad or missing tokens, logins: 10/s, bursts of 20); lkweb --rate N
 * scales them all (those are N = 20), so guessing tokens
 * costs lkd nothing. And the slow clients: a connection that has not sent its first
 * request head within LK_WEB_HEAD_DEADLINE_S of its start is shut down by a reaper thread.
 * Events enter from MHD's connection threads (each request, each connection's start and
 * end) and the reaper's timer; both tables have a lock.
 *
 * It never closes a socket (MHD does: shutdown only, under the lock that MHD's "closed"
 * notification takes before MHD closes the fd, so a reused fd is never touched) and never
 * keeps a token: only a hash of it. */
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "web.h"

#define SLOTS       1024
#define KEY_LEN     16
/* From --rate N (default 20): N/s bursts of 2N; all 10N/s bursts of 20N; addresses N/2. */
#define TOKEN_RATE  ((double) lk_web.rate)
#define TOKEN_BURST (2.0 * lk_web.rate)
#define TOTAL_RATE  (10.0 * lk_web.rate)
#define TOTAL_BURST (20.0 * lk_web.rate)
#define ADDR_RATE   (lk_web.rate / 2.0)
#define ADDR_BURST  ((double) lk_web.rate)
#define CONNS_MAX   1024

struct bucket {
    double tokens;
    int64_t last_ms;
};

struct slot {
    bool used;
    bool token; /* a valid token's (role known), else an address's */
    bool admin;
    unsigned char key[KEY_LEN];
    struct bucket b;
};

static struct slot slots[SLOTS];
static struct bucket total = {-1.0, 0}; /* full at its first use */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void refill(struct bucket *b, int64_t now, double rate, double burst)
{
    if (b->tokens < 0) {
        b->tokens = burst;
    } else if (b->last_ms) {
        b->tokens += (double) (now - b->last_ms) * rate / 1000.0;
        if (b->tokens > burst) {
            b->tokens = burst;
        }
    }
    b->last_ms = now;
}

/* 0 when a request is within b's rate (taken), else the seconds to wait. */
static int take(struct bucket *b, int64_t now, double rate, double burst)
{
    refill(b, now, rate, burst);
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        return 0;
    }
    int secs = (int) ((1.0 - b->tokens) / rate + 0.999);
    return secs < 1 ? 1 : secs;
}

/* The slot of key (lock held); NULL if none and !create, else a new one (the oldest idle
 * one goes when the table is full). */
static struct slot *find(const unsigned char *key, bool token, bool create, int64_t now,
                         double burst)
{
    struct slot *free_slot = NULL, *oldest = NULL;
    for (size_t i = 0; i < SLOTS; i++) {
        struct slot *s = &slots[i];
        if (!s->used) {
            free_slot = free_slot ? free_slot : s;
            continue;
        }
        if (s->token == token && memcmp(s->key, key, KEY_LEN) == 0) {
            return s;
        }
        if (!oldest || s->b.last_ms < oldest->b.last_ms) {
            oldest = s;
        }
    }
    if (!create) {
        return NULL;
    }
    struct slot *s = free_slot ? free_slot : oldest;
    *s = (struct slot){.used = true, .token = token, .b = {burst, now}};
    memcpy(s->key, key, KEY_LEN);
    return s;
}

static void token_key(const char *token, unsigned char *key)
{
    crypto_generichash(key, KEY_LEN, (const unsigned char *) token, strlen(token), NULL, 0);
}

static void address_key(struct MHD_Connection *conn, unsigned char *key)
{
    memset(key, 0, KEY_LEN);
    const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (sa && sa->sa_family == AF_INET) {
        memcpy(key, &((const struct sockaddr_in *) (const void *) sa)->sin_addr, 4);
        key[15] = 4;
    } else if (sa && sa->sa_family == AF_INET6) {
        memcpy(key, &((const struct sockaddr_in6 *) (const void *) sa)->sin6_addr, KEY_LEN);
    }
}

int lk_web_limit_address(struct MHD_Connection *conn)
{
    unsigned char key[KEY_LEN];
    address_key(conn, key);
    int64_t now = now_ms();
    pthread_mutex_lock(&lock);
    struct slot *s = find(key, false, true, now, ADDR_BURST);
    int wait = take(&s->b, now, ADDR_RATE, ADDR_BURST);
    pthread_mutex_unlock(&lock);
    return wait;
}

int lk_web_limit_token(struct MHD_Connection *conn, const char *token, bool *known)
{
    unsigned char key[KEY_LEN];
    token_key(token, key);
    int64_t now = now_ms();
    pthread_mutex_lock(&lock);
    struct slot *s = find(key, true, false, now, TOKEN_BURST);
    *known = s != NULL;
    int wait = 0;
    if (s && !s->admin) {
        wait = take(&s->b, now, TOKEN_RATE, TOKEN_BURST);
        if (!wait) {
            wait = take(&total, now, TOTAL_RATE, TOTAL_BURST);
            if (wait) {
                s->b.tokens += 1.0; /* not served: given back */
            }
        }
    } else if (s) {
        s->b.last_ms = now;
    }
    pthread_mutex_unlock(&lock);
    if (!s) {
        return lk_web_limit_address(conn); /* not known valid yet: the address pays */
    }
    return wait;
}

void lk_web_limit_learn(const char *token, const char *role, bool valid)
{
    unsigned char key[KEY_LEN];
    token_key(token, key);
    int64_t now = now_ms();
    pthread_mutex_lock(&lock);
    struct slot *s = find(key, true, valid, now, TOKEN_BURST);
    if (s && !valid) {
        memset(s, 0, sizeof(*s)); /* revoked: its callers pay per address again */
    } else if (s) {
        bool was_admin = s->admin;
        s->admin = strcmp(role, "admin") == 0;
        if (!s->admin && (was_admin || s->b.tokens >= TOKEN_BURST)) {
            /* Just learnt: this request counts (the address paid for the check). */
            s->b.tokens = TOKEN_BURST - 1;
            (void) take(&total, now, TOTAL_RATE, TOTAL_BURST);
        }
    }
    pthread_mutex_unlock(&lock);
}

/* ---------------------------------------------------------------- request-head deadline */

struct conn_entry {
    struct MHD_Connection *conn;
    int fd;
    int64_t start_ms;
    bool reached; /* its first request reached the handler */
    bool shut;
};

static struct conn_entry conns[CONNS_MAX];
static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t reaper;
static bool reaper_started;

void lk_web_conn_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                        enum MHD_ConnectionNotificationCode toe)
{
    (void) cls;
    (void) socket_context;
    pthread_mutex_lock(&conns_lock);
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
                MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        for (size_t i = 0; ci && i < CONNS_MAX; i++) {
            if (!conns[i].conn) {
                conns[i] = (struct conn_entry){
                        .conn = conn, .fd = ci->connect_fd, .start_ms = now_ms()};
                break;
            }
        }
    } else {
        /* MHD notifies "closed" before it closes the fd: once this returns, the reaper no
         * longer knows the fd. */
        for (size_t i = 0; i < CONNS_MAX; i++) {
            if (conns[i].conn == conn) {
                conns[i] = (struct conn_entry){0};
            }
        }
    }
    pthread_mutex_unlock(&conns_lock);
}

void lk_web_conn_reached(struct MHD_Connection *conn)
{
    pthread_mutex_lock(&conns_lock);
    for (size_t i = 0; i < CONNS_MAX; i++) {
        if (conns[i].conn == conn) {
            conns[i].reached = true;
            break;
        }
    }
    pthread_mutex_unlock(&conns_lock);
}

static void *reap(void *arg)
{
    (void) arg;
    struct pollfd p = {.fd = lk_web.quit_fd, .events = POLLIN};
    while (poll(&p, 1, 500) == 0) {
        int64_t now = now_ms();
        pthread_mutex_lock(&conns_lock);
        for (size_t i = 0; i < CONNS_MAX; i++) {
            struct conn_entry *c = &conns[i];
            if (c->conn && !c->reached && !c->shut &&
                now - c->start_ms >= LK_WEB_HEAD_DEADLINE_S * 1000) {
                (void) shutdown(c->fd, SHUT_RDWR); /* MHD's thread sees it and closes */
                c->shut = true;
            }
        }
        pthread_mutex_unlock(&conns_lock);
    }
    return NULL;
}

int lk_web_reaper_start(void)
{
    if (pthread_create(&reaper, NULL, reap, NULL) != 0) {
        return -1;
    }
    reaper_started = true;
    return 0;
}

void lk_web_reaper_join(void)
{
    if (reaper_started) {
        pthread_join(reaper, NULL);
        reaper_started = false;
    }
}
