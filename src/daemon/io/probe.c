/* Built-in checks (probe.h): tcp connects, http GETs and process looks run on lkd's loop, so
 * that a check costs a socket and a few callbacks instead of a fork, an exec and a shell.
 *
 * Events that enter: lk_probe_start and lk_probe_abort from the monitor, the executor (the
 * start-up probe) and `resource test`; then libuv's connect, write, read, timer and close
 * callbacks. Each probe ends once, as a struct lk_result delivered from the close callback of
 * its last handle (never from lk_probe_start's own call).
 *
 * A connection that was established is closed with a reset (SO_LINGER 0): a thousand checks
 * a second must not leave a thousand TIME_WAIT sockets a second on this node. An HTTP check
 * asks HTTP/1.0 with Connection: close (no chunked body), keeps at most LK_CHECK_KEEP bytes of
 * the answer and decides as soon as it can: a status line that is not exactly
 * "HTTP/1.x DDD" fails, a wrong status fails at once, the right one without ~BODY succeeds
 * without reading further.
 *
 * Must never: block (no name lookup, pidfiles through safeopen.c), signal a process, or
 * keep more of an answer than LK_CHECK_KEEP bytes. */
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "procinfo.h"
#include "safeopen.h"
#include "scripts.h"

#define PIDFILE_READ_MAX 31
#define OUTPUT_MAX       512

struct lk_probe {
    uv_loop_t *loop;
    struct lk_checkspec check;
    uint64_t timeout_usec;
    uint64_t start_usec;
    lk_probe_done_cb cb;
    void *userdata;

    uv_timer_t timer;
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_write_t write;
    bool tcp_open;
    bool connected;
    unsigned open_handles;
    bool finishing;

    char request[LK_CHECKSPEC_MAX + 256];
    char answer[LK_CHECK_KEEP];
    size_t answer_len;

    struct lk_result result;
    char output[OUTPUT_MAX];
    size_t output_len;
};

static unsigned in_flight;

unsigned lk_probe_count(void)
{
    return in_flight;
}

static uint64_t mono_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

static void on_closed(uv_handle_t *h)
{
    struct lk_probe *p = h->data;
    if (--p->open_handles > 0) {
        return;
    }
    in_flight--;
    p->cb(p, &p->result, p->output, p->output_len, p->userdata);
    free(p);
}

/* Ends the probe with outcome and the words of fmt (the reason of a failure, or what
 * answered): the result is kept, every handle closed; the callback fires from the last
 * close. Later calls are ignored. */
__attribute__((format(printf, 3, 4))) static void
finish(struct lk_probe *p, enum lk_outcome outcome, const char *fmt, ...)
{
    if (p->finishing) {
        return;
    }
    p->finishing = true;
    char words[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(words, sizeof(words), fmt, ap);
    va_end(ap);
    p->result.outcome = outcome;
    p->result.exit_status = outcome == LK_OUTCOME_SUCCESS ? 0 : 1;
    p->result.duration_usec = mono_usec() - p->start_usec;
    p->result.timeout_usec = outcome == LK_OUTCOME_TIMEOUT ? p->timeout_usec : 0;
    p->result.pid = 0;
    snprintf(p->result.message, sizeof(p->result.message), "%s", words);
    if (outcome == LK_OUTCOME_EXIT) {
        /* Events and reasons read "exit status 1: connection refused", as an agent's do. */
        snprintf(p->result.exit_reason, sizeof(p->result.exit_reason), "%s", words);
    }
    char target[LK_CHECKSPEC_MAX + 64];
    lk_checkspec_target(&p->check, target, sizeof(target));
    int n = snprintf(p->output, sizeof(p->output), "%s: %s\n", target, words);
    p->output_len = n < 0                             ? 0
                    : (size_t) n >= sizeof(p->output) ? sizeof(p->output) - 1
                                                      : (size_t) n;

    uv_timer_stop(&p->timer);
    uv_close((uv_handle_t *) &p->timer, on_closed);
    if (p->tcp_open) {
        p->tcp_open = false;
        if (p->connected) {
            uv_read_stop((uv_stream_t *) &p->tcp);
        }
        /* A reset, not a FIN: no TIME_WAIT left here for each check. */
        if (!p->connected || uv_tcp_close_reset(&p->tcp, on_closed) < 0) {
            uv_close((uv_handle_t *) &p->tcp, on_closed);
        }
    }
}

static void fail_errno(struct lk_probe *p, const char *what, int err)
{
    finish(p, LK_OUTCOME_EXIT, "%s: %s", what, uv_strerror(err));
}

static void on_timeout(uv_timer_t *timer)
{
    struct lk_probe *p = timer->data;
    char secs[32];
    uint64_t t = p->timeout_usec;
    if (t % 1000000 == 0) {
        snprintf(secs, sizeof(secs), "%llu", (unsigned long long) (t / 1000000));
    } else {
        snprintf(secs, sizeof(secs), "%.3g", (double) t / 1e6);
    }
    finish(p, LK_OUTCOME_TIMEOUT, "%s within %s s",
           p->connected ? "no complete answer" : "no connection", secs);
}

/* ---------------------------------------------------------------- http */

/* Decides what the answer so far says, eof: the peer closed. Returns without finishing
 * while more bytes could decide. */
static void judge_answer(struct lk_probe *p, bool eof)
{
    const char *a = p->answer;
    size_t len = p->answer_len;
    bool full = len == sizeof(p->answer);
    /* "HTTP/1.x " then three digits, then a space or the line's end. */
    static const char prefix[] = "HTTP/1.";
    size_t cmp = len < 7 ? len : 7;
    if (memcmp(a, prefix, cmp) != 0 ||
        (len >= 9 && ((a[7] != '0' && a[7] != '1') || a[8] != ' '))) {
        finish(p, LK_OUTCOME_EXIT, "not an HTTP/1.x answer");
        return;
    }
    const char *eol = memchr(a, '\n', len);
    if (!eol) {
        if (eof) {
            finish(p, LK_OUTCOME_EXIT, "connection closed before a whole status line");
        } else if (full) {
            finish(p, LK_OUTCOME_EXIT, "status line longer than %zu bytes", sizeof(p->answer));
        }
        return;
    }
    size_t line = (size_t) (eol - a);
    if (line < 13 || a[line - 1] != '\r' || a[9] < '1' || a[9] > '5' || a[10] < '0' ||
        a[10] > '9' || a[11] < '0' || a[11] > '9' || (a[12] != ' ' && a[12] != '\r')) {
        finish(p, LK_OUTCOME_EXIT, "malformed status line");
        return;
    }
    int status = (a[9] - '0') * 100 + (a[10] - '0') * 10 + (a[11] - '0');
    /* The status line, printable, for the words. */
    char shown[96];
    size_t k = 0;
    for (size_t i = 0; i + 1 < line && k + 1 < sizeof(shown); i++) {
        unsigned char c = (unsigned char) a[i];
        shown[k++] = c >= 0x20 && c < 0x7f ? (char) c : '?';
    }
    shown[k] = '\0';
    if (status != p->check.status) {
        finish(p, LK_OUTCOME_EXIT, "status %d, expected %d (%s)", status, p->check.status, shown);
        return;
    }
    if (!p->check.body[0]) {
        finish(p, LK_OUTCOME_SUCCESS, "%s", shown);
        return;
    }
    const char *body = memmem(a, len, "\r\n\r\n", 4);
    if (body) {
        body += 4;
        size_t blen = len - (size_t) (body - a);
        if (memmem(body, blen, p->check.body, strlen(p->check.body))) {
            finish(p, LK_OUTCOME_SUCCESS, "%s, body holds '%s'", shown, p->check.body);
            return;
        }
    }
    if (eof || full) {
        finish(p, LK_OUTCOME_EXIT, "%s, but the body does not hold '%s'%s", shown, p->check.body,
               full ? " in the answer's first 4096 bytes" : "");
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void) suggested;
    struct lk_probe *p = h->data;
    buf->base = p->answer + p->answer_len;
    buf->len = sizeof(p->answer) - p->answer_len;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void) buf;
    struct lk_probe *p = s->data;
    if (p->finishing) {
        return;
    }
    if (nread > 0) {
        p->answer_len += (size_t) nread;
        judge_answer(p, false);
    } else if (nread == UV_EOF) {
        judge_answer(p, true);
        if (!p->finishing) {
            finish(p, LK_OUTCOME_EXIT, "connection closed early");
        }
    } else if (nread < 0) {
        fail_errno(p, "reading the answer", (int) nread);
    }
}

static void on_written(uv_write_t *req, int status)
{
    struct lk_probe *p = req->data;
    if (status < 0 && status != UV_ECANCELED && !p->finishing) {
        fail_errno(p, "sending the request", status);
    }
}

static void send_request(struct lk_probe *p)
{
    const char *open = p->check.ipv6 ? "[" : "", *close = p->check.ipv6 ? "]" : "";
    int n = snprintf(p->request, sizeof(p->request),
                     "GET %s HTTP/1.0\r\nHost: %s%s%s:%u\r\nUser-Agent: lkd-check\r\n"
                     "Accept: */*\r\nConnection: close\r\n\r\n",
                     p->check.path, open, p->check.host, close, (unsigned) p->check.port);
    uv_buf_t b = uv_buf_init(p->request, (unsigned) n);
    p->write.data = p;
    int r = uv_write(&p->write, (uv_stream_t *) &p->tcp, &b, 1, on_written);
    if (r == 0) {
        r = uv_read_start((uv_stream_t *) &p->tcp, on_alloc, on_read);
    }
    if (r < 0) {
        fail_errno(p, "sending the request", r);
    }
}

/* ---------------------------------------------------------------- tcp */

static void on_connect(uv_connect_t *req, int status)
{
    struct lk_probe *p = req->data;
    if (p->finishing) {
        return; /* timed out or aborted: the close cancelled the connect */
    }
    if (status < 0) {
        fail_errno(p, "connect", status);
        return;
    }
    p->connected = true;
    if (p->check.kind == LK_CHECK_TCP) {
        finish(p, LK_OUTCOME_SUCCESS, "connected");
        return;
    }
    send_request(p);
}

static void start_connect(struct lk_probe *p)
{
    struct sockaddr_storage addr;
    int r = p->check.ipv6 ? uv_ip6_addr(p->check.host, p->check.port, (struct sockaddr_in6 *) &addr)
                          : uv_ip4_addr(p->check.host, p->check.port, (struct sockaddr_in *) &addr);
    if (r < 0) {
        fail_errno(p, "address", r);
        return;
    }
    r = uv_tcp_init(p->loop, &p->tcp);
    if (r < 0) {
        fail_errno(p, "socket", r);
        return;
    }
    p->tcp.data = p;
    p->tcp_open = true;
    p->open_handles++;
    p->connect.data = p;
    r = uv_tcp_connect(&p->connect, &p->tcp, (const struct sockaddr *) &addr, on_connect);
    if (r < 0) {
        fail_errno(p, "connect", r);
    }
}

/* ---------------------------------------------------------------- process */

/* Whether pid is a process that has not exited: alive and not a zombie. */
static bool running(int pid)
{
    if (kill(pid, 0) < 0 && errno != EPERM) {
        return false;
    }
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) {
        return false;
    }
    buf[n] = '\0';
    const char *paren = strrchr(buf, ')');
    return paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
}

static void look_at_process(struct lk_probe *p, const struct lk_probe_spec *spec)
{
    if (spec->pidfile && spec->pidfile[0]) {
        char why[4096 + 128] = "";
        char *data = NULL;
        size_t n = 0;
        struct stat st;
        if (lk_safeopen_read(spec->pidfile, &lk_safeopen_pidfile, PIDFILE_READ_MAX, &data, &n, &st,
                             why, sizeof(why)) < 0) {
            finish(p, LK_OUTCOME_EXIT, "pidfile: %s", why);
            return;
        }
        char *end = NULL;
        long pid = strtol(data, &end, 10);
        bool ok = n > 0 && pid > 1 && pid <= 4194304 && (!*end || *end == '\n' || *end == ' ');
        free(data);
        if (!ok) {
            finish(p, LK_OUTCOME_EXIT, "no pid in the pidfile %s", spec->pidfile);
            return;
        }
        if (!running((int) pid)) {
            finish(p, LK_OUTCOME_EXIT, "process %ld of the pidfile %s is not running", pid,
                   spec->pidfile);
            return;
        }
        /* A process started after the pidfile was written is another one that reused the
         * pid, as the pidfile watch sees it (monitor.c). */
        if (lk_proc_started_after((int) pid, st.st_mtime)) {
            finish(p, LK_OUTCOME_EXIT, "process %ld started after the pidfile %s was written", pid,
                   spec->pidfile);
            return;
        }
        finish(p, LK_OUTCOME_SUCCESS, "process %ld of the pidfile is running", pid);
        return;
    }
    if (!spec->cgroups || !spec->tag) {
        finish(p, LK_OUTCOME_EXIT, "no pidfile, and containment is off on this node");
        return;
    }
    if (lk_cgroups_populated(spec->cgroups, spec->tag)) {
        finish(p, LK_OUTCOME_SUCCESS, "the resource's cgroup holds a process");
    } else {
        finish(p, LK_OUTCOME_EXIT, "no process left in the resource's cgroup");
    }
}

/* ---------------------------------------------------------------- lifecycle */

int lk_probe_spec_for(struct lk_probe_spec *ret, const struct lk_resource *res,
                      enum lk_action action, const struct lk_cgroups *cgroups)
{
    const char *text = lk_resource_builtin_check(res, action);
    if (!text) {
        return -ENOENT;
    }
    struct lk_probe_spec ps = {.timeout_usec = lk_scripts_timeout(res, action),
                               .pidfile = res->settings.pidfile,
                               .cgroups = cgroups,
                               .tag = res->tag};
    char err[512];
    if (lk_checkspec_parse(text, &ps.check, err, sizeof(err)) < 0) {
        return -EINVAL;
    }
    *ret = ps;
    return 0;
}

int lk_probe_start(uv_loop_t *loop, const struct lk_probe_spec *spec, lk_probe_done_cb cb,
                   void *userdata, struct lk_probe **ret_probe)
{
    if (!spec || spec->check.kind == LK_CHECK_NONE || !cb) {
        return -EINVAL;
    }
    struct lk_probe *p = calloc(1, sizeof(*p));
    if (!p) {
        return -ENOMEM;
    }
    p->loop = loop;
    p->check = spec->check;
    p->timeout_usec = spec->timeout_usec;
    p->start_usec = mono_usec();
    p->cb = cb;
    p->userdata = userdata;
    uv_timer_init(loop, &p->timer);
    p->timer.data = p;
    p->open_handles = 1;
    in_flight++;
    if (ret_probe) {
        *ret_probe = p;
    }
    if (p->check.kind == LK_CHECK_PROCESS) {
        look_at_process(p, spec);
        return 0;
    }
    if (p->timeout_usec > 0) {
        uv_timer_start(&p->timer, on_timeout, (p->timeout_usec + 999) / 1000, 0);
    }
    start_connect(p);
    return 0;
}

void lk_probe_abort(struct lk_probe *p)
{
    if (p && !p->finishing) {
        finish(p, LK_OUTCOME_ABORTED, "aborted");
    }
}
