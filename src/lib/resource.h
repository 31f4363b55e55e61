/* The model of one gen/app resource on one node: identity, settings, state.
 * Pure data and the tables that name its values; no I/O.
 *
 * Owner: the daemon's node view (node.c) owns every struct lk_resource; the engine only
 * reads them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "action.h"
#include "checkspec.h"
#include "validate.h"

enum lk_state {
    LK_STATE_ISP, /* in service, protected */
    LK_STATE_ISU, /* in service, unprotected */
    LK_STATE_OSU, /* out of service, unimpaired */
    LK_STATE_OSF, /* out of service, failed */
    LK_STATE_COUNT,
};

/* What the daemon is doing to a resource right now. Committed to the store before the
 * script starts, so that after a crash the daemon knows a run was cut short. */
enum lk_pending {
    LK_PENDING_NONE,
    LK_PENDING_RESTORE,
    LK_PENDING_REMOVE,
    LK_PENDING_PROBE,        /* a check run at start-up to learn whether the application runs */
    LK_PENDING_CLEANUP,      /* a remove before a restore, after a failed start-up probe */
    LK_PENDING_RECOVER,      /* the recover script, after a failed check */
    LK_PENDING_RESTORE_WAIT, /* to be restored once its children are in service */
    LK_PENDING_REMOVE_WAIT,  /* to be removed once its parents are out of service */
    /* The remove that follows a failure (check, restore, recover): the resource is OSF
     * already and stays OSF, but is not out of service here, nor its hierarchy free to go
     * elsewhere, until the remove has run. */
    LK_PENDING_FAIL_REMOVE,
    LK_PENDING_FAIL_REMOVE_WAIT, /* the same, queued until its parents are out of service */
    LK_PENDING_COUNT,
};

/* What happens to the resource when the daemon starts (LifeKeeper's names). */
enum lk_init {
    LK_INIT_AUTORES_ISP, /* bring it back in service if it was in service before */
    LK_INIT_INIT_ISP,    /* always bring it in service at start */
    LK_INIT_INIT_OSU,    /* never restore at start; a running application is still noticed */
    LK_INIT_COUNT,
};

enum lk_switchback {
    LK_SWITCHBACK_INTELLIGENT,
    LK_SWITCHBACK_AUTOMATIC,
    LK_SWITCHBACK_COUNT,
};

enum lk_timeout_action {
    LK_TIMEOUT_ACTION_IGNORE,
    LK_TIMEOUT_ACTION_FAIL,
    LK_TIMEOUT_ACTION_COUNT,
};

/* How the death of an in-service resource's application is noticed between checks. */
enum lk_watch {
    LK_WATCH_CGROUP,  /* its cgroup became empty (and the pidfile's process, if one is set) */
    LK_WATCH_PIDFILE, /* only the process of --pidfile (it shares a cgroup with others) */
    LK_WATCH_NONE,    /* the checks only */
    LK_WATCH_COUNT,
};

/* What is killed when a remove has run (systemd's KillMode vocabulary). */
enum lk_kill_mode {
    LK_KILL_CONTROL_GROUP, /* everything left in the resource's cgroup */
    LK_KILL_PROCESS,       /* only the remove script's process group, when it is aborted */
    LK_KILL_NONE,          /* nothing after remove */
    LK_KILL_MODE_COUNT,
};

/* Which arguments a gen/app resource's scripts are called with. */
enum lk_script_args {
    LK_SCRIPT_ARGS_NONE,       /* none: everything is in the environment (SPEC §3) */
    LK_SCRIPT_ARGS_LIFEKEEPER, /* LifeKeeper's `-t TAG -i ID`, as its gen/app scripts expect */
    LK_SCRIPT_ARGS_COUNT,
};

#define LK_REASON_MAX       512
#define LK_RECOVERY_HISTORY 100 /* also the largest max-recoveries */
#define LK_PATH_MAX         4096
#define LK_PIDFILE_MAX      1024 /* a pidfile path, NUL included */

/* Per-resource settings (SPEC §6 `resource config`). Durations in microseconds; a zero
 * check timeout means "derived from the interval" (quick × 1, deep × 2). */
struct lk_settings {
    uint64_t quickchk_interval_usec;
    uint64_t deepchk_interval_usec;
    uint64_t quickchk_timeout_usec;
    uint64_t deepchk_timeout_usec;
    uint64_t action_timeout_usec; /* restore/remove/recover; 0 = no limit */
    uint64_t start_grace_usec;
    uint64_t recovery_window_usec;
    uint32_t check_failures;
    uint32_t max_recoveries;
    bool local_recovery;
    bool monitor;
    enum lk_switchback switchback;
    enum lk_timeout_action monitor_timeout_action;
    enum lk_init init;
    char pidfile[LK_PIDFILE_MAX];
    enum lk_watch watch;
    enum lk_kill_mode kill_mode;
    /* Built-in checks (checkspec.h): run by lkd itself instead of the quickchk or deepchk
     * script; "" = none (the script, if any, runs). */
    char quickchk_check[LK_CHECKSPEC_MAX + 1];
    char deepchk_check[LK_CHECKSPEC_MAX + 1];
    /* The scripts' arguments; only types that run scripts take LIFEKEEPER (restype.h). */
    enum lk_script_args script_args;
};

struct lk_resource {
    char tag[LK_TAG_MAX + 1];
    char id[LK_TAG_MAX + 1];
    char app[LK_APP_MAX + 1];   /* "gen", "ocf" or "systemd": the type table's entry */
    char type[LK_TYPE_MAX + 1]; /* gen: "app"; ocf: the agent; systemd: the unit */
    char info[LK_INFO_MAX + 1];
    bool has_script[LK_ACTION_COUNT];
    struct lk_settings settings;

    /* This node's state of the resource. */
    enum lk_state state;
    char reason[LK_REASON_MAX];
    enum lk_pending pending;
    bool target_in_service; /* the operator's intent: in service unless removed by request */
    uint32_t check_failures_in_row;
    uint32_t local_recoveries; /* since the last reset */
    /* A remove of it failed: its application may still run here, so its hierarchy must
     * not be restored on another node until this node is fenced or an operator vouches
     * (resource reset) or a later remove succeeds. Persisted; sent to the peers. */
    bool stop_failed;
    /* Its type said it is not installed on this node (LK_VERDICT_NOT_INSTALLED): the node
     * is unable to run it, so placement never picks it. Persisted; sent to the peers;
     * cleared by resource reset. */
    bool unable;
    /* Its type said it is not configured correctly (LK_VERDICT_NOT_CONFIGURED): no node
     * can run it as defined, so its hierarchy fails over nowhere. Persisted; sent to the
     * peers; cleared by resource reset. */
    bool not_configured;

    /* When the last local recoveries started (monotonic µs), newest at
     * recovery_at_usec[(recovery_head - 1) % LK_RECOVERY_HISTORY]; kept in memory only,
     * so the recovery window starts afresh when the daemon restarts. */
    uint64_t recovery_at_usec[LK_RECOVERY_HISTORY];
    uint32_t recovery_head;
};

/* Whether res has a check for action (quickchk or deepchk): its script or a built-in check.
 * The engine and the monitor ask this, not has_script, which says which scripts exist. */
bool lk_resource_has_check(const struct lk_resource *res, enum lk_action action);

/* The built-in check that replaces action's script (quickchk or deepchk), or NULL when
 * there is none and the script, if any, runs. */
const char *lk_resource_builtin_check(const struct lk_resource *res, enum lk_action action);

/* Local recoveries that started within the resource's recovery window before now. */
uint32_t lk_resource_recoveries_in_window(const struct lk_resource *res, uint64_t now_usec);

/* Records a local recovery that starts at now_usec. */
void lk_resource_note_recovery(struct lk_resource *res, uint64_t now_usec);

/* The state a resource in service has: ISP, or ISU while its monitoring is suspended. */
enum lk_state lk_resource_in_service_state(const struct lk_resource *res);

/* The defaults every new resource starts from. */
void lk_settings_init(struct lk_settings *settings);

const char *lk_state_name(enum lk_state state);
int lk_state_from_name(const char *name, enum lk_state *ret_state);
bool lk_state_in_service(enum lk_state state);

const char *lk_pending_name(enum lk_pending pending);
int lk_pending_from_name(const char *name, enum lk_pending *ret_pending);

const char *lk_init_name(enum lk_init init);
int lk_init_from_name(const char *name, enum lk_init *ret_init);

/* "INTELLIGENT"/"AUTOMATIC" for ins_list; parsing accepts either case. */
const char *lk_switchback_name(enum lk_switchback switchback);
int lk_switchback_from_name(const char *name, enum lk_switchback *ret_switchback);

const char *lk_timeout_action_name(enum lk_timeout_action action);
int lk_timeout_action_from_name(const char *name, enum lk_timeout_action *ret_action);

/* "cgroup", "pidfile", "none". */
const char *lk_watch_name(enum lk_watch watch);
int lk_watch_from_name(const char *name, enum lk_watch *ret_watch);

/* "control-group", "process", "none". */
const char *lk_kill_mode_name(enum lk_kill_mode mode);
int lk_kill_mode_from_name(const char *name, enum lk_kill_mode *ret_mode);

/* "none", "lifekeeper". */
const char *lk_script_args_name(enum lk_script_args args);
int lk_script_args_from_name(const char *name, enum lk_script_args *ret_args);

/* Sets one setting from its command-line name and text value, validating it
 * ("quickchk-interval" "0.5", "local-recovery" "off", "init" "INIT_OSU", …).
 * Returns 0, or -EINVAL / -ENOENT (unknown name) with a one-line message in err. */
int lk_settings_set(struct lk_settings *settings, const char *key, const char *value, char *err,
                    size_t err_size);

/* Checks what one setting alone cannot: the settings as a whole ("watch pidfile" needs a
 * pidfile). Call it after every lk_settings_set of one change, before the settings are
 * used or stored. Returns 0, or -EINVAL with a one-line message in err. */
int lk_settings_check(const struct lk_settings *settings, char *err, size_t err_size);

/* The names lk_settings_set accepts, NULL-terminated. */
extern const char *const lk_settings_keys[];

/* One setting's value as text, as lk_settings_set takes it ("10", "0.5", "on",
 * "AUTORES_ISP", "" for no pidfile). Returns buf, or NULL for an unknown key. */
const char *lk_settings_get(const struct lk_settings *settings, const char *key, char *buf,
                            size_t size);

/* The value that applies, as text: the stored value, except where 0 means "derived"
 * (quickchk-timeout 0 = the quickchk-interval, deepchk-timeout 0 = twice the
 * deepchk-interval, either the action-timeout when that interval is 0), as the daemon
 * applies them (io/scripts.c). Returns buf, or NULL for an unknown key. */
const char *lk_settings_effective(const struct lk_settings *settings, const char *key, char *buf,
                                  size_t size);

/* Whether the setting key has the value a new resource gets (lk_settings_init). */
bool lk_settings_is_default(const struct lk_settings *settings, const char *key);
