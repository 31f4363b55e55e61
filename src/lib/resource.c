/* Names and defaults of the resource model: one table per enum, so that the store, the
 * protocol and the commands spell every value the same way. */
#include "resource.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "inslist.h"

void lk_settings_init(struct lk_settings *s)
{
    memset(s, 0, sizeof(*s));
    s->quickchk_interval_usec = 10 * 1000000ULL;
    s->deepchk_interval_usec = 60 * 1000000ULL;
    s->action_timeout_usec = 300 * 1000000ULL;
    s->recovery_window_usec = 600 * 1000000ULL;
    s->check_failures = 1;
    s->max_recoveries = 3;
    s->local_recovery = true;
    s->monitor = true;
    s->switchback = LK_SWITCHBACK_INTELLIGENT;
    s->monitor_timeout_action = LK_TIMEOUT_ACTION_IGNORE;
    s->init = LK_INIT_AUTORES_ISP;
    s->watch = LK_WATCH_CGROUP;
    s->kill_mode = LK_KILL_CONTROL_GROUP;
    s->script_args = LK_SCRIPT_ARGS_NONE;
}

static int from_table(const char *const *names, int count, const char *name, bool any_case)
{
    if (!name) {
        return -EINVAL;
    }
    for (int i = 0; i < count; i++) {
        if (any_case ? strcasecmp(name, names[i]) == 0 : strcmp(name, names[i]) == 0) {
            return i;
        }
    }
    return -EINVAL;
}

static const char *const state_names[LK_STATE_COUNT] = {"ISP", "ISU", "OSU", "OSF"};

const char *lk_state_name(enum lk_state state)
{
    return state < LK_STATE_COUNT ? state_names[state] : "ILLSTATE";
}

int lk_state_from_name(const char *name, enum lk_state *ret_state)
{
    int r = from_table(state_names, LK_STATE_COUNT, name, false);
    if (r < 0) {
        return r;
    }
    *ret_state = (enum lk_state) r;
    return 0;
}

bool lk_state_in_service(enum lk_state state)
{
    return state == LK_STATE_ISP || state == LK_STATE_ISU;
}

static const char *const pending_names[LK_PENDING_COUNT] = {
        "",        "restore",      "remove",      "probe",       "cleanup",
        "recover", "restore-wait", "remove-wait", "fail-remove", "fail-remove-wait"};

const char *lk_pending_name(enum lk_pending pending)
{
    return pending < LK_PENDING_COUNT ? pending_names[pending] : "";
}

int lk_pending_from_name(const char *name, enum lk_pending *ret_pending)
{
    int r = from_table(pending_names, LK_PENDING_COUNT, name, false);
    if (r < 0) {
        return r;
    }
    *ret_pending = (enum lk_pending) r;
    return 0;
}

static const char *const init_names[LK_INIT_COUNT] = {"AUTORES_ISP", "INIT_ISP", "INIT_OSU"};

const char *lk_init_name(enum lk_init init)
{
    return init < LK_INIT_COUNT ? init_names[init] : "";
}

int lk_init_from_name(const char *name, enum lk_init *ret_init)
{
    int r = from_table(init_names, LK_INIT_COUNT, name, true);
    if (r < 0) {
        return r;
    }
    *ret_init = (enum lk_init) r;
    return 0;
}

static const char *const switchback_names[LK_SWITCHBACK_COUNT] = {"INTELLIGENT", "AUTOMATIC"};

const char *lk_switchback_name(enum lk_switchback switchback)
{
    return switchback < LK_SWITCHBACK_COUNT ? switchback_names[switchback] : "";
}

int lk_switchback_from_name(const char *name, enum lk_switchback *ret_switchback)
{
    int r = from_table(switchback_names, LK_SWITCHBACK_COUNT, name, true);
    if (r < 0) {
        return r;
    }
    *ret_switchback = (enum lk_switchback) r;
    return 0;
}

static const char *const timeout_action_names[LK_TIMEOUT_ACTION_COUNT] = {"ignore", "fail"};

const char *lk_timeout_action_name(enum lk_timeout_action action)
{
    return action < LK_TIMEOUT_ACTION_COUNT ? timeout_action_names[action] : "";
}

int lk_timeout_action_from_name(const char *name, enum lk_timeout_action *ret_action)
{
    int r = from_table(timeout_action_names, LK_TIMEOUT_ACTION_COUNT, name, false);
    if (r < 0) {
        return r;
    }
    *ret_action = (enum lk_timeout_action) r;
    return 0;
}

static const char *const watch_names[LK_WATCH_COUNT] = {"cgroup", "pidfile", "none"};

const char *lk_watch_name(enum lk_watch watch)
{
    return watch < LK_WATCH_COUNT ? watch_names[watch] : "";
}

int lk_watch_from_name(const char *name, enum lk_watch *ret_watch)
{
    int r = from_table(watch_names, LK_WATCH_COUNT, name, false);
    if (r < 0) {
        return r;
    }
    *ret_watch = (enum lk_watch) r;
    return 0;
}

static const char *const kill_mode_names[LK_KILL_MODE_COUNT] = {"control-group", "process", "none"};

const char *lk_kill_mode_name(enum lk_kill_mode mode)
{
    return mode < LK_KILL_MODE_COUNT ? kill_mode_names[mode] : "";
}

int lk_kill_mode_from_name(const char *name, enum lk_kill_mode *ret_mode)
{
    int r = from_table(kill_mode_names, LK_KILL_MODE_COUNT, name, false);
    if (r < 0) {
        return r;
    }
    *ret_mode = (enum lk_kill_mode) r;
    return 0;
}

static const char *const script_args_names[LK_SCRIPT_ARGS_COUNT] = {"none", "lifekeeper"};

const char *lk_script_args_name(enum lk_script_args args)
{
    return args < LK_SCRIPT_ARGS_COUNT ? script_args_names[args] : "";
}

int lk_script_args_from_name(const char *name, enum lk_script_args *ret_args)
{
    int r = from_table(script_args_names, LK_SCRIPT_ARGS_COUNT, name, false);
    if (r < 0) {
        return r;
    }
    *ret_args = (enum lk_script_args) r;
    return 0;
}

const char *const lk_settings_keys[] = {
        "quickchk-interval",
        "deepchk-interval",
        "quickchk-timeout",
        "deepchk-timeout",
        "check-failures",
        "local-recovery",
        "max-recoveries",
        "recovery-window",
        "switchback",
        "monitor-timeout-action",
        "action-timeout",
        "start-grace",
        "pidfile",
        "monitor",
        "init",
        "watch",
        "kill-mode",
        "quickchk-check",
        "deepchk-check",
        "script-args",
        NULL,
};

#define SEC 1000000ULL
#define DAY (86400 * SEC)

static int parse_onoff(const char *value, bool *ret)
{
    if (strcmp(value, "on") == 0 || strcmp(value, "1") == 0 || strcmp(value, "yes") == 0) {
        *ret = true;
        return 0;
    }
    if (strcmp(value, "off") == 0 || strcmp(value, "0") == 0 || strcmp(value, "no") == 0) {
        *ret = false;
        return 0;
    }
    return -EINVAL;
}

/* The refusal of a value that names none of a setting's choices; the value is quoted only
 * when it is printable, so that the message stays one line. Returns -EINVAL. */
static int bad_choice(const char *key, const char *value, const char *expected, char *err,
                      size_t err_size)
{
    for (const char *p = value; *p; p++) {
        if ((unsigned char) *p < 0x20 || *p == 0x7f) {
            snprintf(err, err_size, "invalid %s: contains a control character; expected %s", key,
                     expected);
            return -EINVAL;
        }
    }
    snprintf(err, err_size, "invalid %s '%s': expected %s", key, value, expected);
    return -EINVAL;
}

static int seconds(const char *key, const char *value, uint64_t min, uint64_t max, bool allow_zero,
                   uint64_t *ret, char *err, size_t err_size)
{
    int r = lk_parse_seconds(value, min, max, allow_zero, ret);
    if (r < 0) {
        char lo[32], hi[32];
        lk_format_seconds(min, lo, sizeof(lo));
        lk_format_seconds(max, hi, sizeof(hi));
        char expected[96];
        snprintf(expected, sizeof(expected), "seconds from %s to %s%s", lo, hi,
                 allow_zero ? ", or 0" : "");
        (void) bad_choice(key, value, expected, err, err_size);
    }
    return r < 0 ? -EINVAL : 0;
}

static int count(const char *key, const char *value, uint64_t min, uint64_t max, uint32_t *ret,
                 char *err, size_t err_size)
{
    uint64_t v;
    if (lk_parse_uint(value, min, max, &v) < 0) {
        char expected[96];
        snprintf(expected, sizeof(expected), "a whole number from %llu to %llu",
                 (unsigned long long) min, (unsigned long long) max);
        (void) bad_choice(key, value, expected, err, err_size);
        return -EINVAL;
    }
    *ret = (uint32_t) v;
    return 0;
}

/* Whether s is UTF-8 as JSON carries it (no overlong form, no surrogate, at most
 * U+10FFFF): a value the protocol cannot carry would make a resource that cannot be
 * shown or replicated. */
static bool utf8_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *) s;
    while (*p) {
        unsigned char c = *p;
        size_t n = c < 0x80             ? 0
                   : (c & 0xe0) == 0xc0 ? 1
                   : (c & 0xf0) == 0xe0 ? 2
                   : (c & 0xf8) == 0xf0 ? 3
                                        : 4;
        if (n == 4 || (n == 1 && c < 0xc2) || (n == 3 && c > 0xf4)) {
            return false;
        }
        uint32_t cp = n == 0 ? c : c & (0x3f >> n);
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80) {
                return false;
            }
            cp = cp << 6 | (p[i] & 0x3f);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (n == 3 && (cp < 0x10000 || cp > 0x10ffff))) {
            return false;
        }
        p += n + 1;
    }
    return true;
}

int lk_settings_set(struct lk_settings *s, const char *key, const char *value, char *err,
                    size_t err_size)
{
    if (!key || !value) {
        snprintf(err, err_size, "missing setting name or value");
        return -EINVAL;
    }
    if (strcmp(key, "quickchk-interval") == 0) {
        return seconds(key, value, SEC / 10, DAY, true, &s->quickchk_interval_usec, err, err_size);
    }
    if (strcmp(key, "deepchk-interval") == 0) {
        return seconds(key, value, SEC / 10, DAY, true, &s->deepchk_interval_usec, err, err_size);
    }
    if (strcmp(key, "quickchk-timeout") == 0) {
        return seconds(key, value, SEC / 10, DAY, true, &s->quickchk_timeout_usec, err, err_size);
    }
    if (strcmp(key, "deepchk-timeout") == 0) {
        return seconds(key, value, SEC / 10, DAY, true, &s->deepchk_timeout_usec, err, err_size);
    }
    if (strcmp(key, "action-timeout") == 0) {
        return seconds(key, value, SEC / 10, 7 * DAY, true, &s->action_timeout_usec, err, err_size);
    }
    if (strcmp(key, "start-grace") == 0) {
        return seconds(key, value, SEC / 10, DAY, true, &s->start_grace_usec, err, err_size);
    }
    if (strcmp(key, "recovery-window") == 0) {
        return seconds(key, value, SEC, 7 * DAY, false, &s->recovery_window_usec, err, err_size);
    }
    if (strcmp(key, "check-failures") == 0) {
        return count(key, value, 1, 1000, &s->check_failures, err, err_size);
    }
    if (strcmp(key, "max-recoveries") == 0) {
        return count(key, value, 0, LK_RECOVERY_HISTORY, &s->max_recoveries, err, err_size);
    }
    if (strcmp(key, "local-recovery") == 0 || strcmp(key, "monitor") == 0) {
        bool *target = key[0] == 'l' ? &s->local_recovery : &s->monitor;
        if (parse_onoff(value, target) < 0) {
            return bad_choice(key, value, "on or off", err, err_size);
        }
        return 0;
    }
    if (strcmp(key, "switchback") == 0) {
        if (lk_switchback_from_name(value, &s->switchback) < 0) {
            return bad_choice(key, value, "intelligent or automatic", err, err_size);
        }
        return 0;
    }
    if (strcmp(key, "monitor-timeout-action") == 0) {
        if (lk_timeout_action_from_name(value, &s->monitor_timeout_action) < 0) {
            return bad_choice(key, value, "ignore or fail", err, err_size);
        }
        return 0;
    }
    if (strcmp(key, "init") == 0) {
        if (lk_init_from_name(value, &s->init) < 0) {
            return bad_choice(key, value, "AUTORES_ISP, INIT_ISP or INIT_OSU", err, err_size);
        }
        return 0;
    }
    if (strcmp(key, "pidfile") == 0) {
        size_t len = strlen(value);
        /* Control characters first: the message below quotes the value. */
        for (size_t i = 0; i < len; i++) {
            if ((unsigned char) value[i] < 0x20 || value[i] == 0x7f) {
                snprintf(err, err_size, "invalid pidfile: contains a control character");
                return -EINVAL;
            }
        }
        if (len > 0 && (value[0] != '/' || len >= sizeof(s->pidfile))) {
            snprintf(err, err_size, "invalid pidfile '%s': expected an absolute path", value);
            return -EINVAL;
        }
        if (!utf8_ok(value)) {
            snprintf(err, err_size, "invalid pidfile: not UTF-8 text");
            return -EINVAL;
        }
        snprintf(s->pidfile, sizeof(s->pidfile), "%s", value);
        return 0;
    }
    if (strcmp(key, "watch") == 0) {
        if (lk_watch_from_name(value, &s->watch) < 0) {
            return bad_choice(key, value, "cgroup, pidfile or none", err, err_size);
        }
        return 0;
    }
    if (strcmp(key, "kill-mode") == 0) {
        if (lk_kill_mode_from_name(value, &s->kill_mode) < 0) {
            return bad_choice(key, value, "control-group, process or none", err, err_size);
        }
        return 0;
    }
    if (strcmp(key, "quickchk-check") == 0 || strcmp(key, "deepchk-check") == 0) {
        struct lk_checkspec spec;
        char why[LK_REASON_MAX];
        if (lk_checkspec_parse(value, &spec, why, sizeof(why)) < 0) {
            snprintf(err, err_size, "%s: %s", key, why);
            return -EINVAL;
        }
        char *dst = key[0] == 'q' ? s->quickchk_check : s->deepchk_check;
        snprintf(dst, LK_CHECKSPEC_MAX + 1, "%s", value);
        return 0;
    }
    if (strcmp(key, "script-args") == 0) {
        if (lk_script_args_from_name(value, &s->script_args) < 0) {
            return bad_choice(key, value, "none or lifekeeper", err, err_size);
        }
        return 0;
    }
    bool printable = true;
    for (const char *p = key; *p; p++) {
        printable = printable && (unsigned char) *p >= 0x20 && *p != 0x7f;
    }
    if (printable) {
        snprintf(err, err_size, "unknown setting '%s'", key);
    } else {
        snprintf(err, err_size, "unknown setting: its name contains a control character");
    }
    return -ENOENT;
}

int lk_settings_check(const struct lk_settings *s, char *err, size_t err_size)
{
    if (s->watch == LK_WATCH_PIDFILE && !s->pidfile[0]) {
        snprintf(err, err_size, "watch pidfile needs --pidfile");
        return -EINVAL;
    }
    return 0;
}

const char *lk_settings_get(const struct lk_settings *s, const char *key, char *buf, size_t size)
{
    if (!key || !buf || size == 0) {
        return NULL;
    }
    const uint64_t *usec = strcmp(key, "quickchk-interval") == 0  ? &s->quickchk_interval_usec
                           : strcmp(key, "deepchk-interval") == 0 ? &s->deepchk_interval_usec
                           : strcmp(key, "quickchk-timeout") == 0 ? &s->quickchk_timeout_usec
                           : strcmp(key, "deepchk-timeout") == 0  ? &s->deepchk_timeout_usec
                           : strcmp(key, "action-timeout") == 0   ? &s->action_timeout_usec
                           : strcmp(key, "start-grace") == 0      ? &s->start_grace_usec
                           : strcmp(key, "recovery-window") == 0  ? &s->recovery_window_usec
                                                                  : NULL;
    if (usec) {
        return lk_format_seconds(*usec, buf, size);
    }
    if (strcmp(key, "check-failures") == 0 || strcmp(key, "max-recoveries") == 0) {
        snprintf(buf, size, "%u", key[0] == 'c' ? s->check_failures : s->max_recoveries);
    } else if (strcmp(key, "local-recovery") == 0 || strcmp(key, "monitor") == 0) {
        snprintf(buf, size, "%s", (key[0] == 'l' ? s->local_recovery : s->monitor) ? "on" : "off");
    } else if (strcmp(key, "switchback") == 0) {
        snprintf(buf, size, "%s",
                 s->switchback == LK_SWITCHBACK_AUTOMATIC ? "automatic" : "intelligent");
    } else if (strcmp(key, "monitor-timeout-action") == 0) {
        snprintf(buf, size, "%s", lk_timeout_action_name(s->monitor_timeout_action));
    } else if (strcmp(key, "init") == 0) {
        snprintf(buf, size, "%s", lk_init_name(s->init));
    } else if (strcmp(key, "pidfile") == 0) {
        snprintf(buf, size, "%s", s->pidfile);
    } else if (strcmp(key, "watch") == 0) {
        snprintf(buf, size, "%s", lk_watch_name(s->watch));
    } else if (strcmp(key, "kill-mode") == 0) {
        snprintf(buf, size, "%s", lk_kill_mode_name(s->kill_mode));
    } else if (strcmp(key, "quickchk-check") == 0) {
        snprintf(buf, size, "%s", s->quickchk_check);
    } else if (strcmp(key, "deepchk-check") == 0) {
        snprintf(buf, size, "%s", s->deepchk_check);
    } else if (strcmp(key, "script-args") == 0) {
        snprintf(buf, size, "%s", lk_script_args_name(s->script_args));
    } else {
        return NULL;
    }
    return buf;
}

const char *lk_settings_effective(const struct lk_settings *s, const char *key, char *buf,
                                  size_t size)
{
    if (key && strcmp(key, "quickchk-timeout") == 0 && s->quickchk_timeout_usec == 0) {
        return lk_format_seconds(s->quickchk_interval_usec ? s->quickchk_interval_usec
                                                           : s->action_timeout_usec,
                                 buf, size);
    }
    if (key && strcmp(key, "deepchk-timeout") == 0 && s->deepchk_timeout_usec == 0) {
        return lk_format_seconds(s->deepchk_interval_usec ? 2 * s->deepchk_interval_usec
                                                          : s->action_timeout_usec,
                                 buf, size);
    }
    return lk_settings_get(s, key, buf, size);
}

bool lk_settings_is_default(const struct lk_settings *s, const char *key)
{
    struct lk_settings d;
    lk_settings_init(&d);
    char a[LK_PIDFILE_MAX], b[LK_PIDFILE_MAX];
    const char *va = lk_settings_get(s, key, a, sizeof(a));
    const char *vb = lk_settings_get(&d, key, b, sizeof(b));
    return va && vb && strcmp(va, vb) == 0;
}

const char *lk_resource_builtin_check(const struct lk_resource *res, enum lk_action action)
{
    const char *spec = action == LK_ACTION_QUICKCHK  ? res->settings.quickchk_check
                       : action == LK_ACTION_DEEPCHK ? res->settings.deepchk_check
                                                     : NULL;
    return spec && spec[0] ? spec : NULL;
}

bool lk_resource_has_check(const struct lk_resource *res, enum lk_action action)
{
    return ((unsigned) action < LK_ACTION_COUNT && res->has_script[action]) ||
           lk_resource_builtin_check(res, action) != NULL;
}

uint32_t lk_resource_recoveries_in_window(const struct lk_resource *res, uint64_t now_usec)
{
    uint32_t n = 0;
    uint64_t window = res->settings.recovery_window_usec;
    for (uint32_t i = 0; i < LK_RECOVERY_HISTORY; i++) {
        uint64_t at = res->recovery_at_usec[i];
        if (at != 0 && at <= now_usec && now_usec - at < window) {
            n++;
        }
    }
    return n;
}

void lk_resource_note_recovery(struct lk_resource *res, uint64_t now_usec)
{
    res->recovery_at_usec[res->recovery_head % LK_RECOVERY_HISTORY] = now_usec ? now_usec : 1;
    res->recovery_head = (res->recovery_head + 1) % LK_RECOVERY_HISTORY;
}

enum lk_state lk_resource_in_service_state(const struct lk_resource *res)
{
    return res->settings.monitor ? LK_STATE_ISP : LK_STATE_ISU;
}
