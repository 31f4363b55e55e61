/* Tests of lk.conf: loading with every value validated (a table of bad files, each error
 * naming the file, the line and the key), the round trip through lk_config_save, the
 * cluster settings by name, comm paths added and dropped, and the atomic write. Files
 * live in one mkdtemp directory, removed at the end. */
#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static char tmpdir[] = "/tmp/lk-test-config-XXXXXX";

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove(path);
}

static int setup(void **state)
{
    (void) state;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void) state;
    return nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A file name in the temporary directory, written into buf. */
static const char *tmp_path(const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", tmpdir, name);
    return buf;
}

static void write_text(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static void assert_configs_equal(const struct lk_config *a, const struct lk_config *b)
{
    assert_string_equal(a->node, b->node);
    assert_string_equal(a->listen, b->listen);
    char what[64];
    assert_true(lk_cluster_settings_equal(&a->cluster, &b->cluster, what, sizeof(what)));
    assert_int_equal(a->peer_count, b->peer_count);
    for (size_t i = 0; i < a->peer_count; i++) {
        assert_string_equal(a->peers[i].name, b->peers[i].name);
        assert_int_equal(a->peers[i].path_count, b->peers[i].path_count);
        for (size_t j = 0; j < a->peers[i].path_count; j++) {
            assert_string_equal(a->peers[i].paths[j], b->peers[i].paths[j]);
        }
    }
}

static int load_text(const char *text, struct lk_config *config, char *err, size_t err_size)
{
    char path[256];
    tmp_path("load.conf", path, sizeof(path));
    write_text(path, text, strlen(text));
    return lk_config_load(path, config, err, err_size);
}

/* lk_config_load */

static void lk_config_load__missing_file(void **state)
{
    (void) state;
    static struct lk_config config;
    char err[1024], path[256];
    int r = lk_config_load(tmp_path("does-not-exist.conf", path, sizeof(path)), &config, err,
                           sizeof(err));
    assert_int_equal(r, -ENOENT);
    assert_non_null(strstr(err, "does-not-exist.conf"));
}

struct bad_case {
    const char *text;
    int line; /* the line the message must name, 0 for none */
    const char *needle;
};

#define NODE "[node]\nname = node1\n" /* lines 1-2 */
#define PEER NODE "[peer node2]\n"    /* line 3 */

static const struct bad_case bad_cases[] = {
        {NODE "garbage line\n", 3, "syntax error"},
        {NODE "nonsense\n", 3, "syntax error"},
        {NODE "colour = blue\n", 3, "unknown setting 'colour' in section [node]"},
        {NODE "[nodes]\n", 3, "unknown section [nodes]"},
        {NODE "[peer]\npath = 127.0.0.1:7402\n", 3, "unknown section [peer]"},
        {NODE "[node\n", 3, "missing ']'"},
        {NODE "[cluster] x\n", 3, "unexpected text after ']'"},
        {NODE "[cluster]\nheartbeat = 1000\n", 4,
         "unknown setting 'heartbeat' in section [cluster]"},
        {NODE "[cluster]\ntunables = A=1\n", 4,
         "'tunables' is not set in lk.conf: it is the file etc/default/LifeKeeper"},
        {PEER "port = 7402\n", 4, "unknown setting 'port' in section [peer node2]"},
        {PEER "path = 127.0.0.1:0\n", 4, "port '0'"},
        {PEER "path = 127.0.0.1:65536\n", 4, "port '65536'"},
        {PEER "path = 127.0.0.1:abc\n", 4, "port 'abc'"},
        {PEER "path = 127.0.0.1\n", 4, "no port"},
        {PEER "path = localhost:7402\n", 4, "host names are not accepted"},
        {PEER "path = node2.example.com:7402\n", 4, "host names are not accepted"},
        {PEER "path = ::1:7402\n", 4, "in brackets"},
        {PEER "path = [::g]:7402\n", 4, "not an IPv6 address"},
        {PEER "path = 0.0.0.0:7402\n", 4, "unspecified"},
        {PEER "path = 127.0.0.1:7402\npath = 127.0.0.1:7402\n", 5, "already has comm path"},
        {PEER "path = 127.0.0.1:7402\npath = [::1]:7402\npath = [0::1]:7402\n", 6,
         "already has comm path [::1]:7402"},
        {PEER "path = 127.0.0.1:1\npath = 127.0.0.1:2\npath = 127.0.0.1:3\npath = 127.0.0.1:4\n"
              "path = 127.0.0.1:5\npath = 127.0.0.1:6\npath = 127.0.0.1:7\npath = 127.0.0.1:8\n"
              "path = 127.0.0.1:9\n",
         12, "at most 8"},
        {PEER "path = 127.0.0.1:7402\n[peer node3]\npath = 127.0.0.1:7402\n", 6,
         "already a comm path to peer 'node2'"},
        {PEER "path = 127.0.0.1:7402\n[peer node2]\npath = 127.0.0.2:7402\n", 5,
         "duplicate section [peer node2] (first on line 3)"},
        {NODE "[peer node1]\npath = 127.0.0.1:7402\n", 3, "peer 'node1' is this node itself"},
        {"[peer node1]\npath = 127.0.0.1:7402\n[node]\nname = node1\n", 1, "this node itself"},
        {NODE "[peer node2]\n[peer node3]\npath = 127.0.0.1:7403\n", 3, "[peer node2] has no path"},
        {NODE "[peer bad/name]\npath = 127.0.0.1:7402\n", 3, "peer name 'bad/name'"},
        {"[node]\nname = -node1\n", 2, "node name '-node1'"},
        {"[node]\nname = node1\nname = node2\n", 3,
         "'name' is set twice in section [node] "
         "(first on line 2)"},
        {NODE "listen = 127.0.0.1\n", 3, "listen address"},
        {NODE "listen = 127.0.0.1:99999\n", 3, "listen address"},
        {NODE "[cluster]\nfence-script = bin/fence\n", 4,
         "fence-script 'bin/fence': must be an "
         "absolute path"},
        {NODE "[cluster]\nheartbeat-interval-ms = 49\n", 4, "heartbeat-interval-ms '49'"},
        {NODE "[cluster]\nheartbeat-interval-ms = 60001\n", 4, "heartbeat-interval-ms '60001'"},
        {NODE "[cluster]\nheartbeat-interval-ms = 1000ms\n", 4, "heartbeat-interval-ms"},
        {NODE "[cluster]\nheartbeat-interval-ms =\n", 4, "heartbeat-interval-ms"},
        {NODE "[cluster]\nheartbeat-misses = 1\n", 4, "heartbeat-misses '1'"},
        {NODE "[cluster]\nheartbeat-misses = 101\n", 4, "heartbeat-misses '101'"},
        {NODE "[cluster]\nquorum = maybe\n", 4, "quorum 'maybe'"},
        {NODE "[cluster]\nquorum-loss-action = stop\n", 4, "quorum-loss-action 'stop'"},
        {NODE "[cluster]\nwitness = 1.2.3:7409\n", 4, "witness address '1.2.3:7409'"},
        {NODE "[cluster]\nwitness = witness.example:7409\n", 4, "host names"},
        {NODE "[cluster]\nmax-failovers = 0\n", 4, "max-failovers '0'"},
        {NODE "[cluster]\nmax-failovers = 1001\n", 4, "max-failovers '1001'"},
        {NODE "[cluster]\nfailover-window = 0\n", 4, "failover-window '0'"},
        {NODE "[cluster]\nfailover-window = 31536001\n", 4, "failover-window '31536001'"},
        {NODE "[cluster]\nquorum = none\nquorum = majority\n", 5, "'quorum' is set twice"},
        {NODE "[cluster]\n[cluster]\n", 4, "duplicate section [cluster] (first on line 3)"},
        {"name = node1\n[node]\n", 1, "before any section"},
        {NODE "  listen = 127.0.0.1:7401\n", 3, "indented line"},
        {"[cluster]\nquorum = none\n", 0, "[node] name is missing"},
        {"", 0, "[node] name is missing"},
};

static void lk_config_load__bad_values(void **state)
{
    (void) state;
    static struct lk_config config;
    char path[256];
    tmp_path("load.conf", path, sizeof(path));
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *c = &bad_cases[i];
        char err[1024] = "", prefix[300];
        memset(&config, 0x5a, sizeof(config));
        int r = load_text(c->text, &config, err, sizeof(err));
        if (c->line > 0) {
            snprintf(prefix, sizeof(prefix), "%s:%d: ", path, c->line);
        } else {
            snprintf(prefix, sizeof(prefix), "%s: ", path);
        }
        if (r != -EINVAL || strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, c->needle) ||
            strchr(err, '\n')) {
            print_error("case %zu: r=%d err='%s', want '%s...%s'\n", i, r, err, prefix, c->needle);
            fail();
        }
        /* Refused: the caller's config is untouched. */
        assert_int_equal(((unsigned char *) &config)[0], 0x5a);
    }
}

static void lk_config_load__nul_byte(void **state)
{
    (void) state;
    static struct lk_config config;
    char err[1024], path[256];
    tmp_path("nul.conf", path, sizeof(path));
    static const char text[] = "[node]\nname = node1\nlisten = 1\0.0.0.1:7401\n";
    write_text(path, text, sizeof(text) - 1);
    assert_int_equal(lk_config_load(path, &config, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, ":3: contains a NUL byte"));
}

static void lk_config_load__too_many_peers(void **state)
{
    (void) state;
    static struct lk_config config;
    static char text[8192];
    char err[1024];
    size_t len = (size_t) snprintf(text, sizeof(text), "[node]\nname = node1\n");
    for (int i = 0; i <= LK_MAX_PEERS; i++) {
        len += (size_t) snprintf(text + len, sizeof(text) - len, "[peer p%d]\npath = 10.0.0.%d:1\n",
                                 i, i + 1);
    }
    assert_int_equal(load_text(text, &config, err, sizeof(err)), -EINVAL);
    char want[64];
    snprintf(want, sizeof(want), ":%d: too many peers", 3 + 2 * LK_MAX_PEERS);
    assert_non_null(strstr(err, want));
}

static void lk_config_load__defaults(void **state)
{
    (void) state;
    static struct lk_config config;
    char err[1024];
    assert_int_equal(load_text("[node]\nname = node1\n", &config, err, sizeof(err)), 0);
    assert_string_equal(config.node, "node1");
    assert_string_equal(config.listen, "");
    assert_int_equal(config.peer_count, 0);
    assert_int_equal(config.cluster.heartbeat_interval_ms, 200);
    assert_int_equal(config.cluster.heartbeat_misses, 3);
    assert_int_equal(config.cluster.quorum, LK_QUORUM_AUTO);
    assert_int_equal(config.cluster.quorum_loss_action, LK_QUORUM_LOSS_OSU);
    assert_string_equal(config.cluster.witness, "");
    assert_string_equal(config.cluster.fence_script, "");
    assert_int_equal(config.cluster.max_failovers, 0);
    assert_int_equal(config.cluster.failover_window_s, 21600);

    struct lk_cluster_settings defaults;
    lk_cluster_settings_init(&defaults);
    assert_true(lk_cluster_settings_equal(&defaults, &config.cluster, NULL, 0));
}

static void lk_config_load__log_rotation(void **state)
{
    (void) state;
    static struct lk_config config, back;
    char err[1024], path[256];
    /* absent or empty: the defaults (0 here) */
    assert_int_equal(load_text("[node]\nname = node1\n", &config, err, sizeof(err)), 0);
    assert_int_equal(config.log_max_bytes, 0);
    assert_int_equal(config.log_keep, 0);
    assert_int_equal(load_text("[node]\nname = node1\nlog-max-size =\nlog-keep =\n", &config, err,
                               sizeof(err)),
                     0);
    assert_int_equal(config.log_max_bytes, 0);
    /* bytes or K, M, G (powers of 1024), at the bounds */
    static const struct {
        const char *text;
        uint64_t bytes;
    } good[] = {{"16K", 16384},    {"16384", 16384},      {"10M", 10485760},
                {"10m", 10485760}, {"4G", 4294967296ULL}, {"4294967296", 4294967296ULL}};
    char text[256];
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(text, sizeof(text), "[node]\nname = node1\nlog-max-size = %s\nlog-keep = 100\n",
                 good[i].text);
        assert_int_equal(load_text(text, &config, err, sizeof(err)), 0);
        assert_int_equal(config.log_max_bytes, good[i].bytes);
        assert_int_equal(config.log_keep, 100);
    }
    /* written back and read back the same */
    tmp_path("log-rotation.conf", path, sizeof(path));
    assert_int_equal(lk_config_save(path, &config, err, sizeof(err)), 0);
    assert_non_null(strstr(read_text(path), "\nlog-max-size = 4294967296\nlog-keep = 100\n"));
    assert_int_equal(lk_config_load(path, &back, err, sizeof(err)), 0);
    assert_int_equal(back.log_max_bytes, 4294967296ULL);
    assert_int_equal(back.log_keep, 100);
    /* refused with the line and the accepted range */
    static const char *const bad_size[] = {"16383", "15K",  "5G",
                                           "4097M", "K",    "1.5M",
                                           "-1",    "10MB", "99999999999999999999999999999999K"};
    for (size_t i = 0; i < sizeof(bad_size) / sizeof(bad_size[0]); i++) {
        snprintf(text, sizeof(text), "[node]\nname = node1\nlog-max-size = %s\n", bad_size[i]);
        assert_int_equal(load_text(text, &config, err, sizeof(err)), -EINVAL);
        char want[160];
        snprintf(want, sizeof(want),
                 ":3: invalid log-max-size '%s': expected a size from 16K to 4G", bad_size[i]);
        assert_non_null(strstr(err, want));
    }
    static const char *const bad_keep[] = {"0", "101", "x", "-3", "2 files"};
    for (size_t i = 0; i < sizeof(bad_keep) / sizeof(bad_keep[0]); i++) {
        snprintf(text, sizeof(text), "[node]\nname = node1\nlog-keep = %s\n", bad_keep[i]);
        assert_int_equal(load_text(text, &config, err, sizeof(err)), -EINVAL);
        char want[160];
        snprintf(want, sizeof(want), ":3: invalid log-keep '%s': expected 1 to 100 files",
                 bad_keep[i]);
        assert_non_null(strstr(err, want));
    }
    assert_int_equal(load_text("[node]\nname = node1\nlog-keep = 2\nlog-keep = 2\n", &config, err,
                               sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "set twice"));
}

static void lk_config_load__log_level(void **state)
{
    (void) state;
    static struct lk_config config, back;
    char err[1024], path[256];
    assert_int_equal(load_text("[node]\nname = node1\n", &config, err, sizeof(err)), 0);
    assert_false(config.log_level_set);
    assert_int_equal(config.log_level, LK_LOG_INFO);
    assert_int_equal(load_text("[node]\nname = node1\nlog-level =\n", &config, err, sizeof(err)),
                     0);
    assert_false(config.log_level_set);
    assert_int_equal(
            load_text("[node]\nname = node1\nlog-level = debug\n", &config, err, sizeof(err)), 0);
    assert_true(config.log_level_set);
    assert_int_equal(config.log_level, LK_LOG_DEBUG);
    /* Written back and read back the same. */
    tmp_path("log-level.conf", path, sizeof(path));
    assert_int_equal(lk_config_save(path, &config, err, sizeof(err)), 0);
    assert_non_null(strstr(read_text(path), "\nlog-level = debug\n"));
    assert_int_equal(lk_config_load(path, &back, err, sizeof(err)), 0);
    assert_true(back.log_level_set);
    assert_int_equal(back.log_level, LK_LOG_DEBUG);
    /* A bad level names the line and the accepted values; twice is refused. */
    assert_int_equal(
            load_text("[node]\nname = node1\nlog-level = verbose\n", &config, err, sizeof(err)),
            -EINVAL);
    assert_non_null(strstr(err, ":3: invalid log-level 'verbose': expected err, warning, notice, "
                                "info or debug"));
    assert_int_equal(load_text("[node]\nname = node1\nlog-level = err\nlog-level = err\n", &config,
                               err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "set twice"));
}

static void lk_config_load__accepts_comments_bom_crlf_and_empty_values(void **state)
{
    (void) state;
    static struct lk_config config;
    char err[1024];
    const char *text = "\xEF\xBB\xBF; comment\r\n"
                       "# another\r\n"
                       "\r\n"
                       "[node] ; the node\r\n"
                       "name = node1 ; inline comment\r\n"
                       "listen =\r\n"
                       "  # indented comment\r\n"
                       "[cluster]\r\n"
                       "quorum =\r\n"
                       "witness =\r\n"
                       "max-failovers =\r\n"
                       "fence-script =\r\n"
                       "[peer node2]\r\n"
                       "path = [0:0::1]:07402\r\n";
    assert_int_equal(load_text(text, &config, err, sizeof(err)), 0);
    assert_string_equal(config.node, "node1");
    assert_string_equal(config.listen, "");
    assert_int_equal(config.cluster.quorum, LK_QUORUM_AUTO);
    assert_int_equal(config.peer_count, 1);
    assert_string_equal(config.peers[0].paths[0], "[::1]:7402"); /* canonical form */
}

static void lk_config_load__long_line(void **state)
{
    (void) state;
    static struct lk_config config;
    static char text[4096], script[1100];
    char err[1024];
    /* inih's own line buffer is 200 bytes; the longest fence script must still load. */
    script[0] = '/';
    memset(script + 1, 'a', 1022);
    script[1023] = '\0';
    snprintf(text, sizeof(text), "[node]\nname = node1\n[cluster]\nfence-script = %s  ; why\n",
             script);
    assert_int_equal(load_text(text, &config, err, sizeof(err)), 0);
    assert_string_equal(config.cluster.fence_script, script);

    snprintf(text, sizeof(text), "[node]\nname = node1\n[cluster]\nfence-script = %sb\n", script);
    assert_int_equal(load_text(text, &config, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, ":4: invalid fence-script: too long"));

    /* A long line with no setting in it is refused, naming the right line. */
    memset(script, 'x', 300);
    script[300] = '\0';
    snprintf(text, sizeof(text), "[node]\nname = node1\n%s\nlisten = bad\n", script);
    assert_int_equal(load_text(text, &config, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, ":3: line too long"));
}

/* lk_config_save */

static const char full_text[] = "[node]\n"
                                "name = node1\n"
                                "listen = 127.0.0.1:7401\n"
                                "[cluster]\n"
                                "heartbeat-interval-ms = 250\n"
                                "heartbeat-misses = 5\n"
                                "quorum = majority\n"
                                "quorum-loss-action = none\n"
                                "witness = [::1]:7409\n"
                                "fence-script = /usr/local/sbin/fence peer\n"
                                "max-failovers = 4\n"
                                "failover-window = 3600\n"
                                "[peer node3]\n"
                                "path = 127.0.0.3:7403\n"
                                "path = [fe80::1]:7403\n"
                                "path = 127.0.0.2:7403\n"
                                "[peer node2]\n"
                                "path = 127.0.0.1:7402\n";

static void lk_config_save__round_trip(void **state)
{
    (void) state;
    static struct lk_config a, b;
    char err[1024], path[256], path2[256];
    assert_int_equal(load_text(full_text, &a, err, sizeof(err)), 0);
    assert_int_equal(a.peer_count, 2);
    assert_string_equal(a.peers[0].name, "node3");
    assert_string_equal(a.peers[0].paths[1], "[fe80::1]:7403");
    assert_string_equal(a.cluster.fence_script, "/usr/local/sbin/fence peer");

    tmp_path("round.conf", path, sizeof(path));
    assert_int_equal(lk_config_save(path, &a, err, sizeof(err)), 0);
    assert_int_equal(lk_config_load(path, &b, err, sizeof(err)), 0);
    assert_configs_equal(&a, &b);

    static char first[65536];
    snprintf(first, sizeof(first), "%s", read_text(path));
    static const char header[] = "# OpenKeeper node configuration; lkcli commpath/cluster "
                                 "config rewrite this file.\n";
    assert_true(strncmp(first, header, strlen(header)) == 0);
    /* Saving what was loaded writes the same bytes. */
    tmp_path("round2.conf", path2, sizeof(path2));
    assert_int_equal(lk_config_save(path2, &b, err, sizeof(err)), 0);
    assert_string_equal(read_text(path2), first);
}

static void lk_config_save__round_trip_defaults_and_long_script(void **state)
{
    (void) state;
    static struct lk_config a, b;
    char err[1024], path[256];
    memset(&a, 0, sizeof(a));
    snprintf(a.node, sizeof(a.node), "n1");
    lk_cluster_settings_init(&a.cluster);
    tmp_path("defaults.conf", path, sizeof(path));
    assert_int_equal(lk_config_save(path, &a, err, sizeof(err)), 0);
    assert_int_equal(lk_config_load(path, &b, err, sizeof(err)), 0);
    assert_configs_equal(&a, &b);
    /* Every cluster setting is written, the unset ones empty. */
    const char *text = read_text(path);
    for (size_t i = 0; lk_cluster_settings_keys[i]; i++) {
        char line[64];
        snprintf(line, sizeof(line), "\n%s =", lk_cluster_settings_keys[i]);
        /* The tunables are their own file (io/tunfile.h), never in lk.conf. */
        if (strcmp(lk_cluster_settings_keys[i], LK_CLUSTER_KEY_TUNABLES) == 0) {
            assert_null(strstr(text, line));
            continue;
        }
        assert_non_null(strstr(text, line));
    }
    assert_non_null(strstr(text, "\nquorum =\n"));

    static char script[1024];
    script[0] = '/';
    memset(script + 1, 'b', 1022);
    assert_int_equal(lk_cluster_settings_set(&a.cluster, "fence-script", script, err, sizeof(err)),
                     0);
    assert_int_equal(lk_config_save(path, &a, err, sizeof(err)), 0);
    assert_int_equal(lk_config_load(path, &b, err, sizeof(err)), 0);
    assert_configs_equal(&a, &b);
}

/* [web] is lkweb's: checked, kept, and written back by a save (a commpath change must not
 * drop it). */
static void lk_config_load__web_section_kept(void **state)
{
    (void) state;
    static struct lk_config a, b;
    char err[1024], path[256];
    assert_int_equal(load_text("[node]\nname = n1\n[web]\nlisten = 127.0.0.1:9000\n"
                               "enabled = yes\nmetrics-auth = off\n",
                               &a, err, sizeof(err)),
                     0);
    assert_string_equal(a.web.listen, "127.0.0.1:9000");
    assert_true(a.web.enabled);
    assert_false(a.web.metrics_auth);
    tmp_path("web.conf", path, sizeof(path));
    assert_int_equal(lk_config_save(path, &a, err, sizeof(err)), 0);
    assert_int_equal(lk_config_load(path, &b, err, sizeof(err)), 0);
    assert_string_equal(b.web.listen, "127.0.0.1:9000");
    assert_true(b.web.enabled);
    assert_false(b.web.metrics_auth);
    assert_non_null(strstr(read_text(path), "\n[web]\nlisten = 127.0.0.1:9000\n"));
    /* The file's [web] wins over lkd's copy: lkstart --web may have written it since. */
    lk_web_conf_init(&b.web);
    assert_int_equal(lk_config_save(path, &b, err, sizeof(err)), 0);
    assert_non_null(strstr(read_text(path), "\n[web]\nlisten = 127.0.0.1:9000\n"));
    assert_int_equal(load_text("[node]\nname = n1\n[web]\nport = 1\n", &a, err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, ":4: unknown setting in section [web]"));
    assert_int_equal(load_text("[node]\nname = n1\n[web]\nenabled = yes\nenabled = no\n", &a, err,
                               sizeof(err)),
                     -EINVAL);
    assert_int_equal(load_text("[node]\nname = n1\n[web]\ntls-key = /k\n", &a, err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "tls-cert and tls-key go together"));
}

static void lk_config_save__refuses_invalid_config(void **state)
{
    (void) state;
    static struct lk_config config;
    char err[1024], path[256];
    tmp_path("invalid.conf", path, sizeof(path));
    memset(&config, 0, sizeof(config));
    lk_cluster_settings_init(&config.cluster);
    assert_int_equal(lk_config_save(path, &config, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "node name must not be empty"));

    snprintf(config.node, sizeof(config.node), "node1");
    config.cluster.heartbeat_misses = 1; /* set by hand, bypassing validation */
    assert_int_equal(lk_config_save(path, &config, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "heartbeat-misses"));
    assert_false(exists(path));
}

static void lk_config_save__atomic(void **state)
{
    (void) state;
    static struct lk_config config;
    char err[1024], path[256], tmp[300];
    assert_int_equal(load_text(full_text, &config, err, sizeof(err)), 0);
    tmp_path("atomic.conf", path, sizeof(path));
    snprintf(tmp, sizeof(tmp), "%s.new", path);

    /* A stale path.new from a crash is replaced; none is left behind; 0644 despite umask. */
    write_text(tmp, "junk", 4);
    mode_t old_umask = umask(077);
    assert_int_equal(lk_config_save(path, &config, err, sizeof(err)), 0);
    umask(old_umask);
    assert_false(exists(tmp));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    static char before[65536];
    snprintf(before, sizeof(before), "%s", read_text(path));

    /* path.new cannot be created: the save fails and the old file is intact. */
    assert_int_equal(mkdir(tmp, 0755), 0);
    assert_int_equal(lk_config_add_path(&config, "node2", "127.0.0.9:7402", err, sizeof(err)), 0);
    int r = lk_config_save(path, &config, err, sizeof(err));
    assert_true(r < 0);
    assert_non_null(strstr(err, path));
    assert_string_equal(read_text(path), before);
    assert_int_equal(rmdir(tmp), 0);

    /* The rename fails (path is a non-empty directory): nothing is left behind. */
    char dirpath[256], inner[300];
    tmp_path("confdir", dirpath, sizeof(dirpath));
    assert_int_equal(mkdir(dirpath, 0755), 0);
    snprintf(inner, sizeof(inner), "%s/keep", dirpath);
    write_text(inner, "x", 1);
    r = lk_config_save(dirpath, &config, err, sizeof(err));
    assert_true(r < 0);
    assert_non_null(strstr(err, "rename"));
    snprintf(tmp, sizeof(tmp), "%s.new", dirpath);
    assert_false(exists(tmp));
    assert_string_equal(read_text(inner), "x");
}

/* lk_config_add_path, lk_config_drop_path, lk_config_find_peer */

static void lk_config_add_path__errors(void **state)
{
    (void) state;
    static struct lk_config config;
    char err[512];
    memset(&config, 0, sizeof(config));
    snprintf(config.node, sizeof(config.node), "node1");
    lk_cluster_settings_init(&config.cluster);

    assert_int_equal(lk_config_add_path(&config, "node1", "127.0.0.1:1", err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "this node itself"));
    assert_int_equal(lk_config_add_path(&config, "bad name", "127.0.0.1:1", err, sizeof(err)),
                     -EINVAL);
    assert_int_equal(lk_config_add_path(&config, "node2", "host:1", err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "host names"));
    assert_int_equal(config.peer_count, 0);

    assert_int_equal(lk_config_add_path(&config, "node2", "[::1]:7402", err, sizeof(err)), 0);
    assert_int_equal(lk_config_add_path(&config, "node2", "[0::1]:7402", err, sizeof(err)),
                     -EEXIST);
    assert_non_null(strstr(err, "node2"));
    assert_int_equal(lk_config_add_path(&config, "node3", "[::1]:7402", err, sizeof(err)), -EEXIST);
    for (int i = 1; i < LK_MAX_PATHS; i++) {
        char address[32];
        snprintf(address, sizeof(address), "127.0.0.%d:7402", i);
        assert_int_equal(lk_config_add_path(&config, "node2", address, err, sizeof(err)), 0);
    }
    assert_int_equal(lk_config_add_path(&config, "node2", "127.0.1.1:7402", err, sizeof(err)),
                     -ENOSPC);
    assert_non_null(strstr(err, "at most 8"));
    assert_int_equal(config.peers[0].path_count, LK_MAX_PATHS);

    for (int i = 1; i < LK_MAX_PEERS; i++) {
        char name[32], address[32];
        snprintf(name, sizeof(name), "p%d", i);
        snprintf(address, sizeof(address), "10.0.0.%d:7402", i);
        assert_int_equal(lk_config_add_path(&config, name, address, err, sizeof(err)), 0);
    }
    assert_int_equal(lk_config_add_path(&config, "one-too-many", "10.0.1.1:7402", err, sizeof(err)),
                     -ENOSPC);
    assert_int_equal(config.peer_count, LK_MAX_PEERS);
}

static void lk_config_drop_path__order_and_last_path(void **state)
{
    (void) state;
    static struct lk_config config;
    char err[512];
    memset(&config, 0, sizeof(config));
    snprintf(config.node, sizeof(config.node), "node1");
    lk_cluster_settings_init(&config.cluster);
    assert_int_equal(lk_config_add_path(&config, "node2", "127.0.0.1:7402", err, sizeof(err)), 0);
    assert_int_equal(lk_config_add_path(&config, "node2", "127.0.0.2:7402", err, sizeof(err)), 0);
    assert_int_equal(lk_config_add_path(&config, "node2", "127.0.0.3:7402", err, sizeof(err)), 0);
    assert_int_equal(lk_config_add_path(&config, "node3", "127.0.0.1:7403", err, sizeof(err)), 0);
    assert_int_equal(lk_config_add_path(&config, "node4", "127.0.0.1:7404", err, sizeof(err)), 0);

    assert_int_equal(lk_config_drop_path(&config, "node9", "127.0.0.1:7402", err, sizeof(err)),
                     -ENOENT);
    assert_int_equal(lk_config_drop_path(&config, "node2", "127.0.0.9:7402", err, sizeof(err)),
                     -ENOENT);
    assert_non_null(strstr(err, "node2"));
    assert_int_equal(lk_config_drop_path(&config, "node2", "bad", err, sizeof(err)), -EINVAL);

    assert_int_equal(lk_config_drop_path(&config, "node2", "127.0.0.2:7402", err, sizeof(err)), 0);
    struct lk_peer *p = lk_config_find_peer(&config, "node2");
    assert_non_null(p);
    assert_int_equal(p->path_count, 2);
    assert_string_equal(p->paths[0], "127.0.0.1:7402");
    assert_string_equal(p->paths[1], "127.0.0.3:7402");

    /* The last path of node3 goes, and node3 with it; node4 keeps its place after node2. */
    assert_int_equal(lk_config_drop_path(&config, "node3", "127.0.0.1:7403", err, sizeof(err)), 0);
    assert_null(lk_config_find_peer(&config, "node3"));
    assert_int_equal(config.peer_count, 2);
    assert_string_equal(config.peers[0].name, "node2");
    assert_string_equal(config.peers[1].name, "node4");
    assert_null(lk_config_find_peer(&config, "node1"));
    assert_null(lk_config_find_peer(&config, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_config_load__missing_file),
            cmocka_unit_test(lk_config_load__bad_values),
            cmocka_unit_test(lk_config_load__nul_byte),
            cmocka_unit_test(lk_config_load__too_many_peers),
            cmocka_unit_test(lk_config_load__defaults),
            cmocka_unit_test(lk_config_load__log_level),
            cmocka_unit_test(lk_config_load__log_rotation),
            cmocka_unit_test(lk_config_load__accepts_comments_bom_crlf_and_empty_values),
            cmocka_unit_test(lk_config_load__long_line),
            cmocka_unit_test(lk_config_load__web_section_kept),
            cmocka_unit_test(lk_config_save__refuses_invalid_config),
            cmocka_unit_test(lk_config_save__round_trip),
            cmocka_unit_test(lk_config_save__round_trip_defaults_and_long_script),
            cmocka_unit_test(lk_config_save__atomic),
            cmocka_unit_test(lk_config_add_path__errors),
            cmocka_unit_test(lk_config_drop_path__order_and_last_path),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
