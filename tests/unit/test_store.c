/* Unit tests for store.c against real SQLite files in a fresh mkdtemp directory per test:
 * files that must be refused and left byte for byte as they were (random bytes, a foreign
 * SQLite database, a damaged OpenKeeper database, a newer schema, a directory), then
 * creation and migration, the round trip of every field of a resource, the updates, the
 * cascade on delete, the event log and the bounded action log, and rows made invalid
 * behind the store's back with a raw sqlite3 connection. Then the cluster data of
 * migration 3: a version-2 database migrated, extends, versions, tombstones, the Lamport
 * clock and ownership; migration 4: a version-3 database migrated (stop_failed). Last, the
 * write failures of a full disk on a small tmpfs of the test's own (skipped
 * where a tmpfs cannot be mounted): the failure kept past the rollback, the rollback that
 * SQLite did already, the reserve. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "store.h"

#define SEC  1000000ULL
#define NODE "node1"

struct fixture {
    char dir[64];
    char path[128];
    struct lk_store *store;
    char err[512];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f) {
        return -1;
    }
    snprintf(f->dir, sizeof(f->dir), "/tmp/lk-test-store-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/lk.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    f->store = lk_store_close(f->store);
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        char p[160];
        snprintf(p, sizeof(p), "%s%s", f->path, suffixes[i]);
        (void) unlink(p);
    }
    char sub[96];
    snprintf(sub, sizeof(sub), "%s/sub", f->dir);
    (void) rmdir(sub);
    (void) rmdir(f->dir);
    free(f);
    return 0;
}

/* Files and a raw connection, to look at and damage the database behind the store. */

static void write_file(const char *path, const void *buf, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(buf, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static unsigned char *read_file(const char *path, size_t *ret_len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    long len = ftell(fp);
    assert_true(len >= 0);
    rewind(fp);
    unsigned char *buf = malloc((size_t) len + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t) len, fp), (size_t) len);
    fclose(fp);
    *ret_len = (size_t) len;
    return buf;
}

static void assert_file_unchanged(const char *path, const unsigned char *before, size_t len)
{
    size_t now_len = 0;
    unsigned char *now = read_file(path, &now_len);
    assert_int_equal(now_len, len);
    assert_memory_equal(now, before, len);
    free(now);
}

static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
                     SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fail_msg("raw sql '%s' failed: %s", sql, msg ? msg : "?");
    }
    sqlite3_close(db);
}

static int64_t raw_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void random_bytes(unsigned char *buf, size_t len, uint32_t seed)
{
    /* Deterministic, so that a failure can be replayed. */
    uint32_t x = seed;
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (unsigned char) (x >> 16);
    }
}

/* The message of a refused open: one line, names the path and contains what. */
static void assert_open_message(const struct fixture *f, const char *path, const char *what)
{
    assert_null(strchr(f->err, '\n'));
    if (!strstr(f->err, path) || (what && !strstr(f->err, what))) {
        fail_msg("message '%s' should name '%s' and say '%s'", f->err, path, what ? what : "");
    }
}

static void open_store(struct fixture *f)
{
    f->err[0] = '\0';
    int r = lk_store_open(f->path, &f->store, f->err, sizeof(f->err));
    if (r < 0) {
        fail_msg("cannot open the store: %d %s", r, f->err);
    }
}

static void reopen_store(struct fixture *f)
{
    f->store = lk_store_close(f->store);
    open_store(f);
}

/* A resource with no setting at its default, so that a lost column shows. */
static void make_resource(struct lk_resource *res, const char *tag, const char *id)
{
    memset(res, 0, sizeof(*res));
    snprintf(res->tag, sizeof(res->tag), "%s", tag);
    snprintf(res->id, sizeof(res->id), "%s", id);
    snprintf(res->app, sizeof(res->app), "gen");
    snprintf(res->type, sizeof(res->type), "app");
    snprintf(res->info, sizeof(res->info), "port=8080 'quoted' caf\xc3\xa9");
    res->has_script[LK_ACTION_RESTORE] = true;
    res->has_script[LK_ACTION_REMOVE] = true;
    res->has_script[LK_ACTION_DEEPCHK] = true;
    res->has_script[LK_ACTION_RECOVER] = true;
    struct lk_settings *s = &res->settings;
    lk_settings_init(s);
    s->quickchk_interval_usec = SEC / 2;
    s->deepchk_interval_usec = 3 * SEC + 250000;
    s->quickchk_timeout_usec = 7 * SEC;
    s->deepchk_timeout_usec = 11 * SEC;
    s->action_timeout_usec = 13 * SEC;
    s->start_grace_usec = 17 * SEC;
    s->recovery_window_usec = 19 * SEC;
    s->check_failures = 23;
    s->max_recoveries = 29;
    s->local_recovery = false;
    s->monitor = false;
    s->switchback = LK_SWITCHBACK_AUTOMATIC;
    s->monitor_timeout_action = LK_TIMEOUT_ACTION_FAIL;
    s->init = LK_INIT_INIT_OSU;
    snprintf(s->pidfile, sizeof(s->pidfile), "/run/app1.pid");
    s->watch = LK_WATCH_PIDFILE;
    s->kill_mode = LK_KILL_PROCESS;
    res->state = LK_STATE_OSF;
    snprintf(res->reason, sizeof(res->reason), "restore action failed: exit status 1");
    res->pending = LK_PENDING_PROBE;
    res->target_in_service = false;
    res->check_failures_in_row = 3;
    res->local_recoveries = 2;
}

static void assert_resource_equal(const struct lk_resource *a, const struct lk_resource *b)
{
    assert_string_equal(a->tag, b->tag);
    assert_string_equal(a->id, b->id);
    assert_string_equal(a->app, b->app);
    assert_string_equal(a->type, b->type);
    assert_string_equal(a->info, b->info);
    for (int i = 0; i < LK_ACTION_COUNT; i++) {
        if (a->has_script[i] != b->has_script[i]) {
            fail_msg("'%s': has_script[%s] %d != %d", a->tag, lk_action_name(i), a->has_script[i],
                     b->has_script[i]);
        }
    }
    const struct lk_settings *x = &a->settings, *y = &b->settings;
    assert_int_equal(x->quickchk_interval_usec, y->quickchk_interval_usec);
    assert_int_equal(x->deepchk_interval_usec, y->deepchk_interval_usec);
    assert_int_equal(x->quickchk_timeout_usec, y->quickchk_timeout_usec);
    assert_int_equal(x->deepchk_timeout_usec, y->deepchk_timeout_usec);
    assert_int_equal(x->action_timeout_usec, y->action_timeout_usec);
    assert_int_equal(x->start_grace_usec, y->start_grace_usec);
    assert_int_equal(x->recovery_window_usec, y->recovery_window_usec);
    assert_int_equal(x->check_failures, y->check_failures);
    assert_int_equal(x->max_recoveries, y->max_recoveries);
    assert_int_equal(x->local_recovery, y->local_recovery);
    assert_int_equal(x->monitor, y->monitor);
    assert_int_equal(x->switchback, y->switchback);
    assert_int_equal(x->monitor_timeout_action, y->monitor_timeout_action);
    assert_int_equal(x->init, y->init);
    assert_string_equal(x->pidfile, y->pidfile);
    assert_int_equal(x->watch, y->watch);
    assert_int_equal(x->kill_mode, y->kill_mode);
    assert_int_equal(a->state, b->state);
    assert_string_equal(a->reason, b->reason);
    assert_int_equal(a->pending, b->pending);
    assert_int_equal(a->target_in_service, b->target_in_service);
    assert_int_equal(a->check_failures_in_row, b->check_failures_in_row);
    assert_int_equal(a->local_recoveries, b->local_recoveries);
    assert_int_equal(a->stop_failed, b->stop_failed);
    assert_int_equal(a->unable, b->unable);
    assert_int_equal(a->not_configured, b->not_configured);
}

static void free_list(struct lk_resource **list, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(list[i]);
    }
    free(list);
}

static void insert(struct fixture *f, const struct lk_resource *res)
{
    int r = lk_store_insert(f->store, NODE, res, f->err, sizeof(f->err));
    if (r < 0) {
        fail_msg("insert '%s': %d %s", res->tag, r, f->err);
    }
}

/* Loads and expects exactly one resource, which it returns (caller frees). */
static struct lk_resource *load_one(struct fixture *f)
{
    struct lk_resource **list = NULL;
    size_t count = 0;
    assert_int_equal(lk_store_load(f->store, NODE, &list, &count), 0);
    assert_int_equal(count, 1);
    struct lk_resource *res = list[0];
    free(list);
    return res;
}

/* lk_store_open: files it must refuse and leave alone. */

static void lk_store_open__random_bytes_refused_and_unchanged(void **state)
{
    struct fixture *f = *state;
    unsigned char bytes[16384];
    random_bytes(bytes, sizeof(bytes), 1517);
    write_file(f->path, bytes, sizeof(bytes));

    int r = lk_store_open(f->path, &f->store, f->err, sizeof(f->err));
    assert_true(r < 0);
    assert_null(f->store);
    assert_open_message(f, f->path, "cannot open database");
    assert_file_unchanged(f->path, bytes, sizeof(bytes));
    char wal[160];
    snprintf(wal, sizeof(wal), "%s-wal", f->path);
    assert_int_equal(access(wal, F_OK), -1);
}

static void lk_store_open__foreign_database_refused_and_unchanged(void **state)
{
    struct fixture *f = *state;
    raw_exec(f->path, "CREATE TABLE customers (name TEXT); INSERT INTO customers VALUES ('x');");
    assert_int_equal(raw_int(f->path, "PRAGMA application_id"), 0);
    size_t len = 0;
    unsigned char *before = read_file(f->path, &len);

    int r = lk_store_open(f->path, &f->store, f->err, sizeof(f->err));
    assert_true(r < 0);
    assert_null(f->store);
    assert_open_message(f, f->path, "not an OpenKeeper database");
    assert_file_unchanged(f->path, before, len);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master"), 1);
    free(before);
}

static void lk_store_open__damaged_database_refused_and_unchanged(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    struct lk_resource res;
    make_resource(&res, "app1", "app1-id");
    insert(f, &res);
    f->store = lk_store_close(f->store);

    /* Overwrite the second page (a table's root) and keep the header intact. */
    size_t len = 0;
    unsigned char *bytes = read_file(f->path, &len);
    int page = (int) raw_int(f->path, "PRAGMA page_size");
    assert_true(len >= (size_t) page * 3);
    random_bytes(bytes + page, (size_t) page, 42);
    write_file(f->path, bytes, len);

    int r = lk_store_open(f->path, &f->store, f->err, sizeof(f->err));
    assert_true(r < 0);
    assert_null(f->store);
    assert_open_message(f, f->path, NULL);
    assert_file_unchanged(f->path, bytes, len);
    free(bytes);
}

static void lk_store_open__newer_schema_refused(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    f->store = lk_store_close(f->store);
    raw_exec(f->path, "PRAGMA user_version = 99");
    size_t len = 0;
    unsigned char *before = read_file(f->path, &len);

    int r = lk_store_open(f->path, &f->store, f->err, sizeof(f->err));
    assert_true(r < 0);
    assert_open_message(f, f->path, "schema version 99 is newer");
    assert_file_unchanged(f->path, before, len);
    free(before);
}

static void lk_store_open__directory_refused(void **state)
{
    struct fixture *f = *state;
    int r = lk_store_open(f->dir, &f->store, f->err, sizeof(f->err));
    assert_true(r < 0);
    assert_null(f->store);
    assert_open_message(f, f->dir, "not a regular file");
}

static void lk_store_open__missing_directory_refused(void **state)
{
    struct fixture *f = *state;
    char path[160];
    snprintf(path, sizeof(path), "%s/sub/lk.db", f->dir);
    int r = lk_store_open(path, &f->store, f->err, sizeof(f->err));
    assert_true(r < 0);
    assert_null(f->store);
    assert_open_message(f, path, "cannot open database");
    assert_int_equal(access(path, F_OK), -1);
}

/* lk_store_open: creation, migration, reopening. */

static void lk_store_open__creates_and_migrates(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    assert_int_equal(access(f->path, F_OK), 0);
    f->store = lk_store_close(f->store);
    assert_int_equal(raw_int(f->path, "PRAGMA application_id"), 0x4f4b4450);
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 9);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                                      " AND name IN ('resources', 'states', 'events', 'runs')"),
                     4);
    /* WAL is a property of the file, not of the connection. */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *) sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void lk_store_open__empty_file_is_a_fresh_database(void **state)
{
    struct fixture *f = *state;
    write_file(f->path, "", 0);
    open_store(f);
    struct lk_resource **list = NULL;
    size_t count = 7;
    assert_int_equal(lk_store_load(f->store, NODE, &list, &count), 0);
    assert_int_equal(count, 0);
    free(list);
    f->store = lk_store_close(f->store);
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 9);
}

static void lk_store_open__reopen_keeps_data(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    struct lk_resource res;
    make_resource(&res, "app1", "app1-id");
    insert(f, &res);
    reopen_store(f);
    reopen_store(f);
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 9);
    struct lk_resource *back = load_one(f);
    assert_resource_equal(back, &res);
    free(back);
}

/* lk_store_insert */

static void lk_store_insert__duplicate_tag(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    struct lk_resource res;
    make_resource(&res, "app1", "app1-id");
    insert(f, &res);
    make_resource(&res, "app1", "other-id");
    f->err[0] = '\0';
    assert_int_equal(lk_store_insert(f->store, NODE, &res, f->err, sizeof(f->err)), -EEXIST);
    assert_string_equal(f->err, "a resource with tag 'app1' already exists");
    struct lk_resource *back = load_one(f);
    assert_string_equal(back->id, "app1-id");
    free(back);
}

static void lk_store_insert__duplicate_id(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    struct lk_resource res;
    make_resource(&res, "app1", "app1-id");
    insert(f, &res);
    make_resource(&res, "app2", "app1-id");
    f->err[0] = '\0';
    assert_int_equal(lk_store_insert(f->store, NODE, &res, f->err, sizeof(f->err)), -EEXIST);
    assert_string_equal(f->err, "a resource with id 'app1-id' already exists");
    struct lk_resource *back = load_one(f);
    assert_string_equal(back->tag, "app1");
    free(back);
}

static void lk_store_insert__round_trip_every_field(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    struct lk_resource res;
    make_resource(&res, "app1", "app1-id");
    insert(f, &res);
    struct lk_resource *back = load_one(f);
    assert_resource_equal(back, &res);
    free(back);

    /* The other values of the two-valued fields. */
    struct lk_resource two;
    make_resource(&two, "app2", "app2-id");
    lk_settings_init(&two.settings);
    two.state = LK_STATE_ISU;
    two.pending = LK_PENDING_NONE;
    two.reason[0] = '\0';
    two.info[0] = '\0';
    two.target_in_service = true;
    two.check_failures_in_row = 0;
    two.local_recoveries = 0;
    memset(two.has_script, 0, sizeof(two.has_script));
    for (int a = 0; a < LK_ACTION_COUNT; a++) {
        two.has_script[a] = true;
    }
    insert(f, &two);

    struct lk_resource **list = NULL;
    size_t count = 0;
    assert_int_equal(lk_store_load(f->store, NODE, &list, &count), 0);
    assert_int_equal(count, 2);
    assert_resource_equal(list[0], &res);
    assert_resource_equal(list[1], &two);
    free_list(list, count);
}

static void lk_store_insert__rolled_back_is_gone(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    struct lk_resource res;
    make_resource(&res, "app1", "app1-id");
    assert_int_equal(lk_store_begin(f->store), 0);
    insert(f, &res);
    lk_store_rollback(f->store);
    struct lk_resource **list = NULL;
    size_t count = 9;
    assert_int_equal(lk_store_load(f->store, NODE, &list, &count), 0);
    assert_int_equal(count, 0);
    free(list);
}

/* lk_store_load */

static void lk_store_load__invalid_state_written_behind_the_store(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    struct lk_resource res;
    make_resource(&res, "app1", "app1-id");
    insert(f, &res);
    f->store = lk_store_close(f->store);
    raw_exec(f->path, "UPDATE states SET state = 'ILLSTATE' WHERE tag = 'app1'");
    open_store(f);

    struct lk_resource **list = (struct lk_resource **) 0x1;
    size_t count = 77;
    assert_int_equal(lk_store_load(f->store, NODE, &list, &count), -EINVAL);
    /* Out-parameters are untouched on failure. */
    assert_ptr_equal(list, (struct lk_resource **) 0x1);
    assert_int_equal(count, 77);
}

static void lk_store_load__other_invalid_rows(void **state)
{
    struct fixture *f = *state;
    static const char *const damage[] = {
            "UPDATE states SET pending = 'later'",
            "UPDATE states SET state = 'isp'",
            "UPDATE resources SET scripts = 1",  /* no remove script */
            "UPDATE resources SET scripts = 64", /* beyond the known actions */
            "UPDATE resources SET scripts = -1",
            "UPDATE resources SET init = 'SOMETIMES'",
            "UPDATE resources SET switchback = 'never'",
            "UPDATE resources SET monitor_timeout_action = 'panic'",
            "UPDATE resources SET watch = 'inotify'",
            "UPDATE resources SET kill_mode = 'mixed'",
            "UPDATE resources SET pidfile = ''", /* watch pidfile without a pidfile */
            "UPDATE resources SET quickchk_interval_us = -5",
            "UPDATE resources SET info = 'a' || char(10) || 'b'",
    };
    for (size_t i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
        open_store(f);
        struct lk_resource res;
        make_resource(&res, "app1", "app1-id");
        insert(f, &res);
        f->store = lk_store_close(f->store);
        raw_exec(f->path, damage[i]);
        open_store(f);
        struct lk_resource **list = NULL;
        size_t count = 0;
        int r = lk_store_load(f->store, NODE, &list, &count);
        if (r != -EINVAL) {
            free_list(list, count);
            fail_msg("after '%s': expected -EINVAL, got %d", damage[i], r);
        }
        assert_int_equal(lk_store_delete(f->store, "app1"), 0);
        f->store = lk_store_close(f->store);
    }
}

static void lk_store_load__only_this_node_in_tag_order(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    static const char *const tags[] = {"charlie", "alpha", "bravo"};
    for (size_t i = 0; i < 3; i++) {
        struct lk_resource res;
        char id[32];
        snprintf(id, sizeof(id), "%s-id", tags[i]);
        make_resource(&res, tags[i], id);
        insert(f, &res);
    }
    struct lk_resource **list = NULL;
    size_t count = 0;
    assert_int_equal(lk_store_load(f->store, NODE, &list, &count), 0);
    assert_int_equal(count, 3);
    assert_string_equal(list[0]->tag, "alpha");
    assert_string_equal(list[1]->tag, "bravo");
    assert_string_equal(list[2]->tag, "charlie");
    free_list(list, count);

    list = NULL;
    count = 5;
    assert_int_equal(lk_store_load(f->store, "node2", &list, &count), 0);
    assert_int_equal(count, 0);
    free(list);
}

/* lk_store_save_* */

static void lk_store_save_state__unknown_tag_or_node(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    struct lk_resource res;
    make_resource(&res, "app1", "app1-id");
    insert(f, &res);
    struct lk_resource other = res;
    snprintf(other.tag, sizeof(other.tag), "nope");
    assert_int_equal(lk_store_save_state(f->store, NODE, &other), -ENOENT);
    assert_int_equal(lk_store_save_state(f->store, "node2", &res), -ENOENT);
}

static void lk_store_save_state__round_trip(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    struct lk_resource res;
    make_resource(&res, "app1", "app1-id");
    insert(f, &res);

    res.state = LK_STATE_ISP;
    snprintf(res.reason, sizeof(res.reason), "restore action has succeeded");
    res.pending = LK_PENDING_REMOVE;
    res.target_in_service = true;
    res.check_failures_in_row = 41;
    res.local_recoveries = 43;
    res.stop_failed = true;
    res.unable = true;
    res.not_configured = true;
    assert_int_equal(lk_store_save_state(f->store, NODE, &res), 0);
    reopen_store(f);
    struct lk_resource *back = load_one(f);
    assert_resource_equal(back, &res);
    free(back);

    res.state = LK_STATE_OSU;
    res.pending = LK_PENDING_NONE;
    res.target_in_service = false;
    res.stop_failed = false;
    res.unable = false;
    res.not_configured = false;
    res.reason[0] = '\0';
    assert_int_equal(lk_store_save_state(f->store, NODE, &res), 0);
    back = load_one(f);
    assert_resource_equal(back, &res);
    free(back);
}

static void lk_store_save_settings__round_trip(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    struct lk_resource res;
    make_resource(&res, "app1", "app1-id");
    insert(f, &res);

    lk_settings_init(&res.settings);
    res.settings.quickchk_interval_usec = 0;
    res.settings.deepchk_interval_usec = 86400 * SEC;
    res.settings.init = LK_INIT_INIT_ISP;
    res.settings.pidfile[0] = '\0';
    res.settings.watch = LK_WATCH_NONE;
    res.settings.kill_mode = LK_KILL_NONE;
    snprintf(res.info, sizeof(res.info), "new info");
    assert_int_equal(lk_store_save_settings(f->store, &res), 0);
    reopen_store(f);
    struct lk_resource *back = load_one(f);
    assert_resource_equal(back, &res);
    free(back);
}

static void lk_store_save_scripts__round_trip(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    struct lk_resource res;
    make_resource(&res, "app1", "app1-id");
    insert(f, &res);

    res.has_script[LK_ACTION_QUICKCHK] = true;
    res.has_script[LK_ACTION_DEEPCHK] = false;
    res.has_script[LK_ACTION_RECOVER] = false;
    assert_int_equal(lk_store_save_scripts(f->store, &res), 0);
    struct lk_resource *back = load_one(f);
    assert_resource_equal(back, &res);
    free(back);
    assert_int_equal(raw_int(f->path, "SELECT scripts FROM resources WHERE tag = 'app1'"),
                     (1 << LK_ACTION_RESTORE) | (1 << LK_ACTION_REMOVE) |
                             (1 << LK_ACTION_QUICKCHK));
}

/* lk_store_delete */

static void lk_store_delete__cascades_states_and_runs(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    struct lk_resource res, other;
    make_resource(&res, "app1", "app1-id");
    make_resource(&other, "app2", "app2-id");
    insert(f, &res);
    insert(f, &other);
    struct lk_run_record run = {.tag = "app1", .action = "restore", .outcome = "success"};
    assert_int_equal(lk_store_add_run(f->store, &run), 0);
    snprintf(run.tag, sizeof(run.tag), "app2");
    assert_int_equal(lk_store_add_run(f->store, &run), 0);

    assert_int_equal(lk_store_delete(f->store, "app1"), 0);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM states WHERE tag = 'app1'"), 0);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM runs WHERE tag = 'app1'"), 0);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM states WHERE tag = 'app2'"), 1);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM runs WHERE tag = 'app2'"), 1);
    struct lk_resource *back = load_one(f);
    assert_string_equal(back->tag, "app2");
    free(back);

    /* The tag and the id are free again. */
    insert(f, &res);
    assert_int_equal(lk_store_delete(f->store, "never-existed"), 0);
}

/* Events */

struct collected {
    size_t count;
    struct lk_event_record records[16];
};

static void collect(const struct lk_event_record *record, void *userdata)
{
    struct collected *c = userdata;
    if (c->count < sizeof(c->records) / sizeof(c->records[0])) {
        c->records[c->count] = *record;
    }
    c->count++;
}

static void add_event(struct fixture *f, const char *tag, int number, int64_t *ret_seq)
{
    struct lk_event_record e;
    memset(&e, 0, sizeof(e));
    e.time_ms = 1700000000000LL + number;
    snprintf(e.node, sizeof(e.node), NODE);
    e.severity = number % 2 ? LK_SEV_WARNING : LK_SEV_ERROR;
    e.number = number;
    snprintf(e.tag, sizeof(e.tag), "%s", tag);
    snprintf(e.process, sizeof(e.process), "lk_err");
    snprintf(e.message, sizeof(e.message), "message %d", number);
    snprintf(e.detail, sizeof(e.detail), "detail\nline 2 of %d", number);
    assert_int_equal(lk_store_add_event(f->store, &e), 0);
    assert_true(e.seq > 0);
    if (ret_seq) {
        *ret_seq = e.seq;
    }
}

static void lk_store_last_events__zero_is_none(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    add_event(f, "a", 1, NULL);
    struct collected c = {0};
    assert_int_equal(lk_store_last_events(f->store, 0, NULL, collect, &c), 0);
    assert_int_equal(c.count, 0);
    assert_int_equal(lk_store_last_events(f->store, 5, "nope", collect, &c), 0);
    assert_int_equal(c.count, 0);
}

static void lk_store_last_events__order_limit_and_tag(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    int64_t prev = 0;
    for (int i = 1; i <= 6; i++) {
        int64_t seq = 0;
        add_event(f, i % 2 ? "a" : "b", 1000 + i, &seq);
        assert_true(seq > prev);
        prev = seq;
    }

    /* The last three, oldest first. */
    struct collected c = {0};
    assert_int_equal(lk_store_last_events(f->store, 3, NULL, collect, &c), 0);
    assert_int_equal(c.count, 3);
    assert_int_equal(c.records[0].number, 1004);
    assert_int_equal(c.records[1].number, 1005);
    assert_int_equal(c.records[2].number, 1006);
    assert_true(c.records[0].seq < c.records[1].seq && c.records[1].seq < c.records[2].seq);

    /* Every field comes back. */
    const struct lk_event_record *e = &c.records[1];
    assert_int_equal(e->time_ms, 1700000000000LL + 1005);
    assert_string_equal(e->node, NODE);
    assert_int_equal(e->severity, LK_SEV_WARNING);
    assert_string_equal(e->tag, "a");
    assert_string_equal(e->process, "lk_err");
    assert_string_equal(e->message, "message 1005");
    assert_string_equal(e->detail, "detail\nline 2 of 1005");
    assert_int_equal(c.records[2].severity, LK_SEV_ERROR);

    /* Only one tag's, still the last ones and oldest first. */
    memset(&c, 0, sizeof(c));
    assert_int_equal(lk_store_last_events(f->store, 2, "a", collect, &c), 0);
    assert_int_equal(c.count, 2);
    assert_int_equal(c.records[0].number, 1003);
    assert_int_equal(c.records[1].number, 1005);

    /* More asked for than there are. */
    memset(&c, 0, sizeof(c));
    assert_int_equal(lk_store_last_events(f->store, 100, NULL, collect, &c), 0);
    assert_int_equal(c.count, 6);
    assert_int_equal(c.records[0].number, 1001);
    assert_int_equal(c.records[5].number, 1006);
}

static void lk_store_last_events_filtered__each_filter_the_newest_matching(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    /* 1001..1008: odd numbers warnings, even errors; times 1700000000000 + number. */
    for (int i = 1; i <= 8; i++) {
        add_event(f, i % 2 ? "a" : "b", 1000 + i, NULL);
    }
    struct collected c = {0};
    struct lk_event_filter none = LK_EVENT_FILTER_NONE;
    assert_int_equal(lk_store_last_events_filtered(f->store, 100, NULL, &none, collect, &c), 0);
    assert_int_equal(c.count, 8);

    /* Severity: the newest 2 warnings, oldest first. */
    struct lk_event_filter sev = LK_EVENT_FILTER_NONE;
    sev.severity = LK_SEV_WARNING;
    memset(&c, 0, sizeof(c));
    assert_int_equal(lk_store_last_events_filtered(f->store, 2, NULL, &sev, collect, &c), 0);
    assert_int_equal(c.count, 2);
    assert_int_equal(c.records[0].number, 1005);
    assert_int_equal(c.records[1].number, 1007);

    /* Number: that one only. */
    struct lk_event_filter num = LK_EVENT_FILTER_NONE;
    num.number = 1004;
    memset(&c, 0, sizeof(c));
    assert_int_equal(lk_store_last_events_filtered(f->store, 100, NULL, &num, collect, &c), 0);
    assert_int_equal(c.count, 1);
    assert_int_equal(c.records[0].number, 1004);

    /* Before: strictly older times, the newest of them. */
    struct lk_event_filter before = LK_EVENT_FILTER_NONE;
    before.before_ms = 1700000000000LL + 1006;
    memset(&c, 0, sizeof(c));
    assert_int_equal(lk_store_last_events_filtered(f->store, 3, NULL, &before, collect, &c), 0);
    assert_int_equal(c.count, 3);
    assert_int_equal(c.records[0].number, 1003);
    assert_int_equal(c.records[2].number, 1005);

    /* Node, and every filter with a tag: errors of tag b before 1008. */
    struct lk_event_filter all = LK_EVENT_FILTER_NONE;
    all.severity = LK_SEV_ERROR;
    all.before_ms = 1700000000000LL + 1008;
    snprintf(all.node, sizeof(all.node), NODE);
    memset(&c, 0, sizeof(c));
    assert_int_equal(lk_store_last_events_filtered(f->store, 100, "b", &all, collect, &c), 0);
    assert_int_equal(c.count, 3);
    assert_int_equal(c.records[0].number, 1002);
    assert_int_equal(c.records[2].number, 1006);
    snprintf(all.node, sizeof(all.node), "elsewhere");
    memset(&c, 0, sizeof(c));
    assert_int_equal(lk_store_last_events_filtered(f->store, 100, "b", &all, collect, &c), 0);
    assert_int_equal(c.count, 0);
}

static void lk_store_add_event__keeps_at_most_events_kept(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    assert_int_equal(lk_store_begin(f->store), 0);
    /* add_event alternates warnings (odd numbers) and errors (even) */
    for (int i = 1; i <= 2 * LK_EVENTS_KEPT_PER_SEVERITY + 200; i++) {
        add_event(f, "a", i, NULL);
    }
    assert_int_equal(lk_store_commit(f->store), 0);
    f->store = lk_store_close(f->store);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM events"),
                     2 * LK_EVENTS_KEPT_PER_SEVERITY);
    assert_int_equal(raw_int(f->path, "SELECT min(number) FROM events"), 201);
}

/* An event of the severity given, written by lkd. */
static void add_sev(struct fixture *f, enum lk_severity sev, int number, const char *message)
{
    struct lk_event_record e;
    memset(&e, 0, sizeof(e));
    e.time_ms = 1700000000000LL;
    snprintf(e.node, sizeof(e.node), NODE);
    e.severity = sev;
    e.number = number;
    snprintf(e.process, sizeof(e.process), "lkd");
    snprintf(e.message, sizeof(e.message), "%s", message);
    assert_int_equal(lk_store_add_event(f->store, &e), 0);
}

static void lk_store_add_event__a_flood_keeps_the_last_error(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    assert_int_equal(lk_store_begin(f->store), 0);
    add_sev(f, LK_SEV_INFO, 1000, "started");
    add_sev(f, LK_SEV_ERROR, 1202, "restore action failed: exit 1");
    /* more warnings and then more infos than a severity keeps */
    for (int i = 0; i < LK_EVENTS_KEPT_PER_SEVERITY + 300; i++) {
        add_sev(f, LK_SEV_WARNING, 1604, "dropped a frame");
    }
    for (int i = 0; i < LK_EVENTS_KEPT_PER_SEVERITY + 300; i++) {
        add_sev(f, LK_SEV_INFO, 1600, "path alive");
    }
    assert_int_equal(lk_store_commit(f->store), 0);
    f->store = lk_store_close(f->store);
    /* the error stays; each flood is cut to its own severity's share; the oldest info went */
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM events WHERE number = 1202"), 1);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM events WHERE severity = 'WARNING'"),
                     LK_EVENTS_KEPT_PER_SEVERITY);
    /* (the trim runs every 100 inserts: up to 99 more until the next one) */
    assert_in_range(raw_int(f->path, "SELECT count(*) FROM events WHERE severity = 'INFO'"),
                    LK_EVENTS_KEPT_PER_SEVERITY, LK_EVENTS_KEPT_PER_SEVERITY + 99);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM events WHERE number = 1000"), 0);
    /* the trim finds each severity's newest by the index of migration 6 */
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
                                      " AND name = 'events_severity'"),
                     1);
}

/* Runs */

static void lk_store_add_run__keeps_runs_kept_per_tag(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    for (int i = 0; i < LK_RUNS_KEPT + 5; i++) {
        struct lk_run_record run = {.tag = "app1", .action = "quickchk", .outcome = "exit"};
        run.start_ms = i;
        run.duration_ms = 10;
        run.exit_status = 1;
        snprintf(run.description, sizeof(run.description), "exit status 1");
        char out[32];
        int n = snprintf(out, sizeof(out), "output %d\n", i);
        run.output = out;
        run.output_len = (size_t) n;
        assert_int_equal(lk_store_add_run(f->store, &run), 0);
    }
    for (int i = 0; i < 3; i++) {
        struct lk_run_record run = {.tag = "app2", .action = "restore", .outcome = "success"};
        run.start_ms = 100 + i;
        assert_int_equal(lk_store_add_run(f->store, &run), 0);
    }
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM runs WHERE tag = 'app1'"),
                     LK_RUNS_KEPT);
    assert_int_equal(raw_int(f->path, "SELECT min(start_ms) FROM runs WHERE tag = 'app1'"), 5);
    assert_int_equal(raw_int(f->path, "SELECT max(start_ms) FROM runs WHERE tag = 'app1'"),
                     LK_RUNS_KEPT + 4);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM runs WHERE tag = 'app2'"), 3);
    assert_int_equal(raw_int(f->path, "SELECT length(output) FROM runs WHERE start_ms = 7"),
                     strlen("output 7\n"));
    assert_int_equal(raw_int(f->path, "SELECT length(output) FROM runs WHERE start_ms = 100"), 0);
}

static void lk_store_add_dep__round_trip_duplicate_delete_cascade(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    struct lk_resource a, b, c;
    make_resource(&a, "a", "a");
    make_resource(&b, "b", "b");
    make_resource(&c, "c", "c");
    insert(f, &a);
    insert(f, &b);
    insert(f, &c);
    assert_int_equal(lk_store_add_dep(f->store, "a", "b"), 0);
    assert_int_equal(lk_store_add_dep(f->store, "b", "c"), 0);
    assert_int_equal(lk_store_add_dep(f->store, "a", "b"), -EEXIST);
    assert_true(lk_store_add_dep(f->store, "a", "nope") < 0); /* foreign key */
    struct lk_dep *deps = NULL;
    size_t n = 0;
    assert_int_equal(lk_store_load_deps(f->store, &deps, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(deps[0].parent, "a");
    assert_string_equal(deps[0].child, "b");
    assert_string_equal(deps[1].parent, "b");
    assert_string_equal(deps[1].child, "c");
    free(deps);
    assert_int_equal(lk_store_delete_dep(f->store, "a", "c"), -ENOENT);
    assert_int_equal(lk_store_delete_dep(f->store, "a", "b"), 0);
    /* Deleting a resource deletes its dependencies, both ways. */
    assert_int_equal(lk_store_delete(f->store, "c"), 0);
    assert_int_equal(lk_store_load_deps(f->store, &deps, &n), 0);
    assert_int_equal(n, 0);
    free(deps);
}

/* Cluster data (migration 3) */

/* Turns the fresh database at f->path back into the schema of version 8, as an lkd from
 * before the scripts' arguments wrote it. */
static void downgrade_to_8(struct fixture *f)
{
    f->store = lk_store_close(f->store);
    raw_exec(f->path, "ALTER TABLE resources DROP COLUMN script_args; PRAGMA user_version = 8");
}

/* Turns the fresh database at f->path back into the schema of version 7, as an lkd from
 * before the types' verdicts wrote it. */
static void downgrade_to_7(struct fixture *f)
{
    downgrade_to_8(f);
    raw_exec(f->path, "ALTER TABLE states DROP COLUMN unable;"
                      " ALTER TABLE states DROP COLUMN not_configured; PRAGMA user_version = 7");
}

/* Turns the fresh database at f->path back into the schema of version 6, as an lkd from
 * before the built-in checks wrote it. */
static void downgrade_to_6(struct fixture *f)
{
    downgrade_to_7(f);
    raw_exec(f->path, "ALTER TABLE resources DROP COLUMN quickchk_check;"
                      " ALTER TABLE resources DROP COLUMN deepchk_check; PRAGMA user_version = 6");
}

/* Turns the fresh database at f->path back into the schema of version 4, as an lkd from
 * before watch and kill-mode (and the events' severity index) wrote it. */
static void downgrade_to_4(struct fixture *f)
{
    downgrade_to_6(f);
    raw_exec(f->path, "DROP INDEX events_severity; ALTER TABLE resources DROP COLUMN watch;"
                      " ALTER TABLE resources DROP COLUMN kill_mode; PRAGMA user_version = 4");
}

/* Turns the fresh database at f->path back into the schema of version 3, as an lkd from
 * before stop_failed wrote it. */
static void downgrade_to_3(struct fixture *f)
{
    downgrade_to_4(f);
    raw_exec(f->path, "ALTER TABLE states DROP COLUMN stop_failed; PRAGMA user_version = 3");
}

/* What a resource written before migration 5 reads as: the defaults of watch and
 * kill-mode. */
static void as_before_watch(struct lk_resource *res)
{
    res->settings.watch = LK_WATCH_CGROUP;
    res->settings.kill_mode = LK_KILL_CONTROL_GROUP;
}

/* Turns the fresh database at f->path back into the schema of version 2, as an lkd from
 * before the cluster data wrote it. */
static void downgrade_to_2(struct fixture *f)
{
    downgrade_to_3(f);
    raw_exec(f->path, "DROP TABLE extends; DROP TABLE tombstones; DROP TABLE meta;"
                      " DROP TABLE ownership; ALTER TABLE resources DROP COLUMN ver_counter;"
                      " ALTER TABLE resources DROP COLUMN ver_node; PRAGMA user_version = 2");
}

/* Opens the store and saves app1 in it, out of service after a failed restore (and stop_failed
 * as given): the state that a migration of the states table must keep. */
static void store_failed_app1(struct fixture *f, struct lk_resource *a, bool stop_failed)
{
    open_store(f);
    make_resource(a, "app1", "app1-id");
    insert(f, a);
    a->state = LK_STATE_OSF;
    a->stop_failed = stop_failed;
    snprintf(a->reason, sizeof(a->reason), "restore action failed: exit status 1");
    assert_int_equal(lk_store_save_state(f->store, NODE, a), 0);
}

static void lk_store_open__migrates_version_2(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    struct lk_resource a, b, c;
    make_resource(&a, "app1", "app1-id");
    make_resource(&b, "app2", "app2-id");
    make_resource(&c, "app3", "app3-id");
    insert(f, &a);
    insert(f, &b);
    insert(f, &c);
    downgrade_to_2(f);
    /* app2 has states on two nodes (named out of order), app3 on another node only. */
    raw_exec(f->path, "INSERT INTO states (tag, node, state, reason, pending, target)"
                      " VALUES ('app2', 'node0', 'OSU', '', '', 0);"
                      "UPDATE states SET node = 'node9' WHERE tag = 'app3'");
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 2);

    open_store(f);
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 9);
    as_before_watch(&a);
    as_before_watch(&b);
    struct lk_extend *ext = NULL;
    size_t n = 0;
    assert_int_equal(lk_store_load_extends(f->store, &ext, &n), 0);
    assert_int_equal(n, 4);
    const char *want[][2] = {{"app1", NODE}, {"app2", "node0"}, {"app2", NODE}, {"app3", "node9"}};
    const uint32_t prio[] = {1, 1, 2, 1};
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(ext[i].tag, want[i][0]);
        assert_string_equal(ext[i].node, want[i][1]);
        assert_int_equal(ext[i].priority, prio[i]);
    }
    free(ext);

    /* The resources are kept, loaded where they are extended, and stamped. */
    struct lk_resource **list = NULL;
    size_t count = 0;
    assert_int_equal(lk_store_load(f->store, NODE, &list, &count), 0);
    assert_int_equal(count, 2);
    assert_resource_equal(list[0], &a);
    assert_resource_equal(list[1], &b);
    free_list(list, count);
    uint64_t counter = 0, clock = 0;
    char who[LK_TAG_MAX + 1];
    bool deleted = true;
    assert_int_equal(lk_store_get_version(f->store, "app2", &counter, who, sizeof(who), &deleted),
                     0);
    assert_int_equal(counter, 1);
    assert_string_equal(who, "node0");
    assert_false(deleted);
    assert_int_equal(lk_store_get_version(f->store, "app3", &counter, who, sizeof(who), NULL), 0);
    assert_string_equal(who, "node9");
    assert_int_equal(lk_store_get_clock(f->store, &clock), 0);
    assert_int_equal(clock, 1);
}

static void lk_store_open__migrates_empty_version_2(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    downgrade_to_2(f);
    open_store(f);
    uint64_t clock = 7;
    assert_int_equal(lk_store_get_clock(f->store, &clock), 0);
    assert_int_equal(clock, 0);
}

/* Migration 4: stop_failed ("remove failed: may still be running") */

static void lk_store_open__migrates_version_3(void **state)
{
    struct fixture *f = *state;
    struct lk_resource a;
    store_failed_app1(f, &a, false);
    downgrade_to_3(f);
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 3);

    open_store(f);
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 9);
    as_before_watch(&a);
    /* The state is kept; nothing is known to have failed to stop. */
    struct lk_resource *back = load_one(f);
    assert_resource_equal(back, &a);
    assert_false(back->stop_failed);
    free(back);

    a.stop_failed = true;
    assert_int_equal(lk_store_save_state(f->store, NODE, &a), 0);
    reopen_store(f);
    back = load_one(f);
    assert_true(back->stop_failed);
    free(back);
    assert_int_equal(raw_int(f->path, "SELECT stop_failed FROM states WHERE tag = 'app1'"), 1);
}

/* Migration 8: unable and not_configured (the types' verdicts) */

static void lk_store_open__migrates_version_7(void **state)
{
    struct fixture *f = *state;
    struct lk_resource a;
    store_failed_app1(f, &a, true);
    downgrade_to_7(f);
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 7);

    open_store(f);
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 9);
    /* The state is kept; no node is known to be unable. */
    struct lk_resource *back = load_one(f);
    assert_resource_equal(back, &a);
    assert_false(back->unable);
    assert_false(back->not_configured);
    free(back);

    a.unable = true;
    assert_int_equal(lk_store_save_state(f->store, NODE, &a), 0);
    reopen_store(f);
    back = load_one(f);
    assert_true(back->unable);
    assert_false(back->not_configured);
    free(back);
    assert_int_equal(raw_int(f->path, "SELECT unable FROM states WHERE tag = 'app1'"), 1);
}

/* Migration 9 (issue 14): script_args, 'none' for the resources from before; 'lifekeeper'
 * is written and read back; a value written by hand that names neither is refused at load
 * with the resource named. */
static void lk_store_open__migrates_version_8(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    struct lk_resource a;
    make_resource(&a, "app1", "app1-id");
    insert(f, &a);
    downgrade_to_8(f);
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 8);

    open_store(f);
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 9);
    struct lk_resource *back = load_one(f);
    assert_resource_equal(back, &a);
    assert_int_equal(back->settings.script_args, LK_SCRIPT_ARGS_NONE);
    free(back);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM resources WHERE script_args = 'none'"),
                     1);

    a.settings.script_args = LK_SCRIPT_ARGS_LIFEKEEPER;
    assert_int_equal(lk_store_save_settings(f->store, &a), 0);
    reopen_store(f);
    back = load_one(f);
    assert_resource_equal(back, &a);
    assert_int_equal(back->settings.script_args, LK_SCRIPT_ARGS_LIFEKEEPER);
    free(back);

    f->store = lk_store_close(f->store);
    raw_exec(f->path, "UPDATE resources SET script_args = 'perl'");
    open_store(f);
    struct lk_resource **list = NULL;
    size_t count = 0;
    assert_int_equal(lk_store_load(f->store, NODE, &list, &count), -EINVAL);
}

/* Migration 5: watch and kill-mode */

static void lk_store_open__migrates_version_4(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    struct lk_resource a;
    make_resource(&a, "app1", "app1-id");
    insert(f, &a);
    downgrade_to_4(f);
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 4);

    open_store(f);
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 9);
    /* Everything is kept; the new settings have their defaults. */
    as_before_watch(&a);
    struct lk_resource *back = load_one(f);
    assert_resource_equal(back, &a);
    free(back);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM resources WHERE watch = 'cgroup'"
                                      " AND kill_mode = 'control-group'"),
                     1);

    /* And they are written from then on. */
    a.settings.watch = LK_WATCH_NONE;
    a.settings.kill_mode = LK_KILL_NONE;
    assert_int_equal(lk_store_save_settings(f->store, &a), 0);
    reopen_store(f);
    back = load_one(f);
    assert_resource_equal(back, &a);
    free(back);
}

/* Migration 7 (issue 13): the built-in checks' columns, '' for the resources from before;
 * a resource's checks are written and read back; a check the database holds that is not a
 * valid SPEC (written by hand) is refused at load with the resource named. */
static void lk_store_open__migrates_version_6(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    struct lk_resource a;
    make_resource(&a, "app1", "app1-id");
    insert(f, &a);
    downgrade_to_6(f);

    open_store(f);
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 9);
    struct lk_resource *back = load_one(f);
    assert_resource_equal(back, &a);
    assert_string_equal(back->settings.quickchk_check, "");
    assert_string_equal(back->settings.deepchk_check, "");
    free(back);

    snprintf(a.settings.quickchk_check, sizeof(a.settings.quickchk_check), "tcp:[::1]:8080");
    snprintf(a.settings.deepchk_check, sizeof(a.settings.deepchk_check), "%s",
             "http://127.0.0.1/health=204~up");
    assert_int_equal(lk_store_save_settings(f->store, &a), 0);
    reopen_store(f);
    back = load_one(f);
    assert_resource_equal(back, &a);
    free(back);

    f->store = lk_store_close(f->store);
    raw_exec(f->path, "UPDATE resources SET quickchk_check = 'tcp:nowhere:1'");
    open_store(f);
    struct lk_resource **list = NULL;
    size_t count = 0;
    assert_int_equal(lk_store_load(f->store, NODE, &list, &count), -EINVAL);
}

static void lk_store_set_extend__errors_first(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    struct lk_resource res;
    make_resource(&res, "app1", "app1-id");
    insert(f, &res);
    assert_int_equal(lk_store_set_extend(f->store, "nope", "node2", 2), -ENOENT);
    assert_int_equal(lk_store_set_extend(f->store, "app1", "node2", 0), -EINVAL);
    assert_int_equal(lk_store_set_extend(f->store, "app1", "node2", 1025), -EINVAL);
    /* Priority 1 is node1's (lk_store_insert). */
    assert_int_equal(lk_store_set_extend(f->store, "app1", "node2", 1), -EEXIST);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM extends WHERE node = 'node2'"), 0);
    assert_int_equal(lk_store_drop_extend(f->store, "app1", "node2"), -ENOENT);
    assert_int_equal(lk_store_drop_extend(f->store, "nope", NULL), 0);
}

static void lk_store_set_extend__unique_priority_and_order(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    struct lk_resource res;
    make_resource(&res, "app1", "app1-id");
    insert(f, &res);
    assert_int_equal(lk_store_set_extend(f->store, "app1", "node3", 1024), 0);
    assert_int_equal(lk_store_set_extend(f->store, "app1", "node2", 10), 0);
    /* Updating a node to its own priority, or to a free one, is fine. */
    assert_int_equal(lk_store_set_extend(f->store, "app1", "node2", 10), 0);
    assert_int_equal(lk_store_set_extend(f->store, "app1", "node2", 5), 0);
    assert_int_equal(lk_store_set_extend(f->store, "app1", "node3", 5), -EEXIST);

    struct lk_extend *ext = NULL;
    size_t n = 0;
    assert_int_equal(lk_store_load_extends_of(f->store, "app1", &ext, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(ext[0].node, NODE);
    assert_string_equal(ext[1].node, "node2");
    assert_int_equal(ext[1].priority, 5);
    assert_string_equal(ext[2].node, "node3");
    assert_int_equal(ext[2].priority, 1024);
    free(ext);

    /* Loaded only where extended (and with a state row). */
    struct lk_resource **list = NULL;
    size_t count = 0;
    assert_int_equal(lk_store_load(f->store, "node2", &list, &count), 0);
    assert_int_equal(count, 0);
    free(list);
    struct lk_resource there = res;
    there.state = LK_STATE_OSU;
    assert_int_equal(lk_store_add_state(f->store, "node2", &there), 0);
    assert_int_equal(lk_store_add_state(f->store, "node2", &there), 0);
    list = NULL;
    assert_int_equal(lk_store_load(f->store, "node2", &list, &count), 0);
    assert_int_equal(count, 1);
    assert_int_equal(list[0]->state, LK_STATE_OSU);
    free_list(list, count);

    assert_int_equal(lk_store_drop_extend(f->store, "app1", NODE), 0);
    list = NULL;
    assert_int_equal(lk_store_load(f->store, NODE, &list, &count), 0);
    assert_int_equal(count, 0);
    free(list);
    /* lk_store_load_one reads it all the same. */
    struct lk_resource one;
    assert_int_equal(lk_store_load_one(f->store, NODE, "app1", &one), 0);
    assert_resource_equal(&one, &res);
    assert_int_equal(lk_store_load_one(f->store, "node7", "app1", &one), 0);
    assert_int_equal(one.state, LK_STATE_OSU);
    assert_int_equal(lk_store_load_one(f->store, NODE, "nope", &one), -ENOENT);

    assert_int_equal(lk_store_drop_extend(f->store, "app1", NULL), 0);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM extends"), 0);
}

static void lk_store_load_extends__invalid_rows(void **state)
{
    struct fixture *f = *state;
    static const char *const damage[] = {
            "UPDATE extends SET node = 'bad name'",
            "UPDATE extends SET node = ''",
    };
    for (size_t i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
        open_store(f);
        struct lk_resource res;
        make_resource(&res, "app1", "app1-id");
        insert(f, &res);
        f->store = lk_store_close(f->store);
        raw_exec(f->path, damage[i]);
        open_store(f);
        struct lk_extend *ext = (struct lk_extend *) 0x1;
        size_t n = 77;
        int r = lk_store_load_extends(f->store, &ext, &n);
        if (r != -EINVAL) {
            fail_msg("after '%s': expected -EINVAL, got %d", damage[i], r);
        }
        assert_ptr_equal(ext, (struct lk_extend *) 0x1);
        assert_int_equal(n, 77);
        assert_int_equal(lk_store_delete(f->store, "app1"), 0);
        f->store = lk_store_close(f->store);
    }
}

static void lk_store_open__priority_out_of_range_refused(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    struct lk_resource res;
    make_resource(&res, "app1", "app1-id");
    insert(f, &res);
    f->store = lk_store_close(f->store);
    /* Behind the schema's CHECK: the integrity check at open finds it. */
    raw_exec(f->path, "PRAGMA ignore_check_constraints = 1; UPDATE extends SET priority = 1025");
    assert_true(lk_store_open(f->path, &f->store, f->err, sizeof(f->err)) < 0);
    assert_open_message(f, f->path, "CHECK constraint failed in extends");
}

static void lk_store_delete__cascades_extends_and_leaves_no_tombstone(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    struct lk_resource res;
    make_resource(&res, "app1", "app1-id");
    insert(f, &res);
    assert_int_equal(lk_store_set_extend(f->store, "app1", "node2", 2), 0);
    assert_int_equal(lk_store_delete(f->store, "app1"), 0);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM extends"), 0);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM tombstones"), 0);
    uint64_t counter;
    assert_int_equal(lk_store_get_version(f->store, "app1", &counter, NULL, 0, NULL), -ENOENT);
}

struct tombstones {
    size_t count;
    char tag[4][LK_TAG_MAX + 1];
    uint64_t counter[4];
    char nodes[4][128];
};

static void collect_tombstone(const char *tag, uint64_t counter, const char *node,
                              const char *nodes_json, void *userdata)
{
    struct tombstones *t = userdata;
    (void) node;
    assert_true(t->count < 4);
    snprintf(t->tag[t->count], sizeof(t->tag[0]), "%s", tag);
    t->counter[t->count] = counter;
    snprintf(t->nodes[t->count], sizeof(t->nodes[0]), "%s", nodes_json);
    t->count++;
}

static void lk_store_set_version__live_and_tombstone(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    assert_int_equal(lk_store_set_version(f->store, "app1", 3, "node2", false, NULL), -ENOENT);
    struct lk_resource res;
    make_resource(&res, "app1", "app1-id");
    insert(f, &res);
    uint64_t counter = 99;
    char who[LK_TAG_MAX + 1] = "x";
    bool deleted = true;
    /* Inserted, not yet stamped. */
    assert_int_equal(lk_store_get_version(f->store, "app1", &counter, who, sizeof(who), &deleted),
                     0);
    assert_int_equal(counter, 0);
    assert_string_equal(who, "");
    assert_int_equal(lk_store_set_version(f->store, "app1", 3, "node2", false, NULL), 0);
    assert_int_equal(lk_store_get_version(f->store, "app1", &counter, who, sizeof(who), &deleted),
                     0);
    assert_int_equal(counter, 3);
    assert_string_equal(who, "node2");
    assert_false(deleted);

    assert_int_equal(lk_store_delete(f->store, "app1"), 0);
    assert_int_equal(
            lk_store_set_version(f->store, "app1", 4, NODE, true, "{\"node1\":1,\"node2\":2}"), 0);
    assert_int_equal(lk_store_set_version(f->store, "gone", 2, "node2", true, "{}"), 0);
    assert_int_equal(lk_store_get_version(f->store, "app1", &counter, who, sizeof(who), &deleted),
                     0);
    assert_int_equal(counter, 4);
    assert_string_equal(who, NODE);
    assert_true(deleted);
    struct tombstones t = {0};
    assert_int_equal(lk_store_each_tombstone(f->store, collect_tombstone, &t), 0);
    assert_int_equal(t.count, 2);
    assert_string_equal(t.tag[0], "app1");
    assert_int_equal(t.counter[0], 4);
    assert_string_equal(t.nodes[0], "{\"node1\":1,\"node2\":2}");
    assert_string_equal(t.tag[1], "gone");

    /* A re-created resource drops its tombstone. */
    assert_int_equal(lk_store_drop_tombstone(f->store, "app1"), 0);
    assert_int_equal(lk_store_get_version(f->store, "app1", &counter, NULL, 0, NULL), -ENOENT);
    reopen_store(f);
    memset(&t, 0, sizeof(t));
    assert_int_equal(lk_store_each_tombstone(f->store, collect_tombstone, &t), 0);
    assert_int_equal(t.count, 1);
    assert_string_equal(t.tag[0], "gone");
}

static void lk_store_each_tombstone__invalid_rows(void **state)
{
    struct fixture *f = *state;
    static const char *const damage[] = {
            "UPDATE tombstones SET nodes = 'not json'",
            "UPDATE tombstones SET nodes = '{\"node1\":0}'",
            "UPDATE tombstones SET nodes = '{\"bad name\":1}'",
            "UPDATE tombstones SET counter = -1",
            "UPDATE tombstones SET node = 'a b'",
            "UPDATE tombstones SET tag = '../x'",
    };
    for (size_t i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
        open_store(f);
        assert_int_equal(lk_store_set_version(f->store, "app1", 2, NODE, true, "{\"node1\":1}"), 0);
        f->store = lk_store_close(f->store);
        raw_exec(f->path, damage[i]);
        open_store(f);
        struct tombstones t = {0};
        int r = lk_store_each_tombstone(f->store, collect_tombstone, &t);
        if (r != -EINVAL) {
            fail_msg("after '%s': expected -EINVAL, got %d", damage[i], r);
        }
        f->store = lk_store_close(f->store);
        raw_exec(f->path, "DELETE FROM tombstones");
    }
}

static void lk_store_see_clock__only_raises(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    uint64_t clock = 99;
    assert_int_equal(lk_store_get_clock(f->store, &clock), 0);
    assert_int_equal(clock, 0);
    assert_int_equal(lk_store_see_clock(f->store, 5), 0);
    assert_int_equal(lk_store_see_clock(f->store, 3), 0);
    assert_int_equal(lk_store_get_clock(f->store, &clock), 0);
    assert_int_equal(clock, 5);
    assert_int_equal(lk_store_see_clock(f->store, UINT64_MAX), -EINVAL);
    /* A version written is seen. */
    assert_int_equal(lk_store_set_version(f->store, "gone", 9, NODE, true, "{}"), 0);
    reopen_store(f);
    assert_int_equal(lk_store_get_clock(f->store, &clock), 0);
    assert_int_equal(clock, 9);
}

static void collect_owner(const char *tag, const char *json_text, void *userdata)
{
    json_t *list = userdata;
    json_array_append_new(list, json_pack("[s,s]", tag, json_text));
}

static void lk_store_save_owner__round_trip(void **state)
{
    struct fixture *f = *state;
    open_store(f);
    const char *rec2 = "{\"g\":7,\"o\":\"node2\",\"f\":[1,2]}";
    assert_int_equal(lk_store_save_owner(f->store, "root2", rec2), 0);
    assert_int_equal(lk_store_save_owner(f->store, "root1", "{\"g\":0,\"o\":\"\"}"), 0);
    assert_int_equal(lk_store_save_owner(f->store, "root1", "not json"), -EINVAL);
    assert_int_equal(lk_store_save_owner(f->store, "root1", "[1]"), -EINVAL);
    reopen_store(f);
    json_t *list = json_array();
    assert_int_equal(lk_store_each_owner(f->store, collect_owner, list), 0);
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(json_string_value(json_array_get(json_array_get(list, 0), 0)), "root1");
    assert_string_equal(json_string_value(json_array_get(json_array_get(list, 1), 1)), rec2);
    json_decref(list);
    /* Replaced, not added; the columns mirror the record for a reader with sqlite3. */
    assert_int_equal(lk_store_save_owner(f->store, "root2", "{\"g\":8,\"o\":\"node1\"}"), 0);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM ownership"), 2);
    assert_int_equal(raw_int(f->path, "SELECT generation FROM ownership WHERE tag = 'root2'"), 8);
    /* Hierarchies outlive rows: no foreign key to resources. */
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM resources"), 0);
    /* A row that is not a record stops the load. */
    f->store = lk_store_close(f->store);
    raw_exec(f->path, "UPDATE ownership SET record = 'x' WHERE tag = 'root2'");
    open_store(f);
    list = json_array();
    assert_int_equal(lk_store_each_owner(f->store, collect_owner, list), -EINVAL);
    json_decref(list);
}

/* ---- A full or read-only disk: a tmpfs of 2 MiB mounted on the test's directory ---- */

static int setup_tmpfs(void **state)
{
    if (setup(state) < 0) {
        return -1;
    }
    struct fixture *f = *state;
    if (mount("tmpfs", f->dir, "tmpfs", 0, "size=2m,mode=0700") < 0) {
        f->dir[0] = '\0'; /* no mount: the test skips, teardown removes the directory */
        snprintf(f->err, sizeof(f->err), "%s", strerror(errno));
        char dir[64];
        snprintf(dir, sizeof(dir), "%s", f->path);
        *strrchr(dir, '/') = '\0';
        (void) rmdir(dir);
    }
    return 0;
}

static int teardown_tmpfs(void **state)
{
    struct fixture *f = *state;
    f->store = lk_store_close(f->store);
    if (f->dir[0]) {
        (void) umount2(f->dir, MNT_DETACH);
    }
    return teardown(state);
}

/* Writes dir/filler until the filesystem is full; returns its path in path. */
static void fill_disk(const char *dir, char *path, size_t size)
{
    snprintf(path, size, "%s/filler", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    static char chunk[65536];
    for (size_t n = sizeof(chunk); n > 0; n /= 2) {
        while (write(fd, chunk, n) == (ssize_t) n) {
        }
    }
    assert_int_equal(close(fd), 0);
}

static int save_in_transaction(struct fixture *f, const struct lk_resource *res)
{
    int r = lk_store_begin(f->store);
    if (r == 0) {
        r = lk_store_save_state(f->store, NODE, res);
    }
    if (r == 0) {
        r = lk_store_commit(f->store);
    }
    if (r < 0) {
        lk_store_rollback(f->store);
    }
    return r;
}

static void lk_store_commit__full_disk_is_a_disk_failure_kept_past_the_rollback(void **state)
{
    struct fixture *f = *state;
    if (!f->dir[0]) {
        skip();
    }
    open_store(f);
    struct lk_resource res;
    make_resource(&res, "app1", "app1-id");
    insert(f, &res);
    assert_false(lk_store_disk_failed(f->store));

    char filler[160];
    fill_disk(f->dir, filler, sizeof(filler));
    res.state = LK_STATE_ISP;
    res.local_recoveries = 7;
    /* The commit's pages do not fit: SQLITE_FULL (SQLite may roll back on its own). */
    int r = 0;
    for (int i = 0; i < 50 && r == 0; i++) {
        res.check_failures_in_row = (unsigned) i;
        r = save_in_transaction(f, &res);
    }
    assert_int_equal(r, -EIO);
    assert_true(lk_store_disk_failed(f->store));
    assert_true(lk_store_full(f->store));
    /* The reason survives the rollback: not "cannot rollback - no transaction is active". */
    assert_non_null(strstr(lk_store_why(f->store), "full"));
    lk_store_rollback(f->store); /* nothing open: quiet, and the reason stays */
    assert_non_null(strstr(lk_store_why(f->store), "full"));

    /* Space returns: the same write goes through, and the failure is forgotten. */
    assert_int_equal(unlink(filler), 0);
    assert_int_equal(save_in_transaction(f, &res), 0);
    assert_false(lk_store_disk_failed(f->store));
    reopen_store(f);
    struct lk_resource *back = load_one(f);
    assert_int_equal(back->state, LK_STATE_ISP);
    assert_int_equal(back->local_recoveries, 7);
    free(back);
    /* A failure of the data (a constraint) is not the disk's. */
    struct lk_resource other;
    make_resource(&other, "app2", "app1-id");
    assert_int_equal(lk_store_insert(f->store, NODE, &other, f->err, sizeof(f->err)), -EEXIST);
    lk_store_rollback(f->store);
    assert_false(lk_store_disk_failed(f->store));
}

static void lk_store_reserve__made_freed_and_refused_when_full(void **state)
{
    struct fixture *f = *state;
    if (!f->dir[0]) {
        skip();
    }
    char path[160], tmp[170];
    snprintf(path, sizeof(path), "%s/reserve", f->dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    struct stat st;
    assert_int_equal(lk_store_reserve_make(path, 512 * 1024), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 512 * 1024);
    assert_true(st.st_blocks * 512 >= 512 * 1024); /* allocated, not sparse */
    assert_int_equal(lk_store_reserve_make(path, 512 * 1024), 0);
    assert_int_equal(lk_store_reserve_free(path), 0);
    assert_int_equal(stat(path, &st), -1);
    assert_int_equal(lk_store_reserve_free(path), -ENOENT);

    char filler[160];
    fill_disk(f->dir, filler, sizeof(filler));
    assert_int_equal(lk_store_reserve_make(path, 512 * 1024), -ENOSPC);
    assert_int_equal(stat(path, &st), -1);
    assert_int_equal(stat(tmp, &st), -1); /* no half-made reserve left */
    assert_int_equal(unlink(filler), 0);
    assert_int_equal(lk_store_reserve_make(path, 512 * 1024), 0);
    assert_int_equal(lk_store_reserve_free(path), 0);
}

#define T(name)  cmocka_unit_test_setup_teardown(name, setup, teardown)
#define TD(name) cmocka_unit_test_setup_teardown(name, setup_tmpfs, teardown_tmpfs)

int main(void)
{
    const struct CMUnitTest tests[] = {
            T(lk_store_open__random_bytes_refused_and_unchanged),
            T(lk_store_open__foreign_database_refused_and_unchanged),
            T(lk_store_open__damaged_database_refused_and_unchanged),
            T(lk_store_open__newer_schema_refused),
            T(lk_store_open__directory_refused),
            T(lk_store_open__missing_directory_refused),
            T(lk_store_open__creates_and_migrates),
            T(lk_store_open__empty_file_is_a_fresh_database),
            T(lk_store_open__reopen_keeps_data),
            T(lk_store_insert__duplicate_tag),
            T(lk_store_insert__duplicate_id),
            T(lk_store_insert__round_trip_every_field),
            T(lk_store_insert__rolled_back_is_gone),
            T(lk_store_load__invalid_state_written_behind_the_store),
            T(lk_store_load__other_invalid_rows),
            T(lk_store_load__only_this_node_in_tag_order),
            T(lk_store_save_state__unknown_tag_or_node),
            T(lk_store_save_state__round_trip),
            T(lk_store_save_settings__round_trip),
            T(lk_store_save_scripts__round_trip),
            T(lk_store_delete__cascades_states_and_runs),
            T(lk_store_last_events__zero_is_none),
            T(lk_store_last_events__order_limit_and_tag),
            T(lk_store_last_events_filtered__each_filter_the_newest_matching),
            T(lk_store_add_event__keeps_at_most_events_kept),
            T(lk_store_add_event__a_flood_keeps_the_last_error),
            T(lk_store_add_run__keeps_runs_kept_per_tag),
            T(lk_store_add_dep__round_trip_duplicate_delete_cascade),
            T(lk_store_open__migrates_version_2),
            T(lk_store_open__migrates_empty_version_2),
            T(lk_store_open__migrates_version_3),
            T(lk_store_open__migrates_version_4),
            T(lk_store_open__migrates_version_7),
            T(lk_store_open__migrates_version_6),
            T(lk_store_open__migrates_version_8),
            T(lk_store_set_extend__errors_first),
            T(lk_store_set_extend__unique_priority_and_order),
            T(lk_store_load_extends__invalid_rows),
            T(lk_store_open__priority_out_of_range_refused),
            T(lk_store_delete__cascades_extends_and_leaves_no_tombstone),
            T(lk_store_set_version__live_and_tombstone),
            T(lk_store_each_tombstone__invalid_rows),
            T(lk_store_see_clock__only_raises),
            T(lk_store_save_owner__round_trip),
            TD(lk_store_commit__full_disk_is_a_disk_failure_kept_past_the_rollback),
            TD(lk_store_reserve__made_freed_and_refused_when_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
