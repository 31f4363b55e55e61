/* The cluster settings that must be equal on every node (SPEC §5.1) and the addresses of
 * comm paths, listeners and the witness: their model, defaults, names and validation.
 * Pure (libc and jansson): lk.conf is read and written by the daemon's config.c, which
 * uses these functions for every value; lkcli and lkstart use them for option names and
 * addresses without linking any daemon file. Addresses are kept in one canonical form
 * ("[::1]:7402", not "[0::1]:7402"), so that the same address is always the same text. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "tunables.h"

#define LK_ADDR_MAX              128 /* "ADDR:PORT" text, NUL included */
#define LK_DEFAULT_PORT          7400
#define LK_HB_INTERVAL_MIN       50
#define LK_HB_INTERVAL_MAX       60000
#define LK_HB_MISSES_MIN         2
#define LK_HB_MISSES_MAX         100
#define LK_CLUSTER_SETTINGS_KEYS 12 /* entries of lk_cluster_settings_keys before its NULL */

/* Alert hooks (docs/ALERTS.md): at most LK_ALERTS_MAX, each an executable or a webhook run
 * for the events it selects. Their text form (the "alerts" setting: a JSON array, secrets
 * included) is at most LK_ALERTS_TEXT_MAX bytes, so that the settings stay well inside a
 * HELLO; LK_SETTING_VALUE_MAX is the buffer any setting's text fits in. */
#define LK_ALERTS_MAX              16
#define LK_ALERT_RANGES_MAX        16
#define LK_ALERT_TARGET_MAX        1024 /* path or URL, NUL included */
#define LK_ALERT_SECRET_MIN        16
#define LK_ALERT_SECRET_MAX        256 /* bytes, without the NUL */
#define LK_ALERT_RECIPIENT_MAX     256 /* bytes, NUL included */
#define LK_ALERT_TIMEOUT_DEFAULT_S 10
#define LK_ALERT_TIMEOUT_MAX_S     300
#define LK_ALERTS_TEXT_MAX         16384
/* The tunables (src/lib/tunables.h): the longest setting, so the buffer every text fits in. */
#define LK_SETTING_VALUE_MAX       (LK_TUNABLES_TEXT_MAX + 1)
#define LK_ALERT_SECRET_SHOWN      "set" /* what every display shows instead of a secret */

enum lk_quorum {
    LK_QUORUM_AUTO,     /* not set: majority with three or more voters, else none */
    LK_QUORUM_MAJORITY, /* more than half of the configured nodes plus the witness */
    LK_QUORUM_NONE,     /* always quorate: the two-node risk, accepted */
};

enum lk_quorum_loss {
    LK_QUORUM_LOSS_OSU,  /* take this node's hierarchies out of service */
    LK_QUORUM_LOSS_NONE, /* leave them running */
};

enum lk_alert_kind {
    LK_ALERT_EXEC,    /* an executable of this node: root's, not writable by others */
    LK_ALERT_WEBHOOK, /* an HTTP(S) POST by lk_webhook, signed with the secret */
};

/* Which events a hook receives: those of a selected severity (bit 1 << enum lk_severity)
 * and those whose number is in one of the ranges (a single number is lo == hi). */
struct lk_alert_select {
    unsigned severities;
    size_t range_count;
    struct {
        uint32_t lo, hi;
    } ranges[LK_ALERT_RANGES_MAX];
};

/* One alert hook, as the cluster settings hold it. */
struct lk_alert_hook {
    char name[129]; /* a tag (validate.h's rules) */
    enum lk_alert_kind kind;
    char target[LK_ALERT_TARGET_MAX];       /* absolute path (exec) or http(s) URL (webhook) */
    char secret[LK_ALERT_SECRET_MAX + 1];   /* webhook only; never shown (LK_ALERT_SECRET_SHOWN) */
    char recipient[LK_ALERT_RECIPIENT_MAX]; /* "" or free text for the hook (LK_ALERT_RECIPIENT) */
    struct lk_alert_select events;
    uint32_t timeout_s; /* 1..LK_ALERT_TIMEOUT_MAX_S */
};

/* The settings that must be equal on every node. */
struct lk_cluster_settings {
    uint32_t heartbeat_interval_ms; /* 200; LK_HB_INTERVAL_MIN..MAX */
    uint32_t heartbeat_misses;      /* 3; LK_HB_MISSES_MIN..MAX */
    enum lk_quorum quorum;
    enum lk_quorum_loss quorum_loss_action;
    char witness[LK_ADDR_MAX];  /* "" = none */
    char fence_script[1024];    /* "" = none; else an absolute path */
    uint32_t max_failovers;     /* 0 = nodes - 1 (at least 1) */
    uint32_t failover_window_s; /* 21600 */
    uint32_t min_protocol;      /* 1; the oldest comm-path protocol a peer may speak (1..2) */
    bool remote_exec;           /* off; on: remote.exec and remote.put (lcdremexec, lcdrcp) */
    size_t alert_count;         /* alert hooks, sorted by name */
    struct lk_alert_hook alerts[LK_ALERTS_MAX];
    /* The tunables: the text of $LKROOT/etc/default/LifeKeeper, verbatim (tunables.h);
     * "" = none. Kept in that file, not in lk.conf. */
    char tunables[LK_TUNABLES_TEXT_MAX + 1];
};

/* The tunables' setting name ("cluster tunables" edits it, never "cluster config"). */
#define LK_CLUSTER_KEY_TUNABLES "tunables"

/* Parses "IPV4:PORT" or "[IPV6]:PORT" (port 1..65535; no host names: a cluster must not
 * depend on DNS to find its members). Returns 0 or -EINVAL with a message in err; ret_addr
 * may be NULL to validate only, and is untouched on error. */
int lk_address_parse(const char *text, struct sockaddr_storage *ret_addr, char *err,
                     size_t err_size);

/* Parses text as lk_address_parse does and writes its canonical form to ret_text. what
 * names the field in messages ("listen address", "comm path address"; NULL = "address");
 * remote refuses the unspecified address (0.0.0.0, [::]), which one may listen on but
 * which names no node. Returns 0 or -EINVAL with a message in err; ret_text is untouched
 * on error. */
int lk_address_canonical(const char *text, const char *what, bool remote,
                         char ret_text[LK_ADDR_MAX], char *err, size_t err_size);

/* The defaults (no witness, no fence script). */
void lk_cluster_settings_init(struct lk_cluster_settings *settings);

/* The dead time: heartbeat interval × misses, in ms (a node unheard for that long is DEAD). */
uint64_t lk_cluster_settings_dead_ms(const struct lk_cluster_settings *settings);

/* Sets one cluster setting from its name as `lkcli cluster config` spells it
 * ("heartbeat-interval-ms", "heartbeat-misses", "quorum", "quorum-loss-action",
 * "witness", "fence-script", "max-failovers", "failover-window", "min-protocol", "remote-exec")
 * and its text
 * value, validating it; "" clears witness / fence-script / quorum (back to auto) / max-failovers
 * (back to nodes - 1). Returns 0, -ENOENT for an unknown name or -EINVAL, with a one-line message
 * in err. settings is unchanged on error. */
int lk_cluster_settings_set(struct lk_cluster_settings *settings, const char *key,
                            const char *value, char *err, size_t err_size);

/* The names lk_cluster_settings_set accepts, NULL-terminated (LK_CLUSTER_SETTINGS_KEYS of them):
 * the "key = value" names of lk.conf's [cluster] and the options of `cluster config`. */
extern const char *const lk_cluster_settings_keys[];

/* One setting's value as text, as lk_cluster_settings_set takes it ("" when unset).
 * Returns buf, or NULL for an unknown key. */
const char *lk_cluster_settings_get(const struct lk_cluster_settings *settings, const char *key,
                                    char *buf, size_t size);

/* Whether a and b are equal; when not, the first differing key is written to what. */
bool lk_cluster_settings_equal(const struct lk_cluster_settings *a,
                               const struct lk_cluster_settings *b, char *what, size_t size);

/* The settings as a JSON object of strings, one per key: the settings message and lk.conf's
 * comparison. It carries the webhooks' secrets (in "alerts"): for the peers only; anything
 * shown to a user is lk_cluster_settings_public_json. NULL when out of memory. */
json_t *lk_cluster_settings_json(const struct lk_cluster_settings *settings);

/* lk_cluster_settings_json with every secret replaced by LK_ALERT_SECRET_SHOWN (`cluster
 * config`'s reply, status). NULL when out of memory. */
json_t *lk_cluster_settings_public_json(const struct lk_cluster_settings *settings);

/* Parses an event selection ("warning,error", "error,1621,1600-1699", "all"): severities
 * info, warning, error, all; numbers 1..99999 and ranges LO-HI; at most LK_ALERT_RANGES_MAX
 * numbers and ranges. Returns 0 or -EINVAL with a one-line message in err; ret untouched
 * on error. */
int lk_alert_events_parse(const char *text, struct lk_alert_select *ret, char *err,
                          size_t err_size);

/* The selection's canonical text (severities in order, then ranges by their start). */
void lk_alert_events_format(const struct lk_alert_select *sel, char *buf, size_t size);

/* Whether an event of this severity (enum lk_severity) and number is selected. */
bool lk_alert_events_match(const struct lk_alert_select *sel, int severity, int number);

/* Checks one hook as a whole (name, target for its kind, secret, recipient, events,
 * timeout). Returns 0 or -EINVAL with a one-line message in err (never quoting the
 * secret). */
int lk_alert_hook_check(const struct lk_alert_hook *hook, char *err, size_t err_size);

/* The hook as JSON: {name, kind, target, events, timeout, recipient?, secret?}; the secret
 * is LK_ALERT_SECRET_SHOWN unless with_secret (the settings' text form only). */
json_t *lk_alert_hook_json(const struct lk_alert_hook *hook, bool with_secret);

/* The hook named name, or NULL. */
const struct lk_alert_hook *lk_cluster_settings_alert(const struct lk_cluster_settings *settings,
                                                      const char *name);

/* Adds hook (checked with lk_alert_hook_check) in name order. Returns 0, -EEXIST (a hook of
 * that name exists), -ENOSPC (LK_ALERTS_MAX reached, or the hooks' text would exceed
 * LK_ALERTS_TEXT_MAX) or -EINVAL, with a one-line message in err; settings unchanged on
 * error. */
int lk_cluster_settings_alert_add(struct lk_cluster_settings *settings,
                                  const struct lk_alert_hook *hook, char *err, size_t err_size);

/* Deletes the hook named name. Returns 0 or -ENOENT with a message in err. */
int lk_cluster_settings_alert_delete(struct lk_cluster_settings *settings, const char *name,
                                     char *err, size_t err_size);

/* Applies changes ({"key": "value", ...}) to settings as a whole: every key known, every
 * value a string and valid, or nothing changes. changed receives "key=value, ..." for
 * the values that differ from before ("" when none). Returns 0 or -EINVAL with a
 * one-line message in err. */
int lk_cluster_settings_apply(struct lk_cluster_settings *settings, const json_t *changes,
                              char *changed, size_t changed_size, char *err, size_t err_size);
