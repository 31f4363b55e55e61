/* Building and serializing the local protocol's messages (see proto.h for the shape). */
#include "proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inslist.h"
#include "resource.h"

json_t *lk_proto_request(const char *cmd, json_t *args)
{
    return json_pack("{s:i, s:s, s:o}", LK_KEY_VERSION, LK_PROTO_VERSION, LK_KEY_CMD, cmd,
                     LK_KEY_ARGS, args ? args : json_object());
}

json_t *lk_proto_request_on(const char *cmd, json_t *args, const char *node)
{
    json_t *req = lk_proto_request(cmd, args);
    if (req && node && node[0] && json_object_set_new(req, LK_KEY_NODE, json_string(node)) < 0) {
        json_decref(req);
        return NULL;
    }
    return req;
}

json_t *lk_proto_ok(json_t *data)
{
    return json_pack("{s:i, s:b, s:o}", LK_KEY_VERSION, LK_PROTO_VERSION, LK_KEY_OK, 1, LK_KEY_DATA,
                     data ? data : json_object());
}

json_t *lk_proto_error(int code, const char *error)
{
    return json_pack("{s:i, s:b, s:i, s:s}", LK_KEY_VERSION, LK_PROTO_VERSION, LK_KEY_OK, 0,
                     LK_KEY_CODE, code, LK_KEY_ERROR, error);
}

json_t *lk_proto_progress(const char *text)
{
    return json_pack("{s:i, s:s}", LK_KEY_VERSION, LK_PROTO_VERSION, LK_KEY_PROGRESS, text);
}

char *lk_proto_dump(const json_t *msg)
{
    char *s = json_dumps(msg, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (!s) {
        return NULL;
    }
    size_t len = strlen(s);
    char *line = realloc(s, len + 2);
    if (!line) {
        free(s);
        return NULL;
    }
    line[len] = '\n';
    line[len + 1] = '\0';
    return line;
}

json_t *lk_proto_resource_json(const struct lk_resource *res)
{
    const struct lk_settings *s = &res->settings;
    char qi[32], di[32], qt[32], dt[32], at[32], sg[32], rw[32];
    json_t *scripts = json_array();
    for (int a = 0; scripts && a < LK_ACTION_COUNT; a++) {
        if (res->has_script[a]) {
            json_array_append_new(scripts, json_string(lk_action_name((enum lk_action) a)));
        }
    }
    return json_pack(
            "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:i, s:i, s:b, s:o, s:{s:s, s:s, s:s, "
            "s:s, s:s, s:s, s:s, s:i, s:i, s:b, s:b, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}}",
            "tag", res->tag, "id", res->id, "app", res->app, "type", res->type, "info", res->info,
            "state", lk_state_name(res->state), "reason", res->reason, "pending",
            lk_pending_name(res->pending), "target_in_service", res->target_in_service,
            "check_failures_in_row", (int) res->check_failures_in_row, "local_recoveries",
            (int) res->local_recoveries, "stop_failed", res->stop_failed, "scripts", scripts,
            "settings", "quickchk-interval",
            lk_format_seconds(s->quickchk_interval_usec, qi, sizeof(qi)), "deepchk-interval",
            lk_format_seconds(s->deepchk_interval_usec, di, sizeof(di)), "quickchk-timeout",
            lk_format_seconds(s->quickchk_timeout_usec, qt, sizeof(qt)), "deepchk-timeout",
            lk_format_seconds(s->deepchk_timeout_usec, dt, sizeof(dt)), "action-timeout",
            lk_format_seconds(s->action_timeout_usec, at, sizeof(at)), "start-grace",
            lk_format_seconds(s->start_grace_usec, sg, sizeof(sg)), "recovery-window",
            lk_format_seconds(s->recovery_window_usec, rw, sizeof(rw)), "check-failures",
            (int) s->check_failures, "max-recoveries", (int) s->max_recoveries, "local-recovery",
            s->local_recovery, "monitor", s->monitor, "switchback",
            lk_switchback_name(s->switchback), "monitor-timeout-action",
            lk_timeout_action_name(s->monitor_timeout_action), "init", lk_init_name(s->init),
            "pidfile", s->pidfile, "watch", lk_watch_name(s->watch), "kill-mode",
            lk_kill_mode_name(s->kill_mode), "quickchk-check", s->quickchk_check, "deepchk-check",
            s->deepchk_check, "script-args", lk_script_args_name(s->script_args));
}

json_t *lk_proto_resource_view_json(const struct lk_resource *res)
{
    json_t *obj = lk_proto_resource_json(res);
    json_t *effective = json_object();
    json_t *defaults = json_array();
    char buf[LK_PIDFILE_MAX];
    for (size_t i = 0; obj && effective && defaults && lk_settings_keys[i]; i++) {
        const char *key = lk_settings_keys[i];
        const char *v = lk_settings_effective(&res->settings, key, buf, sizeof(buf));
        json_object_set_new(effective, key, json_string(v ? v : ""));
        if (lk_settings_is_default(&res->settings, key)) {
            json_array_append_new(defaults, json_string(key));
        }
    }
    if (obj) {
        json_object_set_new(obj, "effective", effective);
        json_object_set_new(obj, "defaults", defaults);
    } else {
        json_decref(effective);
        json_decref(defaults);
    }
    return obj;
}

static int copy_str(const json_t *obj, const char *key, char *dst, size_t size)
{
    const char *v = json_string_value(json_object_get(obj, key));
    if (!v || strlen(v) >= size) {
        return -EINVAL;
    }
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

int lk_proto_resource_parse(const json_t *obj, struct lk_resource *res)
{
    memset(res, 0, sizeof(*res));
    lk_settings_init(&res->settings);
    char state[8], pending[24], err[256];
    if (!json_is_object(obj) || copy_str(obj, "tag", res->tag, sizeof(res->tag)) < 0 ||
        copy_str(obj, "id", res->id, sizeof(res->id)) < 0 ||
        copy_str(obj, "app", res->app, sizeof(res->app)) < 0 ||
        copy_str(obj, "type", res->type, sizeof(res->type)) < 0 ||
        copy_str(obj, "info", res->info, sizeof(res->info)) < 0 ||
        copy_str(obj, "state", state, sizeof(state)) < 0 ||
        copy_str(obj, "reason", res->reason, sizeof(res->reason)) < 0 ||
        copy_str(obj, "pending", pending, sizeof(pending)) < 0 ||
        lk_state_from_name(state, &res->state) < 0 ||
        lk_pending_from_name(pending, &res->pending) < 0) {
        return -EINVAL;
    }
    res->target_in_service = json_is_true(json_object_get(obj, "target_in_service"));
    res->check_failures_in_row =
            (uint32_t) json_integer_value(json_object_get(obj, "check_failures_in_row"));
    res->local_recoveries = (uint32_t) json_integer_value(json_object_get(obj, "local_recoveries"));
    const json_t *scripts = json_object_get(obj, "scripts");
    size_t i;
    const json_t *v;
    json_array_foreach(scripts, i, v)
    {
        enum lk_action a = lk_action_from_name(json_string_value(v));
        if (a != LK_ACTION_NONE) {
            res->has_script[a] = true;
        }
    }
    json_t *settings = json_object_get(obj, "settings");
    const char *key;
    json_object_foreach(settings, key, v)
    {
        char text[32];
        const char *value = json_string_value(v);
        if (json_is_integer(v)) {
            snprintf(text, sizeof(text), "%lld", (long long) json_integer_value(v));
            value = text;
        } else if (json_is_boolean(v)) {
            value = json_is_true(v) ? "on" : "off";
        }
        if (!value || lk_settings_set(&res->settings, key, value, err, sizeof(err)) < 0) {
            return -EINVAL;
        }
    }
    /* Settings missing from the object keep their defaults (a peer from before they
     * existed); the whole must still make sense. */
    return lk_settings_check(&res->settings, err, sizeof(err)) < 0 ? -EINVAL : 0;
}
