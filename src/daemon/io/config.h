/* The node configuration file $LKROOT/etc/lk.conf (INI, read with inih): who this node
 * is, where it listens, its peers with their comm paths, and the cluster settings that
 * must be equal on every node (SPEC §5.1). Written back atomically (temporary file,
 * fsync, rename) when `lkcli commpath create|delete` or `lkcli cluster config` change it,
 * so the file is always either the old or the new configuration.
 *
 *   [node]
 *   name = node1
 *   listen = 127.0.0.1:7401
 *   log-level = info                    (optional: err, warning, notice, info, debug)
 *   containment = auto | off | /path    (optional: resource cgroups; io/cgroup.h)
 *   watchdog = off | on                 (optional: the guard feeds watchdog-device)
 *   watchdog-device = /dev/watchdog     (optional)
 *   log-max-size = 10M                  (optional: lk.log is rotated beyond it; 16K to 4G)
 *   log-keep = 5                        (optional: rotated files kept, lk.log.1 to .N; 1-100)
 *   [cluster]
 *   heartbeat-interval-ms = 1000
 *   heartbeat-misses = 3
 *   quorum = majority | none            (absent: majority from three voters, else none)
 *   quorum-loss-action = osu | none
 *   witness = 127.0.0.1:7409            (optional)
 *   fence-script = /usr/local/sbin/fence-peer  (optional, absolute path)
 *   max-failovers = 2                   (absent: nodes - 1)
 *   failover-window = 21600             (seconds)
 *   [peer node2]
 *   path = 127.0.0.1:7402               (one line per comm path, in priority order)
 *   path = 127.0.0.2:7402
 *
 * An empty value ("quorum =") means the same as an absent one; lk_config_save writes every
 * cluster setting, the unset ones empty. Each section and each key appears at most once
 * (path excepted), lines are not indented (no continuation lines), a [peer] section has at
 * least one path. Addresses are kept in one canonical form ("[::1]:7402", not
 * "[0::1]:7402"), so that the same address is always the same text.
 *
 * The cluster settings and addresses themselves (struct lk_cluster_settings, their names,
 * defaults and validation) are the pure src/lib/settings.h; this file is lk.conf's
 * reading and writing around them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "settings.h"
#include "validate.h"
#include "webconf.h"

#define LK_CONF_NAME    "etc/lk.conf"
#define LK_AUTHKEY_NAME "etc/authkey"

#define LK_CONF_PATH_MAX         1024
#define LK_MAX_PEERS             32
#define LK_MAX_PATHS             8 /* per peer */
/* lk.log's rotation (core/eventlog.c): the size beyond which it is rotated and the number
 * of rotated files kept, by default and at most. */
#define LK_CONF_LOG_MAX_SIZE     (10ULL * 1024 * 1024)
#define LK_CONF_LOG_MAX_SIZE_MIN (16ULL * 1024)
#define LK_CONF_LOG_MAX_SIZE_MAX (4ULL * 1024 * 1024 * 1024)
#define LK_CONF_LOG_KEEP         5
#define LK_CONF_LOG_KEEP_MIN     1
#define LK_CONF_LOG_KEEP_MAX     100

struct lk_peer {
    char name[LK_TAG_MAX + 1];
    char paths[LK_MAX_PATHS][LK_ADDR_MAX]; /* "ADDR:PORT", best first */
    size_t path_count;
};

struct lk_config {
    char node[LK_TAG_MAX + 1];
    char listen[LK_ADDR_MAX]; /* "" = 0.0.0.0:7400 */
    /* lkd's stderr level (log.h); when not set (absent or empty), LK_LOG_DEFAULT. */
    enum lk_log_level log_level;
    bool log_level_set;
    /* Containment (io/cgroup.h): "" = auto, "off", or an absolute cgroup v2 directory. */
    char containment[LK_CONF_PATH_MAX];
    bool watchdog;                          /* the guard arms watchdog_device */
    char watchdog_device[LK_CONF_PATH_MAX]; /* "" = /dev/watchdog */
    uint64_t log_max_bytes;                 /* lk.log's bound; 0 = LK_CONF_LOG_MAX_SIZE */
    uint64_t log_keep;                      /* lk.log.1 .. .N kept; 0 = LK_CONF_LOG_KEEP */
    struct lk_cluster_settings cluster;
    /* The version of the cluster settings: written by `lkcli cluster config` (a Lamport
     * counter and the node that wrote it, `version = N NODE` in [cluster]); the newer
     * version wins when two nodes meet with different settings. 0 = never changed. */
    uint64_t settings_version;
    char settings_version_node[LK_TAG_MAX + 1];
    struct lk_peer peers[LK_MAX_PEERS];
    size_t peer_count;
    /* [web]: lkweb's settings (src/lib/webconf.h), checked and written back, unused by lkd. */
    struct lk_web_conf web;
};

/* Reads and validates path; every setting not in the file gets its default. Returns 0
 * or a negative errno with a one-line message in err (the file name, the line, what is
 * wrong). Unknown sections and keys are refused, so a typo never silently falls back. */
int lk_config_load(const char *path, struct lk_config *config, char *err, size_t err_size);

/* lk_config_load of text (len bytes, named name in messages) instead of a file: the same
 * checks and messages (also the entry point of tests/fuzz/fuzz_config.c). */
int lk_config_parse(const char *text, size_t len, const char *name, struct lk_config *config,
                    char *err, size_t err_size);

/* The text lk_config_save writes for config, in a malloc'ed NUL-terminated string
 * (*ret_text, *ret_len bytes). Returns 0 or a negative errno. */
int lk_config_format(const struct lk_config *config, char **ret_text, size_t *ret_len);

/* Writes config to path atomically (path.new, fsync, rename, fsync of the directory),
 * mode 0644. Returns 0 or a negative errno with a one-line message in err. */
int lk_config_save(const char *path, const struct lk_config *config, char *err, size_t err_size);

/* The peer with this name, or NULL. */
struct lk_peer *lk_config_find_peer(struct lk_config *config, const char *name);

/* Adds a comm path (creating the peer if it is new). -EEXIST when that peer, or another
 * one, has that address already, -ENOSPC when LK_MAX_PEERS / LK_MAX_PATHS are reached,
 * -EINVAL for a bad name or address or the node's own name; message in err. */
int lk_config_add_path(struct lk_config *config, const char *peer, const char *address, char *err,
                       size_t err_size);

/* Drops a comm path; a peer left without paths is dropped too (the order of the other
 * paths and peers is kept). -ENOENT when there is no such peer or path, -EINVAL for a
 * malformed address. */
int lk_config_drop_path(struct lk_config *config, const char *peer, const char *address, char *err,
                        size_t err_size);
