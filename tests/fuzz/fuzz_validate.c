/* libFuzzer target: the validators of what users and peers give (src/lib/validate.c,
 * the cluster settings and addresses of src/lib/settings.c, the resource settings and
 * names of src/lib/resource.c).
 *
 * Input: one byte picks the validator (below), the rest is its value; for the settings,
 * one more byte picks the key (a known one, or the value's text up to '=' as the key).
 *   0 tag   1 info   2 script   3 seconds   4 whole number   5 address
 *   6 cluster setting   7 resource setting   8 cluster settings as JSON   9 names
 * Invariants: every refusal is -EINVAL (-ERANGE for numbers, -ENOENT for an unknown
 * setting) with a one-line message, and changes nothing; an accepted value passes the
 * validator's own rule written out here (a tag's characters, a number's bounds, a
 * script's header) and survives its way back: a canonical address is its own canonical
 * form, a setting read back and set again is the same, seconds and numbers print and
 * parse to the same value, a name parses back to the same value. */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "action.h"
#include "fuzz.h"
#include "inslist.h"
#include "proto.h"
#include "resource.h"
#include "settings.h"
#include "validate.h"

#define ERR_SIZE 2048

/* A refusal: -EINVAL, one line, and UTF-8 a reply can carry when what was given was
 * (given: the value and the key, NULL when not text). */
static void refusal(int r, const char *err, const char *given, const char *key)
{
    FUZZ_CHECK(r == -EINVAL, "error %d", r);
    FUZZ_CHECK(err[0] != '\0', "a refusal without a message");
    FUZZ_CHECK(fuzz_one_line(err), "a message of more than one line: '%s'", err);
    if ((!given || fuzz_utf8(given)) && (!key || fuzz_utf8(key))) {
        FUZZ_CHECK(fuzz_utf8(err), "a message a reply cannot carry: '%s'", err);
    }
}

static void tag(const char *s)
{
    char err[ERR_SIZE] = "";
    int r = lk_validate_tag(s, "tag", err, sizeof(err));
    if (r < 0) {
        refusal(r, err, s, NULL);
        return;
    }
    size_t len = strlen(s);
    FUZZ_CHECK(len >= 1 && len <= LK_TAG_MAX, "tag of %zu bytes", len);
    FUZZ_CHECK(strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
                       len,
               "tag '%s' has another character", s);
    FUZZ_CHECK(s[0] != '.' && s[0] != '-', "tag '%s' starts with '%c'", s, s[0]);
    FUZZ_CHECK(lk_validate_tag(s, "id", err, sizeof(err)) == 0, "a tag refused as an id");
}

static void info(const char *s)
{
    char err[ERR_SIZE] = "";
    int r = lk_validate_info(s, err, sizeof(err));
    if (r < 0) {
        refusal(r, err, s, NULL);
        return;
    }
    FUZZ_CHECK(strlen(s) <= LK_INFO_MAX, "info too long");
    for (const char *p = s; *p; p++) {
        FUZZ_CHECK((unsigned char) *p >= 0x20 && *p != 0x7f, "control character in info");
    }
}

static void script(const uint8_t *data, size_t size)
{
    char err[ERR_SIZE] = "";
    int r = lk_validate_script(data, size, err, sizeof(err));
    bool want = size >= 1 && size <= LK_SCRIPT_MAX_SIZE &&
                ((size >= 2 && data[0] == '#' && data[1] == '!') || (size >= 4 && memcmp(data,
                                                                                         "\x7f"
                                                                                         "ELF",
                                                                                         4) == 0));
    FUZZ_CHECK((r == 0) == want, "script of %zu bytes: %d", size, r);
    if (r < 0) {
        refusal(r, err, NULL, NULL);
    }
}

static const uint64_t bounds[][2] = {
        {100000, 86400000000ULL}, {1000000, 7 * 86400000000ULL}, {0, UINT64_MAX}, {1, 1}, {5, 3}};

static void seconds(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return;
    }
    const uint64_t *b = bounds[data[0] % (sizeof(bounds) / sizeof(bounds[0]))];
    bool allow_zero = data[0] & 0x80;
    char *s = fuzz_strndup(data + 1, size - 1);
    uint64_t v = 0xdeadbeef;
    int r = lk_parse_seconds(s, b[0], b[1], allow_zero, &v);
    if (r < 0) {
        FUZZ_CHECK(r == -EINVAL || r == -ERANGE, "error %d", r);
        FUZZ_CHECK(v == 0xdeadbeef, "a refused duration was written");
    } else {
        FUZZ_CHECK((v >= b[0] && v <= b[1]) || (v == 0 && allow_zero), "%llu out of bounds",
                   (unsigned long long) v);
        char text[64];
        lk_format_seconds(v, text, sizeof(text));
        uint64_t w = 0;
        FUZZ_CHECK(lk_parse_seconds(text, b[0], b[1], allow_zero, &w) == 0 && w == v,
                   "'%s' is %llu µs, printed '%s' is %llu", s, (unsigned long long) v, text,
                   (unsigned long long) w);
    }
    free(s);
}

static void whole(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return;
    }
    const uint64_t *b = bounds[data[0] % (sizeof(bounds) / sizeof(bounds[0]))];
    char *s = fuzz_strndup(data + 1, size - 1);
    uint64_t v = 0xdeadbeef;
    int r = lk_parse_uint(s, b[0], b[1], &v);
    if (r < 0) {
        FUZZ_CHECK(r == -EINVAL || r == -ERANGE, "error %d", r);
        FUZZ_CHECK(v == 0xdeadbeef, "a refused number was written");
    } else {
        FUZZ_CHECK(strspn(s, "0123456789") == strlen(s) && s[0], "'%s' accepted", s);
        FUZZ_CHECK(v >= b[0] && v <= b[1], "%llu out of bounds", (unsigned long long) v);
        char text[32];
        snprintf(text, sizeof(text), "%llu", (unsigned long long) v);
        uint64_t w = 0;
        FUZZ_CHECK(lk_parse_uint(text, b[0], b[1], &w) == 0 && w == v, "'%s' back", text);
    }
    free(s);
}

static void address(const char *s)
{
    char err[ERR_SIZE] = "", canon[LK_ADDR_MAX], again[LK_ADDR_MAX];
    for (int remote = 0; remote < 2; remote++) {
        err[0] = '\0';
        memset(canon, 0x5a, sizeof(canon));
        int r = lk_address_canonical(s, "address", remote, canon, err, sizeof(err));
        if (r < 0) {
            refusal(r, err, s, NULL);
            FUZZ_CHECK((unsigned char) canon[0] == 0x5a, "a refused address was written");
            continue;
        }
        FUZZ_CHECK(memchr(canon, '\0', sizeof(canon)) != NULL, "canonical form not terminated");
        FUZZ_CHECK(lk_address_parse(s, NULL, err, sizeof(err)) == 0, "canonical but not parsed");
        FUZZ_CHECK(lk_address_canonical(canon, "address", remote, again, err, sizeof(err)) == 0,
                   "canonical '%s' of '%s' refused: %s", canon, s, err);
        FUZZ_CHECK(strcmp(canon, again) == 0, "'%s' then '%s'", canon, again);
    }
}

/* The key at data[0] (one of keys, or the text up to '=' in the rest), the value after. */
static void split_key(const uint8_t *data, size_t size, const char *const *keys, size_t nkeys,
                      char **ret_key, char **ret_value)
{
    char *rest = fuzz_strndup(data + 1, size - 1);
    size_t pick = data[0] % (nkeys + 1);
    if (pick < nkeys) {
        *ret_key = strdup(keys[pick]);
        *ret_value = rest;
    } else {
        char *eq = strchr(rest, '=');
        *ret_value = strdup(eq ? eq + 1 : "");
        if (eq) {
            *eq = '\0';
        }
        *ret_key = rest;
    }
    FUZZ_CHECK(*ret_key && *ret_value, "strdup");
}

static void cluster_setting(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return;
    }
    char *key, *value;
    split_key(data, size, lk_cluster_settings_keys, LK_CLUSTER_SETTINGS_KEYS, &key, &value);
    struct lk_cluster_settings s, before, again;
    lk_cluster_settings_init(&s);
    before = s;
    char err[ERR_SIZE] = "";
    static char text[LK_SETTING_VALUE_MAX]; /* the alert hooks' text is long */
    int r = lk_cluster_settings_set(&s, key, value, err, sizeof(err));
    bool known = lk_cluster_settings_get(&s, key, text, sizeof(text)) != NULL;
    if (r < 0) {
        FUZZ_CHECK(memcmp(&s, &before, sizeof(s)) == 0, "a refused setting changed something");
        FUZZ_CHECK((r == -ENOENT) == !known, "'%s': %d", key, r);
        refusal(r == -ENOENT ? -EINVAL : r, err, value, key);
    } else {
        FUZZ_CHECK(known, "unknown key '%s' accepted", key);
        lk_cluster_settings_init(&again);
        FUZZ_CHECK(lk_cluster_settings_set(&again, key, text, err, sizeof(err)) == 0,
                   "%s '%s' read back as '%s' is refused: %s", key, value, text, err);
        FUZZ_CHECK(lk_cluster_settings_equal(&s, &again, err, sizeof(err)), "%s differs", err);
        FUZZ_CHECK(lk_cluster_settings_dead_ms(&s) >= LK_HB_INTERVAL_MIN * LK_HB_MISSES_MIN,
                   "dead time");
    }
    free(key);
    free(value);
}

static void resource_setting(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return;
    }
    size_t nkeys = 0;
    while (lk_settings_keys[nkeys]) {
        nkeys++;
    }
    char *key, *value;
    split_key(data, size, lk_settings_keys, nkeys, &key, &value);
    static struct lk_resource res, back;
    memset(&res, 0, sizeof(res));
    snprintf(res.tag, sizeof(res.tag), "app1");
    snprintf(res.id, sizeof(res.id), "app1");
    snprintf(res.app, sizeof(res.app), "gen");
    snprintf(res.type, sizeof(res.type), "app");
    lk_settings_init(&res.settings);
    struct lk_settings before = res.settings;
    char err[ERR_SIZE] = "";
    int r = lk_settings_set(&res.settings, key, value, err, sizeof(err));
    if (r < 0) {
        FUZZ_CHECK(memcmp(&res.settings, &before, sizeof(before)) == 0,
                   "a refused setting changed something");
        refusal(r == -ENOENT ? -EINVAL : r, err, value, key);
    } else {
        /* As the protocol carries it, and back. */
        json_t *j = lk_proto_resource_json(&res);
        FUZZ_CHECK(j != NULL, "a resource with '%s' = '%s' does not print", key, value);
        int p = lk_proto_resource_parse(j, &back);
        if (lk_settings_check(&res.settings, err, sizeof(err)) == 0) {
            FUZZ_CHECK(p == 0, "'%s' = '%s' does not parse back", key, value);
            json_t *k = lk_proto_resource_json(&back);
            FUZZ_CHECK(k && json_equal(j, k), "'%s' = '%s' changes on its way back", key, value);
            json_decref(k);
        } else {
            FUZZ_CHECK(p < 0, "settings that fail their check are parsed");
        }
        json_decref(j);
    }
    free(key);
    free(value);
}

static void cluster_json(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *changes = json_loadb((const char *) data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (!changes) {
        return;
    }
    struct lk_cluster_settings s, before, again;
    lk_cluster_settings_init(&s);
    before = s;
    char err[ERR_SIZE] = "", changed[ERR_SIZE];
    int r = lk_cluster_settings_apply(&s, changes, changed, sizeof(changed), err, sizeof(err));
    if (r < 0) {
        FUZZ_CHECK(memcmp(&s, &before, sizeof(s)) == 0, "refused settings changed something");
        refusal(r, err, NULL, NULL); /* JSON text: UTF-8 already */
    } else {
        FUZZ_CHECK(fuzz_one_line(changed), "changes of more than one line: '%s'", changed);
        json_t *j = lk_cluster_settings_json(&s);
        lk_cluster_settings_init(&again);
        FUZZ_CHECK(lk_cluster_settings_apply(&again, j, changed, sizeof(changed), err,
                                             sizeof(err)) == 0,
                   "settings as JSON refused: %s", err);
        FUZZ_CHECK(lk_cluster_settings_equal(&s, &again, err, sizeof(err)), "%s differs", err);
        json_decref(j);
    }
    json_decref(changes);
}

/* from_name(x) accepted: name(value) is x (ignoring case where the parser does). */
#define NAME_CHECK(type, from, to, any_case)                                                       \
    do {                                                                                           \
        type v;                                                                                    \
        if (from(s, &v) == 0) {                                                                    \
            const char *n = to(v);                                                                 \
            FUZZ_CHECK((any_case ? strcasecmp(n, s) : strcmp(n, s)) == 0, "%s -> %s", s, n);       \
        }                                                                                          \
    } while (0)

static void names(const char *s)
{
    NAME_CHECK(enum lk_state, lk_state_from_name, lk_state_name, false);
    NAME_CHECK(enum lk_pending, lk_pending_from_name, lk_pending_name, false);
    NAME_CHECK(enum lk_init, lk_init_from_name, lk_init_name, true);
    NAME_CHECK(enum lk_switchback, lk_switchback_from_name, lk_switchback_name, true);
    NAME_CHECK(enum lk_timeout_action, lk_timeout_action_from_name, lk_timeout_action_name, true);
    NAME_CHECK(enum lk_watch, lk_watch_from_name, lk_watch_name, true);
    NAME_CHECK(enum lk_kill_mode, lk_kill_mode_from_name, lk_kill_mode_name, true);
    enum lk_action a = lk_action_from_name(s);
    if (a != LK_ACTION_NONE) {
        FUZZ_CHECK(strcmp(lk_action_name(a), s) == 0, "action %s -> %s", s, lk_action_name(a));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    unsigned which = data[0] % 10;
    const uint8_t *rest = data + 1;
    size_t len = size - 1;
    char *s = NULL;
    switch (which) {
    case 0:
    case 1:
    case 5:
    case 9:
        s = fuzz_strndup(rest, len);
        if (which == 0) {
            tag(s);
        } else if (which == 1) {
            info(s);
        } else if (which == 5) {
            address(s);
        } else {
            names(s);
        }
        free(s);
        break;
    case 2:
        script(rest, len);
        break;
    case 3:
        seconds(rest, len);
        break;
    case 4:
        whole(rest, len);
        break;
    case 6:
        cluster_setting(rest, len);
        break;
    case 7:
        resource_setting(rest, len);
        break;
    default:
        cluster_json(rest, len);
        break;
    }
    return 0;
}
