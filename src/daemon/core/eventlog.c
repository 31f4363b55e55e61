/* The event log: the database table, the text file and syslog, in that order, for every
 * event; then it is published on the bus ("an event was logged"), so that followers and
 * waiting commands see it at once.
 * Wording comes from the catalog (src/lib/catalog.c); this file only delivers. */
#include "eventlog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "catchup.h"

int lk_eventlog_open(struct lk_node *node)
{
    char path[LK_PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/%s", node->root, LK_LOG_NAME);
    node->log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (node->log_fd < 0) {
        return -errno;
    }
    openlog("openkeeper", LOG_PID | LOG_NDELAY, LOG_DAEMON);
    return 0;
}

void lk_eventlog_close(struct lk_node *node)
{
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
    (void) w;
    free(buf);
}

json_t *lk_eventlog_json(const struct lk_event_record *e)
{
    return json_pack("{s:I, s:I, s:s, s:s, s:i, s:s, s:s, s:s, s:s}", "seq", (json_int_t) e->seq,
                     "time_ms", (json_int_t) e->time_ms, "node", e->node, "severity",
                     lk_severity_name(e->severity), "number", e->number, "tag", e->tag, "process",
                     e->process, "message", e->message, "detail", e->detail);
}

void lk_eventlog_write(struct lk_node *node, enum lk_severity severity, int number, const char *tag,
                       const char *process, const char *message, const char *detail)
{
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
    if (node->store && lk_store_add_event(node->store, e) < 0) {
        fprintf(stderr, "lkd: cannot store event %d: %s, ignoring\n", number,
                lk_store_why(node->store));
        lk_catchup_keep_event(node, e); /* written when the disk takes it again */
    }
    append_file(node, e);
    int prio = severity == LK_SEV_ERROR     ? LOG_ERR
               : severity == LK_SEV_WARNING ? LOG_WARNING
                                            : LOG_INFO;
    syslog(prio, "%s %d %s: %s", lk_severity_name(severity), number, e->tag[0] ? e->tag : "-",
           e->message);
    lk_bus_event(node->bus, e);
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
