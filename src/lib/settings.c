/* The cluster settings (the [cluster] part of lk.conf, equal on every node) and the
 * addresses of comm paths and the witness, as a pure model: their defaults, their names
 * as "key = value" and `lkcli cluster config --KEY` spell them, parsing and validation of
 * each value, comparison, and their JSON form (the settings message, `cluster config`).
 * Entered by config.c (loading lk.conf), by the cluster (a peer's newer settings), by the
 * request handlers and by lkcli/lkstart (option names, --listen).
 * Never: file I/O, logging, an event loop; every error is a one-line message in err. */
#include "settings.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog.h"
#include "validate.h"

#define KEY_HB_INTERVAL     "heartbeat-interval-ms"
#define KEY_HB_MISSES       "heartbeat-misses"
#define KEY_QUORUM          "quorum"
#define KEY_QUORUM_LOSS     "quorum-loss-action"
#define KEY_WITNESS         "witness"
#define KEY_FENCE_SCRIPT    "fence-script"
#define KEY_MAX_FAILOVERS   "max-failovers"
#define KEY_FAILOVER_WINDOW "failover-window"
#define KEY_MIN_PROTOCOL    "min-protocol"
#define KEY_ALERTS          "alerts"
#define KEY_REMOTE_EXEC     "remote-exec"
#define KEY_TUNABLES        LK_CLUSTER_KEY_TUNABLES

#define DEFAULT_HB_INTERVAL_MS  200
#define DEFAULT_HB_MISSES       3
#define DEFAULT_FAILOVER_WINDOW 21600
#define DEFAULT_MIN_PROTOCOL    1 /* protocol 1 peers (authenticated, not encrypted) allowed */
#define MAX_FAILOVERS_MAX       1000
#define FAILOVER_WINDOW_MAX     31536000 /* one year */
#define ADDRESS_EXPECTED        "expected IPV4:PORT or [IPV6]:PORT"
#define FENCE_SCRIPT_SIZE       sizeof(((struct lk_cluster_settings *) NULL)->fence_script)
#define NO_HOST_NAMES           "host names are not accepted: a cluster must not depend on DNS"

/* clang-format off */
const char *const lk_cluster_settings_keys[] = {
        KEY_HB_INTERVAL,
        KEY_HB_MISSES,
        KEY_QUORUM,
        KEY_QUORUM_LOSS,
        KEY_WITNESS,
        KEY_FENCE_SCRIPT,
        KEY_MAX_FAILOVERS,
        KEY_FAILOVER_WINDOW,
        KEY_MIN_PROTOCOL,
        KEY_ALERTS,
        KEY_REMOTE_EXEC,
        KEY_TUNABLES, /* not in lk.conf: the file etc/default/LifeKeeper */
        NULL,
};
/* clang-format on */
_Static_assert(sizeof(lk_cluster_settings_keys) / sizeof(lk_cluster_settings_keys[0]) ==
                       LK_CLUSTER_SETTINGS_KEYS + 1,
               "LK_CLUSTER_SETTINGS_KEYS counts lk_cluster_settings_keys");

/* Addresses */

static bool has_control_char(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char) *s < 0x20 || (unsigned char) *s == 0x7f) {
            return true;
        }
    }
    return false;
}

/* How many of s's bytes a message quotes: at most 64, cut between two characters, so
 * that the message stays UTF-8 (a reply that jansson refuses would be lost). */
static int quote_len(const char *s)
{
    size_t len = strlen(s), n = len > 64 ? 64 : len;
    while (n < len && n > 0 && ((unsigned char) s[n] & 0xc0) == 0x80) {
        n--;
    }
    return (int) n;
}

/* Parses text as lk_address_parse does; what names the field in messages
 * ("address", "witness address", "listen address"). */
static int parse_address(const char *text, const char *what, struct sockaddr_storage *ret_addr,
                         char *err, size_t err_size)
{
    if (!text || !text[0]) {
        return lk_fail_einval(err, err_size, "invalid %s '': %s", what, ADDRESS_EXPECTED);
    }
    size_t len = strlen(text);
    if (len >= LK_ADDR_MAX) {
        return lk_fail_einval(err, err_size, "invalid %s: too long (%zu bytes, at most %d)", what,
                              len, LK_ADDR_MAX - 1);
    }
    /* Before anything quotes the text: a newline in it would break the one-line message. */
    if (has_control_char(text)) {
        return lk_fail_einval(err, err_size, "invalid %s: contains a control character; %s", what,
                              ADDRESS_EXPECTED);
    }
    char host[LK_ADDR_MAX];
    const char *port;
    bool v6 = text[0] == '[';
    if (v6) {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':') {
            return lk_fail_einval(err, err_size, "invalid %s '%s': %s", what, text,
                                  ADDRESS_EXPECTED);
        }
        size_t host_len = (size_t) (close - text - 1);
        memcpy(host, text + 1, host_len);
        host[host_len] = '\0';
        port = close + 2;
    } else {
        const char *colon = strrchr(text, ':');
        if (!colon) {
            return lk_fail_einval(err, err_size, "invalid %s '%s': no port; %s", what, text,
                                  ADDRESS_EXPECTED);
        }
        size_t host_len = (size_t) (colon - text);
        memcpy(host, text, host_len);
        host[host_len] = '\0';
        if (strchr(host, ':')) {
            return lk_fail_einval(
                    err, err_size,
                    "invalid %s '%s': an IPv6 address must be in brackets, as [IPV6]:PORT", what,
                    text);
        }
        port = colon + 1;
    }
    uint64_t port_value = 0;
    if (lk_parse_uint(port, 1, 65535, &port_value) < 0) {
        return lk_fail_einval(err, err_size, "invalid %s '%s': port '%s' is not a number 1..65535",
                              what, text, port);
    }
    struct sockaddr_storage addr;
    memset(&addr, 0, sizeof(addr));
    if (v6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &addr;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t) port_value);
        if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
            return lk_fail_einval(err, err_size, "invalid %s '%s': '%s' is not an IPv6 address",
                                  what, text, host);
        }
    } else {
        struct sockaddr_in *sin = (struct sockaddr_in *) &addr;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t) port_value);
        if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
            bool name = false;
            for (const char *p = host; *p; p++) {
                name = name || isalpha((unsigned char) *p);
            }
            return lk_fail_einval(err, err_size, "invalid %s '%s': '%s' is not an IPv4 address%s%s",
                                  what, text, host, name ? "; " : "", name ? NO_HOST_NAMES : "");
        }
    }
    if (ret_addr) {
        *ret_addr = addr;
    }
    return 0;
}

int lk_address_parse(const char *text, struct sockaddr_storage *ret_addr, char *err,
                     size_t err_size)
{
    return parse_address(text, "address", ret_addr, err, err_size);
}

/* The address in the one form we store and compare ("127.0.0.1:7402", "[::1]:7402"), so
 * that "[0::1]:7402" and "[::1]:7402" are found to be the same comm path. */
static void format_address(const struct sockaddr_storage *addr, char *buf, size_t size)
{
    char host[INET6_ADDRSTRLEN] = "";
    if (addr->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) addr;
        (void) inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
        snprintf(buf, size, "[%s]:%u", host, (unsigned) ntohs(sin6->sin6_port));
    } else {
        const struct sockaddr_in *sin = (const struct sockaddr_in *) addr;
        (void) inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
        snprintf(buf, size, "%s:%u", host, (unsigned) ntohs(sin->sin_port));
    }
}

static bool address_unspecified(const struct sockaddr_storage *addr)
{
    if (addr->ss_family == AF_INET6) {
        return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *) addr)->sin6_addr);
    }
    return ((const struct sockaddr_in *) addr)->sin_addr.s_addr == htonl(INADDR_ANY);
}

int lk_address_canonical(const char *text, const char *what, bool remote,
                         char ret_text[LK_ADDR_MAX], char *err, size_t err_size)
{
    struct sockaddr_storage addr;
    int r = parse_address(text, what ? what : "address", &addr, err, err_size);
    if (r < 0) {
        return r;
    }
    /* The unspecified address is fine to listen on but names no peer. */
    if (remote && address_unspecified(&addr)) {
        return lk_fail_einval(err, err_size,
                              "invalid %s '%s': the unspecified address names no node", what, text);
    }
    format_address(&addr, ret_text, LK_ADDR_MAX);
    return 0;
}

/* Alert hooks */

#define JSON_NAME        "name"
#define JSON_KIND        "kind"
#define JSON_TARGET      "target"
#define JSON_SECRET      "secret"
#define JSON_RECIPIENT   "recipient"
#define JSON_EVENTS      "events"
#define JSON_TIMEOUT     "timeout"
#define KIND_EXEC        "exec"
#define KIND_WEBHOOK     "webhook"
#define EVENT_NUMBER_MAX 99999
#define EVENTS_TEXT_MAX  512

static const char *const severity_words[LK_SEV_COUNT] = {"info", "warning", "error"};

static int range_cmp(const void *a, const void *b)
{
    const uint32_t *x = a, *y = b;
    if (x[0] != y[0]) {
        return x[0] < y[0] ? -1 : 1;
    }
    return x[1] < y[1] ? -1 : x[1] > y[1];
}

/* One number of a selection: 1..EVENT_NUMBER_MAX, digits only. */
static bool event_number(const char *s, size_t len, uint32_t *ret)
{
    char buf[16];
    uint64_t v = 0;
    if (len == 0 || len >= sizeof(buf)) {
        return false;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (lk_parse_uint(buf, 1, EVENT_NUMBER_MAX, &v) < 0) {
        return false;
    }
    *ret = (uint32_t) v;
    return true;
}

int lk_alert_events_parse(const char *text, struct lk_alert_select *ret, char *err, size_t err_size)
{
    struct lk_alert_select sel;
    memset(&sel, 0, sizeof(sel));
    if (!text || !text[0]) {
        return lk_fail_einval(err, err_size,
                              "invalid events '': expected severities (info, warning, error, "
                              "all) and event numbers or ranges, e.g. warning,error,1621,"
                              "1600-1699");
    }
    if (strlen(text) >= EVENTS_TEXT_MAX || has_control_char(text)) {
        return lk_fail_einval(err, err_size,
                              "invalid events: too long or contains a control character");
    }
    const char *p = text;
    while (true) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t) (end - p) : strlen(p);
        while (len > 0 && isspace((unsigned char) *p)) {
            p++;
            len--;
        }
        while (len > 0 && isspace((unsigned char) p[len - 1])) {
            len--;
        }
        bool found = false;
        for (int i = 0; i < LK_SEV_COUNT && !found; i++) {
            if (len == strlen(severity_words[i]) && strncasecmp(p, severity_words[i], len) == 0) {
                sel.severities |= 1U << i;
                found = true;
            }
        }
        if (!found && len == 3 && strncasecmp(p, "all", 3) == 0) {
            sel.severities = (1U << LK_SEV_COUNT) - 1;
            found = true;
        }
        if (!found) {
            const char *dash = memchr(p, '-', len);
            uint32_t lo = 0, hi = 0;
            bool ok = dash ? event_number(p, (size_t) (dash - p), &lo) &&
                                      event_number(dash + 1, len - (size_t) (dash - p) - 1, &hi) &&
                                      lo <= hi
                           : event_number(p, len, &lo);
            if (!dash) {
                hi = lo;
            }
            if (!ok) {
                return lk_fail_einval(err, err_size,
                                      "invalid events '%.*s': '%.*s' is neither a severity "
                                      "(info, warning, error, all) nor an event number 1..%d "
                                      "or a range LO-HI",
                                      quote_len(text), text, (int) (len > 64 ? 64 : len), p,
                                      EVENT_NUMBER_MAX);
            }
            bool dup = false;
            for (size_t i = 0; i < sel.range_count; i++) {
                dup = dup || (sel.ranges[i].lo == lo && sel.ranges[i].hi == hi);
            }
            if (!dup) {
                if (sel.range_count >= LK_ALERT_RANGES_MAX) {
                    return lk_fail_einval(err, err_size,
                                          "invalid events '%.*s': at most %d numbers and ranges",
                                          quote_len(text), text, LK_ALERT_RANGES_MAX);
                }
                sel.ranges[sel.range_count].lo = lo;
                sel.ranges[sel.range_count].hi = hi;
                sel.range_count++;
            }
        }
        if (!end) {
            break;
        }
        p = end + 1;
    }
    qsort(sel.ranges, sel.range_count, sizeof(sel.ranges[0]), range_cmp);
    *ret = sel;
    return 0;
}

void lk_alert_events_format(const struct lk_alert_select *sel, char *buf, size_t size)
{
    size_t used = 0;
    if (size == 0) {
        return;
    }
    buf[0] = '\0';
    for (int i = 0; i < LK_SEV_COUNT; i++) {
        if (sel->severities & (1U << i)) {
            int n = snprintf(buf + used, size - used, "%s%s", used ? "," : "", severity_words[i]);
            used += n > 0 && (size_t) n < size - used ? (size_t) n : 0;
        }
    }
    for (size_t i = 0; i < sel->range_count; i++) {
        int n = sel->ranges[i].lo == sel->ranges[i].hi
                        ? snprintf(buf + used, size - used, "%s%" PRIu32, used ? "," : "",
                                   sel->ranges[i].lo)
                        : snprintf(buf + used, size - used, "%s%" PRIu32 "-%" PRIu32,
                                   used ? "," : "", sel->ranges[i].lo, sel->ranges[i].hi);
        used += n > 0 && (size_t) n < size - used ? (size_t) n : 0;
    }
}

bool lk_alert_events_match(const struct lk_alert_select *sel, int severity, int number)
{
    if (severity >= 0 && severity < LK_SEV_COUNT && (sel->severities & (1U << severity))) {
        return true;
    }
    for (size_t i = 0; i < sel->range_count; i++) {
        if (number >= 0 && (uint32_t) number >= sel->ranges[i].lo &&
            (uint32_t) number <= sel->ranges[i].hi) {
            return true;
        }
    }
    return false;
}

/* An executable's path: what check_fence_script asks of the fence script, for the same
 * reason (the text goes through lk.conf). */
static int check_exec_path(const char *value, char *err, size_t err_size)
{
    size_t len = strlen(value);
    if (len == 0) {
        return lk_fail_einval(err, err_size, "invalid alert executable: empty path");
    }
    if (len >= LK_ALERT_TARGET_MAX) {
        return lk_fail_einval(err, err_size,
                              "invalid alert executable: too long (%zu bytes, at most %d)", len,
                              LK_ALERT_TARGET_MAX - 1);
    }
    if (has_control_char(value)) {
        return lk_fail_einval(err, err_size,
                              "invalid alert executable: contains a control character");
    }
    if (value[0] != '/') {
        return lk_fail_einval(err, err_size,
                              "invalid alert executable '%.*s': must be an absolute path",
                              quote_len(value), value);
    }
    if (isspace((unsigned char) value[len - 1])) {
        return lk_fail_einval(err, err_size,
                              "invalid alert executable '%.*s': must not end with whitespace",
                              quote_len(value), value);
    }
    for (size_t i = 1; i < len; i++) {
        if (value[i] == ';' && isspace((unsigned char) value[i - 1])) {
            return lk_fail_einval(err, err_size,
                                  "invalid alert executable '%.*s': whitespace before ';'",
                                  quote_len(value), value);
        }
    }
    return 0;
}

/* A webhook's URL: http:// or https://, a host name, an IPv4 or a bracketed IPv6
 * address, an optional port, printable ASCII without spaces, no user information (the
 * secret authenticates; a password in a URL would be shown everywhere the URL is). */
static int check_url(const char *url, char *err, size_t err_size)
{
    static const char expected[] = "expected http://HOST[:PORT]/PATH or https://...";
    size_t len = strlen(url);
    if (len >= LK_ALERT_TARGET_MAX) {
        return lk_fail_einval(err, err_size,
                              "invalid webhook URL: too long (%zu bytes, at most %d)", len,
                              LK_ALERT_TARGET_MAX - 1);
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) url[i];
        if (c <= 0x20 || c >= 0x7f) {
            return lk_fail_einval(err, err_size,
                                  "invalid webhook URL: contains a space, a control character or "
                                  "a non-ASCII byte (percent-encode it); %s",
                                  expected);
        }
    }
    const char *rest = NULL;
    if (strncmp(url, "http://", 7) == 0) {
        rest = url + 7;
    } else if (strncmp(url, "https://", 8) == 0) {
        rest = url + 8;
    } else {
        return lk_fail_einval(err, err_size, "invalid webhook URL '%.*s': %s", quote_len(url), url,
                              expected);
    }
    size_t auth_len = strcspn(rest, "/?#");
    char auth[LK_ALERT_TARGET_MAX];
    memcpy(auth, rest, auth_len);
    auth[auth_len] = '\0';
    if (strchr(auth, '@')) {
        return lk_fail_einval(err, err_size,
                              "invalid webhook URL: user information ('user:password@') is "
                              "not accepted: the secret authenticates");
    }
    char *port = NULL;
    if (auth[0] == '[') {
        char *close = strchr(auth, ']');
        struct in6_addr a6;
        if (!close) {
            return lk_fail_einval(err, err_size, "invalid webhook URL '%.*s': %s", quote_len(url),
                                  url, expected);
        }
        *close = '\0';
        if (inet_pton(AF_INET6, auth + 1, &a6) != 1) {
            return lk_fail_einval(err, err_size,
                                  "invalid webhook URL '%.*s': '%s' is not an IPv6 address",
                                  quote_len(url), url, auth + 1);
        }
        if (close[1] == ':') {
            port = close + 2;
        } else if (close[1] != '\0') {
            return lk_fail_einval(err, err_size, "invalid webhook URL '%.*s': %s", quote_len(url),
                                  url, expected);
        }
    } else {
        port = strchr(auth, ':');
        if (port) {
            *port++ = '\0';
        }
        bool ok = auth[0] != '\0' && auth[0] != '-' && auth[0] != '.';
        for (const char *h = auth; ok && *h; h++) {
            ok = isalnum((unsigned char) *h) || *h == '-' || *h == '.';
        }
        if (!ok) {
            return lk_fail_einval(err, err_size, "invalid webhook URL '%.*s': bad host; %s",
                                  quote_len(url), url, expected);
        }
    }
    uint64_t p = 0;
    if (port && lk_parse_uint(port, 1, 65535, &p) < 0) {
        return lk_fail_einval(err, err_size,
                              "invalid webhook URL '%.*s': port '%s' is not a number 1..65535",
                              quote_len(url), url, port);
    }
    return 0;
}

int lk_alert_hook_check(const struct lk_alert_hook *hook, char *err, size_t err_size)
{
    char verr[256];
    if (memchr(hook->name, '\0', sizeof(hook->name)) == NULL ||
        lk_validate_tag(hook->name, "alert name", verr, sizeof(verr)) < 0) {
        return lk_fail_einval(err, err_size, "%s", verr);
    }
    if (memchr(hook->target, '\0', sizeof(hook->target)) == NULL ||
        memchr(hook->secret, '\0', sizeof(hook->secret)) == NULL ||
        memchr(hook->recipient, '\0', sizeof(hook->recipient)) == NULL) {
        return lk_fail_einval(err, err_size, "invalid alert '%s': a field is too long", hook->name);
    }
    int r = 0;
    if (hook->kind == LK_ALERT_EXEC) {
        r = check_exec_path(hook->target, err, err_size);
        if (r == 0 && hook->secret[0]) {
            r = lk_fail_einval(err, err_size, "invalid alert '%s': a secret is for a webhook only",
                               hook->name);
        }
    } else if (hook->kind == LK_ALERT_WEBHOOK) {
        r = check_url(hook->target, err, err_size);
        size_t len = strlen(hook->secret);
        bool printable = true;
        for (size_t i = 0; i < len; i++) {
            printable = printable && hook->secret[i] > 0x20 && hook->secret[i] < 0x7f;
        }
        if (r == 0 && (len < LK_ALERT_SECRET_MIN || !printable)) {
            r = lk_fail_einval(err, err_size,
                               "invalid secret of alert '%s': expected %d to %d printable ASCII "
                               "characters without spaces",
                               hook->name, LK_ALERT_SECRET_MIN, LK_ALERT_SECRET_MAX);
        }
    } else {
        r = lk_fail_einval(err, err_size, "invalid alert '%s': unknown kind", hook->name);
    }
    if (r < 0) {
        return r;
    }
    if (has_control_char(hook->recipient)) {
        return lk_fail_einval(err, err_size,
                              "invalid recipient of alert '%s': contains a control "
                              "character",
                              hook->name);
    }
    for (size_t i = 1; hook->recipient[0] && hook->recipient[i]; i++) {
        if (hook->recipient[i] == ';' && isspace((unsigned char) hook->recipient[i - 1])) {
            return lk_fail_einval(err, err_size,
                                  "invalid recipient of alert '%s': whitespace before ';'",
                                  hook->name);
        }
    }
    if (hook->events.severities == 0 && hook->events.range_count == 0) {
        return lk_fail_einval(err, err_size, "invalid alert '%s': it selects no event", hook->name);
    }
    if (hook->events.range_count > LK_ALERT_RANGES_MAX) {
        return lk_fail_einval(err, err_size, "invalid alert '%s': too many ranges", hook->name);
    }
    if (hook->timeout_s < 1 || hook->timeout_s > LK_ALERT_TIMEOUT_MAX_S) {
        return lk_fail_einval(err, err_size,
                              "invalid timeout of alert '%s': expected 1 to %d seconds", hook->name,
                              LK_ALERT_TIMEOUT_MAX_S);
    }
    return 0;
}

json_t *lk_alert_hook_json(const struct lk_alert_hook *hook, bool with_secret)
{
    char events[EVENTS_TEXT_MAX];
    lk_alert_events_format(&hook->events, events, sizeof(events));
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:I}", JSON_NAME, hook->name, JSON_KIND,
                          hook->kind == LK_ALERT_WEBHOOK ? KIND_WEBHOOK : KIND_EXEC, JSON_TARGET,
                          hook->target, JSON_EVENTS, events, JSON_TIMEOUT,
                          (json_int_t) hook->timeout_s);
    if (o && hook->recipient[0]) {
        json_object_set_new(o, JSON_RECIPIENT, json_string(hook->recipient));
    }
    if (o && hook->kind == LK_ALERT_WEBHOOK) {
        json_object_set_new(o, JSON_SECRET,
                            json_string(with_secret ? hook->secret : LK_ALERT_SECRET_SHOWN));
    }
    return o;
}

/* One hook from its text form's object: every key known, every value of its type. */
static int hook_from_json(const json_t *o, struct lk_alert_hook *ret, char *err, size_t err_size)
{
    struct lk_alert_hook h;
    memset(&h, 0, sizeof(h));
    if (!json_is_object(o)) {
        return lk_fail_einval(err, err_size, "invalid alerts: expected an array of objects");
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *) (uintptr_t) o, key, v)
    {
        const char *sv = json_string_value(v);
        char *dst = NULL;
        size_t dst_size = 0;
        if (strcmp(key, JSON_TIMEOUT) == 0) {
            json_int_t t = json_integer_value(v);
            if (!json_is_integer(v) || t < 1 || t > LK_ALERT_TIMEOUT_MAX_S) {
                return lk_fail_einval(err, err_size,
                                      "invalid alerts: timeout must be 1 to %d seconds",
                                      LK_ALERT_TIMEOUT_MAX_S);
            }
            h.timeout_s = (uint32_t) t;
            continue;
        }
        if (!sv) {
            return lk_fail_einval(err, err_size, "invalid alerts: '%.*s' must be a string",
                                  quote_len(key), key);
        }
        if (strcmp(key, JSON_NAME) == 0) {
            dst = h.name;
            dst_size = sizeof(h.name);
        } else if (strcmp(key, JSON_TARGET) == 0) {
            dst = h.target;
            dst_size = sizeof(h.target);
        } else if (strcmp(key, JSON_SECRET) == 0) {
            dst = h.secret;
            dst_size = sizeof(h.secret);
        } else if (strcmp(key, JSON_RECIPIENT) == 0) {
            dst = h.recipient;
            dst_size = sizeof(h.recipient);
        } else if (strcmp(key, JSON_KIND) == 0) {
            if (strcmp(sv, KIND_EXEC) == 0) {
                h.kind = LK_ALERT_EXEC;
            } else if (strcmp(sv, KIND_WEBHOOK) == 0) {
                h.kind = LK_ALERT_WEBHOOK;
            } else {
                return lk_fail_einval(err, err_size,
                                      "invalid alerts: kind must be exec or webhook");
            }
        } else if (strcmp(key, JSON_EVENTS) == 0) {
            if (lk_alert_events_parse(sv, &h.events, err, err_size) < 0) {
                return -EINVAL;
            }
        } else {
            return lk_fail_einval(err, err_size, "invalid alerts: unknown key '%.*s'",
                                  quote_len(key), key);
        }
        if (dst) {
            if (strlen(sv) >= dst_size) {
                return lk_fail_einval(err, err_size, "invalid alerts: '%s' is too long", key);
            }
            memcpy(dst, sv, strlen(sv) + 1);
        }
    }
    if (!json_object_get(o, JSON_NAME) || !json_object_get(o, JSON_KIND) ||
        !json_object_get(o, JSON_TARGET) || !json_object_get(o, JSON_EVENTS) ||
        !json_object_get(o, JSON_TIMEOUT)) {
        return lk_fail_einval(err, err_size,
                              "invalid alerts: each needs name, kind, target, events and timeout");
    }
    if (h.kind == LK_ALERT_WEBHOOK && !h.secret[0]) {
        return lk_fail_einval(err, err_size, "invalid alerts: webhook '%s' has no secret", h.name);
    }
    if (lk_alert_hook_check(&h, err, err_size) < 0) {
        return -EINVAL;
    }
    *ret = h;
    return 0;
}

/* The hooks' text form: a compact JSON array, keys sorted (one text for one set of hooks).
 * Returns 0, or -ENOSPC when it does not fit in size bytes (LK_SETTING_VALUE_MAX always
 * fits the hooks lk_cluster_settings_set and _alert_add accept), -ENOMEM. */
static int alerts_text(const struct lk_cluster_settings *s, bool with_secret, char *buf,
                       size_t size)
{
    if (size == 0) {
        return -ENOSPC;
    }
    buf[0] = '\0';
    if (s->alert_count == 0) {
        return 0;
    }
    json_t *list = json_array();
    for (size_t i = 0; list && i < s->alert_count; i++) {
        if (json_array_append_new(list, lk_alert_hook_json(&s->alerts[i], with_secret)) < 0) {
            json_decref(list);
            list = NULL;
        }
    }
    char *text = list ? json_dumps(list, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(list);
    if (!text) {
        return -ENOMEM;
    }
    size_t len = strlen(text);
    int r = 0;
    if (len >= size) {
        r = -ENOSPC;
    } else {
        memcpy(buf, text, len + 1);
    }
    sodium_memzero(text, len); /* it held the secrets */
    free(text);
    return r;
}

static int hook_cmp(const void *a, const void *b)
{
    return strcmp(((const struct lk_alert_hook *) a)->name,
                  ((const struct lk_alert_hook *) b)->name);
}

/* Whether the hooks' text form (secrets included) stays within LK_ALERTS_TEXT_MAX. */
static bool alerts_fit(const struct lk_cluster_settings *s)
{
    char *buf = malloc(LK_SETTING_VALUE_MAX);
    bool fit = buf && alerts_text(s, true, buf, LK_ALERTS_TEXT_MAX + 1) == 0;
    free(buf);
    return fit;
}

/* Sets the hooks from their text form ("" = none). */
static int parse_alerts(struct lk_cluster_settings *s, const char *value, char *err,
                        size_t err_size)
{
    if (value[0] == '\0') {
        s->alert_count = 0;
        return 0;
    }
    if (strlen(value) > LK_ALERTS_TEXT_MAX) {
        return lk_fail_einval(err, err_size, "invalid alerts: longer than %d bytes",
                              LK_ALERTS_TEXT_MAX);
    }
    json_error_t jerr;
    json_t *list = json_loads(value, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_array(list)) {
        json_decref(list);
        return lk_fail_einval(err, err_size, "invalid alerts: expected a JSON array of hooks");
    }
    if (json_array_size(list) > LK_ALERTS_MAX) {
        json_decref(list);
        return lk_fail_einval(err, err_size, "invalid alerts: at most %d hooks", LK_ALERTS_MAX);
    }
    struct lk_cluster_settings next = *s;
    next.alert_count = 0;
    size_t i;
    json_t *o;
    json_array_foreach(list, i, o)
    {
        struct lk_alert_hook h;
        if (hook_from_json(o, &h, err, err_size) < 0) {
            json_decref(list);
            return -EINVAL;
        }
        if (lk_cluster_settings_alert(&next, h.name)) {
            json_decref(list);
            return lk_fail_einval(err, err_size, "invalid alerts: two hooks named '%s'", h.name);
        }
        next.alerts[next.alert_count++] = h;
    }
    json_decref(list);
    qsort(next.alerts, next.alert_count, sizeof(next.alerts[0]), hook_cmp);
    if (!alerts_fit(&next)) {
        return lk_fail_einval(err, err_size, "invalid alerts: longer than %d bytes",
                              LK_ALERTS_TEXT_MAX);
    }
    *s = next;
    return 0;
}

const struct lk_alert_hook *lk_cluster_settings_alert(const struct lk_cluster_settings *settings,
                                                      const char *name)
{
    for (size_t i = 0; name && i < settings->alert_count; i++) {
        if (strcmp(settings->alerts[i].name, name) == 0) {
            return &settings->alerts[i];
        }
    }
    return NULL;
}

int lk_cluster_settings_alert_add(struct lk_cluster_settings *settings,
                                  const struct lk_alert_hook *hook, char *err, size_t err_size)
{
    if (lk_alert_hook_check(hook, err, err_size) < 0) {
        return -EINVAL;
    }
    if (lk_cluster_settings_alert(settings, hook->name)) {
        (void) lk_fail_einval(err, err_size,
                              "alert '%s' exists already (delete it first to change it)",
                              hook->name);
        return -EEXIST;
    }
    if (settings->alert_count >= LK_ALERTS_MAX) {
        (void) lk_fail_einval(err, err_size, "cannot add alert '%s': at most %d alert hooks",
                              hook->name, LK_ALERTS_MAX);
        return -ENOSPC;
    }
    struct lk_cluster_settings *next = malloc(sizeof(*next));
    if (!next) {
        (void) lk_fail_einval(err, err_size, "cannot add alert '%s': out of memory", hook->name);
        return -ENOMEM;
    }
    *next = *settings;
    next->alerts[next->alert_count++] = *hook;
    qsort(next->alerts, next->alert_count, sizeof(next->alerts[0]), hook_cmp);
    if (!alerts_fit(next)) {
        free(next);
        (void) lk_fail_einval(err, err_size,
                              "cannot add alert '%s': the alert hooks would take more than %d "
                              "bytes",
                              hook->name, LK_ALERTS_TEXT_MAX);
        return -ENOSPC;
    }
    *settings = *next;
    free(next);
    return 0;
}

int lk_cluster_settings_alert_delete(struct lk_cluster_settings *settings, const char *name,
                                     char *err, size_t err_size)
{
    for (size_t i = 0; name && i < settings->alert_count; i++) {
        if (strcmp(settings->alerts[i].name, name) == 0) {
            memmove(&settings->alerts[i], &settings->alerts[i + 1],
                    (settings->alert_count - i - 1) * sizeof(settings->alerts[0]));
            settings->alert_count--;
            memset(&settings->alerts[settings->alert_count], 0, sizeof(settings->alerts[0]));
            return 0;
        }
    }
    if (!name || has_control_char(name)) {
        (void) lk_fail_einval(err, err_size, "no such alert");
    } else {
        (void) lk_fail_einval(err, err_size, "no alert named '%.*s'", quote_len(name), name);
    }
    return -ENOENT;
}

/* Cluster settings */

uint64_t lk_cluster_settings_dead_ms(const struct lk_cluster_settings *settings)
{
    return (uint64_t) settings->heartbeat_interval_ms * settings->heartbeat_misses;
}

void lk_cluster_settings_init(struct lk_cluster_settings *settings)
{
    memset(settings, 0, sizeof(*settings));
    settings->heartbeat_interval_ms = DEFAULT_HB_INTERVAL_MS;
    settings->heartbeat_misses = DEFAULT_HB_MISSES;
    settings->quorum = LK_QUORUM_AUTO;
    settings->quorum_loss_action = LK_QUORUM_LOSS_OSU;
    settings->max_failovers = 0;
    settings->failover_window_s = DEFAULT_FAILOVER_WINDOW;
    settings->min_protocol = DEFAULT_MIN_PROTOCOL;
}

static int parse_number(const char *key, const char *value, uint32_t min, uint32_t max,
                        const char *unit, uint32_t *ret_value, char *err, size_t err_size)
{
    uint64_t v = 0;
    if (lk_parse_uint(value, min, max, &v) < 0) {
        if (has_control_char(value)) {
            return lk_fail_einval(err, err_size,
                                  "invalid %s: expected a whole number of %s, %" PRIu32
                                  "..%" PRIu32,
                                  key, unit, min, max);
        }
        return lk_fail_einval(err, err_size,
                              "invalid %s '%s': expected a whole number of %s, %" PRIu32
                              "..%" PRIu32,
                              key, value, unit, min, max);
    }
    *ret_value = (uint32_t) v;
    return 0;
}

/* A fence script must survive a trip through the file: inih strips trailing whitespace
 * and cuts a value at a ';' that follows whitespace (an inline comment). */
static int check_fence_script(const char *value, char *err, size_t err_size)
{
    size_t len = strlen(value);
    if (len >= FENCE_SCRIPT_SIZE) {
        return lk_fail_einval(err, err_size,
                              "invalid fence-script: too long (%zu bytes, at most %zu)", len,
                              FENCE_SCRIPT_SIZE - 1);
    }
    if (has_control_char(value)) {
        return lk_fail_einval(err, err_size, "invalid fence-script: contains a control character");
    }
    if (value[0] != '/') {
        return lk_fail_einval(err, err_size, "invalid fence-script '%s': must be an absolute path",
                              value);
    }
    if (isspace((unsigned char) value[len - 1])) {
        return lk_fail_einval(err, err_size,
                              "invalid fence-script '%s': must not end with whitespace", value);
    }
    for (size_t i = 1; i < len; i++) {
        if (value[i] == ';' && isspace((unsigned char) value[i - 1])) {
            return lk_fail_einval(
                    err, err_size,
                    "invalid fence-script '%s': whitespace before ';' would start a comment",
                    value);
        }
    }
    return 0;
}

/* The tunables: the whole text, checked as the file is (tunables.c), kept verbatim. */
static int set_tunables(struct lk_cluster_settings *s, const char *value, char *err,
                        size_t err_size)
{
    struct lk_tunables t;
    char why[256];
    size_t len = strlen(value);
    if (lk_tunables_parse(value, len, &t, why, sizeof(why)) < 0) {
        return lk_fail_einval(err, err_size, "invalid tunables: %s", why);
    }
    lk_tunables_done(&t);
    memcpy(s->tunables, value, len + 1);
    return 0;
}

int lk_cluster_settings_set(struct lk_cluster_settings *settings, const char *key,
                            const char *value, char *err, size_t err_size)
{
    /* Work on a copy so that settings is unchanged on error. */
    struct lk_cluster_settings s = *settings;
    int r = 0;
    if (!key) {
        key = "";
    }
    if (!value) {
        value = "";
    }
    if (strcmp(key, KEY_HB_INTERVAL) == 0) {
        r = parse_number(key, value, LK_HB_INTERVAL_MIN, LK_HB_INTERVAL_MAX, "milliseconds",
                         &s.heartbeat_interval_ms, err, err_size);
    } else if (strcmp(key, KEY_HB_MISSES) == 0) {
        r = parse_number(key, value, LK_HB_MISSES_MIN, LK_HB_MISSES_MAX, "heartbeats",
                         &s.heartbeat_misses, err, err_size);
    } else if (strcmp(key, KEY_QUORUM) == 0) {
        if (strcmp(value, "majority") == 0) {
            s.quorum = LK_QUORUM_MAJORITY;
        } else if (strcmp(value, "none") == 0) {
            s.quorum = LK_QUORUM_NONE;
        } else if (value[0] == '\0') {
            s.quorum = LK_QUORUM_AUTO;
        } else if (has_control_char(value)) {
            r = lk_fail_einval(err, err_size,
                               "invalid quorum: contains a control character; expected majority "
                               "or none");
        } else {
            r = lk_fail_einval(err, err_size, "invalid quorum '%.*s': expected majority or none",
                               quote_len(value), value);
        }
    } else if (strcmp(key, KEY_QUORUM_LOSS) == 0) {
        if (strcmp(value, "osu") == 0) {
            s.quorum_loss_action = LK_QUORUM_LOSS_OSU;
        } else if (strcmp(value, "none") == 0) {
            s.quorum_loss_action = LK_QUORUM_LOSS_NONE;
        } else if (has_control_char(value)) {
            r = lk_fail_einval(err, err_size,
                               "invalid quorum-loss-action: contains a control character; "
                               "expected osu or none");
        } else {
            r = lk_fail_einval(err, err_size,
                               "invalid quorum-loss-action '%.*s': expected osu or none",
                               quote_len(value), value);
        }
    } else if (strcmp(key, KEY_WITNESS) == 0) {
        if (value[0] == '\0') {
            s.witness[0] = '\0';
        } else {
            r = lk_address_canonical(value, "witness address", true, s.witness, err, err_size);
        }
    } else if (strcmp(key, KEY_FENCE_SCRIPT) == 0) {
        if (value[0] == '\0') {
            s.fence_script[0] = '\0';
        } else {
            r = check_fence_script(value, err, err_size);
            if (r == 0) {
                snprintf(s.fence_script, sizeof(s.fence_script), "%s", value);
            }
        }
    } else if (strcmp(key, KEY_MAX_FAILOVERS) == 0) {
        if (value[0] == '\0') {
            s.max_failovers = 0;
        } else {
            r = parse_number(key, value, 1, MAX_FAILOVERS_MAX, "failovers", &s.max_failovers, err,
                             err_size);
        }
    } else if (strcmp(key, KEY_FAILOVER_WINDOW) == 0) {
        r = parse_number(key, value, 1, FAILOVER_WINDOW_MAX, "seconds", &s.failover_window_s, err,
                         err_size);
    } else if (strcmp(key, KEY_MIN_PROTOCOL) == 0) {
        if (strcmp(value, "1") == 0 || strcmp(value, "2") == 0) {
            s.min_protocol = (uint32_t) (value[0] - '0');
        } else if (has_control_char(value)) {
            r = lk_fail_einval(err, err_size, "invalid min-protocol: expected 1 or 2");
        } else {
            r = lk_fail_einval(err, err_size,
                               "invalid min-protocol '%.*s': expected 1 (peers of the previous "
                               "release allowed, unencrypted) or 2 (encrypted only)",
                               quote_len(value), value);
        }
    } else if (strcmp(key, KEY_ALERTS) == 0) {
        r = parse_alerts(&s, value, err, err_size);
    } else if (strcmp(key, KEY_REMOTE_EXEC) == 0) {
        if (strcmp(value, "on") == 0 || strcmp(value, "off") == 0) {
            s.remote_exec = value[1] == 'n';
        } else if (has_control_char(value)) {
            r = lk_fail_einval(err, err_size, "invalid remote-exec: expected on or off");
        } else {
            r = lk_fail_einval(err, err_size, "invalid remote-exec '%.*s': expected on or off",
                               quote_len(value), value);
        }
    } else if (strcmp(key, KEY_TUNABLES) == 0) {
        r = set_tunables(&s, value, err, err_size);
    } else {
        if (has_control_char(key)) {
            (void) lk_fail_einval(err, err_size, "unknown cluster setting");
        } else {
            (void) lk_fail_einval(err, err_size, "unknown cluster setting '%.*s'", quote_len(key),
                                  key);
        }
        return -ENOENT;
    }
    if (r < 0) {
        return r;
    }
    *settings = s;
    return 0;
}

const char *lk_cluster_settings_get(const struct lk_cluster_settings *settings, const char *key,
                                    char *buf, size_t size)
{
    if (!key || !buf || size == 0) {
        return NULL;
    }
    if (strcmp(key, KEY_HB_INTERVAL) == 0) {
        snprintf(buf, size, "%" PRIu32, settings->heartbeat_interval_ms);
    } else if (strcmp(key, KEY_HB_MISSES) == 0) {
        snprintf(buf, size, "%" PRIu32, settings->heartbeat_misses);
    } else if (strcmp(key, KEY_QUORUM) == 0) {
        snprintf(buf, size, "%s",
                 settings->quorum == LK_QUORUM_MAJORITY ? "majority"
                 : settings->quorum == LK_QUORUM_NONE   ? "none"
                                                        : "");
    } else if (strcmp(key, KEY_QUORUM_LOSS) == 0) {
        snprintf(buf, size, "%s",
                 settings->quorum_loss_action == LK_QUORUM_LOSS_NONE ? "none" : "osu");
    } else if (strcmp(key, KEY_WITNESS) == 0) {
        snprintf(buf, size, "%s", settings->witness);
    } else if (strcmp(key, KEY_FENCE_SCRIPT) == 0) {
        snprintf(buf, size, "%s", settings->fence_script);
    } else if (strcmp(key, KEY_MAX_FAILOVERS) == 0) {
        if (settings->max_failovers == 0) {
            buf[0] = '\0';
        } else {
            snprintf(buf, size, "%" PRIu32, settings->max_failovers);
        }
    } else if (strcmp(key, KEY_FAILOVER_WINDOW) == 0) {
        snprintf(buf, size, "%" PRIu32, settings->failover_window_s);
    } else if (strcmp(key, KEY_MIN_PROTOCOL) == 0) {
        snprintf(buf, size, "%" PRIu32, settings->min_protocol);
    } else if (strcmp(key, KEY_REMOTE_EXEC) == 0) {
        snprintf(buf, size, "%s", settings->remote_exec ? "on" : "off");
    } else if (strcmp(key, KEY_TUNABLES) == 0) {
        snprintf(buf, size, "%s", settings->tunables);
    } else if (strcmp(key, KEY_ALERTS) == 0) {
        /* Too small a buffer gets "": a comparison then fails, a save refuses. */
        if (alerts_text(settings, true, buf, size) < 0) {
            buf[0] = '\0';
        }
    } else {
        return NULL;
    }
    return buf;
}

bool lk_cluster_settings_equal(const struct lk_cluster_settings *a,
                               const struct lk_cluster_settings *b, char *what, size_t size)
{
    /* Compared as text, key by key: the same form the file and the wire use, and it names
     * the differing key for free. */
    char *va = malloc(LK_SETTING_VALUE_MAX), *vb = malloc(LK_SETTING_VALUE_MAX);
    for (size_t i = 0; va && vb && lk_cluster_settings_keys[i]; i++) {
        const char *key = lk_cluster_settings_keys[i];
        (void) lk_cluster_settings_get(a, key, va, LK_SETTING_VALUE_MAX);
        (void) lk_cluster_settings_get(b, key, vb, LK_SETTING_VALUE_MAX);
        if (strcmp(va, vb) != 0) {
            if (what && size > 0) {
                snprintf(what, size, "%s", key);
            }
            sodium_memzero(va, LK_SETTING_VALUE_MAX);
            sodium_memzero(vb, LK_SETTING_VALUE_MAX);
            free(va);
            free(vb);
            return false;
        }
    }
    bool ok = va && vb;
    if (ok) {
        sodium_memzero(va, LK_SETTING_VALUE_MAX);
        sodium_memzero(vb, LK_SETTING_VALUE_MAX);
    }
    free(va);
    free(vb);
    if (!ok) {
        if (what && size > 0) {
            snprintf(what, size, "(out of memory)");
        }
        return false;
    }
    if (what && size > 0) {
        what[0] = '\0';
    }
    return true;
}

/* JSON */

static json_t *settings_json(const struct lk_cluster_settings *s, bool with_secrets)
{
    json_t *obj = json_object();
    char *buf = malloc(LK_SETTING_VALUE_MAX);
    if (!buf) {
        json_decref(obj);
        return NULL;
    }
    for (size_t i = 0; obj && lk_cluster_settings_keys[i]; i++) {
        const char *key = lk_cluster_settings_keys[i];
        const char *v = lk_cluster_settings_get(s, key, buf, LK_SETTING_VALUE_MAX);
        if (strcmp(key, KEY_ALERTS) == 0 && !with_secrets &&
            alerts_text(s, false, buf, LK_SETTING_VALUE_MAX) < 0) {
            buf[0] = '\0';
        }
        json_object_set_new(obj, key, json_string(v ? v : ""));
    }
    sodium_memzero(buf, LK_SETTING_VALUE_MAX);
    free(buf);
    return obj;
}

json_t *lk_cluster_settings_json(const struct lk_cluster_settings *s)
{
    return settings_json(s, true);
}

json_t *lk_cluster_settings_public_json(const struct lk_cluster_settings *s)
{
    return settings_json(s, false);
}

/* One key of lk_cluster_settings_apply: cur is a scratch buffer of LK_SETTING_VALUE_MAX.
 * The alert hooks are named in changed, never written out: their text holds secrets. */
static int apply_one(struct lk_cluster_settings *next, const char *key, const json_t *v, char *cur,
                     char *changed, size_t changed_size, size_t *used, char *err, size_t err_size)
{
    const char *now = lk_cluster_settings_get(next, key, cur, LK_SETTING_VALUE_MAX);
    if (!now) {
        if (has_control_char(key)) {
            snprintf(err, err_size, "unknown cluster setting");
        } else {
            snprintf(err, err_size, "unknown cluster setting '%.*s'", quote_len(key), key);
        }
        return -EINVAL;
    }
    if (!json_is_string(v)) {
        snprintf(err, err_size, "--%s needs a value", key); /* a known key */
        return -EINVAL;
    }
    if (strcmp(now, json_string_value(v)) == 0) {
        return 0;
    }
    /* The tunables' change is shown as the keys it changes: the text is long and has lines. */
    char tun_diff[256] = "";
    if (strcmp(key, KEY_TUNABLES) == 0) {
        (void) lk_tunables_diff(next->tunables, json_string_value(v), tun_diff, sizeof(tun_diff));
    }
    if (lk_cluster_settings_set(next, key, json_string_value(v), err, err_size) < 0) {
        return -EINVAL;
    }
    char names[LK_ALERTS_MAX * 130 + 8] = "";
    const char *shown = tun_diff[0] ? tun_diff : json_string_value(v);
    if (strcmp(key, KEY_ALERTS) == 0) {
        size_t n_used = 0;
        for (size_t i = 0; i < next->alert_count; i++) {
            int n = snprintf(names + n_used, sizeof(names) - n_used, "%s%s", i ? " " : "",
                             next->alerts[i].name);
            n_used += n > 0 && (size_t) n < sizeof(names) - n_used ? (size_t) n : 0;
        }
        shown = next->alert_count ? names : "(none)";
    }
    int n = snprintf(changed + *used, changed_size - *used, "%s%s=%s", *used ? ", " : "", key,
                     shown);
    *used += n > 0 && (size_t) n < changed_size - *used ? (size_t) n : 0;
    return 0;
}

int lk_cluster_settings_apply(struct lk_cluster_settings *settings, const json_t *changes,
                              char *changed, size_t changed_size, char *err, size_t err_size)
{
    struct lk_cluster_settings next = *settings;
    size_t used = 0;
    const char *key;
    json_t *v;
    changed[0] = '\0';
    if (!json_is_object(changes)) {
        snprintf(err, err_size, "malformed cluster settings");
        return -EINVAL;
    }
    char *cur = malloc(LK_SETTING_VALUE_MAX);
    if (!cur) {
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    int r = 0;
    json_object_foreach((json_t *) (uintptr_t) changes, key, v)
    {
        r = apply_one(&next, key, v, cur, changed, changed_size, &used, err, err_size);
        if (r < 0) {
            break;
        }
    }
    sodium_memzero(cur, LK_SETTING_VALUE_MAX);
    free(cur);
    if (r == 0) {
        *settings = next;
    }
    return r;
}
