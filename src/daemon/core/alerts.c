/* Alert delivery: a bounded queue per alert hook, filled from the bus's "event" topic with
 * the events the hook selects, and emptied in order, one delivery at a time, each a child
 * process started by the runner (its own session and process group, killed at the hook's
 * timeout): the hook's executable, or lk_webhook for a webhook. Exit 0 is delivered;
 * anything else is retried after 1, 2, 4 ... 60 s, and given up after
 * LK_ALERT_ATTEMPTS_MAX attempts or an hour (event 1718, counted).
 *
 * Events enter from the bus (lk_alerts_on_event, which only queues and arms a timer: no
 * process is started inside a notification), from the hook's timer and from the runner's
 * end of a delivery. The hooks follow the cluster settings: a new settings version is
 * noticed at each of these entries, and the api calls lk_alerts_reload after a change.
 *
 * It must never block the loop, never show or log a secret, never log more than one
 * failure and one drop event per hook per LK_ALERT_REPORT_MS, and never deliver an event
 * about a hook (1715-1729, which name their hook) to that hook: a broken hook cannot feed
 * itself. */
#include "alerts.h"

#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "eventlog.h"
#include "log.h"
#include "runner.h"
#include "safeopen.h"
#include "settings.h"
#include "store.h"

#ifndef LK_SOFTWARE_VERSION
#define LK_SOFTWARE_VERSION "unknown"
#endif

#define KILL_GRACE_USEC (1000ULL * 1000)
#define ENV_COUNT       24
#define ENV_SIZE        (LK_PATH_MAX + 128) /* PATH=$LKROOT/bin:... is the longest */
#define ERROR_MAX       256
#define HOOK_QUOTE      "alert hook '"

struct item {
    char *body; /* the event's JSON, as the hook gets it on stdin */
    int64_t seq;
};

struct hook {
    struct lk_alerts *alerts;
    struct lk_alert_hook conf;
    bool removed;       /* no longer in the settings: freed once its delivery ended */
    struct item *queue; /* a ring of LK_ALERT_QUEUE_MAX */
    size_t head, len;
    struct item current; /* being delivered (body NULL: none) */
    struct lk_run *run;  /* the delivery that runs now */
    uv_timer_t timer;    /* the next attempt */
    int attempt;         /* attempts of current so far */
    uint64_t first_ms;   /* current's first attempt (uv_now) */
    uint64_t streak;     /* failed attempts since the last delivery */
    bool streak_reported;
    uint64_t failed_unreported, dropped_unreported;
    uint64_t failure_logged_ms, drop_logged_ms;
    bool failure_logged, drop_logged;
    /* Counters (cluster alert list, status --json). */
    uint64_t delivered, failed, timeouts, gave_up, dropped;
    int64_t last_seq; /* the last event delivered, 0 = none */
    char last_error[ERROR_MAX];
};

struct lk_alerts {
    struct lk_node *node;
    struct hook *hooks[LK_ALERTS_MAX]; /* those of the settings (a removed one is dropped) */
    size_t count;
    bool synced;
    uint64_t version;
    char version_node[LK_TAG_MAX + 1];
    bool stopping;
    uv_timer_t report; /* drop reports, outside the bus notification that dropped */
    bool report_inited;
    char webhook[PATH_MAX];
};

static void kick(struct hook *h, uint64_t delay_ms);

/* ---------------------------------------------------------------- hooks */

static void item_free(struct item *it)
{
    if (it->body) {
        free(it->body);
    }
    it->body = NULL;
}

static void on_hook_closed(uv_handle_t *handle)
{
    struct hook *h = handle->data;
    item_free(&h->current);
    for (size_t i = 0; i < h->len; i++) {
        item_free(&h->queue[(h->head + i) % LK_ALERT_QUEUE_MAX]);
    }
    free(h->queue);
    sodium_memzero(&h->conf, sizeof(h->conf));
    free(h);
}

/* Drops h from the list; freed now or when its delivery ends. */
static void hook_remove(struct lk_alerts *a, size_t i)
{
    struct hook *h = a->hooks[i];
    a->hooks[i] = a->hooks[--a->count];
    h->removed = true;
    if (h->run) {
        lk_run_abort(h->run); /* a deleted hook's delivery ends now; on_done closes it */
        return;
    }
    uv_timer_stop(&h->timer);
    uv_close((uv_handle_t *) &h->timer, on_hook_closed);
}

static struct hook *hook_new(struct lk_alerts *a, const struct lk_alert_hook *conf)
{
    struct hook *h = calloc(1, sizeof(*h));
    if (!h) {
        return NULL;
    }
    h->queue = calloc(LK_ALERT_QUEUE_MAX, sizeof(*h->queue));
    if (!h->queue || uv_timer_init(a->node->loop, &h->timer) < 0) {
        free(h->queue);
        free(h);
        return NULL;
    }
    h->timer.data = h;
    h->alerts = a;
    h->conf = *conf;
    return h;
}

/* Makes the hooks those of the settings: a hook that stays keeps its queue and counters
 * (and takes the new definition from its next attempt on). */
static void sync_hooks(struct lk_alerts *a)
{
    const struct lk_config *config = &a->node->config;
    if (a->stopping) {
        return;
    }
    if (a->synced && a->version == config->settings_version &&
        strcmp(a->version_node, config->settings_version_node) == 0) {
        return;
    }
    a->synced = true;
    a->version = config->settings_version;
    snprintf(a->version_node, sizeof(a->version_node), "%s", config->settings_version_node);
    const struct lk_cluster_settings *s = &config->cluster;
    for (size_t i = a->count; i-- > 0;) {
        struct hook *h = a->hooks[i];
        if (h->removed) {
            continue;
        }
        const struct lk_alert_hook *conf = lk_cluster_settings_alert(s, h->conf.name);
        if (conf) {
            h->conf = *conf;
        } else {
            hook_remove(a, i);
        }
    }
    for (size_t i = 0; i < s->alert_count; i++) {
        bool known = false;
        for (size_t j = 0; j < a->count && !known; j++) {
            known = !a->hooks[j]->removed && strcmp(a->hooks[j]->conf.name, s->alerts[i].name) == 0;
        }
        if (known || a->count >= sizeof(a->hooks) / sizeof(a->hooks[0])) {
            continue;
        }
        struct hook *h = hook_new(a, &s->alerts[i]);
        if (!h) {
            lk_log(LK_LOG_ERR, "cannot set up alert hook '%s': out of memory, ignoring",
                   s->alerts[i].name);
            continue;
        }
        a->hooks[a->count++] = h;
    }
}

void lk_alerts_reload(struct lk_alerts *alerts)
{
    if (alerts) {
        sync_hooks(alerts);
    }
}

/* ---------------------------------------------------------------- events in */

/* The hook an alert's own event is about ("alert hook 'NAME' ..."), or "". */
static void event_hook(const struct lk_event_record *e, char *name, size_t size)
{
    name[0] = '\0';
    if (e->number < LK_MSG_ALERT_FIRST || e->number > LK_MSG_ALERT_LAST) {
        return;
    }
    const char *p = strstr(e->message, HOOK_QUOTE);
    if (!p) {
        return;
    }
    p += strlen(HOOK_QUOTE);
    size_t len = strcspn(p, "'");
    if (len < size) {
        memcpy(name, p, len);
        name[len] = '\0';
    }
}

static char *event_body(const struct lk_event_record *e, const char *hook)
{
    json_t *o = lk_eventlog_json(e);
    if (!o) {
        return NULL;
    }
    json_object_set_new(o, "hook", json_string(hook));
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

static void on_report(uv_timer_t *t)
{
    struct lk_alerts *a = t->data;
    uint64_t now = uv_now(a->node->loop);
    for (size_t i = 0; i < a->count; i++) {
        struct hook *h = a->hooks[i];
        if (h->dropped_unreported &&
            (!h->drop_logged || now - h->drop_logged_ms >= LK_ALERT_REPORT_MS)) {
            unsigned long long n = h->dropped_unreported;
            h->dropped_unreported = 0;
            h->drop_logged = true;
            h->drop_logged_ms = now;
            lk_eventlog_msg(a->node, NULL, LK_MSG_ALERT_DROPPED, h->conf.name, n,
                            LK_ALERT_QUEUE_MAX);
        }
    }
}

static void push(struct hook *h, const struct lk_event_record *e)
{
    struct lk_alerts *a = h->alerts;
    char *body = event_body(e, h->conf.name);
    if (!body) {
        h->dropped++;
        return;
    }
    if (h->len == LK_ALERT_QUEUE_MAX) {
        /* The oldest waiting event goes: the newest say more about the present. */
        item_free(&h->queue[h->head]);
        h->head = (h->head + 1) % LK_ALERT_QUEUE_MAX;
        h->len--;
        h->dropped++;
        h->dropped_unreported++;
        if (a->report_inited && !uv_is_active((uv_handle_t *) &a->report)) {
            uv_timer_start(&a->report, on_report, 0, 0);
        }
    }
    struct item *slot = &h->queue[(h->head + h->len) % LK_ALERT_QUEUE_MAX];
    slot->body = body;
    slot->seq = e->seq;
    h->len++;
    kick(h, 0);
}

void lk_alerts_on_event(void *userdata, const struct lk_event_record *e)
{
    struct lk_alerts *a = userdata;
    if (!a || a->stopping) {
        return;
    }
    sync_hooks(a);
    char about[LK_TAG_MAX + 1];
    event_hook(e, about, sizeof(about));
    for (size_t i = 0; i < a->count; i++) {
        struct hook *h = a->hooks[i];
        if (h->removed || strcmp(h->conf.name, about) == 0 ||
            !lk_alert_events_match(&h->conf.events, (int) e->severity, e->number)) {
            continue;
        }
        push(h, e);
    }
}

/* ---------------------------------------------------------------- delivery */

static const char *str_of(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

/* The environment of a delivery (docs/ALERTS.md): LK_ALERT_* from the event, and for a
 * webhook lk_webhook's LK_WEBHOOK_URL, _SECRET, _TIMEOUT. env[] points into storage. */
static void build_env(const struct hook *h, const char *body, char (*storage)[ENV_SIZE], char **env)
{
    const struct lk_node *node = h->alerts->node;
    json_t *o = json_loads(body, 0, NULL);
    json_int_t ms = json_integer_value(json_object_get(o, "time_ms"));
    char stamp[64] = "";
    time_t secs = (time_t) (ms / 1000);
    struct tm tm;
    if (gmtime_r(&secs, &tm)) {
        size_t n = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(stamp + n, sizeof(stamp) - n, ".%03dZ", (int) (ms % 1000));
    }
    size_t n = 0;
#define PUT(...) snprintf(storage[n], sizeof(storage[n]), __VA_ARGS__), env[n] = storage[n], n++
    PUT("LKROOT=%s", node->root);
    PUT("PATH=%s/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", node->root);
    PUT("LANG=C");
    PUT("LK_ALERT_KIND=event");
    PUT("LK_ALERT_VERSION=%s", LK_SOFTWARE_VERSION);
    PUT("LK_ALERT_NAME=%s", h->conf.name);
    PUT("LK_ALERT_RECIPIENT=%s", h->conf.recipient);
    PUT("LK_ALERT_NODE=%s", str_of(o, "node"));
    PUT("LK_ALERT_SEQ=%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(o, "seq")));
    PUT("LK_ALERT_NUMBER=%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(o, "number")));
    PUT("LK_ALERT_SEVERITY=%s", str_of(o, "severity"));
    PUT("LK_ALERT_TAG=%s", str_of(o, "tag"));
    PUT("LK_ALERT_PROCESS=%s", str_of(o, "process"));
    PUT("LK_ALERT_MESSAGE=%s", str_of(o, "message"));
    PUT("LK_ALERT_TIMESTAMP=%s", stamp);
    PUT("LK_ALERT_TIMESTAMP_MS=%" JSON_INTEGER_FORMAT, ms);
    PUT("LK_ALERT_ATTEMPT=%d", h->attempt + 1);
    if (h->conf.kind == LK_ALERT_WEBHOOK) {
        PUT("LK_WEBHOOK_URL=%s", h->conf.target);
        PUT("LK_WEBHOOK_SECRET=%s", h->conf.secret);
        PUT("LK_WEBHOOK_TIMEOUT=%" PRIu32, h->conf.timeout_s);
    }
#undef PUT
    env[n] = NULL;
    json_decref(o);
}

/* Takes the next event off the queue when nothing is being delivered. */
static bool take_next(struct hook *h)
{
    if (h->current.body) {
        return true;
    }
    if (h->len == 0) {
        return false;
    }
    h->current = h->queue[h->head];
    h->queue[h->head].body = NULL;
    h->head = (h->head + 1) % LK_ALERT_QUEUE_MAX;
    h->len--;
    h->attempt = 0;
    return true;
}

static void delivered(struct hook *h)
{
    struct lk_alerts *a = h->alerts;
    h->delivered++;
    h->last_seq = h->current.seq;
    item_free(&h->current);
    h->attempt = 0;
    if (h->streak && h->streak_reported) {
        lk_eventlog_msg(a->node, NULL, LK_MSG_ALERT_RECOVERED, h->conf.name,
                        (unsigned long long) h->streak);
    }
    h->streak = 0;
    h->streak_reported = false;
}

/* A failed attempt: counted, retried after the backoff, or given up; logged at most once
 * per LK_ALERT_REPORT_MS (a give-up is always logged: it loses an event). */
static void failed(struct hook *h, const char *why, bool timed_out)
{
    struct lk_alerts *a = h->alerts;
    uint64_t now = uv_now(a->node->loop);
    snprintf(h->last_error, sizeof(h->last_error), "%s", why);
    h->failed++;
    h->timeouts += timed_out;
    h->streak++;
    h->attempt++;
    unsigned long long seq = (unsigned long long) h->current.seq;
    if (h->attempt >= LK_ALERT_ATTEMPTS_MAX || now - h->first_ms >= LK_ALERT_GIVE_UP_MS) {
        int attempts = h->attempt;
        h->gave_up++;
        item_free(&h->current);
        h->attempt = 0;
        h->streak_reported = true;
        kick(h, 0);
        lk_eventlog_msg(a->node, NULL, LK_MSG_ALERT_GAVE_UP, h->conf.name, seq, attempts, why);
        return;
    }
    uint64_t delay = LK_ALERT_BACKOFF_FIRST_MS << (h->attempt - 1 < 16 ? h->attempt - 1 : 16);
    if (delay > LK_ALERT_BACKOFF_MAX_MS) {
        delay = LK_ALERT_BACKOFF_MAX_MS;
    }
    kick(h, delay);
    if (h->failure_logged && now - h->failure_logged_ms < LK_ALERT_REPORT_MS) {
        h->failed_unreported++;
        return;
    }
    unsigned long long more = h->failed_unreported;
    h->failed_unreported = 0;
    h->failure_logged = true;
    h->failure_logged_ms = now;
    h->streak_reported = true;
    lk_eventlog_msg(a->node, NULL, LK_MSG_ALERT_FAILED, h->conf.name, seq, h->attempt, why,
                    (int) (delay / 1000), more);
}

static void on_done(struct lk_run *run, const struct lk_result *result, const char *output,
                    size_t output_len, void *userdata)
{
    struct hook *h = userdata;
    (void) run;
    h->run = NULL;
    if (h->removed || h->alerts->stopping) {
        if (h->removed) {
            uv_close((uv_handle_t *) &h->timer, on_hook_closed);
        }
        return;
    }
    if (lk_result_ok(result)) {
        delivered(h);
        kick(h, 0);
        return;
    }
    char why[ERROR_MAX], desc[160];
    lk_result_describe(result, desc, sizeof(desc));
    /* The last line of what it printed says more than an exit status. */
    size_t end = output_len;
    while (end > 0 && (output[end - 1] == '\n' || output[end - 1] == '\r')) {
        end--;
    }
    size_t start = end;
    while (start > 0 && output[start - 1] != '\n') {
        start--;
    }
    int line_len = (int) (end - start > 120 ? 120 : end - start);
    if (line_len > 0) {
        snprintf(why, sizeof(why), "%s (%.*s)", desc, line_len, output + start);
    } else {
        snprintf(why, sizeof(why), "%s", desc);
    }
    for (char *p = why; *p; p++) {
        if ((unsigned char) *p < 0x20 || (unsigned char) *p == 0x7f) {
            *p = ' ';
        }
    }
    failed(h, why, result->outcome == LK_OUTCOME_TIMEOUT);
}

static void attempt(uv_timer_t *t)
{
    struct hook *h = t->data;
    struct lk_alerts *a = h->alerts;
    sync_hooks(a);
    if (h->removed || a->stopping || h->run || !take_next(h)) {
        return;
    }
    if (h->attempt == 0) {
        h->first_ms = uv_now(a->node->loop);
    }
    const char *path = h->conf.kind == LK_ALERT_WEBHOOK ? a->webhook : h->conf.target;
    char why[LK_PATH_MAX + 256];
    if (h->conf.kind == LK_ALERT_EXEC && lk_safeopen_check_hook(path, why, sizeof(why)) < 0) {
        failed(h, why, false);
        return;
    }
    if (h->conf.kind == LK_ALERT_WEBHOOK && access(path, X_OK) < 0) {
        snprintf(why, sizeof(why), "cannot run '%s': %s", path, strerror(errno));
        failed(h, why, false);
        return;
    }
    static char storage[ENV_COUNT][ENV_SIZE];
    char *env[ENV_COUNT + 1];
    build_env(h, h->current.body, storage, env);
    struct lk_run_spec spec = {
            .path = path,
            .cwd = a->node->root,
            .env = env,
            .timeout_usec = (uint64_t) h->conf.timeout_s * 1000 * 1000,
            .kill_grace_usec = KILL_GRACE_USEC,
            .input = h->current.body,
            .input_len = strlen(h->current.body),
    };
    int r = lk_run_start(a->node->loop, &spec, on_done, h, &h->run);
    sodium_memzero(storage, sizeof(storage)); /* the webhook's secret */
    if (r < 0) {
        h->run = NULL;
        snprintf(why, sizeof(why), "cannot start '%s': %s", path, strerror(-r));
        failed(h, why, false);
    }
}

/* Arms the next attempt in delay_ms, unless one runs or is armed already. */
static void kick(struct hook *h, uint64_t delay_ms)
{
    if (h->removed || h->alerts->stopping || h->run) {
        return;
    }
    if (!h->current.body && h->len == 0) {
        return;
    }
    if (delay_ms == 0 && uv_is_active((uv_handle_t *) &h->timer)) {
        return; /* a retry is waiting: the queue waits behind it, in order */
    }
    uv_timer_start(&h->timer, attempt, delay_ms, 0);
}

/* ---------------------------------------------------------------- the module */

/* lk_webhook beside lkd (the build tree, or an installation into one directory), else in
 * ../libexec/openkeeper (lkd in sbin). */
static void find_webhook(char *buf, size_t size)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    snprintf(buf, size, "/usr/libexec/openkeeper/%s", LK_WEBHOOK_PROGRAM);
    if (n <= 0) {
        return;
    }
    exe[n] = '\0';
    const char *dir = dirname(exe);
    char candidate[PATH_MAX + 64];
    snprintf(candidate, sizeof(candidate), "%s/%s", dir, LK_WEBHOOK_PROGRAM);
    if (access(candidate, X_OK) == 0) {
        snprintf(buf, size, "%s", candidate);
        return;
    }
    snprintf(candidate, sizeof(candidate), "%s/../libexec/openkeeper/%s", dir, LK_WEBHOOK_PROGRAM);
    if (access(candidate, X_OK) == 0) {
        snprintf(buf, size, "%s", candidate);
    }
}

struct lk_alerts *lk_alerts_new(struct lk_node *node)
{
    struct lk_alerts *a = calloc(1, sizeof(*a));
    if (!a) {
        return NULL;
    }
    a->node = node;
    if (uv_timer_init(node->loop, &a->report) < 0) {
        free(a);
        return NULL;
    }
    a->report.data = a;
    a->report_inited = true;
    find_webhook(a->webhook, sizeof(a->webhook));
    sync_hooks(a);
    return a;
}

json_t *lk_alerts_json(const struct lk_alerts *alerts)
{
    json_t *list = json_array();
    if (!alerts || !list) {
        return list;
    }
    lk_alerts_reload((struct lk_alerts *) (uintptr_t) alerts);
    /* In the settings' order (by name). */
    const struct lk_cluster_settings *s = &alerts->node->config.cluster;
    for (size_t i = 0; i < s->alert_count; i++) {
        json_t *o = lk_alert_hook_json(&s->alerts[i], false);
        const struct hook *h = NULL;
        for (size_t j = 0; j < alerts->count && !h; j++) {
            if (!alerts->hooks[j]->removed &&
                strcmp(alerts->hooks[j]->conf.name, s->alerts[i].name) == 0) {
                h = alerts->hooks[j];
            }
        }
        if (!o) {
            continue;
        }
        json_object_set_new(
                o, "queued",
                json_integer(h ? (json_int_t) (h->len + (h->current.body != NULL)) : 0));
        json_object_set_new(o, "in_flight", json_boolean(h && h->run));
        json_object_set_new(o, "attempt", json_integer(h && h->current.body ? h->attempt : 0));
        json_object_set_new(o, "delivered", json_integer(h ? (json_int_t) h->delivered : 0));
        json_object_set_new(o, "failed", json_integer(h ? (json_int_t) h->failed : 0));
        json_object_set_new(o, "timeouts", json_integer(h ? (json_int_t) h->timeouts : 0));
        json_object_set_new(o, "gave_up", json_integer(h ? (json_int_t) h->gave_up : 0));
        json_object_set_new(o, "dropped", json_integer(h ? (json_int_t) h->dropped : 0));
        if (h && h->last_seq) {
            json_object_set_new(o, "last_delivered_seq", json_integer(h->last_seq));
        }
        if (h && h->last_error[0]) {
            json_object_set_new(o, "last_error", json_string(h->last_error));
        }
        json_array_append_new(list, o);
    }
    return list;
}

void lk_alerts_stop(struct lk_alerts *alerts)
{
    if (!alerts || alerts->stopping) {
        return;
    }
    alerts->stopping = true;
    for (size_t i = 0; i < alerts->count; i++) {
        struct hook *h = alerts->hooks[i];
        /* A hook that hangs must not outlive lkd: its whole process group goes. */
        int pid = h->run ? lk_run_pid(h->run) : 0;
        if (pid > 0) {
            (void) kill(-pid, SIGKILL);
        }
        uv_timer_stop(&h->timer);
    }
    if (alerts->report_inited) {
        uv_timer_stop(&alerts->report);
    }
}
