/* The node database (SQLite): schema, migrations, transactions, and every query.
 *
 * It is the only file that calls sqlite3_*. Rows read back are validated like any other
 * input from outside: a value that does not parse stops the load with a clear error
 * instead of becoming a resource in an impossible state. An existing file is checked
 * (application id, integrity, schema version) before anything is written to it, so a
 * corrupt or foreign database is reported and never overwritten. */
#include "store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define APPLICATION_ID 0x4f4b4450 /* "OKDP" */

struct lk_store {
    sqlite3 *db;
};

/* Migrations: migrations[i] brings the schema from version i to i + 1. */
static const char *const migrations[] = {
        "CREATE TABLE resources ("
        "  tag TEXT PRIMARY KEY,"
        "  id TEXT NOT NULL UNIQUE,"
        "  app TEXT NOT NULL,"
        "  type TEXT NOT NULL,"
        "  info TEXT NOT NULL,"
        "  scripts INTEGER NOT NULL,"
        "  quickchk_interval_us INTEGER NOT NULL,"
        "  deepchk_interval_us INTEGER NOT NULL,"
        "  quickchk_timeout_us INTEGER NOT NULL,"
        "  deepchk_timeout_us INTEGER NOT NULL,"
        "  action_timeout_us INTEGER NOT NULL,"
        "  start_grace_us INTEGER NOT NULL,"
        "  recovery_window_us INTEGER NOT NULL,"
        "  check_failures INTEGER NOT NULL,"
        "  max_recoveries INTEGER NOT NULL,"
        "  local_recovery INTEGER NOT NULL,"
        "  monitor INTEGER NOT NULL,"
        "  switchback TEXT NOT NULL,"
        "  monitor_timeout_action TEXT NOT NULL,"
        "  init TEXT NOT NULL,"
        "  pidfile TEXT NOT NULL"
        ");"
        "CREATE TABLE states ("
        "  tag TEXT NOT NULL REFERENCES resources(tag) ON DELETE CASCADE,"
        "  node TEXT NOT NULL,"
        "  state TEXT NOT NULL,"
        "  reason TEXT NOT NULL,"
        "  pending TEXT NOT NULL,"
        "  target INTEGER NOT NULL,"
        "  check_failures INTEGER NOT NULL DEFAULT 0,"
        "  recoveries INTEGER NOT NULL DEFAULT 0,"
        "  PRIMARY KEY (tag, node)"
        ");"
        "CREATE TABLE events ("
        "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
        "  time_ms INTEGER NOT NULL,"
        "  node TEXT NOT NULL,"
        "  severity TEXT NOT NULL,"
        "  number INTEGER NOT NULL,"
        "  tag TEXT NOT NULL,"
        "  process TEXT NOT NULL,"
        "  message TEXT NOT NULL,"
        "  detail TEXT NOT NULL"
        ");"
        "CREATE INDEX events_tag ON events(tag, seq);"
        "CREATE TABLE runs ("
        "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
        "  tag TEXT NOT NULL,"
        "  action TEXT NOT NULL,"
        "  start_ms INTEGER NOT NULL,"
        "  duration_ms INTEGER NOT NULL,"
        "  outcome TEXT NOT NULL,"
        "  exit_status INTEGER NOT NULL,"
        "  term_signal INTEGER NOT NULL,"
        "  description TEXT NOT NULL,"
        "  output BLOB NOT NULL"
        ");"
        "CREATE INDEX runs_tag ON runs(tag, seq);",
        /* 2: hierarchies (issue #4). */
        "CREATE TABLE dependencies ("
        "  parent TEXT NOT NULL REFERENCES resources(tag) ON DELETE CASCADE,"
        "  child TEXT NOT NULL REFERENCES resources(tag) ON DELETE CASCADE,"
        "  PRIMARY KEY (parent, child),"
        "  CHECK (parent <> child)"
        ");"
        "CREATE INDEX dependencies_child ON dependencies(child);",
};
#define SCHEMA_VERSION ((int) (sizeof(migrations) / sizeof(migrations[0])))

static int fail(struct lk_store *store, char *err, size_t err_size, const char *path,
                const char *what)
{
    if (err && err_size) {
        snprintf(err, err_size, "cannot open database '%s': %s", path,
                 what ? what : sqlite3_errmsg(store->db));
        /* SQLite's integrity reports span lines ("*** in database main ***\nPage 2: …");
         * the message must stay one line. */
        for (char *p = err; *p; p++) {
            if (*p == '\n' || *p == '\r' || *p == '\t') {
                *p = ' ';
            }
        }
    }
    return -EIO;
}

static int exec_sql(struct lk_store *store, const char *sql)
{
    return sqlite3_exec(store->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

static int pragma_int(struct lk_store *store, const char *sql, int *ret_value)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK) {
        return -EIO;
    }
    int r = -EIO;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *ret_value = sqlite3_column_int(st, 0);
        r = 0;
    }
    sqlite3_finalize(st);
    return r;
}

/* Reads-only checks on a database file that already exists. */
static int check_existing(struct lk_store *store, const char *path, char *err, size_t err_size)
{
    int app_id = 0, version = 0, tables = 0;
    if (pragma_int(store, "PRAGMA application_id", &app_id) < 0 ||
        pragma_int(store, "SELECT count(*) FROM sqlite_master", &tables) < 0 ||
        pragma_int(store, "PRAGMA user_version", &version) < 0) {
        return fail(store, err, err_size, path, NULL);
    }
    if (tables == 0 && app_id == 0) {
        return 0; /* an empty file: a fresh database */
    }
    if (app_id != APPLICATION_ID) {
        return fail(store, err, err_size, path, "not an OpenKeeper database");
    }
    if (version > SCHEMA_VERSION) {
        char what[128];
        snprintf(what, sizeof(what), "schema version %d is newer than this lkd knows (%d)", version,
                 SCHEMA_VERSION);
        return fail(store, err, err_size, path, what);
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(store->db, "PRAGMA quick_check", -1, &st, NULL) != SQLITE_OK) {
        return fail(store, err, err_size, path, NULL);
    }
    int rc = sqlite3_step(st);
    char what[256] = "";
    if (rc != SQLITE_ROW) {
        snprintf(what, sizeof(what), "%s", sqlite3_errmsg(store->db));
    } else if (strcmp((const char *) sqlite3_column_text(st, 0), "ok") != 0) {
        snprintf(what, sizeof(what), "integrity check failed: %s",
                 (const char *) sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    if (what[0]) {
        return fail(store, err, err_size, path, what);
    }
    return 0;
}

static int migrate(struct lk_store *store, const char *path, char *err, size_t err_size)
{
    int version = 0;
    if (pragma_int(store, "PRAGMA user_version", &version) < 0) {
        return fail(store, err, err_size, path, NULL);
    }
    for (int v = version; v < SCHEMA_VERSION; v++) {
        char bump[64];
        snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", v + 1);
        if (exec_sql(store, "BEGIN IMMEDIATE") < 0 || exec_sql(store, migrations[v]) < 0 ||
            exec_sql(store, bump) < 0 ||
            exec_sql(store, "PRAGMA application_id = 1330332752") < 0 ||
            exec_sql(store, "COMMIT") < 0) {
            int r = fail(store, err, err_size, path, NULL);
            (void) exec_sql(store, "ROLLBACK");
            return r;
        }
    }
    return 0;
}

int lk_store_open(const char *path, struct lk_store **ret_store, char *err, size_t err_size)
{
    struct lk_store *store = calloc(1, sizeof(*store));
    if (!store) {
        return -ENOMEM;
    }
    struct stat st;
    bool exists = stat(path, &st) == 0;
    if (exists && !S_ISREG(st.st_mode)) {
        free(store);
        snprintf(err, err_size, "cannot open database '%s': not a regular file", path);
        return -EINVAL;
    }
    if (exists && access(path, R_OK | W_OK) < 0) {
        int e = errno;
        free(store);
        snprintf(err, err_size, "cannot open database '%s': %s", path, strerror(e));
        return -e;
    }
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (exists ? 0 : SQLITE_OPEN_CREATE);
    int r;
    if (sqlite3_open_v2(path, &store->db, flags, NULL) != SQLITE_OK) {
        r = fail(store, err, err_size, path, NULL);
        goto out;
    }
    sqlite3_busy_timeout(store->db, 5000);
    if (exists) {
        r = check_existing(store, path, err, err_size);
        if (r < 0) {
            goto out;
        }
    }
    if (exec_sql(store, "PRAGMA journal_mode = WAL") < 0 ||
        exec_sql(store, "PRAGMA synchronous = FULL") < 0 ||
        exec_sql(store, "PRAGMA foreign_keys = ON") < 0) {
        r = fail(store, err, err_size, path, NULL);
        goto out;
    }
    r = migrate(store, path, err, err_size);
    if (r < 0) {
        goto out;
    }
    *ret_store = store;
    return 0;
out:
    lk_store_close(store);
    return r;
}

struct lk_store *lk_store_close(struct lk_store *store)
{
    if (!store) {
        return NULL;
    }
    sqlite3_close(store->db);
    free(store);
    return NULL;
}

const char *lk_store_errmsg(const struct lk_store *store)
{
    return sqlite3_errmsg(store->db);
}

int lk_store_begin(struct lk_store *store)
{
    return exec_sql(store, "BEGIN IMMEDIATE");
}

int lk_store_commit(struct lk_store *store)
{
    return exec_sql(store, "COMMIT");
}

void lk_store_rollback(struct lk_store *store)
{
    (void) exec_sql(store, "ROLLBACK");
}

static void copy_text(char *dst, size_t size, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, size, "%s", t ? (const char *) t : "");
}

/* Fills one resource from a row of LOAD_SQL; -EINVAL with err set on a bad value. */
static int row_to_resource(sqlite3_stmt *st, struct lk_resource *res, char *err, size_t size)
{
    int c = 0;
    copy_text(res->tag, sizeof(res->tag), st, c++);
    copy_text(res->id, sizeof(res->id), st, c++);
    copy_text(res->app, sizeof(res->app), st, c++);
    copy_text(res->type, sizeof(res->type), st, c++);
    copy_text(res->info, sizeof(res->info), st, c++);
    int64_t scripts = sqlite3_column_int64(st, c++);
    struct lk_settings *s = &res->settings;
    int64_t us[7];
    for (int i = 0; i < 7; i++) {
        us[i] = sqlite3_column_int64(st, c++);
        if (us[i] < 0) {
            snprintf(err, size, "resource '%s' has a negative duration in the database", res->tag);
            return -EINVAL;
        }
    }
    s->quickchk_interval_usec = (uint64_t) us[0];
    s->deepchk_interval_usec = (uint64_t) us[1];
    s->quickchk_timeout_usec = (uint64_t) us[2];
    s->deepchk_timeout_usec = (uint64_t) us[3];
    s->action_timeout_usec = (uint64_t) us[4];
    s->start_grace_usec = (uint64_t) us[5];
    s->recovery_window_usec = (uint64_t) us[6];
    s->check_failures = (uint32_t) sqlite3_column_int(st, c++);
    s->max_recoveries = (uint32_t) sqlite3_column_int(st, c++);
    s->local_recovery = sqlite3_column_int(st, c++) != 0;
    s->monitor = sqlite3_column_int(st, c++) != 0;
    const char *switchback = (const char *) sqlite3_column_text(st, c++);
    const char *mta = (const char *) sqlite3_column_text(st, c++);
    const char *init = (const char *) sqlite3_column_text(st, c++);
    copy_text(s->pidfile, sizeof(s->pidfile), st, c++);
    const char *state = (const char *) sqlite3_column_text(st, c++);
    copy_text(res->reason, sizeof(res->reason), st, c++);
    const char *pending = (const char *) sqlite3_column_text(st, c++);
    res->target_in_service = sqlite3_column_int(st, c++) != 0;
    res->check_failures_in_row = (uint32_t) sqlite3_column_int(st, c++);
    res->local_recoveries = (uint32_t) sqlite3_column_int(st, c++);

    char verr[256];
    const char *bad = NULL;
    if (lk_validate_tag(res->tag, "tag", verr, sizeof(verr)) < 0 ||
        lk_validate_tag(res->id, "id", verr, sizeof(verr)) < 0 ||
        lk_validate_info(res->info, verr, sizeof(verr)) < 0) {
        bad = verr;
    } else if (lk_switchback_from_name(switchback, &s->switchback) < 0) {
        bad = "invalid switchback";
    } else if (lk_timeout_action_from_name(mta, &s->monitor_timeout_action) < 0) {
        bad = "invalid monitor-timeout-action";
    } else if (lk_init_from_name(init, &s->init) < 0) {
        bad = "invalid init strategy";
    } else if (lk_state_from_name(state, &res->state) < 0) {
        bad = "invalid state";
    } else if (lk_pending_from_name(pending, &res->pending) < 0) {
        bad = "invalid pending action";
    } else if (scripts < 0 || scripts >= (1 << LK_ACTION_COUNT) || !(scripts & 1) ||
               !(scripts & 2)) {
        bad = "invalid script set";
    }
    if (bad) {
        snprintf(err, size, "resource '%s' in the database: %s", res->tag, bad);
        return -EINVAL;
    }
    for (int a = 0; a < LK_ACTION_COUNT; a++) {
        res->has_script[a] = (scripts >> a) & 1;
    }
    return 0;
}

#define LOAD_SQL                                                                                   \
    "SELECT r.tag, r.id, r.app, r.type, r.info, r.scripts, r.quickchk_interval_us,"                \
    " r.deepchk_interval_us, r.quickchk_timeout_us, r.deepchk_timeout_us,"                         \
    " r.action_timeout_us, r.start_grace_us, r.recovery_window_us, r.check_failures,"              \
    " r.max_recoveries, r.local_recovery, r.monitor, r.switchback, r.monitor_timeout_action,"      \
    " r.init, r.pidfile, s.state, s.reason, s.pending, s.target, s.check_failures,"                \
    " s.recoveries FROM resources r JOIN states s ON s.tag = r.tag AND s.node = ?1"                \
    " ORDER BY r.tag"

int lk_store_load(struct lk_store *store, const char *node, struct lk_resource ***ret_resources,
                  size_t *ret_count)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(store->db, LOAD_SQL, -1, &st, NULL) != SQLITE_OK) {
        return -EIO;
    }
    sqlite3_bind_text(st, 1, node, -1, SQLITE_STATIC);
    struct lk_resource **list = NULL;
    size_t count = 0, cap = 0;
    int r = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == cap) {
            cap = cap ? cap * 2 : 64;
            struct lk_resource **bigger = realloc(list, cap * sizeof(*list));
            if (!bigger) {
                r = -ENOMEM;
                break;
            }
            list = bigger;
        }
        struct lk_resource *res = calloc(1, sizeof(*res));
        if (!res) {
            r = -ENOMEM;
            break;
        }
        char err[512];
        if (row_to_resource(st, res, err, sizeof(err)) < 0) {
            /* Surface the reason through sqlite's error slot is not possible; print it
             * into the reason of a fake row is wrong; so stderr is told by the caller. */
            fprintf(stderr, "lkd: %s\n", err);
            free(res);
            r = -EINVAL;
            break;
        }
        list[count++] = res;
    }
    if (r == 0 && rc != SQLITE_DONE) {
        r = -EIO;
    }
    sqlite3_finalize(st);
    if (r < 0) {
        for (size_t i = 0; i < count; i++) {
            free(list[i]);
        }
        free(list);
        return r;
    }
    *ret_resources = list;
    *ret_count = count;
    return 0;
}

static int64_t scripts_mask(const struct lk_resource *res)
{
    int64_t mask = 0;
    for (int a = 0; a < LK_ACTION_COUNT; a++) {
        if (res->has_script[a]) {
            mask |= 1LL << a;
        }
    }
    return mask;
}

static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE) {
        return 0;
    }
    return rc == SQLITE_CONSTRAINT ? -EEXIST : -EIO;
}

static int bind_settings(sqlite3_stmt *st, int first, const struct lk_settings *s)
{
    int i = first;
    sqlite3_bind_int64(st, i++, (sqlite3_int64) s->quickchk_interval_usec);
    sqlite3_bind_int64(st, i++, (sqlite3_int64) s->deepchk_interval_usec);
    sqlite3_bind_int64(st, i++, (sqlite3_int64) s->quickchk_timeout_usec);
    sqlite3_bind_int64(st, i++, (sqlite3_int64) s->deepchk_timeout_usec);
    sqlite3_bind_int64(st, i++, (sqlite3_int64) s->action_timeout_usec);
    sqlite3_bind_int64(st, i++, (sqlite3_int64) s->start_grace_usec);
    sqlite3_bind_int64(st, i++, (sqlite3_int64) s->recovery_window_usec);
    sqlite3_bind_int(st, i++, (int) s->check_failures);
    sqlite3_bind_int(st, i++, (int) s->max_recoveries);
    sqlite3_bind_int(st, i++, s->local_recovery);
    sqlite3_bind_int(st, i++, s->monitor);
    sqlite3_bind_text(st, i++, lk_switchback_name(s->switchback), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, lk_timeout_action_name(s->monitor_timeout_action), -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, i++, lk_init_name(s->init), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, s->pidfile, -1, SQLITE_STATIC);
    return i;
}

static bool exists_where(struct lk_store *store, const char *sql, const char *value)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK) {
        return false;
    }
    sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

int lk_store_insert(struct lk_store *store, const char *node, const struct lk_resource *res,
                    char *err, size_t err_size)
{
    if (exists_where(store, "SELECT 1 FROM resources WHERE tag = ?1", res->tag)) {
        snprintf(err, err_size, "a resource with tag '%s' already exists", res->tag);
        return -EEXIST;
    }
    if (exists_where(store, "SELECT 1 FROM resources WHERE id = ?1", res->id)) {
        snprintf(err, err_size, "a resource with id '%s' already exists", res->id);
        return -EEXIST;
    }
    sqlite3_stmt *st = NULL;
    const char *sql = "INSERT INTO resources (tag, id, app, type, info, scripts,"
                      " quickchk_interval_us, deepchk_interval_us, quickchk_timeout_us,"
                      " deepchk_timeout_us, action_timeout_us, start_grace_us,"
                      " recovery_window_us, check_failures, max_recoveries, local_recovery,"
                      " monitor, switchback, monitor_timeout_action, init, pidfile)"
                      " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK) {
        goto io;
    }
    sqlite3_bind_text(st, 1, res->tag, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, res->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, res->app, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, res->type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, res->info, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, scripts_mask(res));
    bind_settings(st, 7, &res->settings);
    if (step_done(st) < 0) {
        goto io;
    }
    if (sqlite3_prepare_v2(store->db,
                           "INSERT INTO states (tag, node, state, reason, pending, target,"
                           " check_failures, recoveries) VALUES (?,?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK) {
        goto io;
    }
    sqlite3_bind_text(st, 1, res->tag, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, node, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, lk_state_name(res->state), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, res->reason, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, lk_pending_name(res->pending), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, res->target_in_service);
    sqlite3_bind_int(st, 7, (int) res->check_failures_in_row);
    sqlite3_bind_int(st, 8, (int) res->local_recoveries);
    if (step_done(st) < 0) {
        goto io;
    }
    return 0;
io:
    snprintf(err, err_size, "cannot write the node database: %s", sqlite3_errmsg(store->db));
    return -EIO;
}

int lk_store_delete(struct lk_store *store, const char *tag)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(store->db, "DELETE FROM resources WHERE tag = ?1", -1, &st, NULL) !=
        SQLITE_OK) {
        return -EIO;
    }
    sqlite3_bind_text(st, 1, tag, -1, SQLITE_STATIC);
    int r = step_done(st);
    if (r < 0) {
        return r;
    }
    if (sqlite3_prepare_v2(store->db, "DELETE FROM runs WHERE tag = ?1", -1, &st, NULL) !=
        SQLITE_OK) {
        return -EIO;
    }
    sqlite3_bind_text(st, 1, tag, -1, SQLITE_STATIC);
    return step_done(st);
}

int lk_store_save_settings(struct lk_store *store, const struct lk_resource *res)
{
    sqlite3_stmt *st = NULL;
    const char *sql = "UPDATE resources SET quickchk_interval_us=?1, deepchk_interval_us=?2,"
                      " quickchk_timeout_us=?3, deepchk_timeout_us=?4, action_timeout_us=?5,"
                      " start_grace_us=?6, recovery_window_us=?7, check_failures=?8,"
                      " max_recoveries=?9, local_recovery=?10, monitor=?11, switchback=?12,"
                      " monitor_timeout_action=?13, init=?14, pidfile=?15, info=?16"
                      " WHERE tag=?17";
    if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK) {
        return -EIO;
    }
    int i = bind_settings(st, 1, &res->settings);
    sqlite3_bind_text(st, i++, res->info, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i, res->tag, -1, SQLITE_STATIC);
    return step_done(st);
}

int lk_store_save_scripts(struct lk_store *store, const struct lk_resource *res)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(store->db, "UPDATE resources SET scripts=?1 WHERE tag=?2", -1, &st,
                           NULL) != SQLITE_OK) {
        return -EIO;
    }
    sqlite3_bind_int64(st, 1, scripts_mask(res));
    sqlite3_bind_text(st, 2, res->tag, -1, SQLITE_STATIC);
    return step_done(st);
}

int lk_store_save_state(struct lk_store *store, const char *node, const struct lk_resource *res)
{
    sqlite3_stmt *st = NULL;
    const char *sql = "UPDATE states SET state=?1, reason=?2, pending=?3, target=?4,"
                      " check_failures=?5, recoveries=?6 WHERE tag=?7 AND node=?8";
    if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK) {
        return -EIO;
    }
    sqlite3_bind_text(st, 1, lk_state_name(res->state), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, res->reason, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, lk_pending_name(res->pending), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, res->target_in_service);
    sqlite3_bind_int(st, 5, (int) res->check_failures_in_row);
    sqlite3_bind_int(st, 6, (int) res->local_recoveries);
    sqlite3_bind_text(st, 7, res->tag, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, node, -1, SQLITE_STATIC);
    int r = step_done(st);
    if (r == 0 && sqlite3_changes(store->db) != 1) {
        return -ENOENT;
    }
    return r;
}

int lk_store_add_event(struct lk_store *store, struct lk_event_record *e)
{
    sqlite3_stmt *st = NULL;
    const char *sql = "INSERT INTO events (time_ms, node, severity, number, tag, process,"
                      " message, detail) VALUES (?,?,?,?,?,?,?,?)";
    if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK) {
        return -EIO;
    }
    sqlite3_bind_int64(st, 1, e->time_ms);
    sqlite3_bind_text(st, 2, e->node, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, lk_severity_name(e->severity), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, e->number);
    sqlite3_bind_text(st, 5, e->tag, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, e->process, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, e->message, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, e->detail, -1, SQLITE_STATIC);
    int r = step_done(st);
    if (r < 0) {
        return r;
    }
    e->seq = sqlite3_last_insert_rowid(store->db);
    /* Bounded: trim now and then rather than at every insert. */
    if (e->seq % 100 == 0) {
        if (sqlite3_prepare_v2(store->db, "DELETE FROM events WHERE seq <= ?1", -1, &st, NULL) ==
            SQLITE_OK) {
            sqlite3_bind_int64(st, 1, e->seq - LK_EVENTS_KEPT);
            (void) step_done(st);
        }
    }
    return 0;
}

int lk_store_last_events(struct lk_store *store, size_t n, const char *tag, lk_store_event_cb cb,
                         void *userdata)
{
    sqlite3_stmt *st = NULL;
    const char *sql = "SELECT * FROM (SELECT seq, time_ms, node, severity, number, tag,"
                      " process, message, detail FROM events WHERE (?2 IS NULL OR tag = ?2)"
                      " ORDER BY seq DESC LIMIT ?1) ORDER BY seq";
    if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK) {
        return -EIO;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64) n);
    if (tag) {
        sqlite3_bind_text(st, 2, tag, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, 2);
    }
    struct lk_event_record *e = malloc(sizeof(*e));
    if (!e) {
        sqlite3_finalize(st);
        return -ENOMEM;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        memset(e, 0, sizeof(*e));
        e->seq = sqlite3_column_int64(st, 0);
        e->time_ms = sqlite3_column_int64(st, 1);
        copy_text(e->node, sizeof(e->node), st, 2);
        const char *sev = (const char *) sqlite3_column_text(st, 3);
        if (lk_severity_from_name(sev, &e->severity) < 0) {
            e->severity = LK_SEV_INFO;
        }
        e->number = sqlite3_column_int(st, 4);
        copy_text(e->tag, sizeof(e->tag), st, 5);
        copy_text(e->process, sizeof(e->process), st, 6);
        copy_text(e->message, sizeof(e->message), st, 7);
        copy_text(e->detail, sizeof(e->detail), st, 8);
        cb(e, userdata);
    }
    free(e);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -EIO;
}

int lk_store_add_run(struct lk_store *store, const struct lk_run_record *run)
{
    sqlite3_stmt *st = NULL;
    const char *sql = "INSERT INTO runs (tag, action, start_ms, duration_ms, outcome,"
                      " exit_status, term_signal, description, output)"
                      " VALUES (?,?,?,?,?,?,?,?,?)";
    if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK) {
        return -EIO;
    }
    sqlite3_bind_text(st, 1, run->tag, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, run->action, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, run->start_ms);
    sqlite3_bind_int64(st, 4, run->duration_ms);
    sqlite3_bind_text(st, 5, run->outcome, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, run->exit_status);
    sqlite3_bind_int(st, 7, run->term_signal);
    sqlite3_bind_text(st, 8, run->description, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 9, run->output ? run->output : "", (int) run->output_len, SQLITE_STATIC);
    int r = step_done(st);
    if (r < 0) {
        return r;
    }
    /* Per resource: everything older than its last LK_RUNS_KEPT runs. */
    const char *trim = "DELETE FROM runs WHERE tag = ?1 AND seq < (SELECT min(seq) FROM"
                       " (SELECT seq FROM runs WHERE tag = ?1 ORDER BY seq DESC LIMIT ?2))";
    if (sqlite3_prepare_v2(store->db, trim, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, run->tag, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, LK_RUNS_KEPT);
        (void) step_done(st);
    }
    return 0;
}

int lk_store_load_deps(struct lk_store *store, struct lk_dep **ret_deps, size_t *ret_count)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(store->db,
                           "SELECT parent, child FROM dependencies ORDER BY parent, child", -1, &st,
                           NULL) != SQLITE_OK) {
        return -EIO;
    }
    struct lk_dep *deps = NULL;
    size_t count = 0, cap = 0;
    int r = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == cap) {
            cap = cap ? cap * 2 : 32;
            struct lk_dep *bigger = realloc(deps, cap * sizeof(*bigger));
            if (!bigger) {
                r = -ENOMEM;
                break;
            }
            deps = bigger;
        }
        struct lk_dep *d = &deps[count];
        copy_text(d->parent, sizeof(d->parent), st, 0);
        copy_text(d->child, sizeof(d->child), st, 1);
        char err[256];
        if (lk_validate_tag(d->parent, "parent", err, sizeof(err)) < 0 ||
            lk_validate_tag(d->child, "child", err, sizeof(err)) < 0 ||
            strcmp(d->parent, d->child) == 0) {
            fprintf(stderr, "lkd: invalid dependency in the database: %s\n", err);
            r = -EINVAL;
            break;
        }
        count++;
    }
    if (r == 0 && rc != SQLITE_DONE) {
        r = -EIO;
    }
    sqlite3_finalize(st);
    if (r < 0) {
        free(deps);
        return r;
    }
    *ret_deps = deps;
    *ret_count = count;
    return 0;
}

static int dep_exec(struct lk_store *store, const char *sql, const char *parent, const char *child)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK) {
        return -EIO;
    }
    sqlite3_bind_text(st, 1, parent, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, child, -1, SQLITE_STATIC);
    return step_done(st);
}

int lk_store_add_dep(struct lk_store *store, const char *parent, const char *child)
{
    return dep_exec(store, "INSERT INTO dependencies (parent, child) VALUES (?1, ?2)", parent,
                    child);
}

int lk_store_delete_dep(struct lk_store *store, const char *parent, const char *child)
{
    int r = dep_exec(store, "DELETE FROM dependencies WHERE parent = ?1 AND child = ?2", parent,
                     child);
    if (r == 0 && sqlite3_changes(store->db) != 1) {
        return -ENOENT;
    }
    return r;
}
