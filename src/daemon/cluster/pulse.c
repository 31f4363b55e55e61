/* The pulse thread (see pulse.h): sends this node's pulses, judges the peers' and records
 * when each (peer, source address) was last heard; feeds the guard; stops both when the
 * main loop has made no progress for the stall limit.
 *
 * Events that enter the thread: its timerfd (every min(interval, dead / 8, 100 ms)), a
 * datagram on the UDP socket, its eventfd (new timing, or stop). The main loop enters
 * through the lk_pulse_* calls, which take the mutex briefly.
 *
 * Owns the UDP socket, the timerfd, the eventfd, the thread and the table of peers.
 * Never: allocate, log or call into the loop from the thread; block the loop (a call
 * waits at most for the mutex, which the thread holds only to copy a few fields or to
 * send a few datagrams without blocking); count a pulse that fails any check of
 * lib/pulse_wire.h (bad ones are dropped silently and counted). */
#include "pulse.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "pulse_wire.h"
#include "settings.h"

#define SOURCES_MAX   (2 * LK_MAX_PATHS) /* source addresses remembered per peer */
#define IP_TEXT       64
#define RECV_BURST    64 /* datagrams read per wake-up before the timer is looked at */
#define TICK_MAX_MS   100
#define TICK_MIN_MS   5
#define NICE_FALLBACK (-10)
#define LEARNED_MAX   64 /* peers known by their HELLO only (the witness, its members) */

enum pulse_drop {
    DROP_MALFORMED,
    DROP_UNAUTHENTICATED,
    DROP_UNKNOWN, /* authenticated, but not from a configured peer */
    DROP_KINDS,
};

static const char *const drop_names[DROP_KINDS] = {"malformed", "unauthenticated", "unknown"};

struct source {
    char ip[IP_TEXT];
    uint64_t last_seq;
    uint64_t heard_usec;
};

struct peer {
    char name[LK_PULSE_NAME_MAX + 1];
    bool configured; /* in the configuration, with its paths; else known by its HELLO */
    struct sockaddr_storage reply; /* learned: where its last accepted pulse came from */
    bool have_reply;
    struct lk_pulse_peer state;
    struct sockaddr_storage addrs[LK_MAX_PATHS];
    size_t addr_count;
    struct source sources[SOURCES_MAX];
    size_t source_count;
    uint64_t accepted;
    uint64_t refused[LK_PULSE_VERDICTS];
};

struct lk_pulse {
    pthread_t thread;
    bool thread_started;
    int udp, timer, wake;
    int family; /* of the UDP socket */
    char address[LK_ADDR_MAX];
    char node[LK_PULSE_NAME_MAX + 1];
    bool witness;
    void (*feed)(void *ctx);
    void *feed_ctx;

    pthread_mutex_t lock; /* everything below but the atomics */
    /* The pulse key (sent with, accepted) and, during a key rotation, the other key's
     * pulse key (accepted too): lk_pulse_set_keys. */
    uint8_t key[LK_PULSE_KEY];
    uint8_t alt_key[LK_PULSE_KEY];
    bool has_alt;
    struct peer *peers;
    size_t peer_count;
    struct sockaddr_storage witness_addr; /* the witness's address, pulsed too */
    bool have_witness;
    uint64_t interval_ms, dead_ms;
    bool timing_changed;
    bool stopping;
    uint64_t incarnation;
    uint64_t seq;
    uint64_t sent, send_errors, stalls;
    uint64_t dropped[DROP_KINDS];
    const char *sched;

    _Atomic uint64_t stamp_usec; /* the main loop's last tick */
    _Atomic bool stalled;        /* the thread holds back for the stall limit */
};

static uint64_t mono_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

uint64_t lk_pulse_stall_limit_ms(uint64_t dead_ms)
{
    return 2 * dead_ms > LK_PULSE_STALL_MIN_MS ? 2 * dead_ms : LK_PULSE_STALL_MIN_MS;
}

/* The thread's period: pulses every interval, the guard's feed at least every dead / 8
 * and at most every 100 ms (lib/guard.h). */
static uint64_t tick_ms(uint64_t interval_ms, uint64_t dead_ms)
{
    uint64_t t = dead_ms / 8 < TICK_MAX_MS ? dead_ms / 8 : TICK_MAX_MS;
    t = interval_ms < t ? interval_ms : t;
    return t < TICK_MIN_MS ? TICK_MIN_MS : t;
}

/* "a.b.c.d" for a v4 (or v4-mapped v6) address, the v6 text otherwise. */
static void ip_text(const struct sockaddr_storage *sa, char *ret, size_t size)
{
    snprintf(ret, size, "?");
    if (sa->ss_family == AF_INET) {
        (void) uv_ip4_name((const struct sockaddr_in *) sa, ret, size);
    } else if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            struct sockaddr_in in;
            memset(&in, 0, sizeof(in));
            in.sin_family = AF_INET;
            memcpy(&in.sin_addr, &in6->sin6_addr.s6_addr[12], 4);
            (void) uv_ip4_name(&in, ret, size);
        } else {
            (void) uv_ip6_name(in6, ret, size);
        }
    }
}

static const char *strip_mapped(const char *ip)
{
    static const char prefix[] = "::ffff:";
    if (strncmp(ip, prefix, sizeof(prefix) - 1) == 0 && strchr(ip, '.')) {
        return ip + sizeof(prefix) - 1;
    }
    return ip;
}

static struct peer *find_peer(struct lk_pulse *p, const char *name)
{
    for (size_t i = 0; i < p->peer_count; i++) {
        if (strcmp(p->peers[i].name, name) == 0) {
            return &p->peers[i];
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------- the thread */

static void set_priority(struct lk_pulse *p)
{
    struct sched_param sp = {.sched_priority = 1};
    const char *sched = "normal";
    if (pthread_setschedparam(pthread_self(), SCHED_RR, &sp) == 0) {
        sched = "rr";
    } else if (setpriority(PRIO_PROCESS, (id_t) gettid(), NICE_FALLBACK) == 0) {
        sched = "nice";
    }
    pthread_mutex_lock(&p->lock);
    p->sched = sched;
    pthread_mutex_unlock(&p->lock);
}

static void arm_timer(struct lk_pulse *p, uint64_t period_ms)
{
    struct itimerspec its;
    memset(&its, 0, sizeof(its));
    its.it_interval.tv_sec = (time_t) (period_ms / 1000);
    its.it_interval.tv_nsec = (long) (period_ms % 1000) * 1000000L;
    its.it_value = its.it_interval;
    (void) timerfd_settime(p->timer, 0, &its, NULL);
}

/* The destination as the socket's family can reach it (v4 through a v6 socket as
 * v4-mapped); false when it cannot. */
static bool destination(const struct lk_pulse *p, const struct sockaddr_storage *to,
                        struct sockaddr_storage *ret, socklen_t *ret_len)
{
    if (to->ss_family == p->family) {
        *ret = *to;
        *ret_len =
                to->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
        return true;
    }
    if (to->ss_family == AF_INET && p->family == AF_INET6) {
        const struct sockaddr_in *in = (const struct sockaddr_in *) to;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) ret;
        memset(ret, 0, sizeof(*ret));
        in6->sin6_family = AF_INET6;
        in6->sin6_port = in->sin_port;
        in6->sin6_addr.s6_addr[10] = 0xff;
        in6->sin6_addr.s6_addr[11] = 0xff;
        memcpy(&in6->sin6_addr.s6_addr[12], &in->sin_addr, 4);
        *ret_len = sizeof(struct sockaddr_in6);
        return true;
    }
    return false;
}

static bool same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family) {
        return false;
    }
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const struct sockaddr_in *) a;
        const struct sockaddr_in *y = (const struct sockaddr_in *) b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const struct sockaddr_in6 *) a;
    const struct sockaddr_in6 *y = (const struct sockaddr_in6 *) b;
    return x->sin6_port == y->sin6_port &&
           memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

static void send_one(struct lk_pulse *p, struct lk_pulse_msg *m,
                     const struct sockaddr_storage *address)
{
    struct sockaddr_storage to;
    socklen_t to_len;
    if (!destination(p, address, &to, &to_len)) {
        return;
    }
    uint8_t buf[LK_PULSE_MAX];
    m->seq = ++p->seq;
    int n = lk_pulse_encode(p->key, m, buf, sizeof(buf));
    if (n < 0) {
        return;
    }
    ssize_t w = sendto(p->udp, buf, (size_t) n, MSG_DONTWAIT | MSG_NOSIGNAL,
                       (const struct sockaddr *) &to, to_len);
    if (w == n) {
        p->sent++;
    } else {
        p->send_errors++;
    }
}

/* One pulse to every path of every configured peer, to the witness's address, and to
 * where the last pulse of each peer known by its HELLO only came from (a witness answers
 * its members so); the mutex is held. */
static void send_pulses(struct lk_pulse *p, uint64_t now_usec, bool late)
{
    if (p->incarnation == 0) {
        return;
    }
    struct lk_pulse_msg m;
    memset(&m, 0, sizeof(m));
    snprintf(m.node, sizeof(m.node), "%s", p->node);
    m.incarnation = p->incarnation;
    m.clock_ms = now_usec / 1000;
    m.flags = (uint8_t) ((late ? LK_PULSE_F_LOOP_LATE : 0) | (p->witness ? LK_PULSE_F_WITNESS : 0));
    for (size_t i = 0; i < p->peer_count; i++) {
        struct peer *peer = &p->peers[i];
        for (size_t k = 0; peer->configured && k < peer->addr_count; k++) {
            send_one(p, &m, &peer->addrs[k]);
        }
        if (!peer->configured && peer->have_reply &&
            !(p->have_witness && same_address(&peer->reply, &p->witness_addr))) {
            send_one(p, &m, &peer->reply);
        }
    }
    if (p->have_witness) {
        send_one(p, &m, &p->witness_addr);
    }
}

static void on_timer(struct lk_pulse *p, uint64_t *last_sent_usec)
{
    uint64_t expirations;
    (void) !read(p->timer, &expirations, sizeof(expirations));
    uint64_t now = mono_usec();
    pthread_mutex_lock(&p->lock);
    uint64_t stamp = atomic_load(&p->stamp_usec);
    uint64_t since = now > stamp ? now - stamp : 0;
    uint64_t limit_usec = lk_pulse_stall_limit_ms(p->dead_ms) * 1000;
    bool stalled = stamp == 0 || since > limit_usec;
    if (stalled && !atomic_load(&p->stalled) && stamp != 0) {
        p->stalls++;
    }
    atomic_store(&p->stalled, stalled);
    uint64_t interval_usec = p->interval_ms * 1000;
    uint64_t tick_usec = tick_ms(p->interval_ms, p->dead_ms) * 1000;
    bool due = now - *last_sent_usec + tick_usec / 2 >= interval_usec;
    if (!stalled && due) {
        *last_sent_usec = now;
        send_pulses(p, now, since > p->dead_ms * 1000);
    }
    pthread_mutex_unlock(&p->lock);
    /* The guard sees the same "alive" as the peers: fed while the loop progresses. */
    if (!stalled && p->feed) {
        p->feed(p->feed_ctx);
    }
}

static void on_datagram(struct lk_pulse *p, const uint8_t *buf, size_t len,
                        const struct sockaddr_storage *from)
{
    struct lk_pulse_msg m;
    pthread_mutex_lock(&p->lock);
    int r = lk_pulse_decode(p->key, buf, len, &m);
    if (r == -EACCES && p->has_alt) {
        r = lk_pulse_decode(p->alt_key, buf, len, &m);
    }
    uint64_t now = mono_usec();
    struct peer *peer = r == 0 ? find_peer(p, m.node) : NULL;
    if (r == -EACCES) {
        p->dropped[DROP_UNAUTHENTICATED]++;
    } else if (r < 0) {
        p->dropped[DROP_MALFORMED]++;
    } else if (!peer) {
        p->dropped[DROP_UNKNOWN]++;
    } else {
        char ip[IP_TEXT];
        ip_text(from, ip, sizeof(ip));
        struct source *src = NULL;
        for (size_t i = 0; i < peer->source_count && !src; i++) {
            if (strcmp(peer->sources[i].ip, ip) == 0) {
                src = &peer->sources[i];
            }
        }
        struct source fresh;
        memset(&fresh, 0, sizeof(fresh));
        snprintf(fresh.ip, sizeof(fresh.ip), "%s", ip);
        uint64_t last_seq = src ? src->last_seq : 0;
        enum lk_pulse_verdict v =
                lk_pulse_accept(&peer->state, &last_seq, &m, now / 1000, p->dead_ms);
        if (v == LK_PULSE_OK) {
            if (!src) {
                /* A new source: in a free slot, else in place of the longest silent. */
                size_t slot = peer->source_count;
                if (slot == SOURCES_MAX) {
                    slot = 0;
                    for (size_t i = 1; i < SOURCES_MAX; i++) {
                        if (peer->sources[i].heard_usec < peer->sources[slot].heard_usec) {
                            slot = i;
                        }
                    }
                } else {
                    peer->source_count++;
                }
                peer->sources[slot] = fresh;
                src = &peer->sources[slot];
            }
            src->last_seq = last_seq;
            src->heard_usec = now;
            peer->accepted++;
            peer->reply = *from;
            peer->have_reply = true;
        } else {
            peer->refused[v]++;
        }
    }
    pthread_mutex_unlock(&p->lock);
}

static void on_readable(struct lk_pulse *p)
{
    for (int i = 0; i < RECV_BURST; i++) {
        uint8_t buf[LK_PULSE_MAX + 1];
        struct sockaddr_storage from;
        socklen_t from_len = sizeof(from);
        memset(&from, 0, sizeof(from));
        ssize_t n = recvfrom(p->udp, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *) &from,
                             &from_len);
        if (n < 0) {
            return;
        }
        on_datagram(p, buf, (size_t) n, &from);
    }
}

static void *thread_main(void *arg)
{
    struct lk_pulse *p = arg;
    set_priority(p);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) {
        return NULL;
    }
    int fds[3] = {p->udp, p->timer, p->wake};
    for (int i = 0; i < 3; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fds[i]};
        (void) epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
    }
    uint64_t last_sent = 0;
    for (;;) {
        struct epoll_event evs[3];
        int n = epoll_wait(ep, evs, 3, -1);
        if (n < 0 && errno != EINTR) {
            break;
        }
        bool stop = false;
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == p->wake) {
                uint64_t v;
                (void) !read(p->wake, &v, sizeof(v));
                pthread_mutex_lock(&p->lock);
                stop = p->stopping;
                bool changed = p->timing_changed;
                p->timing_changed = false;
                uint64_t period = tick_ms(p->interval_ms, p->dead_ms);
                pthread_mutex_unlock(&p->lock);
                if (changed) {
                    arm_timer(p, period);
                }
            } else if (fd == p->timer) {
                on_timer(p, &last_sent);
            } else if (fd == p->udp) {
                on_readable(p);
            }
        }
        if (stop) {
            break;
        }
    }
    close(ep);
    return NULL;
}

static void wake(struct lk_pulse *p)
{
    uint64_t one = 1;
    (void) !write(p->wake, &one, sizeof(one));
}

/* ---------------------------------------------------------------- the main loop's calls */

static int udp_socket(const char *address, int *ret_family, char *err, size_t err_size)
{
    struct sockaddr_storage sa;
    if (lk_address_parse(address, &sa, NULL, 0) < 0) {
        snprintf(err, err_size, "invalid listen address '%s'", address);
        return -EINVAL;
    }
    int fd = socket(sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        int r = -errno;
        snprintf(err, err_size, "cannot listen for pulses on %s (udp): %s", address, strerror(-r));
        return r;
    }
    socklen_t len =
            sa.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (bind(fd, (struct sockaddr *) &sa, len) < 0) {
        int r = -errno;
        close(fd);
        snprintf(err, err_size, "cannot listen for pulses on %s (udp): %s", address, strerror(-r));
        return r;
    }
    *ret_family = sa.ss_family;
    return fd;
}

static void pulse_free(struct lk_pulse *p)
{
    if (p->udp >= 0) {
        close(p->udp);
    }
    if (p->timer >= 0) {
        close(p->timer);
    }
    if (p->wake >= 0) {
        close(p->wake);
    }
    pthread_mutex_destroy(&p->lock);
    free(p->peers);
    sodium_memzero(p->key, sizeof(p->key));
    free(p);
}

int lk_pulse_start(const struct lk_pulse_options *options, const struct lk_config *config,
                   struct lk_pulse **ret, char *err, size_t err_size)
{
    struct lk_pulse *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    p->udp = p->timer = p->wake = -1;
    pthread_mutex_init(&p->lock, NULL);
    snprintf(p->node, sizeof(p->node), "%s", options->node);
    snprintf(p->address, sizeof(p->address), "%s", options->listen);
    lk_pulse_derive_key(options->key, p->key);
    p->witness = options->witness;
    p->feed = options->feed;
    p->feed_ctx = options->feed_ctx;
    p->sched = "normal";
    int r = udp_socket(options->listen, &p->family, err, err_size);
    if (r < 0) {
        pulse_free(p);
        return r;
    }
    p->udp = r;
    p->timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    p->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (p->timer < 0 || p->wake < 0) {
        r = -errno;
        snprintf(err, err_size, "cannot start the pulse thread: %s", strerror(-r));
        pulse_free(p);
        return r;
    }
    lk_pulse_configure(p, config);
    atomic_store(&p->stamp_usec, mono_usec());
    arm_timer(p, tick_ms(p->interval_ms, p->dead_ms));
    r = -pthread_create(&p->thread, NULL, thread_main, p);
    if (r < 0) {
        snprintf(err, err_size, "cannot start the pulse thread: %s", strerror(-r));
        pulse_free(p);
        return r;
    }
    p->thread_started = true;
    *ret = p;
    return 0;
}

void lk_pulse_configure(struct lk_pulse *p, const struct lk_config *config)
{
    if (!p || !config) {
        return;
    }
    size_t n = config->peer_count;
    struct sockaddr_storage witness;
    bool have_witness = config->cluster.witness[0] &&
                        lk_address_parse(config->cluster.witness, &witness, NULL, 0) == 0;
    pthread_mutex_lock(&p->lock);
    /* The configured peers, then those known by their HELLO only, kept. */
    struct peer *fresh = calloc(n + p->peer_count + 1, sizeof(*fresh));
    if (!fresh) {
        pthread_mutex_unlock(&p->lock);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const struct lk_peer *cfg = &config->peers[i];
        struct peer *old = find_peer(p, cfg->name);
        if (old) {
            fresh[i] = *old;
        } else {
            snprintf(fresh[i].name, sizeof(fresh[i].name), "%s", cfg->name);
        }
        fresh[i].configured = true;
        fresh[i].addr_count = 0;
        for (size_t k = 0; k < cfg->path_count && k < LK_MAX_PATHS; k++) {
            if (lk_address_parse(cfg->paths[k], &fresh[i].addrs[fresh[i].addr_count], NULL, 0) ==
                0) {
                fresh[i].addr_count++;
            }
        }
    }
    size_t count = n;
    for (size_t i = 0; i < p->peer_count; i++) {
        bool kept = false;
        for (size_t j = 0; j < n && !kept; j++) {
            kept = strcmp(fresh[j].name, p->peers[i].name) == 0;
        }
        if (!kept) {
            fresh[count] = p->peers[i];
            fresh[count].configured = false;
            fresh[count].addr_count = 0;
            count++;
        }
    }
    free(p->peers);
    p->peers = fresh;
    p->peer_count = count;
    p->have_witness = have_witness;
    if (have_witness) {
        p->witness_addr = witness;
    }
    uint64_t interval = config->cluster.heartbeat_interval_ms;
    uint64_t dead = lk_cluster_settings_dead_ms(&config->cluster);
    bool changed = interval != p->interval_ms || dead != p->dead_ms;
    p->interval_ms = interval;
    p->dead_ms = dead;
    p->timing_changed |= changed;
    pthread_mutex_unlock(&p->lock);
    if (changed && p->thread_started) {
        wake(p);
    }
}

void lk_pulse_set_keys(struct lk_pulse *p, const uint8_t key[32], const uint8_t *alt)
{
    if (!p || !key) {
        return;
    }
    pthread_mutex_lock(&p->lock);
    lk_pulse_derive_key(key, p->key);
    p->has_alt = alt != NULL;
    if (alt) {
        lk_pulse_derive_key(alt, p->alt_key);
    } else {
        sodium_memzero(p->alt_key, sizeof(p->alt_key));
    }
    pthread_mutex_unlock(&p->lock);
}

void lk_pulse_set_incarnation(struct lk_pulse *p, uint64_t incarnation)
{
    if (!p) {
        return;
    }
    pthread_mutex_lock(&p->lock);
    p->incarnation = incarnation;
    pthread_mutex_unlock(&p->lock);
}

void lk_pulse_learn(struct lk_pulse *p, const char *peer, uint64_t incarnation)
{
    if (!p || !peer) {
        return;
    }
    pthread_mutex_lock(&p->lock);
    struct peer *x = find_peer(p, peer);
    if (!x) {
        /* Known by its HELLO only (the witness; on a witness, its members): kept for its
         * pulses, up to LEARNED_MAX. */
        size_t learned = 0;
        for (size_t i = 0; i < p->peer_count; i++) {
            learned += !p->peers[i].configured;
        }
        struct peer *bigger = learned < LEARNED_MAX && strlen(peer) <= LK_PULSE_NAME_MAX
                                      ? realloc(p->peers, (p->peer_count + 1) * sizeof(*bigger))
                                      : NULL;
        if (bigger) {
            p->peers = bigger;
            x = &p->peers[p->peer_count++];
            memset(x, 0, sizeof(*x));
            snprintf(x->name, sizeof(x->name), "%s", peer);
        }
    }
    if (x) {
        if (x->state.incarnation != incarnation) {
            /* A new lkd there: its sequence numbers start again. */
            x->source_count = 0;
        }
        lk_pulse_peer_learn(&x->state, incarnation);
    }
    pthread_mutex_unlock(&p->lock);
}

void lk_pulse_stamp(struct lk_pulse *p)
{
    if (p) {
        atomic_store(&p->stamp_usec, mono_usec());
    }
}

uint64_t lk_pulse_heard_usec(struct lk_pulse *p, const char *peer, const char *ip)
{
    if (!p || !peer || !ip) {
        return 0;
    }
    ip = strip_mapped(ip);
    uint64_t heard = 0;
    pthread_mutex_lock(&p->lock);
    struct peer *x = find_peer(p, peer);
    for (size_t i = 0; x && i < x->source_count; i++) {
        if (strcmp(x->sources[i].ip, ip) == 0) {
            heard = x->sources[i].heard_usec;
        }
    }
    pthread_mutex_unlock(&p->lock);
    return heard;
}

json_t *lk_pulse_peer_json(struct lk_pulse *p, const char *peer, uint64_t now_usec)
{
    if (!p || !peer) {
        return json_null();
    }
    pthread_mutex_lock(&p->lock);
    struct peer *x = find_peer(p, peer);
    if (!x) {
        pthread_mutex_unlock(&p->lock);
        return json_null();
    }
    uint64_t heard = 0;
    for (size_t i = 0; i < x->source_count; i++) {
        heard = x->sources[i].heard_usec > heard ? x->sources[i].heard_usec : heard;
    }
    json_t *refused = json_object();
    for (int v = LK_PULSE_OK + 1; v < LK_PULSE_VERDICTS && refused; v++) {
        json_object_set_new(refused, lk_pulse_verdict_name((enum lk_pulse_verdict) v),
                            json_integer((json_int_t) x->refused[v]));
    }
    json_t *last =
            heard ? json_integer((json_int_t) ((now_usec > heard ? now_usec - heard : 0) / 1000))
                  : json_null();
    json_t *o = json_pack("{s:o,s:I,s:o}", "last_heard_ms", last, "accepted",
                          (json_int_t) x->accepted, "refused", refused);
    pthread_mutex_unlock(&p->lock);
    return o;
}

json_t *lk_pulse_json(struct lk_pulse *p)
{
    if (!p) {
        return json_null();
    }
    pthread_mutex_lock(&p->lock);
    json_t *dropped = json_object();
    for (int k = 0; k < DROP_KINDS && dropped; k++) {
        json_object_set_new(dropped, drop_names[k], json_integer((json_int_t) p->dropped[k]));
    }
    json_t *o = json_pack(
            "{s:s,s:s,s:I,s:I,s:I,s:b,s:I,s:o}", "address", p->address, "sched", p->sched, "sent",
            (json_int_t) p->sent, "send_errors", (json_int_t) p->send_errors, "stall_limit_ms",
            (json_int_t) lk_pulse_stall_limit_ms(p->dead_ms), "stalled", atomic_load(&p->stalled),
            "stalls", (json_int_t) p->stalls, "dropped", dropped);
    pthread_mutex_unlock(&p->lock);
    return o;
}

void lk_pulse_stop(struct lk_pulse *p)
{
    if (!p) {
        return;
    }
    if (p->thread_started) {
        pthread_mutex_lock(&p->lock);
        p->stopping = true;
        pthread_mutex_unlock(&p->lock);
        wake(p);
        pthread_join(p->thread, NULL);
    }
    pulse_free(p);
}
