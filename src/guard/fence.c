/* lkguard's fencing hands: the kill of the plan's cgroups and the word to the peers.
 * Entered only from lkguard.c's fence(), once, after it decided that lkd is dead or stuck.
 * Everything here is bounded in time (the kill's wait, each connection's connect and
 * close) so that the guard always gets to set page.fenced and to exit. Kills only the
 * cgroups the plan names (a hierarchy without a live backup node is not in it), and sends
 * nothing but the one fenced frame on connections of its own. */
#include "fence.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "settings.h"

#define EVENTS_MAX 4096

static bool deferring;
static char deferred[64 * 1024];
static size_t deferred_len;

void lk__guard_log(const char *format, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, format);
    vsnprintf(line, sizeof(line), format, ap);
    va_end(ap);
    if (deferring) {
        int n = snprintf(deferred + deferred_len, sizeof(deferred) - deferred_len, "lkguard: %s\n",
                         line);
        if (n > 0 && (size_t) n < sizeof(deferred) - deferred_len) {
            deferred_len += (size_t) n;
        }
        return;
    }
    fprintf(stderr, "lkguard: %s\n", line);
    fflush(stderr);
}

void lk__guard_log_defer(bool defer)
{
    deferring = defer;
    if (!defer && deferred_len > 0) {
        fwrite(deferred, 1, deferred_len, stderr);
        fflush(stderr);
        deferred_len = 0;
    }
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* 1 when the cgroup at path has processes, 0 when it is empty or gone, -errno when its
 * cgroup.events cannot be read. */
static int populated(const char *path)
{
    char file[LK_GUARD_PATH_MAX + 32];
    snprintf(file, sizeof(file), "%s/cgroup.events", path);
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno == ENOENT ? 0 : -errno;
    }
    char buf[EVENTS_MAX];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    int r = n < 0 ? -errno : 0;
    close(fd);
    if (r < 0) {
        return r;
    }
    buf[n] = '\0';
    const char *p = strstr(buf, "populated ");
    if (!p) {
        return -EBADMSG;
    }
    return p[10] == '1' ? 1 : 0;
}

int lk__guard_kill_cgroups(const struct lk_guard_plan *plan, int wait_ms)
{
    size_t total = 0;
    for (size_t i = 0; i < plan->fence_count; i++) {
        total += plan->fence[i].cgroup_count;
    }
    if (total == 0) {
        return 0;
    }
    bool *pending = calloc(total, sizeof(*pending));
    if (!pending) {
        lk__guard_log("out of memory; killing the cgroups without waiting for them");
    }
    size_t k = 0;
    for (size_t i = 0; i < plan->fence_count; i++) {
        const struct lk_guard_hier *h = &plan->fence[i];
        for (size_t j = 0; j < h->cgroup_count; j++, k++) {
            char file[LK_GUARD_PATH_MAX + 32];
            snprintf(file, sizeof(file), "%s/cgroup.kill", h->cgroups[j]);
            int fd = open(file, O_WRONLY | O_CLOEXEC);
            if (fd < 0 && errno == ENOENT) {
                lk__guard_log("cgroup '%s' of '%s' does not exist: nothing to kill", h->cgroups[j],
                              h->name);
                continue;
            }
            if (fd < 0 || write(fd, "1", 1) != 1) {
                lk__guard_log("cannot kill cgroup '%s' of '%s': %s", h->cgroups[j], h->name,
                              strerror(errno));
            }
            if (fd >= 0) {
                close(fd);
            }
            if (pending) {
                pending[k] = true;
            }
        }
    }
    if (!pending) {
        return 0;
    }
    /* cgroup.kill signals every process at once; they are gone when the kernel has
     * reaped the last, which "populated 0" tells. */
    int64_t deadline = mono_ms() + wait_ms;
    int left;
    for (;;) {
        left = 0;
        k = 0;
        for (size_t i = 0; i < plan->fence_count; i++) {
            const struct lk_guard_hier *h = &plan->fence[i];
            for (size_t j = 0; j < h->cgroup_count; j++, k++) {
                if (!pending[k]) {
                    continue;
                }
                int r = populated(h->cgroups[j]);
                if (r == 0) {
                    lk__guard_log("killed every process of cgroup '%s' ('%s')", h->cgroups[j],
                                  h->name);
                    pending[k] = false;
                } else {
                    left++;
                }
            }
        }
        if (left == 0 || mono_ms() >= deadline) {
            break;
        }
        sleep_ms(10);
    }
    k = 0;
    for (size_t i = 0; i < plan->fence_count; i++) {
        const struct lk_guard_hier *h = &plan->fence[i];
        for (size_t j = 0; j < h->cgroup_count; j++, k++) {
            if (pending[k]) {
                lk__guard_log("cgroup '%s' of '%s' still has processes after %d ms", h->cgroups[j],
                              h->name, wait_ms);
            }
        }
    }
    free(pending);
    return left;
}

enum conn_state { CONNECTING, WRITING, DRAINING, DONE };

struct conn {
    const char *peer;
    const char *address;
    int fd;
    enum conn_state state;
    size_t off; /* bytes of the frame written */
};

static void conn_end(struct conn *c)
{
    if (c->fd >= 0) {
        close(c->fd);
    }
    c->fd = -1;
    c->state = DONE;
}

static void conn_fail(struct conn *c, const char *why)
{
    lk__guard_log("cannot tell %s at %s: %s", c->peer, c->address, why);
    conn_end(c);
}

/* Writes what it can of the frame; on the last byte, logs and half-closes. */
static void conn_write(struct conn *c, const uint8_t *frame, size_t len, const char *node,
                       const char *hiers, int *told)
{
    while (c->off < len) {
        ssize_t n = send(c->fd, frame + c->off, len - c->off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        }
        if (n < 0) {
            conn_fail(c, strerror(errno));
            return;
        }
        c->off += (size_t) n;
    }
    lk__guard_log("told %s at %s: %s fenced itself (%s)", c->peer, c->address, node, hiers);
    (*told)++;
    (void) shutdown(c->fd, SHUT_WR);
    c->state = DRAINING;
}

int lk__guard_tell_peers(const struct lk_guard_plan *plan, const uint8_t key[LK_WIRE_KEY],
                         const char *why, int connect_ms)
{
    if (plan->fence_count == 0) {
        return 0;
    }
    const char **names = calloc(plan->fence_count, sizeof(*names));
    size_t total = 0;
    for (size_t i = 0; i < plan->peer_count; i++) {
        total += plan->peers[i].address_count;
    }
    struct conn *conns = calloc(total ? total : 1, sizeof(*conns));
    struct pollfd *pfds = calloc(total ? total : 1, sizeof(*pfds));
    uint8_t *frame = NULL;
    size_t len = 0;
    int told = 0;
    char hiers[512] = "";
    if (!names || !conns || !pfds) {
        lk__guard_log("out of memory: the peers are not told");
        goto out;
    }
    for (size_t i = 0; i < plan->fence_count; i++) {
        names[i] = plan->fence[i].name;
        size_t used = strlen(hiers);
        if (used + strlen(names[i]) + 6 >= sizeof(hiers)) {
            snprintf(hiers + used, sizeof(hiers) - used, "...");
            break;
        }
        snprintf(hiers + used, sizeof(hiers) - used, "%s%s", i ? ", " : "", names[i]);
    }
    int r = lk_guard_fenced_frame(key, plan->node, plan->incarnation, names, plan->fence_count, why,
                                  &frame, &len);
    if (r == -EMSGSIZE) {
        lk__guard_log("%zu hierarchies do not fit in one fenced frame; the peers are not told "
                      "(they wait the dead time)",
                      plan->fence_count);
        goto out;
    }
    if (r < 0) {
        lk__guard_log("cannot make the fenced frame: %s; the peers are not told", strerror(-r));
        goto out;
    }

    size_t k = 0;
    for (size_t i = 0; i < plan->peer_count; i++) {
        for (size_t j = 0; j < plan->peers[i].address_count; j++, k++) {
            struct conn *c = &conns[k];
            c->peer = plan->peers[i].name;
            c->address = plan->peers[i].addresses[j];
            c->fd = -1;
            struct sockaddr_storage ss;
            char err[256];
            if (lk_address_parse(c->address, &ss, err, sizeof(err)) < 0) {
                conn_fail(c, err);
                continue;
            }
            socklen_t sl = ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                    : sizeof(struct sockaddr_in);
            c->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (c->fd < 0) {
                conn_fail(c, strerror(errno));
                continue;
            }
            if (connect(c->fd, (struct sockaddr *) &ss, sl) == 0) {
                c->state = WRITING;
            } else if (errno == EINPROGRESS) {
                c->state = CONNECTING;
            } else {
                conn_fail(c, strerror(errno));
            }
        }
    }

    /* Every connection moves on its own; the connects and writes are bounded by
     * connect_ms, the peers' closing by as much again. */
    int64_t start = mono_ms();
    for (;;) {
        int64_t now = mono_ms();
        bool sending = false;
        nfds_t n = 0;
        for (size_t i = 0; i < total; i++) {
            struct conn *c = &conns[i];
            if ((c->state == CONNECTING || c->state == WRITING) && now - start >= connect_ms) {
                conn_fail(c, c->state == CONNECTING ? "no connection within the time allowed"
                                                    : "the peer did not read the frame");
            }
            if (c->state == DRAINING && now - start >= 2 * (int64_t) connect_ms) {
                conn_end(c);
            }
            if (c->state == DONE) {
                continue;
            }
            sending = sending || c->state != DRAINING;
            pfds[n].fd = c->fd;
            pfds[n].events = c->state == DRAINING ? POLLIN : POLLOUT;
            pfds[n].revents = 0;
            n++;
        }
        if (n == 0) {
            break;
        }
        int64_t until = start + (sending ? connect_ms : 2 * (int64_t) connect_ms);
        int timeout = until > now ? (int) (until - now) : 0;
        if (poll(pfds, n, timeout) < 0 && errno != EINTR) {
            lk__guard_log("poll failed: %s", strerror(errno));
            break;
        }
        n = 0;
        for (size_t i = 0; i < total; i++) {
            struct conn *c = &conns[i];
            if (c->state == DONE) {
                continue;
            }
            short ev = pfds[n++].revents;
            if (!ev) {
                continue;
            }
            if (c->state == CONNECTING) {
                int soerr = 0;
                socklen_t sl = sizeof(soerr);
                if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0) {
                    soerr = errno;
                }
                if (soerr) {
                    conn_fail(c, strerror(soerr));
                    continue;
                }
                c->state = WRITING;
            }
            if (c->state == WRITING) {
                conn_write(c, frame, len, plan->node, hiers, &told);
            } else if (c->state == DRAINING) {
                char scratch[4096];
                ssize_t got = read(c->fd, scratch, sizeof(scratch));
                if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
                    conn_end(c);
                }
            }
        }
    }
    for (size_t i = 0; i < total; i++) {
        if (conns[i].state != DONE) {
            conn_end(&conns[i]);
        }
    }
out:
    free(frame);
    free(pfds);
    free(conns);
    free(names);
    return told;
}
