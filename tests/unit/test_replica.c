/* Unit tests for replica.c: nodes as real roots (mkdtemp) with a real store and script
 * copies, no loop, no monitor. A resource is created on one node the way `resource
 * create` does it, its object is built there and applied on another node; the tests check
 * what the other node then holds (rows, view, script bytes), that versions order the
 * changes (newer wins, older and equal are ignored, concurrent writes converge on both
 * sides, and of two unseen writes the later one wins), tombstones and unextends, the refusal to
 * drop a resource in service, every kind of malformed object (changing nothing), and the
 * children-first order of what to send. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "paramfile.h"
#include "params.h"
#include "replica.h"
#include "scripts.h"
#include "store.h"

#define NODE_A "nodeA"
#define NODE_B "nodeB"
#define NODE_C "nodeC"
#define NODES  3

static const char restore_sh[] = "#!/bin/sh\necho restore\nexit 0\n";
static const char remove_sh[] = "#!/bin/sh\nexit 0\n";
/* A binary check: ELF magic then bytes base64 must carry exactly, NUL included. */
static const unsigned char quickchk_bin[] = {0x7f, 'E',  'L',  'F',  0x02, 0x01, 0x00, 0xff,
                                             0x00, 0x80, 0x0a, 0x0d, 0x00, 0x00, 0x01};

struct tnode {
    char dir[64];
    struct lk_node node;
};

struct fixture {
    struct tnode n[NODES];
    char err[512];
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove(path);
}

static int node_init(struct tnode *t, const char *name)
{
    snprintf(t->dir, sizeof(t->dir), "/tmp/lk-test-replica-XXXXXX");
    if (!mkdtemp(t->dir)) {
        return -1;
    }
    struct lk_node *node = &t->node;
    snprintf(node->root, sizeof(node->root), "%s", t->dir);
    snprintf(node->name, sizeof(node->name), "%s", name);
    node->log_fd = -1;
    char path[128], err[512];
    snprintf(path, sizeof(path), "%s/db", t->dir);
    if (mkdir(path, 0700) < 0) {
        return -1;
    }
    snprintf(path, sizeof(path), "%s/%s", t->dir, LK_DB_NAME);
    if (lk_store_open(path, &node->store, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

static void node_done(struct tnode *t)
{
    struct lk_node *node = &t->node;
    node->store = lk_store_close(node->store);
    for (size_t i = 0; i < node->count; i++) {
        free(node->resources[i]);
    }
    free(node->resources);
    free(node->deps);
    lk_hier_done(&node->hier);
    free(node->extends);
    if (t->dir[0]) {
        (void) nftw(t->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f) {
        return -1;
    }
    static const char *const names[NODES] = {NODE_A, NODE_B, NODE_C};
    for (size_t i = 0; i < NODES; i++) {
        if (node_init(&f->n[i], names[i]) < 0) {
            return -1;
        }
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    for (size_t i = 0; i < NODES; i++) {
        node_done(&f->n[i]);
    }
    free(f);
    return 0;
}

/* ---- Local changes, made the way the commands make them ---- */

static void commit_or_fail(struct lk_node *node, int r, const char *what)
{
    if (r < 0) {
        lk_store_rollback(node->store);
        fail_msg("%s on %s: %d", what, node->name, r);
    }
    assert_int_equal(lk_store_commit(node->store), 0);
}

static void install(struct lk_node *node, const char *tag, enum lk_action a, const void *data,
                    size_t len)
{
    char err[256];
    if (lk_scripts_install(node->root, tag, a, data, len, err, sizeof(err)) < 0) {
        fail_msg("install: %s", err);
    }
}

/* Creates tag on node (restore, remove and a binary quickchk), extended there with
 * priority 1, and stamps it. */
static struct lk_resource *create(struct lk_node *node, const char *tag)
{
    struct lk_resource *res = calloc(1, sizeof(*res));
    assert_non_null(res);
    snprintf(res->tag, sizeof(res->tag), "%s", tag);
    snprintf(res->id, sizeof(res->id), "%s-id", tag);
    snprintf(res->app, sizeof(res->app), "gen");
    snprintf(res->type, sizeof(res->type), "app");
    snprintf(res->info, sizeof(res->info), "port=80 caf\xc3\xa9");
    lk_settings_init(&res->settings);
    res->settings.quickchk_interval_usec = 2500000;
    res->settings.check_failures = 3;
    res->settings.switchback = LK_SWITCHBACK_AUTOMATIC;
    snprintf(res->settings.pidfile, sizeof(res->settings.pidfile), "/run/%s.pid", tag);
    res->settings.watch = LK_WATCH_PIDFILE;
    res->settings.kill_mode = LK_KILL_PROCESS;
    res->has_script[LK_ACTION_RESTORE] = true;
    res->has_script[LK_ACTION_REMOVE] = true;
    res->has_script[LK_ACTION_QUICKCHK] = true;
    res->state = LK_STATE_OSU;
    snprintf(res->reason, sizeof(res->reason), "created");
    install(node, tag, LK_ACTION_RESTORE, restore_sh, strlen(restore_sh));
    install(node, tag, LK_ACTION_REMOVE, remove_sh, strlen(remove_sh));
    install(node, tag, LK_ACTION_QUICKCHK, quickchk_bin, sizeof(quickchk_bin));
    char err[256];
    assert_int_equal(lk_store_begin(node->store), 0);
    int r = lk_store_insert(node->store, node->name, res, err, sizeof(err));
    if (r == 0) {
        r = lk_define_touch(node, tag);
    }
    commit_or_fail(node, r, "create");
    assert_int_equal(lk_node_add(node, res), 0);
    assert_int_equal(lk_node_set_extend(node, tag, node->name, 1), 0);
    return res;
}

static void extend(struct lk_node *node, const char *tag, const char *peer, uint32_t priority)
{
    assert_int_equal(lk_store_begin(node->store), 0);
    int r = lk_store_set_extend(node->store, tag, peer, priority);
    if (r == 0) {
        r = lk_define_touch(node, tag);
    }
    commit_or_fail(node, r, "extend");
    assert_int_equal(lk_node_set_extend(node, tag, peer, priority), 0);
}

static void unextend(struct lk_node *node, const char *tag, const char *peer)
{
    assert_int_equal(lk_store_begin(node->store), 0);
    int r = lk_store_drop_extend(node->store, tag, peer);
    if (r == 0) {
        r = lk_define_touch(node, tag);
    }
    commit_or_fail(node, r, "unextend");
    lk_node_drop_extend(node, tag, peer);
}

static void depend(struct lk_node *node, const char *parent, const char *child)
{
    assert_int_equal(lk_store_begin(node->store), 0);
    int r = lk_store_add_dep(node->store, parent, child);
    if (r == 0) {
        r = lk_define_touch(node, parent);
    }
    commit_or_fail(node, r, "dependency");
    assert_int_equal(lk_node_add_dep(node, parent, child), 0);
}

/* `resource config`: one setting, stamped. */
static void configure(struct lk_node *node, const char *tag, const char *key, const char *value)
{
    struct lk_resource *res = lk_node_find(node, tag);
    assert_non_null(res);
    char err[256];
    if (lk_settings_set(&res->settings, key, value, err, sizeof(err)) < 0) {
        fail_msg("%s", err);
    }
    assert_int_equal(lk_store_begin(node->store), 0);
    int r = lk_store_save_settings(node->store, res);
    if (r == 0) {
        r = lk_define_touch(node, tag);
    }
    commit_or_fail(node, r, "config");
}

static void delete_resource(struct lk_node *node, const char *tag)
{
    assert_int_equal(lk_store_begin(node->store), 0);
    int r = lk_store_delete(node->store, tag);
    if (r == 0) {
        /* node->extends still lists where it was: the tombstone names those nodes. */
        r = lk_define_touch(node, tag);
    }
    commit_or_fail(node, r, "delete");
    lk_scripts_remove_all(node->root, tag);
    lk_node_drop(node, tag);
}

/* ---- Looking at a node ---- */

static struct lk_version version_of(struct lk_node *node, const char *tag, bool *ret_deleted)
{
    struct lk_version v = {0};
    bool deleted = false;
    int r = lk_store_get_version(node->store, tag, &v.counter, v.node, sizeof(v.node), &deleted);
    if (r == -ENOENT) {
        v.counter = 0;
    } else {
        assert_int_equal(r, 0);
    }
    if (ret_deleted) {
        *ret_deleted = deleted;
    }
    return v;
}

static uint64_t clock_of(struct lk_node *node)
{
    uint64_t c = 0;
    assert_int_equal(lk_store_get_clock(node->store, &c), 0);
    return c;
}

/* The version an object carries. */
static struct lk_version version_in(const json_t *obj)
{
    struct lk_version v = {0};
    assert_int_equal(lk_version_parse(json_object_get(obj, "version"), &v), 0);
    return v;
}

/* A counter no wall clock reaches during the test: lk_version_next(far) is far + 1. */
static uint64_t far_future(void)
{
    return (uint64_t) lk_now_ms() + 1000000000u;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static bool script_exists(struct lk_node *node, const char *tag, enum lk_action a)
{
    char path[LK_PATH_MAX + 256];
    return access(lk_scripts_path(node->root, a, tag, path, sizeof(path)), F_OK) == 0;
}

static void assert_script(struct lk_node *node, const char *tag, enum lk_action a, const void *data,
                          size_t len)
{
    char path[LK_PATH_MAX + 256];
    lk_scripts_path(node->root, a, tag, path, sizeof(path));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_int_equal((size_t) st.st_size, len);
    unsigned char buf[256];
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, buf, sizeof(buf)), (ssize_t) len);
    close(fd);
    assert_memory_equal(buf, data, len);
}

static size_t store_count(struct lk_node *node)
{
    struct lk_resource **list = NULL;
    size_t count = 0;
    assert_int_equal(lk_store_load(node->store, node->name, &list, &count), 0);
    for (size_t i = 0; i < count; i++) {
        free(list[i]);
    }
    free(list);
    return count;
}

/* Builds tag's object on from and applies it on to; returns the apply's result. */
static int send_one(struct fixture *f, struct lk_node *from, struct lk_node *to, const char *tag,
                    enum lk_replica_outcome *ret_outcome)
{
    json_t *obj = lk_replica_object(from, tag);
    assert_non_null(obj);
    f->err[0] = '\0';
    int r = lk_replica_apply(to, from->name, obj, ret_outcome, f->err, sizeof(f->err));
    json_decref(obj);
    return r;
}

static void send_expect(struct fixture *f, struct lk_node *from, struct lk_node *to,
                        const char *tag, enum lk_replica_outcome want)
{
    enum lk_replica_outcome got = (enum lk_replica_outcome) - 1;
    int r = send_one(f, from, to, tag, &got);
    if (r < 0) {
        fail_msg("apply of '%s' from %s on %s: %d %s", tag, from->name, to->name, r, f->err);
    }
    assert_int_equal(got, want);
}

static void assert_same_object(struct lk_node *a, struct lk_node *b, const char *tag)
{
    json_t *x = lk_replica_object(a, tag), *y = lk_replica_object(b, tag);
    assert_non_null(x);
    assert_non_null(y);
    if (!json_equal(x, y)) {
        char *sx = json_dumps(x, JSON_SORT_KEYS), *sy = json_dumps(y, JSON_SORT_KEYS);
        fail_msg("objects differ:\n%s\n%s", sx, sy);
    }
    json_decref(x);
    json_decref(y);
}

/* ---- lk_version_* ---- */

static void lk_version_parse__rejects_what_is_not_a_version(void **state)
{
    (void) state;
    static const char *const bad[] = {
            "null",
            "[]",
            "[1]",
            "[1,\"a\",2]",
            "[0,\"nodeA\"]",
            "[-1,\"nodeA\"]",
            "[1.5,\"nodeA\"]",
            "[\"1\",\"nodeA\"]",
            "[1,\"\"]",
            "[1,\"a b\"]",
            "[1,7]",
            "{\"counter\":1}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *j = json_loads(bad[i], JSON_DECODE_ANY, NULL);
        struct lk_version v = {.counter = 42};
        if (lk_version_parse(j, &v) != -EINVAL) {
            fail_msg("'%s' was accepted", bad[i]);
        }
        assert_int_equal(v.counter, 42);
        json_decref(j);
    }
    json_t *nul = json_pack("[i, s#]", 1, "ab\0c", (size_t) 4);
    struct lk_version v;
    assert_int_equal(lk_version_parse(nul, &v), -EINVAL);
    json_decref(nul);
}

static void lk_version_cmp__counter_then_node(void **state)
{
    (void) state;
    struct lk_version a = {5, NODE_A}, b = {5, NODE_B}, c = {6, NODE_A}, d = {5, NODE_A};
    assert_true(lk_version_cmp(&a, &b) < 0);
    assert_true(lk_version_cmp(&b, &a) > 0);
    assert_true(lk_version_cmp(&b, &c) < 0);
    assert_int_equal(lk_version_cmp(&a, &d), 0);
    json_t *j = lk_version_json(&b);
    struct lk_version back;
    assert_int_equal(lk_version_parse(j, &back), 0);
    assert_int_equal(lk_version_cmp(&back, &b), 0);
    json_decref(j);
}

static void lk_version_next__past_the_clock_and_at_least_now(void **state)
{
    (void) state;
    /* A small clock: the wall-clock milliseconds, read during the call. */
    static const uint64_t small[] = {0, 1, 2, 1000, 1700000000000u};
    for (size_t i = 0; i < sizeof(small) / sizeof(small[0]); i++) {
        uint64_t before = (uint64_t) lk_now_ms();
        uint64_t next = lk_version_next(small[i]);
        uint64_t after = (uint64_t) lk_now_ms();
        assert_true(next > small[i]);
        assert_true(next >= before);
        assert_true(next <= after);
    }
    /* Around now: always past the clock, never behind the wall clock. */
    for (int64_t d = -2; d <= 2; d++) {
        uint64_t before = (uint64_t) lk_now_ms();
        uint64_t clock = (uint64_t) ((int64_t) before + d);
        uint64_t next = lk_version_next(clock);
        assert_true(next > clock);
        assert_true(next >= before);
    }
    /* A clock far ahead of the wall clock (a peer's counter): just past it. */
    uint64_t far = far_future();
    assert_int_equal(lk_version_next(far), far + 1);
    assert_int_equal(lk_version_next(far + 1), far + 2);
    /* Successive versions from the same clock value still increase once it is taken. */
    uint64_t clock = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t next = lk_version_next(clock);
        assert_true(next > clock);
        clock = next;
    }
}

/* ---- lk_replica_apply: malformed objects ---- */

typedef void (*damage_fn)(json_t *obj);

static json_t *res_of(json_t *obj)
{
    return json_object_get(obj, "resource");
}

static void d_not_object(json_t *o)
{
    json_object_clear(o);
}
static void d_no_tag(json_t *o)
{
    json_object_del(o, "tag");
}
static void d_bad_tag(json_t *o)
{
    json_object_set_new(o, "tag", json_string("../etc"));
}
static void d_other_tag(json_t *o)
{
    json_object_set_new(o, "tag", json_string("other"));
}
static void d_no_version(json_t *o)
{
    json_object_del(o, "version");
}
static void d_version_text(json_t *o)
{
    json_object_set_new(o, "version", json_string("7"));
}
static void d_deleted_text(json_t *o)
{
    json_object_set_new(o, "deleted", json_string("no"));
}
static void d_no_deleted(json_t *o)
{
    json_object_del(o, "deleted");
}
static void d_no_resource(json_t *o)
{
    json_object_del(o, "resource");
}
static void d_no_id(json_t *o)
{
    json_object_del(res_of(o), "id");
}
static void d_bad_id(json_t *o)
{
    json_object_set_new(res_of(o), "id", json_string("a b"));
}
static void d_bad_info(json_t *o)
{
    json_object_set_new(res_of(o), "info", json_string("a\nb"));
}
static void d_bad_type(json_t *o)
{
    json_object_set_new(res_of(o), "app", json_string("nfs"));
}
/* Found by tests/fuzz/fuzz_replica: these reasons quoted the newline. */
static void d_type_newline(json_t *o)
{
    json_object_set_new(res_of(o), "app", json_string("g\nen"));
}
static void d_tag_newline(json_t *o)
{
    json_object_set_new(res_of(o), "tag", json_string("app1\n"));
}
static void d_action_newline(json_t *o)
{
    json_object_set_new(json_object_get(o, "scripts"), "re\nboot", json_string("IyEvYmluL3NoCg=="));
}
static void d_no_settings(json_t *o)
{
    json_object_del(res_of(o), "settings");
}
static void d_bad_setting(json_t *o)
{
    json_object_set_new(json_object_get(res_of(o), "settings"), "check-failures",
                        json_string("many"));
}
static void d_unknown_setting(json_t *o)
{
    json_object_set_new(json_object_get(res_of(o), "settings"), "colour", json_string("red"));
}
static void d_bad_watch(json_t *o)
{
    json_object_set_new(json_object_get(res_of(o), "settings"), "watch", json_string("inotify"));
}
static void d_bad_kill_mode(json_t *o)
{
    json_object_set_new(json_object_get(res_of(o), "settings"), "kill-mode", json_string("mixed"));
}
static void d_bad_script_args(json_t *o)
{
    json_object_set_new(json_object_get(res_of(o), "settings"), "script-args", json_string("perl"));
}
static void d_script_args_for_ocf(json_t *o)
{
    json_t *r = res_of(o);
    json_object_set_new(r, "app", json_string("ocf"));
    json_object_set_new(r, "type", json_string("heartbeat:Dummy"));
    json_object_set_new(json_object_get(r, "settings"), "script-args", json_string("lifekeeper"));
}
static void d_watch_pidfile_without_one(json_t *o)
{
    json_object_set_new(json_object_get(res_of(o), "settings"), "pidfile", json_string(""));
}
static void d_script_list_text(json_t *o)
{
    json_object_set_new(res_of(o), "scripts", json_string("restore"));
}
static void d_script_listed_missing(json_t *o)
{
    json_object_del(json_object_get(o, "scripts"), "quickchk");
}
static void d_script_unlisted(json_t *o)
{
    json_object_set_new(json_object_get(o, "scripts"), "deepchk",
                        json_string("IyEvYmluL3NoCg==")); /* "#!/bin/sh\n" */
}
static void d_no_restore(json_t *o)
{
    json_object_del(json_object_get(o, "scripts"), "restore");
    json_array_clear(json_object_get(res_of(o), "scripts"));
    json_array_append_new(json_object_get(res_of(o), "scripts"), json_string("remove"));
    json_array_append_new(json_object_get(res_of(o), "scripts"), json_string("quickchk"));
}
static void d_unknown_action(json_t *o)
{
    json_object_set_new(json_object_get(o, "scripts"), "reboot", json_string("IyEvYmluL3NoCg=="));
}
static void d_no_scripts(json_t *o)
{
    json_object_del(o, "scripts");
}
static void d_bad_base64(json_t *o)
{
    json_object_set_new(json_object_get(o, "scripts"), "restore", json_string("IyEv*mluL3NoCg=="));
}
static void d_script_number(json_t *o)
{
    json_object_set_new(json_object_get(o, "scripts"), "restore", json_integer(3));
}
static void d_no_shebang(json_t *o)
{
    /* "echo hi\n" */
    json_object_set_new(json_object_get(o, "scripts"), "restore", json_string("ZWNobyBoaQo="));
}
static void d_empty_script(json_t *o)
{
    json_object_set_new(json_object_get(o, "scripts"), "restore", json_string(""));
}
static void d_oversize(json_t *o)
{
    size_t len = LK_SCRIPT_MAX_SIZE + 1;
    unsigned char *big = malloc(len);
    assert_non_null(big);
    memset(big, '#', len);
    memcpy(big, "#!/bin/sh\n", 10);
    size_t b64_len = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64_len);
    assert_non_null(b64);
    sodium_bin2base64(b64, b64_len, big, len, sodium_base64_VARIANT_ORIGINAL);
    json_object_set_new(json_object_get(o, "scripts"), "restore", json_string(b64));
    free(big);
    free(b64);
}
static void d_no_nodes(json_t *o)
{
    json_object_del(o, "nodes");
}
static void d_nodes_array(json_t *o)
{
    json_object_set_new(o, "nodes", json_pack("[s]", NODE_B));
}
static void d_priority_zero(json_t *o)
{
    json_object_set_new(json_object_get(o, "nodes"), NODE_B, json_integer(0));
}
static void d_priority_big(json_t *o)
{
    json_object_set_new(json_object_get(o, "nodes"), NODE_B, json_integer(1025));
}
static void d_priority_text(json_t *o)
{
    json_object_set_new(json_object_get(o, "nodes"), NODE_B, json_string("2"));
}
static void d_priority_twice(json_t *o)
{
    json_object_set_new(json_object_get(o, "nodes"), NODE_B, json_integer(1));
}
static void d_bad_node_name(json_t *o)
{
    json_object_set_new(json_object_get(o, "nodes"), "node C", json_integer(3));
}
/* Found by tests/fuzz/fuzz_replica: the reason was an uninitialised buffer. */
static void d_empty_node_name(json_t *o)
{
    json_object_set_new(json_object_get(o, "nodes"), "", json_integer(3));
}
static void d_no_children(json_t *o)
{
    json_object_del(o, "children");
}
static void d_child_itself(json_t *o)
{
    json_array_append_new(json_object_get(o, "children"), json_string("app1"));
}
static void d_child_number(json_t *o)
{
    json_array_append_new(json_object_get(o, "children"), json_integer(1));
}
static void d_child_twice(json_t *o)
{
    json_array_append_new(json_object_get(o, "children"), json_string("db1"));
    json_array_append_new(json_object_get(o, "children"), json_string("db1"));
}

/* Issue 13: types, parameters and helper files are checked as a create checks them. */
static void d_gen_type(json_t *o)
{
    json_object_set_new(res_of(o), "type", json_string("Dummy"));
}
static void d_ocf_with_scripts(json_t *o)
{
    json_object_set_new(res_of(o), "app", json_string("ocf"));
    json_object_set_new(res_of(o), "type", json_string("heartbeat:Dummy"));
}
static void d_long_type(json_t *o)
{
    char type[300];
    memset(type, 't', sizeof(type) - 1);
    type[sizeof(type) - 1] = '\0';
    json_object_del(o, "scripts");
    json_object_set_new(o, "scripts", json_object());
    json_object_set_new(res_of(o), "app", json_string("systemd"));
    json_object_set_new(res_of(o), "type", json_string(type));
}
static void d_params_array(json_t *o)
{
    json_object_set_new(o, "params", json_array());
}
static void d_param_bad_name(json_t *o)
{
    json_object_set_new(o, "params", json_pack("{s:{s:s}}", "a-b", "value", "1"));
}
static void d_param_number(json_t *o)
{
    json_object_set_new(o, "params", json_pack("{s:{s:i}}", "a", "value", 1));
}
static void d_param_secret_text(json_t *o)
{
    json_object_set_new(o, "params", json_pack("{s:{s:s, s:s}}", "a", "value", "1", "secret", "y"));
}
static void d_param_too_long(json_t *o)
{
    char *v = calloc(1, LK_PARAM_VALUE_MAX + 2);
    memset(v, 'v', LK_PARAM_VALUE_MAX + 1);
    json_object_set_new(o, "params", json_pack("{s:{s:s}}", "a", "value", v));
    free(v);
}
static void d_helpers_array(json_t *o)
{
    json_object_set_new(o, "helpers", json_array());
}
static void d_helper_path(json_t *o)
{
    json_object_set_new(o, "helpers", json_pack("{s:s}", "../evil", "eA=="));
}
static void d_helper_hidden(json_t *o)
{
    json_object_set_new(o, "helpers", json_pack("{s:s}", ".x", "eA=="));
}
static void d_helper_base64(json_t *o)
{
    json_object_set_new(o, "helpers", json_pack("{s:s}", "lib.sh", "!!!"));
}
static void d_helper_empty(json_t *o)
{
    json_object_set_new(o, "helpers", json_pack("{s:s}", "lib.sh", ""));
}
static void d_helpers_33(json_t *o)
{
    json_t *h = json_object();
    for (int i = 0; i < 33; i++) {
        char name[16];
        snprintf(name, sizeof(name), "h%d", i);
        json_object_set_new(h, name, json_string("eA=="));
    }
    json_object_set_new(o, "helpers", h);
}

/* script-args (issue 14) travels only when it is not the default, so a peer from before it
 * (whose parser refuses an unknown key) takes every resource that keeps the default; a
 * peer without the key in an object keeps the default. */
static void lk_replica_object__script_args_only_when_set(void **state)
{
    struct fixture *f = *state;
    struct lk_node *a = &f->n[0].node, *b = &f->n[1].node;
    create(a, "app1");
    extend(a, "app1", NODE_B, 2);
    json_t *obj = lk_replica_object(a, "app1");
    assert_null(json_object_get(json_object_get(res_of(obj), "settings"), "script-args"));
    json_decref(obj);
    send_expect(f, a, b, "app1", LK_REPLICA_APPLIED);
    assert_int_equal(lk_node_find(b, "app1")->settings.script_args, LK_SCRIPT_ARGS_NONE);

    configure(a, "app1", "script-args", "lifekeeper");
    obj = lk_replica_object(a, "app1");
    assert_string_equal(json_string_value(json_object_get(json_object_get(res_of(obj), "settings"),
                                                          "script-args")),
                        "lifekeeper");
    json_decref(obj);
    send_expect(f, a, b, "app1", LK_REPLICA_APPLIED);
    assert_int_equal(lk_node_find(b, "app1")->settings.script_args, LK_SCRIPT_ARGS_LIFEKEEPER);

    configure(a, "app1", "script-args", "none");
    send_expect(f, a, b, "app1", LK_REPLICA_APPLIED);
    assert_int_equal(lk_node_find(b, "app1")->settings.script_args, LK_SCRIPT_ARGS_NONE);
}

static void lk_replica_apply__malformed_objects_change_nothing(void **state)
{
    struct fixture *f = *state;
    struct lk_node *a = &f->n[0].node, *b = &f->n[1].node;
    create(a, "app1");
    extend(a, "app1", NODE_B, 2);
    json_t *good = lk_replica_object(a, "app1");
    assert_non_null(good);
    static const struct {
        const char *name;
        damage_fn fn;
    } damage[] = {
            {"empty object", d_not_object},
            {"no tag", d_no_tag},
            {"bad tag", d_bad_tag},
            {"tag differs from the resource's", d_other_tag},
            {"no version", d_no_version},
            {"version as text", d_version_text},
            {"deleted as text", d_deleted_text},
            {"no deleted", d_no_deleted},
            {"no resource", d_no_resource},
            {"no id", d_no_id},
            {"bad id", d_bad_id},
            {"control character in info", d_bad_info},
            {"unknown app", d_bad_type},
            {"app with a newline", d_type_newline},
            {"resource tag with a newline", d_tag_newline},
            {"action with a newline", d_action_newline},
            {"no settings", d_no_settings},
            {"bad setting", d_bad_setting},
            {"unknown setting", d_unknown_setting},
            {"bad watch", d_bad_watch},
            {"bad kill-mode", d_bad_kill_mode},
            {"bad script-args", d_bad_script_args},
            {"script-args lifekeeper for an ocf resource", d_script_args_for_ocf},
            {"watch pidfile without a pidfile", d_watch_pidfile_without_one},
            {"script list as text", d_script_list_text},
            {"listed script missing", d_script_listed_missing},
            {"script not listed", d_script_unlisted},
            {"no restore script", d_no_restore},
            {"unknown action", d_unknown_action},
            {"no scripts", d_no_scripts},
            {"bad base64", d_bad_base64},
            {"script as a number", d_script_number},
            {"script without #!", d_no_shebang},
            {"empty script", d_empty_script},
            {"script over 1 MiB", d_oversize},
            {"no nodes", d_no_nodes},
            {"nodes as an array", d_nodes_array},
            {"priority 0", d_priority_zero},
            {"priority 1025", d_priority_big},
            {"priority as text", d_priority_text},
            {"duplicate priorities", d_priority_twice},
            {"bad node name", d_bad_node_name},
            {"empty node name", d_empty_node_name},
            {"no children", d_no_children},
            {"child is itself", d_child_itself},
            {"child as a number", d_child_number},
            {"child named twice", d_child_twice},
            {"gen with another type", d_gen_type},
            {"ocf carrying scripts", d_ocf_with_scripts},
            {"type over 255 bytes", d_long_type},
            {"params as an array", d_params_array},
            {"parameter with a bad name", d_param_bad_name},
            {"parameter value a number", d_param_number},
            {"secret mark as text", d_param_secret_text},
            {"parameter over 4 KiB", d_param_too_long},
            {"helpers as an array", d_helpers_array},
            {"helper name with a path", d_helper_path},
            {"hidden helper name", d_helper_hidden},
            {"helper not base64", d_helper_base64},
            {"empty helper", d_helper_empty},
            {"33 helpers", d_helpers_33},
    };
    for (size_t i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
        json_t *obj = json_deep_copy(good);
        damage[i].fn(obj);
        enum lk_replica_outcome outcome = LK_REPLICA_APPLIED;
        f->err[0] = '\0';
        int r = lk_replica_apply(b, NODE_A, obj, &outcome, f->err, sizeof(f->err));
        json_decref(obj);
        if (r != -EINVAL) {
            fail_msg("%s: expected -EINVAL, got %d (%s)", damage[i].name, r, f->err);
        }
        if (f->err[0] == '\0' || strchr(f->err, '\n')) {
            fail_msg("%s: the reason must be one line, got '%s'", damage[i].name, f->err);
        }
        if (damage[i].fn == d_empty_node_name &&
            !strstr(f->err, "resource 'app1': node name must not be empty")) {
            fail_msg("%s: got '%s'", damage[i].name, f->err);
        }
        /* Nothing changed: no rows, no copies, no view, not even the clock. */
        assert_int_equal(version_of(b, "app1", NULL).counter, 0);
        assert_int_equal(clock_of(b), 0);
        assert_int_equal(b->count, 0);
        assert_int_equal(b->extend_count, 0);
        for (int x = 0; x < LK_ACTION_COUNT; x++) {
            assert_false(script_exists(b, "app1", (enum lk_action) x));
        }
    }
    json_t *array = json_array();
    enum lk_replica_outcome ignored;
    assert_int_equal(lk_replica_apply(b, NODE_A, array, &ignored, f->err, sizeof(f->err)), -EINVAL);
    json_decref(array);
    /* The undamaged object applies. */
    enum lk_replica_outcome outcome;
    assert_int_equal(lk_replica_apply(b, NODE_A, good, &outcome, f->err, sizeof(f->err)), 0);
    assert_int_equal(outcome, LK_REPLICA_APPLIED);
    json_decref(good);
}

/* ---- lk_replica_apply: creating and updating ---- */

static void lk_replica_apply__creates_the_same_resource(void **state)
{
    struct fixture *f = *state;
    struct lk_node *a = &f->n[0].node, *b = &f->n[1].node;
    struct lk_resource *orig = create(a, "app1");
    extend(a, "app1", NODE_B, 10);
    send_expect(f, a, b, "app1", LK_REPLICA_APPLIED);

    struct lk_resource *res = lk_node_find(b, "app1");
    assert_non_null(res);
    assert_string_equal(res->id, orig->id);
    assert_string_equal(res->info, orig->info);
    assert_memory_equal(res->has_script, orig->has_script, sizeof(res->has_script));
    assert_memory_equal(&res->settings, &orig->settings, sizeof(res->settings));
    assert_int_equal(res->state, LK_STATE_OSU);
    assert_false(res->target_in_service);
    assert_int_equal(res->pending, LK_PENDING_NONE);
    assert_string_equal(res->reason, "extended from " NODE_A);
    assert_script(b, "app1", LK_ACTION_RESTORE, restore_sh, strlen(restore_sh));
    assert_script(b, "app1", LK_ACTION_REMOVE, remove_sh, strlen(remove_sh));
    assert_script(b, "app1", LK_ACTION_QUICKCHK, quickchk_bin, sizeof(quickchk_bin));
    assert_false(script_exists(b, "app1", LK_ACTION_DEEPCHK));

    /* The view's extends and the store's agree, best first. */
    assert_int_equal(lk_node_priority(b, "app1", NODE_A), 1);
    assert_int_equal(lk_node_priority(b, "app1", NODE_B), 10);
    assert_int_equal(lk_node_priority(b, "app1", NODE_C), 0);
    char names[4][LK_TAG_MAX + 1];
    uint32_t prio[4];
    assert_int_equal(lk_replica_nodes(b, "app1", names, prio, 4), 2);
    assert_string_equal(names[0], NODE_A);
    assert_int_equal(prio[0], 1);
    assert_string_equal(names[1], NODE_B);
    assert_int_equal(prio[1], 10);
    assert_int_equal(lk_replica_nodes(b, "app1", names, prio, 1), 1);

    /* The rows are there for a restart, and both nodes hold the same object. */
    assert_int_equal(store_count(b), 1);
    assert_same_object(a, b, "app1");
    assert_true(clock_of(b) >= version_of(a, "app1", NULL).counter);
}

static void lk_replica_apply__newer_wins_older_and_equal_ignored(void **state)
{
    struct fixture *f = *state;
    struct lk_node *a = &f->n[0].node, *b = &f->n[1].node;
    create(a, "app1");
    extend(a, "app1", NODE_B, 2);
    json_t *v1 = lk_replica_object(a, "app1");
    send_expect(f, a, b, "app1", LK_REPLICA_APPLIED);

    /* A changes a setting and the quickchk script, and drops nothing else. */
    configure(a, "app1", "quickchk-interval", "7");
    static const char new_quick[] = "#!/bin/sh\nexit 1\n";
    install(a, "app1", LK_ACTION_QUICKCHK, new_quick, strlen(new_quick));
    assert_int_equal(lk_store_begin(a->store), 0);
    commit_or_fail(a, lk_define_touch(a, "app1"), "update-script");
    /* A local run on b changes its own state, which no object carries. */
    lk_node_find(b, "app1")->check_failures_in_row = 2;

    send_expect(f, a, b, "app1", LK_REPLICA_APPLIED);
    struct lk_resource *res = lk_node_find(b, "app1");
    assert_int_equal(res->settings.quickchk_interval_usec, 7000000);
    assert_int_equal(res->check_failures_in_row, 2);
    assert_script(b, "app1", LK_ACTION_QUICKCHK, new_quick, strlen(new_quick));
    struct lk_version now = version_of(b, "app1", NULL), old = version_in(v1);
    assert_true(lk_version_cmp(&now, &old) > 0);
    assert_true(clock_of(b) >= now.counter);

    /* The older object again: ignored, but its counter is seen. */
    enum lk_replica_outcome outcome = LK_REPLICA_APPLIED;
    assert_int_equal(lk_replica_apply(b, NODE_A, v1, &outcome, f->err, sizeof(f->err)), 0);
    assert_int_equal(outcome, LK_REPLICA_IGNORED);
    assert_int_equal(res->settings.quickchk_interval_usec, 7000000);
    assert_script(b, "app1", LK_ACTION_QUICKCHK, new_quick, strlen(new_quick));
    struct lk_version after = version_of(b, "app1", NULL);
    assert_int_equal(lk_version_cmp(&now, &after), 0);

    /* The same object again: ignored. */
    send_expect(f, a, b, "app1", LK_REPLICA_IGNORED);
    json_decref(v1);

    /* Explicit counters: an object one counter older than b's, from a node that sorts
     * later, is still older (counters first), and an equal one from a node that sorts
     * earlier too. */
    json_t *obj = lk_replica_object(a, "app1");
    configure(a, "app1", "check-failures", "5");
    json_t *changed = lk_replica_object(a, "app1");
    json_object_set_new(changed, "version",
                        json_pack("[I, s]", (json_int_t) now.counter - 1, NODE_C));
    assert_int_equal(lk_replica_apply(b, NODE_A, changed, &outcome, f->err, sizeof(f->err)), 0);
    assert_int_equal(outcome, LK_REPLICA_IGNORED);
    json_object_set_new(changed, "version", json_pack("[I, s]", (json_int_t) now.counter, "node0"));
    assert_int_equal(lk_replica_apply(b, NODE_A, changed, &outcome, f->err, sizeof(f->err)), 0);
    assert_int_equal(outcome, LK_REPLICA_IGNORED);
    assert_int_equal(lk_node_find(b, "app1")->settings.check_failures, 3);
    /* The same counter from a node that sorts later wins. */
    json_object_set_new(changed, "version", json_pack("[I, s]", (json_int_t) now.counter, NODE_C));
    assert_int_equal(lk_replica_apply(b, NODE_A, changed, &outcome, f->err, sizeof(f->err)), 0);
    assert_int_equal(outcome, LK_REPLICA_APPLIED);
    assert_int_equal(lk_node_find(b, "app1")->settings.check_failures, 5);
    json_decref(changed);

    /* A future counter C from a peer moves the clock to C (even when ignored): the next
     * local write is newer than C. */
    uint64_t c = far_future();
    json_object_set_new(obj, "version", json_pack("[I, s]", (json_int_t) c, NODE_C));
    assert_int_equal(lk_replica_apply(b, NODE_A, obj, &outcome, f->err, sizeof(f->err)), 0);
    assert_int_equal(outcome, LK_REPLICA_APPLIED);
    assert_int_equal(lk_node_find(b, "app1")->settings.check_failures, 3);
    assert_true(clock_of(b) >= c);
    configure(b, "app1", "check-failures", "4");
    struct lk_version mine = version_of(b, "app1", NULL);
    assert_true(mine.counter > c);
    assert_string_equal(mine.node, NODE_B);
    assert_true(clock_of(b) >= mine.counter);
    json_object_set_new(obj, "version", json_pack("[I, s]", (json_int_t) (c + 100), NODE_C));
    assert_int_equal(lk_replica_apply(a, NODE_B, obj, &outcome, f->err, sizeof(f->err)), 0);
    assert_int_equal(outcome, LK_REPLICA_APPLIED);
    json_object_set_new(obj, "version", json_pack("[I, s]", (json_int_t) (c + 50), NODE_C));
    assert_int_equal(lk_replica_apply(a, NODE_B, obj, &outcome, f->err, sizeof(f->err)), 0);
    assert_int_equal(outcome, LK_REPLICA_IGNORED);
    assert_true(clock_of(a) >= c + 100);
    configure(a, "app1", "check-failures", "6");
    assert_true(version_of(a, "app1", NULL).counter > c + 100);
    json_decref(obj);
}

/* watch and kill-mode are part of the definition: a change is a new version that the
 * peer applies, and an object from a node that does not know them yet gives the
 * defaults. */
/* Stamps a new version of tag on node (its files changed). */
static void touch(struct lk_node *node, const char *tag)
{
    assert_int_equal(lk_store_begin(node->store), 0);
    commit_or_fail(node, lk_define_touch(node, tag), "touch");
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Issue 13: parameters and helper files travel with the definition, the whole set. */
static void lk_replica_apply__params_and_helpers_travel(void **state)
{
    struct fixture *f = *state;
    struct lk_node *a = &f->n[0].node, *b = &f->n[1].node;
    create(a, "app1");
    struct lk_params p = {0};
    assert_int_equal(lk_params_set(&p, "ip", "10.0.0.5", false, f->err, sizeof(f->err)), 0);
    assert_int_equal(lk_params_set(&p, "pw", "s3cr3t", true, f->err, sizeof(f->err)), 0);
    assert_int_equal(lk_params_write(a->root, "app1", &p, f->err, sizeof(f->err)), 0);
    assert_int_equal(lk_helpers_install(a->root, "app1", "lib.sh", "f() { :; }\n", 11, f->err,
                                        sizeof(f->err)),
                     0);
    assert_int_equal(
            lk_helpers_install(a->root, "app1", "old.sh", "x=1\n", 4, f->err, sizeof(f->err)), 0);
    extend(a, "app1", NODE_B, 2);
    send_expect(f, a, b, "app1", LK_REPLICA_APPLIED);
    struct lk_params got = {0};
    assert_int_equal(lk_params_read(b->root, "app1", &got, f->err, sizeof(f->err)), 0);
    assert_true(lk_params_equal(&p, &got));
    lk_params_free(&got);
    char path[LK_PATH_MAX + 64], dir[LK_PATH_MAX];
    lk_helpers_dir(b->root, "app1", dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/lib.sh", dir);
    assert_string_equal(read_text(path), "f() { :; }\n");
    assert_same_object(a, b, "app1");

    /* The next version no longer has old.sh nor ip: b follows. */
    char old[LK_PATH_MAX + 64];
    lk_helpers_dir(a->root, "app1", dir, sizeof(dir));
    snprintf(old, sizeof(old), "%s/old.sh", dir);
    assert_int_equal(unlink(old), 0);
    assert_int_equal(lk_params_unset(&p, "ip"), 0);
    assert_int_equal(lk_params_write(a->root, "app1", &p, f->err, sizeof(f->err)), 0);
    touch(a, "app1");
    send_expect(f, a, b, "app1", LK_REPLICA_APPLIED);
    assert_int_equal(lk_params_read(b->root, "app1", &got, f->err, sizeof(f->err)), 0);
    assert_true(lk_params_equal(&p, &got));
    lk_params_free(&got);
    json_t *names = lk_helpers_names(b->root, "app1");
    assert_int_equal(json_array_size(names), 1);
    assert_string_equal(json_string_value(json_array_get(names, 0)), "lib.sh");
    json_decref(names);

    /* An object from a peer from before parameters existed has none. */
    json_t *obj = lk_replica_object(a, "app1");
    json_object_del(obj, "params");
    json_object_del(obj, "helpers");
    struct lk_version v = version_of(a, "app1", NULL);
    json_object_set_new(obj, "version", json_pack("[I, s]", (json_int_t) v.counter + 1, NODE_C));
    enum lk_replica_outcome outcome = LK_REPLICA_IGNORED;
    assert_int_equal(lk_replica_apply(b, NODE_A, obj, &outcome, f->err, sizeof(f->err)), 0);
    json_decref(obj);
    assert_int_equal(outcome, LK_REPLICA_APPLIED);
    assert_int_equal(lk_params_read(b->root, "app1", &got, f->err, sizeof(f->err)), 0);
    assert_int_equal(got.count, 0);
    names = lk_helpers_names(b->root, "app1");
    assert_int_equal(json_array_size(names), 0);
    json_decref(names);
    lk_params_free(&p);
}

static void lk_replica_apply__watch_and_kill_mode_travel(void **state)
{
    struct fixture *f = *state;
    struct lk_node *a = &f->n[0].node, *b = &f->n[1].node;
    create(a, "app1");
    extend(a, "app1", NODE_B, 2);
    send_expect(f, a, b, "app1", LK_REPLICA_APPLIED);
    struct lk_resource *res = lk_node_find(b, "app1");
    assert_int_equal(res->settings.watch, LK_WATCH_PIDFILE);
    assert_int_equal(res->settings.kill_mode, LK_KILL_PROCESS);

    struct lk_version before = version_of(a, "app1", NULL);
    configure(a, "app1", "watch", "none");
    configure(a, "app1", "kill-mode", "none");
    struct lk_version after = version_of(a, "app1", NULL);
    assert_true(lk_version_cmp(&after, &before) > 0);
    send_expect(f, a, b, "app1", LK_REPLICA_APPLIED);
    assert_int_equal(res->settings.watch, LK_WATCH_NONE);
    assert_int_equal(res->settings.kill_mode, LK_KILL_NONE);
    assert_same_object(a, b, "app1");

    json_t *old = lk_replica_object(a, "app1");
    json_t *settings = json_object_get(json_object_get(old, "resource"), "settings");
    assert_int_equal(json_object_del(settings, "watch"), 0);
    assert_int_equal(json_object_del(settings, "kill-mode"), 0);
    json_object_set_new(old, "version",
                        json_pack("[I, s]", (json_int_t) after.counter + 1, NODE_C));
    enum lk_replica_outcome outcome = LK_REPLICA_IGNORED;
    assert_int_equal(lk_replica_apply(b, NODE_A, old, &outcome, f->err, sizeof(f->err)), 0);
    assert_int_equal(outcome, LK_REPLICA_APPLIED);
    assert_int_equal(res->settings.watch, LK_WATCH_CGROUP);
    assert_int_equal(res->settings.kill_mode, LK_KILL_CONTROL_GROUP);
    json_decref(old);
}

static void lk_replica_apply__concurrent_writes_converge(void **state)
{
    struct fixture *f = *state;
    struct lk_node *a = &f->n[0].node, *b = &f->n[1].node;
    create(a, "app1");
    extend(a, "app1", NODE_B, 2);
    send_expect(f, a, b, "app1", LK_REPLICA_APPLIED);

    /* A partition: both clocks have seen the same counter, far ahead of the wall clock,
     * so both write the same counter and only the node names order the writes. */
    uint64_t seen = far_future();
    assert_int_equal(lk_store_see_clock(a->store, seen), 0);
    assert_int_equal(lk_store_see_clock(b->store, seen), 0);
    configure(a, "app1", "check-failures", "7");
    configure(b, "app1", "check-failures", "9");
    struct lk_version va = version_of(a, "app1", NULL), vb = version_of(b, "app1", NULL);
    assert_true(va.counter > seen);
    assert_int_equal(va.counter, vb.counter);
    assert_true(lk_version_cmp(&va, &vb) < 0);

    /* Healed: each sends its object; (counter, nodeB) is the later write on both sides. */
    json_t *from_a = lk_replica_object(a, "app1"), *from_b = lk_replica_object(b, "app1");
    enum lk_replica_outcome oa, ob;
    assert_int_equal(lk_replica_apply(b, NODE_A, from_a, &ob, f->err, sizeof(f->err)), 0);
    assert_int_equal(lk_replica_apply(a, NODE_B, from_b, &oa, f->err, sizeof(f->err)), 0);
    assert_int_equal(ob, LK_REPLICA_IGNORED);
    assert_int_equal(oa, LK_REPLICA_APPLIED);
    json_decref(from_a);
    json_decref(from_b);
    assert_int_equal(lk_node_find(a, "app1")->settings.check_failures, 9);
    assert_int_equal(lk_node_find(b, "app1")->settings.check_failures, 9);
    assert_same_object(a, b, "app1");
}

static void lk_replica_apply__later_unseen_write_wins(void **state)
{
    struct fixture *f = *state;
    struct lk_node *a = &f->n[0].node, *b = &f->n[1].node;
    create(a, "app1");
    extend(a, "app1", NODE_B, 2);
    send_expect(f, a, b, "app1", LK_REPLICA_APPLIED);

    /* A partition: b changes it first, a (whose name sorts first, so a tie would go to
     * b) a few ms later, neither seeing the other's change. */
    configure(b, "app1", "check-failures", "9");
    sleep_ms(5);
    configure(a, "app1", "check-failures", "7");
    struct lk_version va = version_of(a, "app1", NULL), vb = version_of(b, "app1", NULL);
    assert_string_equal(va.node, NODE_A);
    assert_string_equal(vb.node, NODE_B);
    assert_true(va.counter > vb.counter);

    /* Healed: a's, the later change, wins on both sides, whichever arrives first. */
    send_expect(f, a, b, "app1", LK_REPLICA_APPLIED);
    send_expect(f, b, a, "app1", LK_REPLICA_IGNORED);
    assert_int_equal(lk_node_find(a, "app1")->settings.check_failures, 7);
    assert_int_equal(lk_node_find(b, "app1")->settings.check_failures, 7);
    assert_same_object(a, b, "app1");
    assert_true(clock_of(a) >= va.counter);
    assert_true(clock_of(b) >= va.counter);

    /* The same the other way round, with the older object arriving first. */
    configure(a, "app1", "check-failures", "4");
    json_t *older = lk_replica_object(a, "app1");
    sleep_ms(5);
    configure(b, "app1", "check-failures", "5");
    enum lk_replica_outcome outcome;
    assert_int_equal(lk_replica_apply(b, NODE_A, older, &outcome, f->err, sizeof(f->err)), 0);
    assert_int_equal(outcome, LK_REPLICA_IGNORED);
    json_decref(older);
    send_expect(f, b, a, "app1", LK_REPLICA_APPLIED);
    assert_int_equal(lk_node_find(a, "app1")->settings.check_failures, 5);
    assert_int_equal(lk_node_find(b, "app1")->settings.check_failures, 5);
    assert_same_object(a, b, "app1");
}

/* ---- Deletes, unextends, tombstones ---- */

static void lk_replica_apply__tombstone_beats_older_and_loses_to_newer(void **state)
{
    struct fixture *f = *state;
    struct lk_node *a = &f->n[0].node, *b = &f->n[1].node, *c = &f->n[2].node;
    create(a, "app1");
    extend(a, "app1", NODE_B, 2);
    extend(a, "app1", NODE_C, 3);
    json_t *live = lk_replica_object(a, "app1");
    send_expect(f, a, b, "app1", LK_REPLICA_APPLIED);

    struct lk_version lv = version_in(live);
    delete_resource(a, "app1");
    bool deleted = false;
    struct lk_version tv = version_of(a, "app1", &deleted);
    assert_true(deleted);
    assert_true(lk_version_cmp(&tv, &lv) > 0);
    assert_string_equal(tv.node, NODE_A);
    assert_true(clock_of(a) >= tv.counter);
    json_t *tomb = lk_replica_object(a, "app1");
    assert_non_null(tomb);
    struct lk_version in_tomb = version_in(tomb);
    assert_int_equal(lk_version_cmp(&in_tomb, &tv), 0);
    assert_true(json_is_true(json_object_get(tomb, "deleted")));
    assert_non_null(json_object_get(json_object_get(tomb, "nodes"), NODE_C));

    /* b held it: dropped, with its copies. */
    send_expect(f, a, b, "app1", LK_REPLICA_DROPPED);
    assert_null(lk_node_find(b, "app1"));
    assert_int_equal(b->extend_count, 0);
    assert_false(script_exists(b, "app1", LK_ACTION_RESTORE));
    assert_int_equal(store_count(b), 0);
    assert_same_object(a, b, "app1");

    /* c was away: the tombstone arrives first, then a stale live copy from elsewhere. */
    enum lk_replica_outcome outcome;
    assert_int_equal(lk_replica_apply(c, NODE_A, tomb, &outcome, f->err, sizeof(f->err)), 0);
    assert_int_equal(outcome, LK_REPLICA_DROPPED);
    assert_int_equal(lk_replica_apply(c, NODE_B, live, &outcome, f->err, sizeof(f->err)), 0);
    assert_int_equal(outcome, LK_REPLICA_IGNORED);
    assert_null(lk_node_find(c, "app1"));
    assert_false(script_exists(c, "app1", LK_ACTION_RESTORE));
    struct lk_version on_c = version_of(c, "app1", &deleted);
    assert_true(deleted);
    assert_int_equal(lk_version_cmp(&on_c, &tv), 0);
    assert_true(clock_of(c) >= tv.counter);
    /* A live copy one counter behind the tombstone, from a node that sorts later: older. */
    json_object_set_new(live, "version", json_pack("[I, s]", (json_int_t) tv.counter - 1, NODE_C));
    assert_int_equal(lk_replica_apply(c, NODE_B, live, &outcome, f->err, sizeof(f->err)), 0);
    assert_int_equal(outcome, LK_REPLICA_IGNORED);
    assert_null(lk_node_find(c, "app1"));

    /* Re-created on a: newer than the tombstone everywhere. */
    create(a, "app1");
    extend(a, "app1", NODE_B, 2);
    send_expect(f, a, b, "app1", LK_REPLICA_APPLIED);
    assert_non_null(lk_node_find(b, "app1"));
    struct lk_version again = version_of(b, "app1", &deleted);
    assert_false(deleted);
    assert_true(lk_version_cmp(&again, &tv) > 0);
    assert_same_object(a, b, "app1");
    json_decref(live);
    json_decref(tomb);
}

static void lk_replica_apply__unextend_drops_the_copy(void **state)
{
    struct fixture *f = *state;
    struct lk_node *a = &f->n[0].node, *b = &f->n[1].node;
    create(a, "app1");
    extend(a, "app1", NODE_B, 2);
    json_t *old = lk_replica_object(a, "app1");
    send_expect(f, a, b, "app1", LK_REPLICA_APPLIED);

    unextend(a, "app1", NODE_B);
    send_expect(f, a, b, "app1", LK_REPLICA_DROPPED);
    assert_null(lk_node_find(b, "app1"));
    assert_int_equal(b->extend_count, 0);
    assert_false(script_exists(b, "app1", LK_ACTION_QUICKCHK));
    /* b keeps only the version: it has nothing to send, and refuses the older copy. */
    assert_null(lk_replica_object(b, "app1"));
    json_t *summary = lk_replica_summary(b, NODE_A);
    assert_non_null(json_object_get(summary, "app1"));
    json_decref(summary);
    enum lk_replica_outcome outcome;
    assert_int_equal(lk_replica_apply(b, NODE_C, old, &outcome, f->err, sizeof(f->err)), 0);
    assert_int_equal(outcome, LK_REPLICA_IGNORED);
    assert_null(lk_node_find(b, "app1"));
    json_decref(old);

    /* a still holds it, extended to itself only. */
    assert_non_null(lk_node_find(a, "app1"));
    assert_int_equal(lk_node_priority(a, "app1", NODE_B), 0);

    /* Extended again: a newer version brings it back. */
    extend(a, "app1", NODE_B, 5);
    send_expect(f, a, b, "app1", LK_REPLICA_APPLIED);
    assert_non_null(lk_node_find(b, "app1"));
    assert_int_equal(lk_node_priority(b, "app1", NODE_B), 5);
}

static void lk_replica_apply__in_service_is_not_dropped(void **state)
{
    struct fixture *f = *state;
    struct lk_node *a = &f->n[0].node, *b = &f->n[1].node;
    create(a, "app1");
    extend(a, "app1", NODE_B, 2);
    send_expect(f, a, b, "app1", LK_REPLICA_APPLIED);
    struct lk_resource *res = lk_node_find(b, "app1");
    res->state = LK_STATE_ISP;
    struct lk_version before = version_of(b, "app1", NULL);

    unextend(a, "app1", NODE_B);
    enum lk_replica_outcome outcome = LK_REPLICA_IGNORED;
    assert_int_equal(send_one(f, a, b, "app1", &outcome), -EBUSY);
    assert_non_null(strstr(f->err, "in service"));

    delete_resource(a, "app1");
    assert_int_equal(send_one(f, a, b, "app1", &outcome), -EBUSY);

    /* Nothing changed on b. */
    assert_ptr_equal(lk_node_find(b, "app1"), res);
    assert_int_equal(res->state, LK_STATE_ISP);
    struct lk_version after = version_of(b, "app1", NULL);
    assert_int_equal(lk_version_cmp(&before, &after), 0);
    assert_int_equal(store_count(b), 1);
    assert_int_equal(lk_node_priority(b, "app1", NODE_B), 2);
    assert_true(script_exists(b, "app1", LK_ACTION_RESTORE));

    /* A pending action counts as in service. */
    res->state = LK_STATE_OSU;
    res->pending = LK_PENDING_RESTORE;
    assert_int_equal(send_one(f, a, b, "app1", &outcome), -EBUSY);
    res->pending = LK_PENDING_NONE;
    send_expect(f, a, b, "app1", LK_REPLICA_DROPPED);
}

static void lk_replica_apply__changes_on_a_resource_in_service(void **state)
{
    struct fixture *f = *state;
    struct lk_node *a = &f->n[0].node, *b = &f->n[1].node;
    create(a, "app1");
    extend(a, "app1", NODE_B, 2);
    send_expect(f, a, b, "app1", LK_REPLICA_APPLIED);
    struct lk_resource *res = lk_node_find(b, "app1");
    res->state = LK_STATE_ISP;
    res->target_in_service = true;

    /* The quickchk goes away and the interval changes; the state stays b's. */
    struct lk_resource *mine = lk_node_find(a, "app1");
    mine->has_script[LK_ACTION_QUICKCHK] = false;
    configure(a, "app1", "quickchk-interval", "0");
    assert_int_equal(lk_store_begin(a->store), 0);
    int r = lk_store_save_scripts(a->store, mine);
    if (r == 0) {
        r = lk_define_touch(a, "app1");
    }
    commit_or_fail(a, r, "scripts");
    send_expect(f, a, b, "app1", LK_REPLICA_APPLIED);
    assert_ptr_equal(lk_node_find(b, "app1"), res);
    assert_int_equal(res->state, LK_STATE_ISP);
    assert_true(res->target_in_service);
    assert_false(res->has_script[LK_ACTION_QUICKCHK]);
    assert_int_equal(res->settings.quickchk_interval_usec, 0);
    assert_false(script_exists(b, "app1", LK_ACTION_QUICKCHK));
}

/* ---- Hierarchies and what to send ---- */

static void lk_replica_newer_for__children_first(void **state)
{
    struct fixture *f = *state;
    struct lk_node *a = &f->n[0].node, *b = &f->n[1].node;
    /* Tag order is the reverse of the order they must arrive in. */
    create(a, "aparent");
    create(a, "mchild");
    create(a, "zgrand");
    create(a, "local-only");
    depend(a, "mchild", "zgrand");
    depend(a, "aparent", "mchild");
    static const char *const tree[] = {"aparent", "mchild", "zgrand"};
    for (size_t i = 0; i < 3; i++) {
        extend(a, tree[i], NODE_B, 2);
    }
    json_t *empty = json_object();
    json_t *list = lk_replica_newer_for(a, NODE_B, empty);
    assert_non_null(list);
    assert_int_equal(json_array_size(list), 3);
    assert_string_equal(json_string_value(json_array_get(list, 0)), "zgrand");
    assert_string_equal(json_string_value(json_array_get(list, 1)), "mchild");
    assert_string_equal(json_string_value(json_array_get(list, 2)), "aparent");

    /* Applied in that order, the hierarchy is whole on b. */
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        send_expect(f, a, b, json_string_value(v), LK_REPLICA_APPLIED);
    }
    json_decref(list);
    assert_int_equal(b->dep_count, 2);
    assert_true(lk_node_has_parents(b, "zgrand"));
    assert_true(lk_node_has_parents(b, "mchild"));
    assert_false(lk_node_has_parents(b, "aparent"));
    assert_same_object(a, b, "aparent");
    assert_same_object(a, b, "mchild");

    /* With b's summary nothing is newer for b; with an older entry, that one is. */
    json_t *summary = lk_replica_summary(b, NODE_A);
    assert_non_null(summary);
    list = lk_replica_newer_for(a, NODE_B, summary);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
    json_object_set_new(summary, "mchild", json_pack("[i, s]", 1, NODE_A));
    list = lk_replica_newer_for(a, NODE_B, summary);
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(json_string_value(json_array_get(list, 0)), "mchild");
    json_decref(list);
    json_decref(summary);

    /* A tombstone goes to the nodes it names, after the live objects. */
    delete_resource(a, "aparent");
    list = lk_replica_newer_for(a, NODE_B, empty);
    assert_int_equal(json_array_size(list), 3);
    assert_string_equal(json_string_value(json_array_get(list, 2)), "aparent");
    json_decref(list);
    list = lk_replica_newer_for(a, NODE_C, empty);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
    json_decref(empty);
}

static void lk_replica_apply__missing_child_is_skipped(void **state)
{
    struct fixture *f = *state;
    struct lk_node *a = &f->n[0].node, *b = &f->n[1].node;
    create(a, "parent");
    create(a, "child");
    depend(a, "parent", "child");
    extend(a, "parent", NODE_B, 2);
    extend(a, "child", NODE_B, 2);
    /* The parent first: linked to nothing, no error. */
    send_expect(f, a, b, "parent", LK_REPLICA_APPLIED);
    assert_int_equal(b->dep_count, 0);
    send_expect(f, a, b, "child", LK_REPLICA_APPLIED);
    /* The next version of the parent links it. */
    assert_int_equal(lk_store_begin(a->store), 0);
    commit_or_fail(a, lk_define_touch(a, "parent"), "touch");
    send_expect(f, a, b, "parent", LK_REPLICA_APPLIED);
    assert_int_equal(b->dep_count, 1);
    assert_true(lk_node_has_parents(b, "child"));
}

static void lk_replica_apply__link_that_would_close_a_cycle_is_skipped(void **state)
{
    struct fixture *f = *state;
    struct lk_node *a = &f->n[0].node, *b = &f->n[1].node;
    create(a, "x");
    create(a, "y");
    extend(a, "x", NODE_B, 2);
    extend(a, "y", NODE_B, 2);
    send_expect(f, a, b, "x", LK_REPLICA_APPLIED);
    send_expect(f, a, b, "y", LK_REPLICA_APPLIED);
    /* A partition: a links x → y, b links y → x. */
    depend(a, "x", "y");
    depend(b, "y", "x");
    send_expect(f, b, a, "y", LK_REPLICA_APPLIED);
    assert_int_equal(a->dep_count, 1);
    assert_string_equal(a->deps[0].parent, "x");
}

static void lk_replica_touch__clock_and_deleted_nodes(void **state)
{
    struct fixture *f = *state;
    struct lk_node *a = &f->n[0].node;
    assert_int_equal(clock_of(a), 0);
    uint64_t before = (uint64_t) lk_now_ms();
    create(a, "app1");
    struct lk_version v1 = version_of(a, "app1", NULL);
    assert_string_equal(v1.node, NODE_A);
    /* A fresh clock: the first version is the wall clock's. */
    assert_true(v1.counter >= before);
    assert_true(v1.counter <= (uint64_t) lk_now_ms());
    assert_true(clock_of(a) >= v1.counter);
    extend(a, "app1", NODE_B, 2);
    struct lk_version v = version_of(a, "app1", NULL);
    assert_true(v.counter > v1.counter);
    assert_string_equal(v.node, NODE_A);
    assert_true(clock_of(a) >= v.counter);
    /* Far ahead of the wall clock, a touch writes just past the clock. */
    uint64_t far = far_future();
    assert_int_equal(lk_store_see_clock(a->store, far), 0);
    assert_true(clock_of(a) >= far);
    extend(a, "app1", NODE_B, 3);
    v = version_of(a, "app1", NULL);
    assert_int_equal(v.counter, far + 1);
    assert_true(clock_of(a) >= v.counter);

    /* A delete whose caller names the nodes itself. */
    assert_int_equal(lk_store_begin(a->store), 0);
    int r = lk_store_delete(a->store, "app1");
    json_t *nodes = json_pack("{s:i, s:i}", NODE_A, 1, NODE_B, 2);
    lk_node_drop(a, "app1");
    if (r == 0) {
        r = lk_define_touch_deleted(a, "app1", nodes);
    }
    commit_or_fail(a, r, "delete");
    json_t *obj = lk_replica_object(a, "app1");
    assert_non_null(obj);
    assert_true(json_equal(json_object_get(obj, "nodes"), nodes));
    struct lk_version tv = version_in(obj);
    assert_true(lk_version_cmp(&tv, &v) > 0);
    assert_string_equal(tv.node, NODE_A);
    assert_true(clock_of(a) >= tv.counter);
    json_decref(obj);
    json_decref(nodes);
    assert_null(lk_replica_object(a, "never"));
}

/* The order objects travel in (lk_replica_order): children before their parent, each
 * once, a parent's children in dependency-list order, tags that do not depend on one
 * another in their own order; a cycle, a dependency naming a tag outside the list and a
 * tag listed twice change nothing of that; and a 5,000-deep chain (no recursion). */
static void lk_replica_order__children_first(void **state)
{
    (void) state;
    struct lk_dep deps[] = {{"a", "b"}, {"a", "c"}, {"b", "d"}, {"c", "d"},
                            {"e", "a"}, {"x", "a"}, {"f", "g"}, {"g", "f"}};
    struct lk_node node;
    memset(&node, 0, sizeof(node));
    node.deps = deps;
    node.dep_count = sizeof(deps) / sizeof(deps[0]);
    const char *tags[] = {"a", "b", "c", "d", "e", "f", "g", "h", "a"};
    size_t count = sizeof(tags) / sizeof(tags[0]);
    size_t *order = lk_replica_order(&node, tags, count);
    assert_non_null(order);
    const size_t want[] = {3, 1, 2, 0, 4, 6, 5, 7, 8}; /* d b c a e g f h, then a again */
    for (size_t i = 0; i < count; i++) {
        assert_int_equal(order[i], want[i]);
    }
    free(order);

    enum { CHAIN = 5000 };
    struct lk_dep *chain = calloc(CHAIN, sizeof(*chain));
    char(*names)[16] = calloc(CHAIN, sizeof(*names));
    const char **list = calloc(CHAIN, sizeof(*list));
    assert_true(chain && names && list);
    for (size_t i = 0; i < CHAIN; i++) {
        snprintf(names[i], sizeof(names[i]), "r%zu", i);
        list[i] = names[i];
        if (i + 1 < CHAIN) {
            snprintf(chain[i].parent, sizeof(chain[i].parent), "r%zu", i);
            snprintf(chain[i].child, sizeof(chain[i].child), "r%zu", i + 1);
        }
    }
    node.deps = chain;
    node.dep_count = CHAIN - 1;
    order = lk_replica_order(&node, list, CHAIN);
    assert_non_null(order);
    for (size_t i = 0; i < CHAIN; i++) {
        assert_int_equal(order[i], CHAIN - 1 - i);
    }
    free(order);
    order = lk_replica_order(&node, list, 0);
    free(order);
    free(chain);
    free(names);
    free(list);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_version_parse__rejects_what_is_not_a_version),
            cmocka_unit_test(lk_version_cmp__counter_then_node),
            cmocka_unit_test(lk_version_next__past_the_clock_and_at_least_now),
            T(lk_replica_apply__malformed_objects_change_nothing),
            T(lk_replica_apply__creates_the_same_resource),
            T(lk_replica_apply__newer_wins_older_and_equal_ignored),
            T(lk_replica_apply__watch_and_kill_mode_travel),
            T(lk_replica_apply__params_and_helpers_travel),
            T(lk_replica_apply__concurrent_writes_converge),
            T(lk_replica_apply__later_unseen_write_wins),
            T(lk_replica_apply__tombstone_beats_older_and_loses_to_newer),
            T(lk_replica_apply__unextend_drops_the_copy),
            T(lk_replica_apply__in_service_is_not_dropped),
            T(lk_replica_apply__changes_on_a_resource_in_service),
            T(lk_replica_newer_for__children_first),
            cmocka_unit_test(lk_replica_order__children_first),
            T(lk_replica_apply__missing_child_is_skipped),
            T(lk_replica_apply__link_that_would_close_a_cycle_is_skipped),
            T(lk_replica_touch__clock_and_deleted_nodes),
            T(lk_replica_object__script_args_only_when_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
