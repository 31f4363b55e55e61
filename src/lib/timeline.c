/* The timeline of events across nodes: what `lkcli log --cluster` and `lkcli resource why`
 * make of the records the nodes keep. Records enter as JSON objects, the local node's
 * from the store and the peers' from "events" messages (checked here first); this file
 * orders them and finds the last incident and its root cause.
 *
 * It must never trust a peer's record before lk_timeline_check_event accepted it, and it
 * never looks at a clock: "now" is the end of the array. Which numbers are failures is
 * decided here and only here (the catalog gives their meaning). */
#include "timeline.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "validate.h"

static const char *str(const json_t *e, const char *key)
{
    const char *s = json_string_value(json_object_get(e, key));
    return s ? s : "";
}

static long long num(const json_t *e, const char *key)
{
    return (long long) json_integer_value(json_object_get(e, key));
}

/* ---------------------------------------------------------------- checking */

static int bad(char *err, size_t err_size, const char *what)
{
    snprintf(err, err_size, "%s", what);
    return -EINVAL;
}

/* Whether s is a string of at most max bytes without control characters (newlines
 * allowed when multiline). */
static bool clean_string(const json_t *s, size_t max, bool multiline)
{
    if (!json_is_string(s) || json_string_length(s) > max) {
        return false;
    }
    const char *p = json_string_value(s);
    if (strlen(p) != json_string_length(s)) {
        return false; /* an embedded NUL */
    }
    for (; *p; p++) {
        unsigned char ch = (unsigned char) *p;
        if ((ch < 0x20 && !(multiline && ch == '\n')) || ch == 0x7f) {
            return false;
        }
    }
    return true;
}

static bool int_in(const json_t *v, long long min, long long max)
{
    return json_is_integer(v) && json_integer_value(v) >= min && json_integer_value(v) <= max;
}

int lk_timeline_check_event(const json_t *e, const char *from, char *err, size_t err_size)
{
    if (!json_is_object(e)) {
        return bad(err, err_size, "an event is not an object");
    }
    if (json_object_size(e) > 9) {
        return bad(err, err_size, "an event has unknown fields");
    }
    if (!int_in(json_object_get(e, "seq"), 0, INT64_MAX)) {
        return bad(err, err_size, "an event's seq is not a positive integer");
    }
    if (!int_in(json_object_get(e, "time_ms"), 0, LK_TIMELINE_TIME_MAX)) {
        return bad(err, err_size, "an event's time_ms is out of range");
    }
    if (!int_in(json_object_get(e, "number"), 0, 999999999)) {
        return bad(err, err_size, "an event's number is out of range");
    }
    enum lk_severity sev;
    if (lk_severity_from_name(json_string_value(json_object_get(e, "severity")), &sev) < 0 ||
        strcmp(str(e, "severity"), lk_severity_name(sev)) != 0) {
        return bad(err, err_size, "an event's severity is not ERROR, WARNING or INFO");
    }
    char verr[256];
    const json_t *node = json_object_get(e, "node");
    if (!json_is_string(node) || strcmp(json_string_value(node), from) != 0) {
        return bad(err, err_size, "an event names another node than its sender");
    }
    const json_t *tag = json_object_get(e, "tag");
    if (!json_is_string(tag) ||
        (json_string_length(tag) > 0 &&
         lk_validate_tag(json_string_value(tag), "tag", verr, sizeof(verr)) < 0)) {
        return bad(err, err_size, "an event's tag is not a valid tag");
    }
    if (!clean_string(json_object_get(e, "process"), LK_TIMELINE_PROCESS_MAX, false)) {
        return bad(err, err_size, "an event's process is not a short clean string");
    }
    if (!clean_string(json_object_get(e, "message"), LK_TIMELINE_MESSAGE_MAX, false)) {
        return bad(err, err_size, "an event's message is too long or has control characters");
    }
    if (!clean_string(json_object_get(e, "detail"), LK_TIMELINE_DETAIL_MAX, true)) {
        return bad(err, err_size, "an event's detail is too long or has control characters");
    }
    return 0;
}

static void clean_field(json_t *e, const char *key, bool multiline)
{
    const json_t *v = json_object_get(e, key);
    if (!json_is_string(v) || clean_string(v, SIZE_MAX, multiline)) {
        return;
    }
    size_t len = json_string_length(v);
    char *copy = malloc(len + 1);
    if (!copy) {
        return;
    }
    memcpy(copy, json_string_value(v), len);
    copy[len] = '\0';
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char) copy[i];
        if ((ch < 0x20 && !(multiline && ch == '\n')) || ch == 0x7f) {
            copy[i] = '?';
        }
    }
    json_object_set_new(e, key, json_stringn(copy, len));
    free(copy);
}

void lk_timeline_clean_event(json_t *e)
{
    clean_field(e, "process", false);
    clean_field(e, "message", false);
    clean_field(e, "detail", true);
}

/* ---------------------------------------------------------------- ordering */

struct slot {
    json_t *e;
    size_t index;
};

static int compare(const void *pa, const void *pb)
{
    const struct slot *a = pa, *b = pb;
    long long ta = num(a->e, "time_ms"), tb = num(b->e, "time_ms");
    if (ta != tb) {
        return ta < tb ? -1 : 1;
    }
    int c = strcmp(str(a->e, "node"), str(b->e, "node"));
    if (c != 0) {
        return c;
    }
    long long sa = num(a->e, "seq"), sb = num(b->e, "seq");
    if (sa != sb) {
        return sa < sb ? -1 : 1;
    }
    return a->index < b->index ? -1 : a->index > b->index ? 1 : 0;
}

void lk_timeline_sort(json_t *events)
{
    size_t n = json_array_size(events);
    if (n < 2) {
        return;
    }
    struct slot *slots = calloc(n, sizeof(*slots));
    if (!slots) {
        return; /* left as it is: an unsorted timeline, not a lost one */
    }
    for (size_t i = 0; i < n; i++) {
        slots[i].e = json_incref(json_array_get(events, i));
        slots[i].index = i;
    }
    qsort(slots, n, sizeof(*slots), compare);
    json_array_clear(events);
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(events, slots[i].e);
    }
    free(slots);
}

/* ---------------------------------------------------------------- incidents */

bool lk_timeline_is_failure(int number)
{
    switch (number) {
    case LK_MSG_ACTION_INTERRUPTED:
    case LK_MSG_RESTORE_FAILED:
    case LK_MSG_REMOVE_FAILED:
    case LK_MSG_SCRIPT_REFUSED:
    case LK_MSG_CHECK_FAILED:
    case LK_MSG_RECOVER_FAILED:
    case LK_MSG_RECOVERY_LIMIT:
    case LK_MSG_RESOURCE_FAILED:
    case LK_MSG_PROCESS_EXITED:
    case LK_MSG_CHECK_TIMEOUT:
    case LK_MSG_NODE_DEAD:
    case LK_MSG_QUORUM_LOST:
    case LK_MSG_FAILOVER:
    case LK_MSG_TAKEOVER:
    case LK_MSG_FAILOVER_LIMIT:
    case LK_MSG_NEWER_GENERATION:
    case LK_MSG_NO_TARGET:
    case LK_MSG_CLUSTER_REMOVED:
    case LK_MSG_FAILING_OVER:
    case LK_MSG_FENCE_STARTED:
    case LK_MSG_FENCE_FAILED:
    case LK_MSG_SWITCH_REFUSED:
    case LK_MSG_NOT_INSTALLED: /* the verdicts of a resource's type (issue 13) */
    case LK_MSG_NOT_CONFIGURED:
    case LK_MSG_HARD_ERROR:
        return true;
    default:
        return false;
    }
}

/* A point where the whole hierarchy was known healthy again. */
static bool healthy_everywhere(int number)
{
    return number == LK_MSG_RECOVERED || number == LK_MSG_COUNTERS_RESET;
}

/* A point where the hierarchy was known healthy on the record's node. */
static bool healthy_here(int number)
{
    return number == LK_MSG_RESTORE_OK || number == LK_MSG_PROBE_OK;
}

/* An action that starts a script run: the lk_err message of the run comes after it. */
static bool starts_run(int number)
{
    return number == LK_MSG_RESTORE_STARTED || number == LK_MSG_REMOVE_STARTED ||
           number == LK_MSG_RECOVER_STARTED;
}

bool lk_timeline_mentions(const char *text, const char *word)
{
    size_t len = strlen(word);
    if (len == 0) {
        return false;
    }
    for (const char *p = strstr(text, word); p; p = strstr(p + 1, word)) {
        bool left = p == text || p[-1] == ' ' || p[-1] == '\'' || p[-1] == '(';
        char r = p[len];
        bool right = r == '\0' || r == ' ' || r == '\'' || r == ':' || r == ',' || r == ')' ||
                     r == ';' || r == '.';
        if (left && right) {
            return true;
        }
    }
    return false;
}

static bool foreign(const json_t *e)
{
    const char *p = str(e, "process");
    return p[0] && strcmp(p, "lkd") != 0;
}

/* The index of the lk_err message (an error or a warning) that explains the failure at
 * index i: written for the same tag on the same node just before it, after the last lkd
 * event there (other than the start of a run). n when there is none. */
static size_t lk_err_before(const json_t *events, size_t i)
{
    size_t n = json_array_size(events);
    const json_t *f = json_array_get(events, i);
    for (size_t k = i; k-- > 0;) {
        const json_t *e = json_array_get(events, k);
        if (strcmp(str(e, "node"), str(f, "node")) != 0) {
            continue;
        }
        if (foreign(e)) {
            if (strcmp(str(e, "severity"), "INFO") != 0 &&
                strcmp(str(e, "tag"), str(f, "tag")) == 0) {
                return k;
            }
            continue;
        }
        if (!starts_run((int) num(e, "number"))) {
            return n;
        }
    }
    return n;
}

/* Whether e can be the last failure of an incident: a failure of the hierarchy itself
 * (tagged), or a lost quorum or a failed fence on one of its nodes. A node found dead
 * only opens an incident through what followed for the hierarchy (a takeover, a failed
 * fence): a backup node that stops is not a failure of the hierarchy. */
static bool anchors(const json_t *e)
{
    int number = (int) num(e, "number");
    if (foreign(e) || !lk_timeline_is_failure(number)) {
        return false;
    }
    return str(e, "tag")[0] || number == LK_MSG_QUORUM_LOST || number == LK_MSG_FENCE_FAILED;
}

size_t lk_timeline_incident(const json_t *events)
{
    size_t n = json_array_size(events), anchor = n;
    for (size_t i = n; i-- > 0;) {
        const json_t *e = json_array_get(events, i);
        if (anchors(e)) {
            anchor = i;
            break;
        }
    }
    if (anchor == n) {
        return n;
    }
    size_t start = anchor;
    for (size_t i = anchor; i-- > 0;) {
        const json_t *e = json_array_get(events, i);
        int number = (int) num(e, "number");
        if (foreign(e)) {
            continue;
        }
        if (healthy_everywhere(number)) {
            break;
        }
        const char *first_node = str(json_array_get(events, start), "node");
        if (healthy_here(number) && strcmp(str(e, "node"), first_node) == 0) {
            break;
        }
        if (lk_timeline_is_failure(number)) {
            start = i;
        }
    }
    size_t msg = lk_err_before(events, start);
    return msg < start ? msg : start;
}

/* The last non-empty line of text, into buf. */
static void last_line(const char *text, char *buf, size_t size)
{
    buf[0] = '\0';
    const char *end = text + strlen(text);
    while (end > text) {
        const char *line_end = end;
        const char *p = end;
        while (p > text && p[-1] != '\n') {
            p--;
        }
        const char *q = p;
        while (q < line_end && (*q == ' ' || *q == '\t')) {
            q++;
        }
        if (q < line_end) {
            snprintf(buf, size, "%.*s", (int) (line_end - q), q);
            return;
        }
        end = p > text ? p - 1 : text;
    }
}

json_t *lk_timeline_root_cause(const json_t *events, size_t start)
{
    size_t n = json_array_size(events), root = n;
    for (size_t i = start; i < n && root == n; i++) {
        const json_t *e = json_array_get(events, i);
        if (!foreign(e) && lk_timeline_is_failure((int) num(e, "number"))) {
            root = i;
        }
    }
    if (root == n) {
        return NULL;
    }
    const json_t *e = json_array_get(events, root);
    char cause[LK_TIMELINE_MESSAGE_MAX + 1];
    size_t msg = lk_err_before(events, root);
    if (msg < n) {
        snprintf(cause, sizeof(cause), "%s", str(json_array_get(events, msg), "message"));
    } else {
        last_line(str(e, "detail"), cause, sizeof(cause));
    }
    const char *tag = str(e, "tag");
    size_t cap = 3 * (LK_TIMELINE_MESSAGE_MAX + 1) + 256;
    char *line = malloc(cap);
    if (!line) {
        return NULL;
    }
    snprintf(line, cap, "%s: %s%s%s%s%s", str(e, "node"), tag, tag[0] ? ": " : "",
             str(e, "message"), cause[0] ? ": " : "", cause);
    json_t *out = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "node", str(e, "node"), "tag", tag,
                            "number", (json_int_t) num(e, "number"), "message", str(e, "message"),
                            "cause", cause, "line", line);
    free(line);
    return out;
}
