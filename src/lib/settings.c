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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#define DEFAULT_HB_INTERVAL_MS  200
#define DEFAULT_HB_MISSES       3
#define DEFAULT_FAILOVER_WINDOW 21600
#define DEFAULT_MIN_PROTOCOL    1 /* protocol 1 peers (authenticated, not encrypted) allowed */
#define MAX_FAILOVERS_MAX       1000
#define FAILOVER_WINDOW_MAX     31536000 /* one year */
#define ADDRESS_EXPECTED        "expected IPV4:PORT or [IPV6]:PORT"
#define FENCE_SCRIPT_SIZE       sizeof(((struct lk_cluster_settings *) NULL)->fence_script)
#define NO_HOST_NAMES           "host names are not accepted: a cluster must not depend on DNS"

const char *const lk_cluster_settings_keys[] = {
        KEY_HB_INTERVAL,  KEY_HB_MISSES,     KEY_QUORUM,          KEY_QUORUM_LOSS,  KEY_WITNESS,
        KEY_FENCE_SCRIPT, KEY_MAX_FAILOVERS, KEY_FAILOVER_WINDOW, KEY_MIN_PROTOCOL, NULL,
};
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
    char va[sizeof(a->fence_script)], vb[sizeof(b->fence_script)];
    for (size_t i = 0; lk_cluster_settings_keys[i]; i++) {
        const char *key = lk_cluster_settings_keys[i];
        (void) lk_cluster_settings_get(a, key, va, sizeof(va));
        (void) lk_cluster_settings_get(b, key, vb, sizeof(vb));
        if (strcmp(va, vb) != 0) {
            if (what && size > 0) {
                snprintf(what, size, "%s", key);
            }
            return false;
        }
    }
    if (what && size > 0) {
        what[0] = '\0';
    }
    return true;
}

/* JSON */

json_t *lk_cluster_settings_json(const struct lk_cluster_settings *s)
{
    json_t *obj = json_object();
    char buf[1100];
    for (size_t i = 0; obj && lk_cluster_settings_keys[i]; i++) {
        const char *v = lk_cluster_settings_get(s, lk_cluster_settings_keys[i], buf, sizeof(buf));
        json_object_set_new(obj, lk_cluster_settings_keys[i], json_string(v ? v : ""));
    }
    return obj;
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
    json_object_foreach((json_t *) (uintptr_t) changes, key, v)
    {
        char cur[1100];
        const char *now = lk_cluster_settings_get(&next, key, cur, sizeof(cur));
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
            continue;
        }
        if (lk_cluster_settings_set(&next, key, json_string_value(v), err, err_size) < 0) {
            return -EINVAL;
        }
        int n = snprintf(changed + used, changed_size - used, "%s%s=%s", used ? ", " : "", key,
                         json_string_value(v));
        used += n > 0 && (size_t) n < changed_size - used ? (size_t) n : 0;
    }
    *settings = next;
    return 0;
}
