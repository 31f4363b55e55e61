/* libFuzzer target: the lk.conf parser (src/daemon/io/config.c's lk_config_parse, the
 * same code as lk_config_load without the file), with inih and the cluster settings and
 * addresses of src/lib/settings.c under it.
 *
 * Input: the file's bytes.
 * Invariants: a refusal is a negative errno with a one-line message that names the file,
 * and leaves the configuration untouched; an accepted file has a valid node name, at
 * most LK_MAX_PEERS peers with valid distinct names other than the node's, each with
 * 1..LK_MAX_PATHS canonical distinct addresses, a canonical listen address, and cluster
 * settings that each set again to themselves; and it survives lk_config_save's text:
 * format, parse, compare field by field, format again to the same bytes. Then
 * `lkcli commpath create|delete` on it (lk_config_add_path, lk_config_drop_path): its own
 * paths are duplicates and drop and come back; the input's last line as "# PEER ADDRESS"
 * is added and dropped, and what is accepted still saves and loads.
 * Never: a file (lk_config_load and lk_config_save are the same code around a FILE). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "settings.h"
#include "validate.h"

#define NAME "lk.conf"

static void check_valid(const struct lk_config *c)
{
    char err[1200], canon[LK_ADDR_MAX];
    FUZZ_CHECK(lk_validate_tag(c->node, "node name", err, sizeof(err)) == 0, "node: %s", err);
    if (c->listen[0]) {
        FUZZ_CHECK(lk_address_canonical(c->listen, NULL, false, canon, err, sizeof(err)) == 0 &&
                           strcmp(canon, c->listen) == 0,
                   "listen '%s' not canonical", c->listen);
    }
    FUZZ_CHECK(c->peer_count <= LK_MAX_PEERS, "%zu peers", c->peer_count);
    for (size_t i = 0; i < c->peer_count; i++) {
        const struct lk_peer *p = &c->peers[i];
        FUZZ_CHECK(lk_validate_tag(p->name, "peer", err, sizeof(err)) == 0, "peer: %s", err);
        FUZZ_CHECK(strcmp(p->name, c->node) != 0, "the node is its own peer");
        FUZZ_CHECK(p->path_count >= 1 && p->path_count <= LK_MAX_PATHS, "%zu paths", p->path_count);
        for (size_t j = 0; j < i; j++) {
            FUZZ_CHECK(strcmp(c->peers[j].name, p->name) != 0, "peer '%s' twice", p->name);
        }
        for (size_t k = 0; k < p->path_count; k++) {
            FUZZ_CHECK(lk_address_canonical(p->paths[k], NULL, true, canon, err, sizeof(err)) ==
                                       0 &&
                               strcmp(canon, p->paths[k]) == 0,
                       "path '%s' not canonical", p->paths[k]);
            /* No address twice, in this peer or any other. */
            for (size_t j = 0; j <= i; j++) {
                const struct lk_peer *q = &c->peers[j];
                for (size_t l = 0; l < (j == i ? k : q->path_count); l++) {
                    FUZZ_CHECK(strcmp(q->paths[l], p->paths[k]) != 0, "address '%s' twice",
                               p->paths[k]);
                }
            }
        }
    }
    /* Each cluster setting, set again from its text, is itself. */
    struct lk_cluster_settings again;
    lk_cluster_settings_init(&again);
    static char value[LK_SETTING_VALUE_MAX]; /* the alert hooks' text is long */
    for (size_t i = 0; lk_cluster_settings_keys[i]; i++) {
        const char *key = lk_cluster_settings_keys[i];
        FUZZ_CHECK(lk_cluster_settings_get(&c->cluster, key, value, sizeof(value)) != NULL, "get");
        FUZZ_CHECK(lk_cluster_settings_set(&again, key, value, err, sizeof(err)) == 0,
                   "%s '%s' is refused when set again: %s", key, value, err);
    }
    FUZZ_CHECK(lk_cluster_settings_equal(&again, &c->cluster, err, sizeof(err)),
               "cluster setting %s differs when set again", err);
}

static bool same_config(const struct lk_config *a, const struct lk_config *b, char *what,
                        size_t size)
{
    if (strcmp(a->node, b->node) != 0 || strcmp(a->listen, b->listen) != 0 ||
        a->log_level_set != b->log_level_set || a->log_level != b->log_level ||
        strcmp(a->containment, b->containment) != 0 || a->watchdog != b->watchdog ||
        strcmp(a->watchdog_device, b->watchdog_device) != 0 ||
        a->settings_version != b->settings_version ||
        strcmp(a->settings_version_node, b->settings_version_node) != 0 ||
        a->peer_count != b->peer_count) {
        snprintf(what, size, "[node] or version");
        return false;
    }
    for (size_t i = 0; i < a->peer_count; i++) {
        const struct lk_peer *p = &a->peers[i], *q = &b->peers[i];
        if (strcmp(p->name, q->name) != 0 || p->path_count != q->path_count) {
            snprintf(what, size, "peer %zu", i);
            return false;
        }
        for (size_t k = 0; k < p->path_count; k++) {
            if (strcmp(p->paths[k], q->paths[k]) != 0) {
                snprintf(what, size, "peer %zu path %zu", i, k);
                return false;
            }
        }
    }
    return lk_cluster_settings_equal(&a->cluster, &b->cluster, what, size);
}

/* lk_config_save's text reads back as the same configuration, and is a fixed point. */
static void round_trip(const struct lk_config *config)
{
    static struct lk_config again;
    char err[2048];
    char *text = NULL, *text2 = NULL;
    size_t len = 0, len2 = 0;
    FUZZ_CHECK(lk_config_format(config, &text, &len) == 0, "format");
    FUZZ_CHECK(strlen(text) == len, "a NUL byte in the formatted text");
    int r = lk_config_parse(text, len, NAME, &again, err, sizeof(err));
    FUZZ_CHECK(r == 0, "the saved text is refused: %s\n--- text:\n%s", err, text);
    char what[64];
    FUZZ_CHECK(same_config(config, &again, what, sizeof(what)), "%s differs after a save", what);
    FUZZ_CHECK(lk_config_format(&again, &text2, &len2) == 0, "format again");
    FUZZ_CHECK(len == len2 && memcmp(text, text2, len) == 0, "the saved text changes");
    free(text);
    free(text2);
}

/* `lkcli commpath create|delete` on the loaded configuration: every path it has is
 * refused as a duplicate, and can be dropped and added back; a path from the input's
 * last line ("# PEER ADDRESS") leaves a valid configuration that saves, or is refused
 * with one line and changes nothing. */
static void commpaths(const struct lk_config *c, const uint8_t *data, size_t size)
{
    static struct lk_config x;
    char err[2048], what[64];
    size_t ops = 0;
    for (size_t i = 0; i < c->peer_count && ops < 4; i++) {
        for (size_t k = 0; k < c->peers[i].path_count && ops < 4; k++, ops++) {
            const char *name = c->peers[i].name, *path = c->peers[i].paths[k];
            x = *c;
            FUZZ_CHECK(lk_config_add_path(&x, name, path, err, sizeof(err)) == -EEXIST,
                       "%s %s added twice", name, path);
            FUZZ_CHECK(same_config(&x, c, what, sizeof(what)), "a refused add changed %s", what);
            FUZZ_CHECK(lk_config_drop_path(&x, name, path, err, sizeof(err)) == 0, "drop: %s", err);
            FUZZ_CHECK(lk_config_add_path(&x, name, path, err, sizeof(err)) == 0, "add: %s", err);
            check_valid(&x);
        }
    }
    const uint8_t *end = data + size, *start = end;
    while (start > data && start[-1] != '\n') {
        start--;
    }
    char *text = fuzz_strndup(start, (size_t) (end - start));
    /* A comment, so that the file still loads: "# PEER ADDRESS". */
    char *line = strncmp(text, "# ", 2) == 0 ? text + 2 : text;
    char *space = strchr(line, ' ');
    if (space) {
        *space = '\0';
        /* What lkcli can send is UTF-8 (JSON); then so must the refusal be. */
        bool given_utf8 = fuzz_utf8(line) && fuzz_utf8(space + 1);
        x = *c;
        err[0] = '\0';
        int r = lk_config_add_path(&x, line, space + 1, err, sizeof(err));
        if (r == 0) {
            check_valid(&x);
            round_trip(&x);
        } else {
            FUZZ_CHECK(r == -EINVAL || r == -EEXIST || r == -ENOSPC, "add: %d", r);
            FUZZ_CHECK(err[0] && fuzz_one_line(err), "add refused with '%s'", err);
            FUZZ_CHECK(!given_utf8 || fuzz_utf8(err), "a refusal a reply cannot carry: '%s'", err);
            FUZZ_CHECK(same_config(&x, c, what, sizeof(what)), "a refused add changed %s", what);
        }
        x = *c;
        r = lk_config_drop_path(&x, line, space + 1, err, sizeof(err));
        if (r == 0) {
            round_trip(&x);
        } else {
            FUZZ_CHECK(r == -EINVAL || r == -ENOENT, "drop: %d", r);
            FUZZ_CHECK(err[0] && fuzz_one_line(err), "drop refused with '%s'", err);
            FUZZ_CHECK(!given_utf8 || fuzz_utf8(err), "a refusal a reply cannot carry: '%s'", err);
            FUZZ_CHECK(same_config(&x, c, what, sizeof(what)), "a refused drop changed %s", what);
        }
    }
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct lk_config config, untouched;
    char err[2048];
    memset(&config, 0x5a, sizeof(config));
    untouched = config;
    int r = lk_config_parse((const char *) data, size, NAME, &config, err, sizeof(err));
    if (r < 0) {
        FUZZ_CHECK(memcmp(&config, &untouched, sizeof(config)) == 0,
                   "a refused file changed the configuration");
        FUZZ_CHECK(err[0] != '\0', "a refusal without a message");
        FUZZ_CHECK(fuzz_one_line(err), "a message of more than one line: '%s'", err);
        FUZZ_CHECK(strncmp(err, NAME, strlen(NAME)) == 0 || strstr(err, "'" NAME "'"),
                   "a message that does not name the file: '%s'", err);
        return 0;
    }
    FUZZ_CHECK(r == 0, "returned %d", r);
    check_valid(&config);
    round_trip(&config);
    commpaths(&config, data, size);
    return 0;
}
