/* Unit tests for define.c, the one writer of definitions: a node as a real root (mkdtemp)
 * with a real store and script copies, no loop. Each local change must write its rows
 * with a newer version in one transaction, bring the view in line, and publish
 * "definitions changed" on the bus; a refused change writes and tells nothing. Received
 * objects go through lk_replica_apply and are covered by test_replica.c. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "bus.h"
#include "config.h"
#include "define.h"
#include "scripts.h"
#include "store.h"

static const char restore_sh[] = "#!/bin/sh\nexit 0\n";
static const char remove_sh[] = "#!/bin/sh\nexit 0\n";
static const char quickchk_sh[] = "#!/bin/sh\nexit 1\n";

struct fixture {
    char dir[64];
    struct lk_node node;
    char told[1024]; /* "tag;" per "definitions changed" */
    char err[512];
};

static void on_defined(void *userdata, const char *tag)
{
    struct fixture *f = userdata;
    size_t len = strlen(f->told);
    snprintf(f->told + len, sizeof(f->told) - len, "%s;", tag ? tag : "NULL");
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove(path);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f) {
        return -1;
    }
    snprintf(f->dir, sizeof(f->dir), "/tmp/lk-test-define-XXXXXX");
    if (!mkdtemp(f->dir)) {
        return -1;
    }
    struct lk_node *node = &f->node;
    snprintf(node->root, sizeof(node->root), "%s", f->dir);
    snprintf(node->name, sizeof(node->name), "nodeA");
    node->log_fd = -1;
    char path[128];
    snprintf(path, sizeof(path), "%s/db", f->dir);
    if (mkdir(path, 0700) < 0) {
        return -1;
    }
    snprintf(path, sizeof(path), "%s/%s", f->dir, LK_DB_NAME);
    if (lk_store_open(path, &node->store, f->err, sizeof(f->err)) < 0) {
        return -1;
    }
    node->bus = lk_bus_new();
    if (!node->bus || lk_bus_on_defined(node->bus, on_defined, f) < 0) {
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    struct lk_node *node = &f->node;
    node->store = lk_store_close(node->store);
    node->bus = lk_bus_free(node->bus);
    for (size_t i = 0; i < node->count; i++) {
        free(node->resources[i]);
    }
    free(node->resources);
    free(node->deps);
    lk_hier_done(&node->hier);
    free(node->extends);
    (void) nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static struct lk_resource *new_resource(const char *tag)
{
    struct lk_resource *res = calloc(1, sizeof(*res));
    assert_non_null(res);
    snprintf(res->tag, sizeof(res->tag), "%s", tag);
    snprintf(res->id, sizeof(res->id), "%s-id", tag);
    snprintf(res->app, sizeof(res->app), "gen");
    snprintf(res->type, sizeof(res->type), "app");
    lk_settings_init(&res->settings);
    res->has_script[LK_ACTION_RESTORE] = true;
    res->has_script[LK_ACTION_REMOVE] = true;
    res->state = LK_STATE_OSU;
    snprintf(res->reason, sizeof(res->reason), "created");
    return res;
}

static int create(struct fixture *f, const char *tag)
{
    struct lk_define_files files = {0};
    files.content[LK_ACTION_RESTORE] = (unsigned char *) (uintptr_t) restore_sh;
    files.len[LK_ACTION_RESTORE] = strlen(restore_sh);
    files.content[LK_ACTION_REMOVE] = (unsigned char *) (uintptr_t) remove_sh;
    files.len[LK_ACTION_REMOVE] = strlen(remove_sh);
    return lk_define_create(&f->node, new_resource(tag), &files, f->err, sizeof(f->err));
}

static uint64_t version_of(struct fixture *f, const char *tag, bool *ret_deleted)
{
    uint64_t counter = 0;
    bool deleted = false;
    assert_int_equal(lk_store_get_version(f->node.store, tag, &counter, NULL, 0, &deleted), 0);
    if (ret_deleted) {
        *ret_deleted = deleted;
    }
    return counter;
}

static bool copy_exists(struct fixture *f, enum lk_action a, const char *tag)
{
    char path[LK_PATH_MAX + 256];
    return access(lk_scripts_path(f->node.root, a, tag, path, sizeof(path)), F_OK) == 0;
}

static void lk_define_decode_script__checks_like_create(void **state)
{
    (void) state;
    char err[256];
    unsigned char *bin = NULL;
    size_t len = 0;
    assert_int_equal(lk_define_decode_script("not base64!", &bin, &len, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "script content is not valid base64");
    assert_null(bin);
    size_t big = (LK_SCRIPT_MAX_SIZE / 3 + 8) * 4;
    char *huge = malloc(big + 1);
    assert_non_null(huge);
    memset(huge, 'A', big);
    huge[big] = '\0';
    assert_int_equal(lk_define_decode_script(huge, &bin, &len, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "too large"));
    free(huge);
    /* "#!/bin/sh\nexit 0\n" */
    assert_int_equal(
            lk_define_decode_script("IyEvYmluL3NoCmV4aXQgMAo=", &bin, &len, err, sizeof(err)), 0);
    assert_int_equal(len, strlen(restore_sh));
    assert_memory_equal(bin, restore_sh, len);
    free(bin);
}

static void lk_define_create__rows_view_version_then_tells(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(create(f, "app1"), 0);
    const struct lk_resource *res = lk_node_find(&f->node, "app1");
    assert_non_null(res);
    assert_int_equal(lk_node_priority(&f->node, "app1", "nodeA"), 1);
    assert_true(version_of(f, "app1", NULL) > 0);
    assert_true(copy_exists(f, LK_ACTION_RESTORE, "app1"));
    assert_true(copy_exists(f, LK_ACTION_REMOVE, "app1"));
    assert_string_equal(f->told, "app1;");
}

static void lk_define_create__taken_id_changes_nothing(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(create(f, "app1"), 0);
    f->told[0] = '\0';
    struct lk_resource *twin = new_resource("app2");
    snprintf(twin->id, sizeof(twin->id), "app1-id");
    struct lk_define_files files = {0};
    files.content[LK_ACTION_RESTORE] = (unsigned char *) (uintptr_t) restore_sh;
    files.len[LK_ACTION_RESTORE] = strlen(restore_sh);
    files.content[LK_ACTION_REMOVE] = (unsigned char *) (uintptr_t) remove_sh;
    files.len[LK_ACTION_REMOVE] = strlen(remove_sh);
    assert_int_equal(lk_define_create(&f->node, twin, &files, f->err, sizeof(f->err)), -EEXIST);
    assert_non_null(strstr(f->err, "app1-id"));
    assert_null(lk_node_find(&f->node, "app2"));
    assert_false(copy_exists(f, LK_ACTION_RESTORE, "app2"));
    uint64_t counter;
    assert_int_equal(lk_store_get_version(f->node.store, "app2", &counter, NULL, 0, NULL), -ENOENT);
    assert_string_equal(f->told, "");
}

static void lk_define_changes__each_a_newer_version(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(create(f, "db1"), 0);
    assert_int_equal(create(f, "app1"), 0);
    f->told[0] = '\0';

    uint64_t v = version_of(f, "app1", NULL);
    assert_int_equal(lk_define_dep(&f->node, "app1", "db1", true, f->err, sizeof(f->err)), 0);
    assert_int_equal(f->node.dep_count, 1);
    assert_true(version_of(f, "app1", NULL) > v);

    v = version_of(f, "app1", NULL);
    struct lk_settings s = lk_node_find(&f->node, "app1")->settings;
    s.check_failures = 7;
    assert_int_equal(lk_define_settings(&f->node, "app1", &s, "new info", f->err, sizeof(f->err)),
                     0);
    assert_int_equal(lk_node_find(&f->node, "app1")->settings.check_failures, 7);
    assert_string_equal(lk_node_find(&f->node, "app1")->info, "new info");
    assert_true(version_of(f, "app1", NULL) > v);

    v = version_of(f, "app1", NULL);
    assert_int_equal(lk_define_script(&f->node, "app1", LK_ACTION_QUICKCHK,
                                      (const unsigned char *) quickchk_sh, strlen(quickchk_sh),
                                      f->err, sizeof(f->err)),
                     0);
    assert_true(lk_node_find(&f->node, "app1")->has_script[LK_ACTION_QUICKCHK]);
    assert_true(copy_exists(f, LK_ACTION_QUICKCHK, "app1"));
    assert_true(version_of(f, "app1", NULL) > v);

    char tags[2][LK_TAG_MAX + 1] = {"db1", "app1"};
    v = version_of(f, "app1", NULL);
    assert_int_equal(lk_define_extends(&f->node, tags, 2, "nodeB", 5, f->err, sizeof(f->err)), 0);
    assert_int_equal(lk_node_priority(&f->node, "app1", "nodeB"), 5);
    assert_int_equal(lk_node_priority(&f->node, "db1", "nodeB"), 5);
    assert_true(version_of(f, "app1", NULL) > v);
    assert_int_equal(lk_define_extends(&f->node, tags, 2, "nodeB", 0, f->err, sizeof(f->err)), 0);
    assert_int_equal(lk_node_priority(&f->node, "app1", "nodeB"), 0);

    assert_int_equal(lk_define_dep(&f->node, "app1", "db1", false, f->err, sizeof(f->err)), 0);
    assert_int_equal(f->node.dep_count, 0);
    assert_string_equal(f->told, "app1;app1;app1;db1;app1;db1;app1;app1;");

    /* The store holds what the view holds: reload it. */
    struct lk_resource **loaded = NULL;
    size_t count = 0;
    assert_int_equal(lk_store_load(f->node.store, "nodeA", &loaded, &count), 0);
    assert_int_equal(count, 2);
    for (size_t i = 0; i < count; i++) {
        if (strcmp(loaded[i]->tag, "app1") == 0) {
            assert_int_equal(loaded[i]->settings.check_failures, 7);
            assert_string_equal(loaded[i]->info, "new info");
            assert_true(loaded[i]->has_script[LK_ACTION_QUICKCHK]);
        }
        free(loaded[i]);
    }
    free(loaded);
}

static void lk_define_delete__tombstones_and_tells(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(create(f, "db1"), 0);
    assert_int_equal(create(f, "app1"), 0);
    assert_int_equal(lk_define_dep(&f->node, "app1", "db1", true, f->err, sizeof(f->err)), 0);
    uint64_t v = version_of(f, "app1", NULL);
    f->told[0] = '\0';
    /* children before parents: db1 last in the list, deleted first */
    char tags[2][LK_TAG_MAX + 1] = {"app1", "db1"};
    assert_int_equal(lk_define_delete(&f->node, tags, 2, f->err, sizeof(f->err)), 0);
    assert_int_equal(f->node.count, 0);
    assert_int_equal(f->node.dep_count, 0);
    bool deleted = false;
    assert_true(version_of(f, "app1", &deleted) > v);
    assert_true(deleted);
    (void) version_of(f, "db1", &deleted);
    assert_true(deleted);
    assert_false(copy_exists(f, LK_ACTION_RESTORE, "app1"));
    assert_string_equal(f->told, "db1;app1;");
}

/* The file at tag's LifeKeeper name for a: its content (NULL: none), mode and inode. */
static char *lk_name_content(struct fixture *f, enum lk_action a, const char *tag,
                             struct stat *ret_st)
{
    char path[LK_PATH_MAX + 256];
    lk_scripts_lk_path(f->node.root, a, tag, path, sizeof(path));
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        return NULL;
    }
    assert_int_equal(lstat(path, ret_st), 0);
    char *buf = calloc(1, 4096);
    assert_non_null(buf);
    (void) !fread(buf, 1, 4095, fp);
    fclose(fp);
    return buf;
}

static void lk_define_scripts__lifekeeper_names_written_and_removed(void **state)
{
    struct fixture *f = *state;
    char path[LK_PATH_MAX + 256];
    assert_string_equal(lk_scripts_lk_path("/r", LK_ACTION_RESTORE, "t", path, sizeof(path)),
                        "/r/subsys/gen/resources/app/actions/!restore/t");
    assert_string_equal(lk_scripts_lk_path("/r", LK_ACTION_QUICKCHK, "t", path, sizeof(path)),
                        "/r/subsys/gen/resources/app/actions/!quickCheck/t");
    assert_string_equal(lk_scripts_lk_path("/r", LK_ACTION_DEEPCHK, "t", path, sizeof(path)),
                        "/r/subsys/gen/resources/app/actions/!deepCheck/t");
    assert_string_equal(lk_scripts_lk_path("/r", LK_ACTION_REMOVE, "t", path, sizeof(path)),
                        "/r/subsys/gen/resources/app/actions/!remove/t");
    assert_string_equal(lk_scripts_lk_path("/r", LK_ACTION_RECOVER, "t", path, sizeof(path)),
                        "/r/subsys/gen/resources/app/recovery/!recover/t");

    assert_int_equal(create(f, "app1"), 0);
    struct stat st, copy_st;
    char *text = lk_name_content(f, LK_ACTION_RESTORE, "app1", &st);
    assert_non_null(text);
    assert_string_equal(text, restore_sh);
    free(text);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_int_equal(
            stat(lk_scripts_path(f->node.root, LK_ACTION_RESTORE, "app1", path, sizeof(path)),
                 &copy_st),
            0);
    assert_true(st.st_ino != copy_st.st_ino);
    assert_null(lk_name_content(f, LK_ACTION_QUICKCHK, "app1", &st));

    /* update-script: both names. */
    assert_int_equal(lk_define_script(&f->node, "app1", LK_ACTION_QUICKCHK,
                                      (const unsigned char *) quickchk_sh, strlen(quickchk_sh),
                                      f->err, sizeof(f->err)),
                     0);
    text = lk_name_content(f, LK_ACTION_QUICKCHK, "app1", &st);
    assert_non_null(text);
    assert_string_equal(text, quickchk_sh);
    free(text);

    /* delete: both names gone. */
    char tags[1][LK_TAG_MAX + 1] = {"app1"};
    assert_int_equal(lk_define_delete(&f->node, tags, 1, f->err, sizeof(f->err)), 0);
    for (int a = 0; a < LK_ACTION_COUNT; a++) {
        assert_null(lk_name_content(f, (enum lk_action) a, "app1", &st));
        assert_false(copy_exists(f, (enum lk_action) a, "app1"));
    }
}

static void lk_define_cluster_settings__stamps_and_saves(void **state)
{
    struct fixture *f = *state;
    char path[128];
    snprintf(path, sizeof(path), "%s/etc", f->dir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(f->node.config.node, sizeof(f->node.config.node), "nodeA");
    lk_cluster_settings_init(&f->node.config.cluster);
    struct lk_cluster_settings s = f->node.config.cluster;
    s.heartbeat_misses = 9;
    assert_int_equal(lk_define_cluster_settings(&f->node, &s, NULL, 0, f->err, sizeof(f->err)), 0);
    assert_int_equal(f->node.config.cluster.heartbeat_misses, 9);
    assert_string_equal(f->node.config.settings_version_node, "nodeA");
    uint64_t mine = f->node.config.settings_version;
    assert_true(mine > 0);
    /* A peer's newer version is taken as it is, and the clock passes it. */
    assert_int_equal(
            lk_define_cluster_settings(&f->node, &s, "nodeB", mine + 1000, f->err, sizeof(f->err)),
            0);
    assert_int_equal(f->node.config.settings_version, mine + 1000);
    assert_string_equal(f->node.config.settings_version_node, "nodeB");
    uint64_t clock = 0;
    assert_int_equal(lk_store_get_clock(f->node.store, &clock), 0);
    assert_true(clock >= mine + 1000);
    struct lk_config back;
    snprintf(path, sizeof(path), "%s/%s", f->dir, LK_CONF_NAME);
    assert_int_equal(lk_config_load(path, &back, f->err, sizeof(f->err)), 0);
    assert_int_equal(back.cluster.heartbeat_misses, 9);
    assert_int_equal(back.settings_version, mine + 1000);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_define_decode_script__checks_like_create),
            T(lk_define_create__rows_view_version_then_tells),
            T(lk_define_create__taken_id_changes_nothing),
            T(lk_define_changes__each_a_newer_version),
            T(lk_define_delete__tombstones_and_tells),
            T(lk_define_scripts__lifekeeper_names_written_and_removed),
            T(lk_define_cluster_settings__stamps_and_saves),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
