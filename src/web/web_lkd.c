/* lkweb's client of lkd (web.h): one connection to $LKROOT/run/lkd.sock per command, the
 * request of src/lib/proto.h with "as" (the token's role), then lkd's lines read with
 * poll() against a deadline, so that a frozen lkd gives the HTTP client a 504 and a
 * missing one a 503, never a hung thread. Events enter from the HTTP threads only.
 *
 * It never retries a command (an action must not run twice) and never blocks without a
 * deadline; every wait also ends when lkweb stops (lk_web.quit_fd). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"
#include "web.h"

struct lk_web_lkd_stream {
    int fd;
    char *buf;
    size_t len, cap;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void lk_web_reply_clear(struct lk_web_reply *r)
{
    json_decref(r->data);
    json_decref(r->progress);
    r->data = NULL;
    r->progress = NULL;
}

static void fail(struct lk_web_reply *r, int http, int code, const char *msg)
{
    r->http = http;
    r->code = code;
    snprintf(r->error, sizeof(r->error), "%s", msg);
}

/* Writes all of buf, with the deadline. 0 or -1. */
static int write_all(int fd, const char *buf, size_t len, int64_t deadline)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n > 0) {
            buf += n;
            len -= (size_t) n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            return -1;
        }
        int left = (int) (deadline - now_ms());
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        if (left <= 0 || poll(&p, 1, left) <= 0) {
            return -1;
        }
    }
    return 0;
}

struct lk_web_lkd_stream *lk_web_lkd_open(const char *cmd, json_t *args, const char *as,
                                          struct lk_web_reply *r)
{
    memset(r, 0, sizeof(*r));
    json_t *req = lk_proto_request(cmd, args);
    if (req && as) {
        json_object_set_new(req, LK_KEY_AS, json_string(as));
    }
    char *line = req ? lk_proto_dump(req) : NULL;
    json_decref(req);
    if (!line) {
        fail(r, 503, LK_EXIT_FAILED, "lkweb: out of memory");
        return NULL;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", lk_web.sock);
    if (fd < 0 || connect(fd, (struct sockaddr *) &addr, sizeof(addr)) < 0) {
        char msg[256];
        snprintf(msg, sizeof(msg), "lkd is not reachable: %s", strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        free(line);
        fail(r, 503, LK_EXIT_UNREACHABLE, msg);
        return NULL;
    }
    int rc = write_all(fd, line, strlen(line), now_ms() + lk_web.lkd_timeout_ms);
    free(line);
    if (rc < 0) {
        close(fd);
        fail(r, 503, LK_EXIT_UNREACHABLE, "lkd is not reachable: it did not take the request");
        return NULL;
    }
    struct lk_web_lkd_stream *s = calloc(1, sizeof(*s));
    if (!s) {
        close(fd);
        fail(r, 503, LK_EXIT_FAILED, "lkweb: out of memory");
        return NULL;
    }
    s->fd = fd;
    return s;
}

int lk_web_lkd_next(struct lk_web_lkd_stream *s, int timeout_ms, json_t **ret)
{
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        char *nl = s->len ? memchr(s->buf, '\n', s->len) : NULL;
        if (nl) {
            *nl = '\0';
            json_t *msg = json_loads(s->buf, 0, NULL);
            size_t used = (size_t) (nl - s->buf) + 1;
            memmove(s->buf, nl + 1, s->len - used);
            s->len -= used;
            if (!json_is_object(msg)) {
                json_decref(msg);
                return -1;
            }
            *ret = msg;
            return 1;
        }
        if (s->len >= LK_PROTO_MAX_LINE) {
            return -1;
        }
        if (s->cap - s->len < 65536) {
            size_t cap = s->cap ? s->cap * 2 : 131072;
            char *b = realloc(s->buf, cap);
            if (!b) {
                return -1;
            }
            s->buf = b;
            s->cap = cap;
        }
        ssize_t n = recv(s->fd, s->buf + s->len, s->cap - s->len - 1, 0);
        if (n > 0) {
            s->len += (size_t) n;
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            return -1;
        }
        int left = (int) (deadline - now_ms());
        if (left <= 0) {
            return 0;
        }
        struct pollfd p[2] = {{.fd = s->fd, .events = POLLIN},
                              {.fd = lk_web.quit_fd, .events = POLLIN}};
        int pr = poll(p, 2, left);
        if (pr < 0 && errno != EINTR) {
            return -1;
        }
        if (p[1].revents) {
            return -1;
        }
    }
}

void lk_web_lkd_close(struct lk_web_lkd_stream *s)
{
    if (s) {
        close(s->fd);
        free(s->buf);
        free(s);
    }
}

static int http_of(int code, const char *error)
{
    switch (code) {
    case LK_EXIT_OK:
        return 200;
    case LK_EXIT_USAGE:
        return 400;
    case LK_EXIT_UNREACHABLE:
        return 503;
    case LK_EXIT_DENIED:
        return 403;
    default:
        return error && strncmp(error, "no resource with tag", 20) == 0 ? 404 : 409;
    }
}

void lk_web_lkd_call(const char *cmd, json_t *args, const char *as, int timeout_ms,
                     struct lk_web_reply *r)
{
    struct lk_web_lkd_stream *s = lk_web_lkd_open(cmd, args, as, r);
    if (!s) {
        return;
    }
    int64_t deadline = now_ms() + timeout_ms;
    r->progress = json_array();
    for (;;) {
        json_t *msg = NULL;
        int left = (int) (deadline - now_ms());
        int n = left > 0 ? lk_web_lkd_next(s, left, &msg) : 0;
        if (n == 0) {
            fail(r, 504, LK_EXIT_UNREACHABLE, "lkd did not answer in time");
            break;
        }
        if (n < 0) {
            fail(r, 503, LK_EXIT_UNREACHABLE, "lkd closed the connection without a reply");
            break;
        }
        json_t *progress = json_object_get(msg, LK_KEY_PROGRESS);
        json_t *ok = json_object_get(msg, LK_KEY_OK);
        if (json_is_string(progress)) {
            json_array_append(r->progress, progress);
        } else if (json_is_boolean(ok)) {
            if (json_is_true(ok)) {
                r->http = 200;
                r->code = 0;
                r->data = json_incref(json_object_get(msg, LK_KEY_DATA));
                if (!r->data) {
                    r->data = json_object();
                }
            } else {
                const char *error = json_string_value(json_object_get(msg, LK_KEY_ERROR));
                int code = (int) json_integer_value(json_object_get(msg, LK_KEY_CODE));
                fail(r, http_of(code, error), code ? code : LK_EXIT_FAILED,
                     error ? error : "lkd refused the request");
            }
            json_decref(msg);
            break;
        }
        json_decref(msg);
    }
    lk_web_lkd_close(s);
}
