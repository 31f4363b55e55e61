/* lk.conf: the node's name and listen address, its peers with their comm paths, and the
 * cluster settings. Parsed with inih, every value validated, unknown sections and keys
 * refused so that a typo never silently falls back to a default; every error names the
 * file and the line. Written back atomically (path.new, fsync, rename, fsync of the
 * directory) by lk_config_save, in a form that lk_config_load reads back unchanged.
 * Every value goes through the pure settings.h (cluster settings, addresses); this file
 * adds the file's syntax, the [node] and [peer] sections and the atomic write. The [web]
 * section is lkweb's (src/lib/webconf.h): checked here and written back, never used.
 * File and string work only: no event loop, no logging; callers print or log err.
 *
 * inih reads lines into a 200-byte buffer and would split a longer line into several
 * "lines" (with wrong line numbers). So inih reads through reader() below, which counts
 * physical lines, checks section headers and indentation itself, and passes a long
 * "key = value" line as "key =" with the value kept aside for handler(). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "safeopen.h"

#define HEADER_COMMENT                                                                             \
    "# OpenKeeper node configuration; lkcli commpath/cluster config rewrite this file.\n"

#define SECTION_NODE     "node"
#define SECTION_CLUSTER  "cluster"
#define SECTION_PEER     "peer"
#define KEY_NAME         "name"
#define KEY_LISTEN       "listen"
#define KEY_LOG_LEVEL    "log-level"
#define KEY_CONTAINMENT  "containment"
#define KEY_WATCHDOG     "watchdog"
#define KEY_WATCHDOG_DEV "watchdog-device"
#define KEY_LOG_MAX_SIZE "log-max-size"
#define KEY_LOG_KEEP     "log-keep"
#define KEY_PATH         "path"

static bool has_control_char(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char) *s < 0x20 || (unsigned char) *s == 0x7f) {
            return true;
        }
    }
    return false;
}

/* Peers and comm paths */

struct lk_peer *lk_config_find_peer(struct lk_config *config, const char *name)
{
    if (!config || !name) {
        return NULL;
    }
    for (size_t i = 0; i < config->peer_count; i++) {
        if (strcmp(config->peers[i].name, name) == 0) {
            return &config->peers[i];
        }
    }
    return NULL;
}

static int find_path(const struct lk_peer *peer, const char *canonical)
{
    for (size_t i = 0; i < peer->path_count; i++) {
        if (strcmp(peer->paths[i], canonical) == 0) {
            return (int) i;
        }
    }
    return -1;
}

/* lk_config_add_path without the check against the node's own name, which the loader
 * makes once the whole file (and so the [node] name) has been read. */
static int add_path(struct lk_config *config, const char *peer_name, const char *address, char *err,
                    size_t err_size)
{
    char verr[256];
    if (lk_validate_tag(peer_name, "peer name", verr, sizeof(verr)) < 0) {
        return lk_fail_einval(err, err_size, "%s", verr);
    }
    char canonical[LK_ADDR_MAX];
    if (lk_address_canonical(address, "comm path address", true, canonical, err, err_size) < 0) {
        return -EINVAL;
    }
    /* One address is one node's listener: the same address under two peers is a mistake. */
    for (size_t i = 0; i < config->peer_count; i++) {
        const struct lk_peer *p = &config->peers[i];
        if (find_path(p, canonical) >= 0) {
            if (strcmp(p->name, peer_name) == 0) {
                (void) lk_fail_einval(err, err_size, "peer '%s' already has comm path %s",
                                      peer_name, canonical);
            } else {
                (void) lk_fail_einval(err, err_size,
                                      "address %s is already a comm path to peer '%s'", canonical,
                                      p->name);
            }
            return -EEXIST;
        }
    }
    struct lk_peer *peer = lk_config_find_peer(config, peer_name);
    if (!peer) {
        if (config->peer_count >= LK_MAX_PEERS) {
            (void) lk_fail_einval(err, err_size, "cannot add peer '%s': at most %d peers",
                                  peer_name, LK_MAX_PEERS);
            return -ENOSPC;
        }
        peer = &config->peers[config->peer_count];
        memset(peer, 0, sizeof(*peer));
        snprintf(peer->name, sizeof(peer->name), "%s", peer_name);
    }
    if (peer->path_count >= LK_MAX_PATHS) {
        (void) lk_fail_einval(err, err_size,
                              "cannot add comm path %s to peer '%s': at most %d per peer",
                              canonical, peer_name, LK_MAX_PATHS);
        return -ENOSPC;
    }
    snprintf(peer->paths[peer->path_count], LK_ADDR_MAX, "%s", canonical);
    peer->path_count++;
    if (peer == &config->peers[config->peer_count]) {
        config->peer_count++;
    }
    return 0;
}

int lk_config_add_path(struct lk_config *config, const char *peer, const char *address, char *err,
                       size_t err_size)
{
    if (peer && config->node[0] && strcmp(peer, config->node) == 0) {
        return lk_fail_einval(err, err_size, "peer '%s' is this node itself", peer);
    }
    return add_path(config, peer, address, err, err_size);
}

int lk_config_drop_path(struct lk_config *config, const char *peer_name, const char *address,
                        char *err, size_t err_size)
{
    char canonical[LK_ADDR_MAX];
    if (lk_address_canonical(address, "comm path address", false, canonical, err, err_size) < 0) {
        return -EINVAL;
    }
    struct lk_peer *peer = lk_config_find_peer(config, peer_name);
    if (!peer) {
        char verr[256];
        if (lk_validate_tag(peer_name, "peer name", verr, sizeof(verr)) < 0) {
            return lk_fail_einval(err, err_size, "%s", verr);
        }
        (void) lk_fail_einval(err, err_size, "no peer '%s'", peer_name);
        return -ENOENT;
    }
    int i = find_path(peer, canonical);
    if (i < 0) {
        (void) lk_fail_einval(err, err_size, "peer '%s' has no comm path %s", peer_name, canonical);
        return -ENOENT;
    }
    /* memmove, not a swap with the last: the order is the paths' priority. */
    memmove(peer->paths[i], peer->paths[i + 1],
            (peer->path_count - (size_t) i - 1) * sizeof(peer->paths[0]));
    peer->path_count--;
    memset(peer->paths[peer->path_count], 0, sizeof(peer->paths[0]));
    if (peer->path_count == 0) {
        size_t p = (size_t) (peer - config->peers);
        memmove(&config->peers[p], &config->peers[p + 1],
                (config->peer_count - p - 1) * sizeof(config->peers[0]));
        config->peer_count--;
        memset(&config->peers[config->peer_count], 0, sizeof(config->peers[0]));
    }
    return 0;
}

/* Loading */

enum section {
    SECTION_NONE, /* before the first section header */
    SECTION_IS_NODE,
    SECTION_IS_CLUSTER,
    SECTION_IS_PEER,
    SECTION_IS_WEB,
};

struct parse_ctx {
    struct lk_config *config;
    const char *name; /* the file, for messages */
    FILE *file;
    char *buf; /* the current physical line (getline) */
    size_t buf_size;
    int line;
    bool failed;
    int error_line;
    char *err;
    size_t err_size;
    enum section section;
    size_t peer; /* config->peers index while in a [peer] section */
    int node_line, cluster_line, web_line;
    unsigned web_keys; /* the [web] keys seen, one bit each in the order of web_key_names */
    int peer_line[LK_MAX_PEERS];
    int name_line, listen_line, log_level_line, containment_line, watchdog_line, wdev_line;
    int log_max_size_line, log_keep_line;
    int cluster_key_line[LK_CLUSTER_SETTINGS_KEYS];
    const char *long_value; /* into buf: the value of a line too long for inih */
};

__attribute__((format(printf, 2, 3))) static void ctx_fail(struct parse_ctx *ctx, const char *fmt,
                                                           ...)
{
    if (ctx->failed) {
        return;
    }
    ctx->failed = true;
    ctx->error_line = ctx->line;
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(ctx->err, ctx->err_size, "%s:%d: %s", ctx->name, ctx->line, msg);
}

static const char *skip_space(const char *s)
{
    while (*s && isspace((unsigned char) *s)) {
        s++;
    }
    return s;
}

/* Checks a section header line ("[name]", optionally followed by a comment) and makes it
 * the current section. Returns false, with ctx failed, when it is not acceptable. */
static bool enter_section(struct parse_ctx *ctx, const char *start)
{
    const char *close = strchr(start, ']');
    if (!close) {
        ctx_fail(ctx, "missing ']' in section header");
        return false;
    }
    const char *rest = skip_space(close + 1);
    if (*rest && *rest != ';' && *rest != '#') {
        ctx_fail(ctx, "unexpected text after ']'");
        return false;
    }
    char name[LK_TAG_MAX + 16];
    size_t len = (size_t) (close - start - 1);
    if (len >= sizeof(name)) {
        ctx_fail(ctx, "unknown section: expected [node], [cluster], [peer NAME] or [web]");
        return false;
    }
    memcpy(name, start + 1, len);
    name[len] = '\0';
    if (strcmp(name, LK_WEB_SECTION) == 0) {
        if (ctx->web_line) {
            ctx_fail(ctx, "duplicate section [%s] (first on line %d)", name, ctx->web_line);
            return false;
        }
        ctx->web_line = ctx->line;
        ctx->section = SECTION_IS_WEB;
        return true;
    }
    if (strcmp(name, SECTION_NODE) == 0 || strcmp(name, SECTION_CLUSTER) == 0) {
        bool node = name[0] == 'n';
        int *first = node ? &ctx->node_line : &ctx->cluster_line;
        if (*first) {
            ctx_fail(ctx, "duplicate section [%s] (first on line %d)", name, *first);
            return false;
        }
        *first = ctx->line;
        ctx->section = node ? SECTION_IS_NODE : SECTION_IS_CLUSTER;
        return true;
    }
    size_t plen = strlen(SECTION_PEER);
    if (strncmp(name, SECTION_PEER, plen) != 0 || !isspace((unsigned char) name[plen])) {
        if (has_control_char(name)) {
            ctx_fail(ctx, "unknown section: expected [node], [cluster], [peer NAME] or [web]");
        } else {
            ctx_fail(ctx, "unknown section [%s]: expected [node], [cluster], [peer NAME] or [web]",
                     name);
        }
        return false;
    }
    const char *peer_name = skip_space(name + plen);
    char verr[256];
    if (lk_validate_tag(peer_name, "peer name", verr, sizeof(verr)) < 0) {
        ctx_fail(ctx, "%s", verr);
        return false;
    }
    struct lk_config *config = ctx->config;
    for (size_t i = 0; i < config->peer_count; i++) {
        if (strcmp(config->peers[i].name, peer_name) == 0) {
            ctx_fail(ctx, "duplicate section [peer %s] (first on line %d)", peer_name,
                     ctx->peer_line[i]);
            return false;
        }
    }
    if (config->peer_count >= LK_MAX_PEERS) {
        ctx_fail(ctx, "too many peers: at most %d", LK_MAX_PEERS);
        return false;
    }
    /* The peer exists from its header on, so that an empty section is noticed. */
    ctx->peer = config->peer_count++;
    snprintf(config->peers[ctx->peer].name, sizeof(config->peers[0].name), "%s", peer_name);
    ctx->peer_line[ctx->peer] = ctx->line;
    ctx->section = SECTION_IS_PEER;
    return true;
}

/* What inih does to a value: cut at an inline comment (';' after whitespace), then trim. */
static const char *clean_value(char *value)
{
    bool was_space = false;
    for (char *p = value; *p; p++) {
        if (was_space && *p == ';') {
            *p = '\0';
            break;
        }
        was_space = isspace((unsigned char) *p);
    }
    char *start = value;
    while (*start && isspace((unsigned char) *start)) {
        start++;
    }
    size_t len = strlen(start);
    while (len > 0 && isspace((unsigned char) start[len - 1])) {
        start[--len] = '\0';
    }
    return start;
}

/* inih's line reader: one physical line per call, into str (num bytes). */
static char *reader(char *str, int num, void *stream)
{
    struct parse_ctx *ctx = stream;
    ctx->long_value = NULL;
    if (ctx->failed) {
        return NULL; /* stop at our first error */
    }
    ssize_t n = getline(&ctx->buf, &ctx->buf_size, ctx->file);
    if (n < 0) {
        return NULL;
    }
    ctx->line++;
    char *line = ctx->buf;
    if (strlen(line) != (size_t) n) {
        ctx_fail(ctx, "contains a NUL byte");
        return NULL;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
        line[--n] = '\0';
    }
    char *start = line;
    if (ctx->line == 1 && strncmp(start, "\xEF\xBB\xBF", 3) == 0) {
        start += 3; /* inih skips a UTF-8 byte order mark too */
    }
    const char *text = skip_space(start);
    if (*text == '\0' || *text == ';' || *text == '#') {
        str[0] = '\0'; /* blank or comment: nothing for inih to do */
        return str;
    }
    /* inih would take an indented line after a setting as a continuation of its value;
     * refusing indentation avoids that surprise and keeps section headers recognisable. */
    if (text != start) {
        ctx_fail(ctx, "indented line: settings and section headers start at the beginning "
                      "of the line");
        return NULL;
    }
    if (*text == '[') {
        if (!enter_section(ctx, text)) {
            return NULL;
        }
        /* The header as inih needs it, without any trailing comment, which fits. */
        snprintf(str, (size_t) num, "[%.*s]", (int) (strchr(text, ']') - text - 1), text + 1);
        return str;
    }
    if ((size_t) n < (size_t) num) {
        memcpy(str, line, (size_t) n + 1);
        return str;
    }
    /* A line longer than inih's buffer: hand inih "key =" and keep the value aside. */
    char *sep = strpbrk(text, "=:");
    if (!sep || sep - line + 2 > num) {
        ctx_fail(ctx, "line too long (%zd bytes)", n);
        return NULL;
    }
    size_t key_len = (size_t) (sep - line) + 1;
    memcpy(str, line, key_len);
    str[key_len] = '\0';
    ctx->long_value = clean_value(sep + 1);
    return str;
}

/* containment (auto, off or an absolute path) and watchdog-device (an absolute path). */
static int node_path(struct parse_ctx *ctx, bool device, const char *value)
{
    char *dst = device ? ctx->config->watchdog_device : ctx->config->containment;
    const char *key = device ? KEY_WATCHDOG_DEV : KEY_CONTAINMENT;
    if (value[0] == '\0' || (!device && strcmp(value, "auto") == 0)) {
        dst[0] = '\0';
        return 1;
    }
    if (!device && strcmp(value, "off") == 0) {
        snprintf(dst, LK_CONF_PATH_MAX, "off");
        return 1;
    }
    if (value[0] != '/' || strlen(value) >= LK_CONF_PATH_MAX || has_control_char(value) ||
        strstr(value, "/../") ||
        (strlen(value) >= 3 && strcmp(value + strlen(value) - 3, "/..") == 0)) {
        ctx_fail(ctx, "invalid %s '%s': expected %san absolute path", key, value,
                 device ? "" : "auto, off or ");
        return 0;
    }
    snprintf(dst, LK_CONF_PATH_MAX, "%s", value);
    return 1;
}

/* log-max-size (bytes, or with a K, M or G suffix: KiB, MiB, GiB) and log-keep (files);
 * empty means the default (0 here). */
static int node_log_bound(struct parse_ctx *ctx, bool keep, const char *value)
{
    uint64_t v = 0;
    if (value[0] == '\0') {
        *(keep ? &ctx->config->log_keep : &ctx->config->log_max_bytes) = 0;
        return 1;
    }
    if (keep) {
        if (lk_parse_uint(value, LK_CONF_LOG_KEEP_MIN, LK_CONF_LOG_KEEP_MAX, &v) < 0) {
            ctx_fail(ctx, "invalid %s '%s': expected %d to %d files", KEY_LOG_KEEP, value,
                     LK_CONF_LOG_KEEP_MIN, LK_CONF_LOG_KEEP_MAX);
            return 0;
        }
        ctx->config->log_keep = v;
        return 1;
    }
    char digits[32];
    size_t len = strlen(value);
    uint64_t unit = 1;
    char last = len ? value[len - 1] : '\0';
    if (last == 'K' || last == 'k' || last == 'M' || last == 'm' || last == 'G' || last == 'g') {
        unit = last == 'K' || last == 'k'   ? 1024ULL
               : last == 'M' || last == 'm' ? 1024ULL * 1024
                                            : 1024ULL * 1024 * 1024;
        len--;
    }
    if (len == 0 || len >= sizeof(digits)) {
        len = sizeof(digits); /* refused below */
    } else {
        memcpy(digits, value, len);
        digits[len] = '\0';
    }
    if (len >= sizeof(digits) ||
        lk_parse_uint(digits, 1, LK_CONF_LOG_MAX_SIZE_MAX / unit, &v) < 0 ||
        v * unit < LK_CONF_LOG_MAX_SIZE_MIN) {
        ctx_fail(ctx, "invalid %s '%s': expected a size from 16K to 4G (bytes, or K, M, G)",
                 KEY_LOG_MAX_SIZE, value);
        return 0;
    }
    ctx->config->log_max_bytes = v * unit;
    return 1;
}

static int handle_node(struct parse_ctx *ctx, const char *name, const char *value)
{
    char verr[512];
    struct lk_config *config = ctx->config;
    int *first = NULL;
    if (strcmp(name, KEY_NAME) == 0) {
        first = &ctx->name_line;
    } else if (strcmp(name, KEY_LISTEN) == 0) {
        first = &ctx->listen_line;
    } else if (strcmp(name, KEY_LOG_LEVEL) == 0) {
        first = &ctx->log_level_line;
    } else if (strcmp(name, KEY_CONTAINMENT) == 0) {
        first = &ctx->containment_line;
    } else if (strcmp(name, KEY_WATCHDOG) == 0) {
        first = &ctx->watchdog_line;
    } else if (strcmp(name, KEY_WATCHDOG_DEV) == 0) {
        first = &ctx->wdev_line;
    } else if (strcmp(name, KEY_LOG_MAX_SIZE) == 0) {
        first = &ctx->log_max_size_line;
    } else if (strcmp(name, KEY_LOG_KEEP) == 0) {
        first = &ctx->log_keep_line;
    } else {
        ctx_fail(ctx, "unknown setting '%s' in section [node]", name);
        return 0;
    }
    if (*first) {
        ctx_fail(ctx, "'%s' is set twice in section [node] (first on line %d)", name, *first);
        return 0;
    }
    *first = ctx->line;
    if (first == &ctx->name_line) {
        if (lk_validate_tag(value, "node name", verr, sizeof(verr)) < 0) {
            ctx_fail(ctx, "%s", verr);
            return 0;
        }
        snprintf(config->node, sizeof(config->node), "%s", value);
        return 1;
    }
    if (first == &ctx->log_level_line) {
        config->log_level_set = value[0] != '\0';
        config->log_level = LK_LOG_DEFAULT;
        if (config->log_level_set &&
            lk_log_level_parse(value, &config->log_level, verr, sizeof(verr)) < 0) {
            ctx_fail(ctx, "%s", verr);
            return 0;
        }
        return 1;
    }
    if (first == &ctx->containment_line || first == &ctx->wdev_line) {
        return node_path(ctx, first == &ctx->wdev_line, value);
    }
    if (first == &ctx->log_max_size_line || first == &ctx->log_keep_line) {
        return node_log_bound(ctx, first == &ctx->log_keep_line, value);
    }
    if (first == &ctx->watchdog_line) {
        if (value[0] == '\0' || strcmp(value, "off") == 0) {
            config->watchdog = false;
        } else if (strcmp(value, "on") == 0) {
            config->watchdog = true;
        } else {
            ctx_fail(ctx, "invalid watchdog '%s': expected on or off", value);
            return 0;
        }
        return 1;
    }
    if (value[0] == '\0') {
        config->listen[0] = '\0';
        return 1;
    }
    if (lk_address_canonical(value, "listen address", false, config->listen, verr, sizeof(verr)) <
        0) {
        ctx_fail(ctx, "%s", verr);
        return 0;
    }
    return 1;
}

/* "version = N NODE": see config.h. */
static int handle_version(struct parse_ctx *ctx, const char *value)
{
    char node[LK_TAG_MAX + 2] = "", verr[256]; /* %129s below: LK_TAG_MAX + 1 */
    unsigned long long n = 0;
    int used = 0;
    if (ctx->config->settings_version_node[0] ||
        sscanf(value, "%llu %129s%n", &n, node, &used) != 2 || value[used] != '\0' || n == 0 ||
        lk_validate_tag(node, "node name", verr, sizeof(verr)) < 0) {
        ctx_fail(ctx,
                 "invalid version '%s': expected a counter and a node name (written by "
                 "lkcli cluster config)",
                 value);
        return 0;
    }
    ctx->config->settings_version = n;
    snprintf(ctx->config->settings_version_node, sizeof(ctx->config->settings_version_node), "%s",
             node);
    return 1;
}

static int handle_cluster(struct parse_ctx *ctx, const char *name, const char *value)
{
    if (strcmp(name, "version") == 0) {
        return handle_version(ctx, value);
    }
    size_t k = 0;
    while (lk_cluster_settings_keys[k] && strcmp(lk_cluster_settings_keys[k], name) != 0) {
        k++;
    }
    if (!lk_cluster_settings_keys[k]) {
        ctx_fail(ctx, "unknown setting '%s' in section [cluster]", name);
        return 0;
    }
    /* The tunables live in their own file, LifeKeeper's (io/tunfile.h). */
    if (strcmp(name, LK_CLUSTER_KEY_TUNABLES) == 0) {
        ctx_fail(ctx, "'%s' is not set in lk.conf: it is the file etc/default/LifeKeeper", name);
        return 0;
    }
    if (ctx->cluster_key_line[k]) {
        ctx_fail(ctx, "'%s' is set twice in section [cluster] (first on line %d)", name,
                 ctx->cluster_key_line[k]);
        return 0;
    }
    ctx->cluster_key_line[k] = ctx->line;
    char verr[1200];
    if (lk_cluster_settings_set(&ctx->config->cluster, name, value, verr, sizeof(verr)) < 0) {
        ctx_fail(ctx, "%s", verr);
        return 0;
    }
    return 1;
}

static int handle_peer(struct parse_ctx *ctx, const char *name, const char *value)
{
    const char *peer = ctx->config->peers[ctx->peer].name;
    if (strcmp(name, KEY_PATH) != 0) {
        ctx_fail(ctx, "unknown setting '%s' in section [peer %s]", name, peer);
        return 0;
    }
    char verr[512];
    if (add_path(ctx->config, peer, value, verr, sizeof(verr)) < 0) {
        ctx_fail(ctx, "%s", verr);
        return 0;
    }
    return 1;
}

static int handle_web(struct parse_ctx *ctx, const char *name, const char *value)
{
    static const char *const web_key_names[] = {"listen", "tls-cert", "tls-key", "metrics-auth",
                                                "enabled"};
    for (unsigned i = 0; i < sizeof(web_key_names) / sizeof(web_key_names[0]); i++) {
        if (strcmp(name, web_key_names[i]) == 0) {
            if (ctx->web_keys & (1u << i)) {
                ctx_fail(ctx, "'%s' is set twice in section [web]", name);
                return 0;
            }
            ctx->web_keys |= 1u << i;
        }
    }
    char verr[1200];
    if (lk_web_conf_set(&ctx->config->web, name, value, verr, sizeof(verr)) < 0) {
        ctx_fail(ctx, "%s", verr);
        return 0;
    }
    return 1;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    struct parse_ctx *ctx = user;
    (void) section; /* reader() has already checked it and set ctx->section */
    if (ctx->failed) {
        return 0;
    }
    if (ctx->long_value) {
        value = ctx->long_value;
    }
    if (has_control_char(name)) {
        ctx_fail(ctx, "setting name contains a control character");
        return 0;
    }
    if (has_control_char(value)) {
        ctx_fail(ctx, "value of '%s' contains a control character", name);
        return 0;
    }
    switch (ctx->section) {
    case SECTION_IS_NODE:
        return handle_node(ctx, name, value);
    case SECTION_IS_CLUSTER:
        return handle_cluster(ctx, name, value);
    case SECTION_IS_PEER:
        return handle_peer(ctx, name, value);
    case SECTION_IS_WEB:
        return handle_web(ctx, name, value);
    case SECTION_NONE:
        break;
    }
    ctx_fail(ctx,
             "setting '%s' before any section: expected [node], [cluster], [peer NAME] or [web]",
             name);
    return 0;
}

/* Parses file (named name in messages) into config. */
static int parse_file(FILE *file, const char *name, struct lk_config *config, char *err,
                      size_t err_size)
{
    memset(config, 0, sizeof(*config));
    config->log_level = LK_LOG_DEFAULT;
    lk_cluster_settings_init(&config->cluster);
    lk_web_conf_init(&config->web);
    struct parse_ctx ctx = {
            .config = config, .name = name, .file = file, .err = err, .err_size = err_size};
    int r = ini_parse_stream(reader, &ctx, handler, &ctx);
    free(ctx.buf);
    if (r < 0) {
        return lk_fail_einval(err, err_size, "cannot parse '%s': out of memory", name);
    }
    /* inih reports the first bad line, ours or its own (a line without '='). */
    if (r > 0 && (!ctx.failed || r < ctx.error_line)) {
        return lk_fail_einval(err, err_size,
                              "%s:%d: syntax error: expected 'key = value', '[section]' or "
                              "a comment",
                              name, r);
    }
    if (ctx.failed) {
        return -EINVAL;
    }
    if (ferror(file)) {
        return lk_fail_einval(err, err_size, "cannot read '%s': %s", name, strerror(errno));
    }
    if (!config->node[0]) {
        return lk_fail_einval(err, err_size, "%s: [node] name is missing", name);
    }
    char werr[256];
    if (lk_web_conf_check(&config->web, werr, sizeof(werr)) < 0) {
        return lk_fail_einval(err, err_size, "%s:%d: %s", name, ctx.web_line, werr);
    }
    for (size_t i = 0; i < config->peer_count; i++) {
        const struct lk_peer *peer = &config->peers[i];
        if (peer->path_count == 0) {
            return lk_fail_einval(err, err_size, "%s:%d: [peer %s] has no path", name,
                                  ctx.peer_line[i], peer->name);
        }
        if (strcmp(peer->name, config->node) == 0) {
            return lk_fail_einval(err, err_size, "%s:%d: peer '%s' is this node itself", name,
                                  ctx.peer_line[i], peer->name);
        }
    }
    return 0;
}

int lk_config_load(const char *path, struct lk_config *config, char *err, size_t err_size)
{
    if (err && err_size > 0) {
        err[0] = '\0';
    }
    /* Not blocking on a FIFO, a regular file of root's or ours that only its owner can
     * change (it names the fence script lkd runs as root), at most 1 MiB (safeopen.h). */
    int fd = lk_safeopen(path, &lk_safeopen_config, NULL, err, err_size);
    if (fd < 0) {
        return fd;
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        int r = -errno;
        (void) close(fd);
        (void) lk_fail_einval(err, err_size, "cannot read '%s': %s", path, strerror(-r));
        return r;
    }
    /* Parsed into a copy: config is untouched when the file is refused. */
    struct lk_config *parsed = calloc(1, sizeof(*parsed));
    if (!parsed) {
        fclose(f);
        (void) lk_fail_einval(err, err_size, "cannot read '%s': out of memory", path);
        return -ENOMEM;
    }
    int r = parse_file(f, path, parsed, err, err_size);
    fclose(f);
    if (r == 0) {
        *config = *parsed;
    }
    free(parsed);
    return r;
}

/* Saving */

bool lk_config_has_secrets(const struct lk_config *config)
{
    for (size_t i = 0; i < config->cluster.alert_count; i++) {
        if (config->cluster.alerts[i].secret[0]) {
            return true;
        }
    }
    return false;
}

/* The file's text, in a malloc'ed string (*ret_text, *ret_len). */
static int format_config(const struct lk_config *config, char **ret_text, size_t *ret_len)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        return -errno;
    }
    fputs(HEADER_COMMENT, f);
    fprintf(f, "\n[%s]\n%s = %s\n", SECTION_NODE, KEY_NAME, config->node);
    if (config->listen[0]) {
        fprintf(f, "%s = %s\n", KEY_LISTEN, config->listen);
    }
    if (config->log_level_set) {
        fprintf(f, "%s = %s\n", KEY_LOG_LEVEL, lk_log_level_name(config->log_level));
    }
    if (config->containment[0]) {
        fprintf(f, "%s = %s\n", KEY_CONTAINMENT, config->containment);
    }
    if (config->watchdog) {
        fprintf(f, "%s = on\n", KEY_WATCHDOG);
    }
    if (config->watchdog_device[0]) {
        fprintf(f, "%s = %s\n", KEY_WATCHDOG_DEV, config->watchdog_device);
    }
    if (config->log_max_bytes) {
        fprintf(f, "%s = %llu\n", KEY_LOG_MAX_SIZE, (unsigned long long) config->log_max_bytes);
    }
    if (config->log_keep) {
        fprintf(f, "%s = %llu\n", KEY_LOG_KEEP, (unsigned long long) config->log_keep);
    }
    fprintf(f, "\n[%s]\n", SECTION_CLUSTER);
    fputs("# Empty: quorum = majority with three or more voters, else none; max-failovers =\n"
          "# nodes - 1; no witness; no fence script.\n",
          f);
    char *value = malloc(LK_SETTING_VALUE_MAX); /* the alert hooks' text is long */
    for (size_t i = 0; value && lk_cluster_settings_keys[i]; i++) {
        const char *key = lk_cluster_settings_keys[i];
        if (strcmp(key, LK_CLUSTER_KEY_TUNABLES) == 0) {
            continue; /* their own file (io/tunfile.h) */
        }
        (void) lk_cluster_settings_get(&config->cluster, key, value, LK_SETTING_VALUE_MAX);
        fprintf(f, "%s =%s%s\n", key, value[0] ? " " : "", value);
    }
    if (!value) {
        (void) fclose(f);
        free(text);
        return -ENOMEM;
    }
    explicit_bzero(value, LK_SETTING_VALUE_MAX);
    free(value);
    if (config->settings_version) {
        fprintf(f,
                "# written by lkcli cluster config; the newer version wins between nodes\n"
                "version = %llu %s\n",
                (unsigned long long) config->settings_version, config->settings_version_node);
    }
    for (size_t i = 0; i < config->peer_count; i++) {
        const struct lk_peer *peer = &config->peers[i];
        fprintf(f, "\n[%s %s]\n", SECTION_PEER, peer->name);
        for (size_t j = 0; j < peer->path_count; j++) {
            fprintf(f, "%s = %s\n", KEY_PATH, peer->paths[j]);
        }
    }
    const struct lk_web_conf *web = &config->web;
    if (lk_web_conf_any(web)) {
        fprintf(f, "\n[%s]\n", LK_WEB_SECTION);
        if (web->listen[0]) {
            fprintf(f, "listen = %s\n", web->listen);
        }
        if (web->tls_cert[0]) {
            fprintf(f, "tls-cert = %s\ntls-key = %s\n", web->tls_cert, web->tls_key);
        }
        if (web->metrics_auth_set) {
            fprintf(f, "metrics-auth = %s\n", web->metrics_auth ? "on" : "off");
        }
        if (web->enabled_set) {
            fprintf(f, "enabled = %s\n", web->enabled ? "yes" : "no");
        }
    }
    if (fclose(f) != 0) {
        free(text);
        return -ENOMEM;
    }
    *ret_text = text;
    *ret_len = len;
    return 0;
}

int lk_config_format(const struct lk_config *config, char **ret_text, size_t *ret_len)
{
    return format_config(config, ret_text, ret_len);
}

int lk_config_parse(const char *text, size_t len, const char *name, struct lk_config *config,
                    char *err, size_t err_size)
{
    if (err && err_size > 0) {
        err[0] = '\0';
    }
    /* fmemopen only reads a buffer opened "r"; it refuses a size of 0. */
    FILE *f = len ? fmemopen((void *) (uintptr_t) text, len, "r") : fopen("/dev/null", "re");
    if (!f) {
        int r = -errno;
        (void) lk_fail_einval(err, err_size, "cannot read '%s': %s", name, strerror(errno));
        return r;
    }
    struct lk_config *parsed = calloc(1, sizeof(*parsed));
    if (!parsed) {
        fclose(f);
        (void) lk_fail_einval(err, err_size, "cannot read '%s': out of memory", name);
        return -ENOMEM;
    }
    int r = parse_file(f, name, parsed, err, err_size);
    fclose(f);
    if (r == 0) {
        *config = *parsed;
    }
    free(parsed);
    return r;
}

/* Whether a and b say the same in lk.conf: what is set, and to what. */
static bool web_equal(const struct lk_web_conf *a, const struct lk_web_conf *b)
{
    return strcmp(a->listen, b->listen) == 0 && strcmp(a->tls_cert, b->tls_cert) == 0 &&
           strcmp(a->tls_key, b->tls_key) == 0 && a->metrics_auth_set == b->metrics_auth_set &&
           (!a->metrics_auth_set || a->metrics_auth == b->metrics_auth) &&
           a->enabled_set == b->enabled_set && (!a->enabled_set || a->enabled == b->enabled);
}

/* The configuration the text would load as must be config itself; anything else (a
 * field set by hand to a bad value) would make a file the daemon refuses at its next
 * start, so it is refused now, while the old file is still in place. */
static int check_round_trip(char *text, size_t len, const char *path,
                            const struct lk_config *config, char *err, size_t err_size)
{
    FILE *f = fmemopen(text, len, "r");
    if (!f) {
        int r = -errno;
        (void) lk_fail_einval(err, err_size, "cannot write '%s': %s", path, strerror(errno));
        return r;
    }
    struct lk_config *parsed = calloc(1, sizeof(*parsed));
    if (!parsed) {
        fclose(f);
        (void) lk_fail_einval(err, err_size, "cannot write '%s': out of memory", path);
        return -ENOMEM;
    }
    char perr[1024];
    int r = parse_file(f, "(new configuration)", parsed, perr, sizeof(perr));
    fclose(f);
    if (r < 0) {
        (void) lk_fail_einval(err, err_size,
                              "refusing to write an invalid configuration to '%s': %s", path, perr);
    } else if (strcmp(parsed->node, config->node) != 0 ||
               strcmp(parsed->listen, config->listen) != 0 ||
               parsed->log_level_set != config->log_level_set ||
               (config->log_level_set && parsed->log_level != config->log_level) ||
               strcmp(parsed->containment, config->containment) != 0 ||
               parsed->watchdog != config->watchdog ||
               strcmp(parsed->watchdog_device, config->watchdog_device) != 0 ||
               parsed->log_max_bytes != config->log_max_bytes ||
               parsed->log_keep != config->log_keep || parsed->peer_count != config->peer_count ||
               !web_equal(&parsed->web, &config->web)) {
        r = lk_fail_einval(err, err_size,
                           "refusing to write '%s': the node or its peers would not read back "
                           "unchanged",
                           path);
    } else {
        for (size_t i = 0; r == 0 && i < config->peer_count; i++) {
            const struct lk_peer *a = &parsed->peers[i], *b = &config->peers[i];
            bool same = strcmp(a->name, b->name) == 0 && a->path_count == b->path_count;
            for (size_t j = 0; same && j < a->path_count; j++) {
                same = strcmp(a->paths[j], b->paths[j]) == 0;
            }
            if (!same) {
                r = lk_fail_einval(
                        err, err_size,
                        "refusing to write '%s': comm paths of peer '%s' would "
                        "not read back unchanged (write addresses as lk_config_add_path does)",
                        path, b->name);
            }
        }
    }
    char what[64];
    /* The tunables are not in lk.conf (their own file): not compared. */
    memcpy(parsed->cluster.tunables, config->cluster.tunables, sizeof(parsed->cluster.tunables));
    if (r == 0 &&
        !lk_cluster_settings_equal(&parsed->cluster, &config->cluster, what, sizeof(what))) {
        r = lk_fail_einval(err, err_size, "refusing to write '%s': cluster setting '%s' is invalid",
                           path, what);
    }
    free(parsed);
    return r;
}

static int save(const char *path, const struct lk_config *config, char *err, size_t err_size)
{
    char *text = NULL;
    size_t len = 0;
    int r = format_config(config, &text, &len);
    if (r < 0) {
        (void) lk_fail_einval(err, err_size, "cannot write '%s': %s", path, strerror(-r));
        return r;
    }
    r = check_round_trip(text, len, path, config, err, err_size);
    if (r < 0) {
        free(text);
        return r;
    }
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int) sizeof(tmp)) {
        free(text);
        return lk_fail_einval(err, err_size, "cannot write '%s': path too long", path);
    }
    /* A leftover path.new (a crash mid-save) is replaced; O_EXCL | O_NOFOLLOW then make
     * sure we write a new regular file, not through a link planted there. Saves are
     * serialised by the caller (the daemon's loop), so no other writer races us. */
    if (unlink(tmp) < 0 && errno != ENOENT && errno != EISDIR) {
        r = -errno;
        free(text);
        (void) lk_fail_einval(err, err_size, "cannot write '%s': cannot remove '%s': %s", path, tmp,
                              strerror(-r));
        return r;
    }
    /* The webhooks' secrets (alert hooks) make it root's only. */
    mode_t mode = lk_config_has_secrets(config) ? 0600 : 0644;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
        r = -errno;
        free(text);
        (void) lk_fail_einval(err, err_size, "cannot write '%s': cannot create '%s': %s", path, tmp,
                              strerror(-r));
        return r;
    }
    const char *step = NULL;
    r = lk_atomicfile_commit(fd, tmp, path, mode, text, len, &step);
    free(text);
    if (r < 0) {
        (void) lk_fail_einval(err, err_size, "cannot write '%s': %s of '%s' failed: %s", path, step,
                              tmp, strerror(-r));
        return r;
    }
    /* Without this the rename may be lost in a crash, bringing the old file back. */
    r = lk_atomicfile_sync_dir(path);
    if (r < 0) {
        (void) lk_fail_einval(err, err_size, "cannot write '%s': fsync of its directory failed: %s",
                              path, strerror(-r));
        return r;
    }
    return 0;
}

int lk_config_save(const char *path, const struct lk_config *config, char *err, size_t err_size)
{
    /* [web] is the file's (lkstart --web, an administrator's edit), never changed by lkd:
     * the section as the file has it now is written back, whatever lkd read at its start. */
    char *old = NULL, oerr[256];
    size_t old_len = 0;
    struct lk_web_conf web;
    struct lk_config *copy = NULL;
    if (lk_safeopen_read(path, &lk_safeopen_config, 0, &old, &old_len, NULL, oerr, sizeof(oerr)) ==
                0 &&
        lk_web_conf_parse(old, &web, oerr, sizeof(oerr)) == 0 && !web_equal(&web, &config->web) &&
        (copy = malloc(sizeof(*copy))) != NULL) {
        *copy = *config;
        copy->web = web;
        config = copy;
    }
    free(old);
    int r = save(path, config, err, err_size);
    free(copy);
    return r;
}
