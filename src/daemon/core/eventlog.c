/* The event log: the database table, the text file and syslog, in that order, for every
 * event; then it is published on the bus ("an event was logged"), so that followers and
 * waiting commands see it at once.
 * Under a flood it stays bounded: repeats of a foldable event (lib/aggregate.h: untagged
 * node-level infos and warnings, never a resource's events or an incident) are counted
 * and summarised once per interval by a timer of its own; lk.log is rotated beyond
 * [node] log-max-size (lk.log.1 .. log-keep), its size tracked as it is written.
 * Wording comes from the catalog (src/lib/catalog.c); this file only delivers, and must
 * never let a failure to write stop the caller. */
#include "eventlog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "aggregate.h"
#include "bus.h"
#include "catchup.h"

struct lk_eventlog {
    struct lk_node *node;
    struct lk_aggregate *agg; /* NULL when it could not be made: nothing is folded */
    uv_timer_t timer;         /* the end of the oldest interval */
    bool timer_ready;
    uint64_t log_bytes; /* lk.log's size, as opened and written since */
    uint64_t max_bytes;
    unsigned keep;
};

static void deliver(struct lk_node *node, struct lk_event_record *e);
static void on_timer(uv_timer_t *t);

static uint64_t now_ms(void)
{
    return lk_mono_usec() / 1000;
}

static void write_summary(const struct lk_aggregate_summary *s, void *userdata)
{
    struct lk_node *node = userdata;
    struct lk_event_record *e = calloc(1, sizeof(*e));
    if (!e) {
        return;
    }
    e->time_ms = lk_now_ms();
    snprintf(e->node, sizeof(e->node), "%s", node->name);
    e->severity = s->severity;
    e->number = s->number;
    snprintf(e->tag, sizeof(e->tag), "%s", s->tag);
    snprintf(e->process, sizeof(e->process), "lkd");
    snprintf(e->message, sizeof(e->message), "%s", s->message);
    deliver(node, e);
    free(e);
}

/* Arms the timer for the end of the oldest interval, unless it is armed already: intervals
 * end in the order they started, so an armed timer is never late. */
static void arm(struct lk_eventlog *log)
{
    uint64_t due = lk_aggregate_next_due(log->agg);
    if (!log->timer_ready || due == UINT64_MAX || uv_is_active((uv_handle_t *) &log->timer)) {
        return;
    }
    uint64_t now = now_ms();
    uv_timer_start(&log->timer, on_timer, due > now ? due - now : 0, 0);
}

static void on_timer(uv_timer_t *t)
{
    struct lk_eventlog *log = t->data;
    (void) lk_aggregate_expire(log->agg, now_ms(), write_summary, log->node);
    arm(log);
}

static void flush(struct lk_node *node)
{
    struct lk_eventlog *log = node->eventlog;
    if (log && log->agg) {
        (void) lk_aggregate_flush(log->agg, write_summary, node);
        if (log->timer_ready) {
            uv_timer_stop(&log->timer);
        }
    }
}

/* lk.log is opened without blocking and without following a link (the log directory is
 * the root's, but a FIFO or a link planted there must not hang or redirect lkd); anything
 * but a regular file is refused with -EINVAL. */
static int open_log(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW, 0640);
    if (fd < 0) {
        /* ENXIO: a FIFO nobody reads; ELOOP: a link. */
        return errno == ENXIO || errno == ELOOP ? -EINVAL : -errno;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -EINVAL;
    }
    return fd;
}

int lk_eventlog_open(struct lk_node *node)
{
    char path[LK_PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/%s", node->root, LK_LOG_NAME);
    node->log_fd = open_log(path);
    if (node->log_fd < 0) {
        int r = node->log_fd;
        node->log_fd = -1;
        return r;
    }
    openlog("openkeeper", LOG_PID | LOG_NDELAY, LOG_DAEMON);
    struct lk_eventlog *log = calloc(1, sizeof(*log));
    if (!log) {
        return 0; /* nothing folded, nothing rotated: still a log */
    }
    log->node = node;
    struct stat st;
    log->log_bytes = fstat(node->log_fd, &st) == 0 ? (uint64_t) st.st_size : 0;
    log->max_bytes = node->config.log_max_bytes ? node->config.log_max_bytes : LK_CONF_LOG_MAX_SIZE;
    log->keep = node->config.log_keep ? (unsigned) node->config.log_keep : LK_CONF_LOG_KEEP;
    log->agg = lk_aggregate_new(LK_AGGREGATE_INTERVAL_MS);
    if (log->agg && node->loop && uv_timer_init(node->loop, &log->timer) == 0) {
        log->timer.data = log;
        /* Summaries never keep the loop alive on their own. */
        uv_unref((uv_handle_t *) &log->timer);
        log->timer_ready = true;
    }
    node->eventlog = log;
    return 0;
}

void lk_eventlog_close(struct lk_node *node)
{
    flush(node);
    if (node->log_fd >= 0) {
        close(node->log_fd);
        node->log_fd = -1;
    }
    closelog();
}

char *lk_eventlog_format(const struct lk_event_record *e, char *buf, size_t size)
{
    time_t secs = (time_t) (e->time_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char when[32];
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(buf, size, "%s.%03dZ %s %-7s %5d %s%s%s%s%s", when, (int) (e->time_ms % 1000), e->node,
             lk_severity_name(e->severity), e->number, e->tag[0] ? e->tag : "-",
             strcmp(e->process, "lkd") != 0 && e->process[0] ? " (" : "",
             strcmp(e->process, "lkd") != 0 ? e->process : "",
             strcmp(e->process, "lkd") != 0 && e->process[0] ? ")" : "", ": ");
    size_t len = strlen(buf);
    snprintf(buf + len, size - len, "%s", e->message);
    return buf;
}

/* lk.log -> lk.log.1 -> ... -> lk.log.<keep> (the oldest is replaced), then a new
 * lk.log. On a failure the file goes on growing and the rotation is tried again after
 * another max_bytes: a log line is never lost to it. */
static void rotate(struct lk_node *node, struct lk_eventlog *log)
{
    /* Someone may have truncated it (logrotate's copytruncate): the file says. */
    struct stat st;
    if (fstat(node->log_fd, &st) == 0 && (uint64_t) st.st_size < log->max_bytes) {
        log->log_bytes = (uint64_t) st.st_size;
        return;
    }
    char from[LK_PATH_MAX + 48], to[LK_PATH_MAX + 48];
    for (unsigned i = log->keep; i >= 1; i--) {
        if (i == 1) {
            snprintf(from, sizeof(from), "%s/%s", node->root, LK_LOG_NAME);
        } else {
            snprintf(from, sizeof(from), "%s/%s.%u", node->root, LK_LOG_NAME, i - 1);
        }
        snprintf(to, sizeof(to), "%s/%s.%u", node->root, LK_LOG_NAME, i);
        if (rename(from, to) < 0 && errno != ENOENT) {
            fprintf(stderr, "lkd: cannot rotate '%s': %s, ignoring\n", from, strerror(errno));
            log->log_bytes = 0;
            return;
        }
    }
    snprintf(from, sizeof(from), "%s/%s", node->root, LK_LOG_NAME);
    int fd = open_log(from);
    if (fd < 0) {
        /* The renamed file is still open: the log goes on there. */
        fprintf(stderr, "lkd: cannot open '%s': %s, ignoring\n", from, strerror(-fd));
        log->log_bytes = 0;
        return;
    }
    close(node->log_fd);
    node->log_fd = fd;
    log->log_bytes = 0;
}

static void append_file(struct lk_node *node, const struct lk_event_record *e)
{
    if (node->log_fd < 0) {
        return;
    }
    size_t cap = sizeof(e->message) + 2 * sizeof(e->detail) + 512;
    char *buf = malloc(cap);
    if (!buf) {
        return;
    }
    lk_eventlog_format(e, buf, cap);
    size_t len = strlen(buf);
    /* The output tail is indented under the event so the file stays one event per
     * unindented line. */
    for (const char *p = e->detail; *p && len + 8 < cap;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t) (nl - p) : strlen(p);
        int w = snprintf(buf + len, cap - len, "\n    | %.*s", (int) n, p);
        if (w < 0 || (size_t) w >= cap - len) {
            break;
        }
        len += (size_t) w;
        p = nl ? nl + 1 : p + n;
    }
    buf[len++] = '\n';
    ssize_t w = write(node->log_fd, buf, len);
    free(buf);
    struct lk_eventlog *log = node->eventlog;
    if (log && w > 0) {
        log->log_bytes += (uint64_t) w;
        if (log->log_bytes >= log->max_bytes) {
            rotate(node, log);
        }
    }
}

json_t *lk_eventlog_json(const struct lk_event_record *e)
{
    return json_pack("{s:I, s:I, s:s, s:s, s:i, s:s, s:s, s:s, s:s}", "seq", (json_int_t) e->seq,
                     "time_ms", (json_int_t) e->time_ms, "node", e->node, "severity",
                     lk_severity_name(e->severity), "number", e->number, "tag", e->tag, "process",
                     e->process, "message", e->message, "detail", e->detail);
}

static void deliver(struct lk_node *node, struct lk_event_record *e)
{
    if (node->store && lk_store_add_event(node->store, e) < 0) {
        fprintf(stderr, "lkd: cannot store event %d: %s, ignoring\n", e->number,
                lk_store_why(node->store));
        lk_catchup_keep_event(node, e); /* written when the disk takes it again */
    }
    append_file(node, e);
    int prio = e->severity == LK_SEV_ERROR     ? LOG_ERR
               : e->severity == LK_SEV_WARNING ? LOG_WARNING
                                               : LOG_INFO;
    syslog(prio, "%s %d %s: %s", lk_severity_name(e->severity), e->number, e->tag[0] ? e->tag : "-",
           e->message);
    lk_bus_event(node->bus, e);
}

void lk_eventlog_write(struct lk_node *node, enum lk_severity severity, int number, const char *tag,
                       const char *process, const char *message, const char *detail)
{
    struct lk_eventlog *log = node->eventlog;
    if (number == LK_MSG_DAEMON_STOPPED) {
        flush(node); /* what was folded goes out before the last word */
    } else if (log && log->agg && lk_aggregate_foldable(number, severity, tag, process)) {
        if (!lk_aggregate_offer(log->agg, now_ms(), number, severity, tag, message, write_summary,
                                node)) {
            arm(log);
            return; /* counted: its summary goes out at the end of the interval */
        }
        arm(log);
    }
    struct lk_event_record *e = calloc(1, sizeof(*e));
    if (!e) {
        return;
    }
    e->time_ms = lk_now_ms();
    snprintf(e->node, sizeof(e->node), "%s", node->name);
    e->severity = severity;
    e->number = number;
    snprintf(e->tag, sizeof(e->tag), "%s", tag ? tag : "");
    snprintf(e->process, sizeof(e->process), "%s", process ? process : "lkd");
    snprintf(e->message, sizeof(e->message), "%s", message);
    snprintf(e->detail, sizeof(e->detail), "%s", detail ? detail : "");
    deliver(node, e);
    free(e);
}

void lk_eventlog_msg(struct lk_node *node, const char *tag, int number, ...)
{
    const struct lk_catalog_entry *entry = lk_catalog_find(number);
    if (!entry) {
        return;
    }
    char text[1024];
    va_list ap;
    va_start(ap, number);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    vsnprintf(text, sizeof(text), entry->format, ap);
#pragma GCC diagnostic pop
    va_end(ap);
    lk_eventlog_write(node, entry->severity, number, tag, "lkd", text, NULL);
}
