/* The node database (SQLite): schema, migrations, transactions, and every query.
 *
 * It is the only file that calls sqlite3_*. Rows read back are validated like any other
 * input from outside: a value that does not parse stops the load with a clear error
 * instead of becoming a resource in an impossible state. An existing file is checked
 * (application id, integrity, schema version) before anything is written to it, so a
 * corrupt or foreign database is reported and never overwritten. */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define APPLICATION_ID 0x4f4b4450 /* "OKDP" */

/* The statements of every action and event (a transaction, a state, an event, a run and
 * its trim, a record): prepared once per store, reset after each use, finalized at close,
 * instead of being parsed again each time. */
enum hot_sql {
    HOT_BEGIN,
    HOT_COMMIT,
    HOT_ROLLBACK,
    HOT_SAVE_STATE,
    HOT_ADD_EVENT,
    HOT_ADD_RUN,
    HOT_TRIM_RUNS,
    HOT_COUNT,
};

static const char *const hot_text[HOT_COUNT] = {
        [HOT_BEGIN] = "BEGIN IMMEDIATE",
        [HOT_COMMIT] = "COMMIT",
        [HOT_ROLLBACK] = "ROLLBACK",
        [HOT_SAVE_STATE] = "UPDATE states SET state=?1, reason=?2, pending=?3, target=?4,"
                           " check_failures=?5, recoveries=?6, stop_failed=?9, unable=?10,"
                           " not_configured=?11 WHERE tag=?7 AND node=?8",
        [HOT_ADD_EVENT] = "INSERT INTO events (time_ms, node, severity, number, tag, process,"
                          " message, detail) VALUES (?,?,?,?,?,?,?,?)",
        [HOT_ADD_RUN] = "INSERT INTO runs (tag, action, start_ms, duration_ms, outcome,"
                        " exit_status, term_signal, description, output)"
                        " VALUES (?,?,?,?,?,?,?,?,?)",
        /* Per resource: everything older than its last LK_RUNS_KEPT runs. */
        [HOT_TRIM_RUNS] = "DELETE FROM runs WHERE tag = ?1 AND seq < (SELECT min(seq) FROM"
                          " (SELECT seq FROM runs WHERE tag = ?1 ORDER BY seq DESC LIMIT ?2))",
};

struct lk_store {
    sqlite3 *db;
    sqlite3_stmt *hot[HOT_COUNT];
    /* The last failed write (extended result code, message), kept past the rollback that
     * follows it: SQLite's own message would then say "not an error" or "cannot rollback
     * - no transaction is active". 0 after a commit that succeeded. */
    int fail_code;
    char fail_msg[256];
};

/* Keeps the database's current error as the last failure, unless it is no error. */
static void remember(struct lk_store *store)
{
    int code = sqlite3_extended_errcode(store->db);
    if (code == SQLITE_OK || code == SQLITE_DONE || code == SQLITE_ROW) {
        return;
    }
    store->fail_code = code;
    snprintf(store->fail_msg, sizeof(store->fail_msg), "%s", sqlite3_errmsg(store->db));
}

/* q's prepared statement, prepared at its first use; NULL when it cannot be. */
static sqlite3_stmt *hot(struct lk_store *store, enum hot_sql q)
{
    if (!store->hot[q] && sqlite3_prepare_v3(store->db, hot_text[q], -1, SQLITE_PREPARE_PERSISTENT,
                                             &store->hot[q], NULL) != SQLITE_OK) {
        sqlite3_finalize(store->hot[q]);
        store->hot[q] = NULL;
    }
    return store->hot[q];
}

/* Runs a hot statement to its end and resets it for the next use (keeping it prepared):
 * 0, -EEXIST on a constraint, -EIO otherwise (lk_store_errmsg says why). */
static int hot_done(struct lk_store *store, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        remember(store);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc == SQLITE_DONE) {
        return 0;
    }
    return rc == SQLITE_CONSTRAINT ? -EEXIST : -EIO;
}

static int hot_exec(struct lk_store *store, enum hot_sql q)
{
    sqlite3_stmt *st = hot(store, q);
    if (!st) {
        remember(store);
        return -EIO;
    }
    return hot_done(store, st);
}

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
        /* 3: cluster data (issue #5). Every resource is extended to the nodes its states
         * rows name, priorities 1, 2, … in node order, and stamped version (1, that
         * node), so that a database from a one-node cluster joins with valid versions. */
        "CREATE TABLE extends ("
        "  tag TEXT NOT NULL REFERENCES resources(tag) ON DELETE CASCADE,"
        "  node TEXT NOT NULL,"
        "  priority INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 1024),"
        "  PRIMARY KEY (tag, node),"
        "  UNIQUE (tag, priority)"
        ");"
        "CREATE TABLE tombstones ("
        "  tag TEXT PRIMARY KEY,"
        "  counter INTEGER NOT NULL,"
        "  node TEXT NOT NULL,"
        "  nodes TEXT NOT NULL"
        ");"
        "CREATE TABLE meta ("
        "  key TEXT PRIMARY KEY,"
        "  value INTEGER NOT NULL"
        ");"
        "CREATE TABLE ownership ("
        "  tag TEXT PRIMARY KEY,"
        "  generation INTEGER NOT NULL,"
        "  owner TEXT NOT NULL,"
        "  failovers TEXT NOT NULL DEFAULT '[]',"
        "  record TEXT NOT NULL DEFAULT '{}'"
        ");"
        "ALTER TABLE resources ADD COLUMN ver_counter INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE resources ADD COLUMN ver_node TEXT NOT NULL DEFAULT '';"
        "INSERT INTO extends (tag, node, priority)"
        "  SELECT tag, node, row_number() OVER (PARTITION BY tag ORDER BY node) FROM states;"
        "UPDATE resources SET ver_counter = 1,"
        "  ver_node = (SELECT min(node) FROM states s WHERE s.tag = resources.tag)"
        "  WHERE EXISTS (SELECT 1 FROM states s WHERE s.tag = resources.tag);"
        "INSERT INTO meta (key, value)"
        "  SELECT 'clock', coalesce(max(ver_counter), 0) FROM resources;",
        /* 4: a remove of the resource failed on the node: its application may still run
         * there (issue 9). */
        "ALTER TABLE states ADD COLUMN stop_failed INTEGER NOT NULL DEFAULT 0;",
        /* 5: how a resource's death is noticed and what a remove kills (issue 10); the
         * resources from before keep the defaults. */
        "ALTER TABLE resources ADD COLUMN watch TEXT NOT NULL DEFAULT 'cgroup';"
        "ALTER TABLE resources ADD COLUMN kill_mode TEXT NOT NULL DEFAULT 'control-group';",
        /* 6: events are kept by severity (issue 11): each severity's newest are found by
         * this index, so that a flood of one severity never prunes another. */
        "CREATE INDEX events_severity ON events(severity, seq);",
        /* 7: built-in checks (issue 13): the SPEC lkd runs instead of the quickchk or
         * deepchk script; '' = none, as for every resource from before. */
        "ALTER TABLE resources ADD COLUMN quickchk_check TEXT NOT NULL DEFAULT '';"
        "ALTER TABLE resources ADD COLUMN deepchk_check TEXT NOT NULL DEFAULT '';",
        /* 8: what the resource's type said of the node (issue 13): not installed here (the
         * node is unable to run it), or not configured (no failover anywhere). */
        "ALTER TABLE states ADD COLUMN unable INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE states ADD COLUMN not_configured INTEGER NOT NULL DEFAULT 0;",
        /* 9: the arguments a gen/app resource's scripts are called with (issue 14):
         * 'none' (SPEC §3) for every resource from before, or 'lifekeeper' (-t TAG -i ID). */
        "ALTER TABLE resources ADD COLUMN script_args TEXT NOT NULL DEFAULT 'none';",
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
    for (size_t i = 0; i < HOT_COUNT; i++) {
        sqlite3_finalize(store->hot[i]);
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
    return hot_exec(store, HOT_BEGIN);
}

int lk_store_commit(struct lk_store *store)
{
    int r = hot_exec(store, HOT_COMMIT);
    if (r == 0) {
        store->fail_code = 0;
        store->fail_msg[0] = '\0';
    }
    return r;
}

void lk_store_rollback(struct lk_store *store)
{
    /* The failure that led here is kept for lk_store_why. */
    remember(store);
    /* On SQLITE_FULL, SQLITE_IOERR and a few more, SQLite may have rolled the whole
     * transaction back itself: a ROLLBACK then fails ("cannot rollback - no transaction
     * is active"). Autocommit mode again means there is nothing left to undo. */
    if (sqlite3_get_autocommit(store->db)) {
        return;
    }
    sqlite3_stmt *st = hot(store, HOT_ROLLBACK);
    int rc = st ? sqlite3_step(st) : SQLITE_ERROR;
    if (st) {
        sqlite3_reset(st);
    }
    if (rc != SQLITE_DONE && !sqlite3_get_autocommit(store->db)) {
        lk_log(LK_LOG_ERR, "cannot roll back a transaction of the node database: %s",
               sqlite3_errmsg(store->db));
    }
}

const char *lk_store_why(const struct lk_store *store)
{
    return store->fail_code ? store->fail_msg : sqlite3_errmsg(store->db);
}

bool lk_store_disk_failed(const struct lk_store *store)
{
    switch (store->fail_code & 0xff) {
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
        return true;
    default:
        return false;
    }
}

bool lk_store_full(const struct lk_store *store)
{
    return (store->fail_code & 0xff) == SQLITE_FULL;
}

int lk_store_reserve_make(const char *path, uint64_t bytes)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t) st.st_size >= bytes) {
        return 0;
    }
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int) sizeof(tmp)) {
        return -ENAMETOOLONG;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        return -errno;
    }
    /* Blocks really allocated (not a sparse file): freeing them gives the space back. */
    int r = -posix_fallocate(fd, 0, (off_t) bytes);
    if (r == 0 && fsync(fd) < 0) {
        r = -errno;
    }
    close(fd);
    if (r == 0 && rename(tmp, path) < 0) {
        r = -errno;
    }
    if (r < 0) {
        (void) unlink(tmp);
    }
    return r;
}

int lk_store_reserve_free(const char *path)
{
    return unlink(path) == 0 ? 0 : -errno;
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
    const char *watch = (const char *) sqlite3_column_text(st, c++);
    const char *kill_mode = (const char *) sqlite3_column_text(st, c++);
    const char *quick_check = (const char *) sqlite3_column_text(st, c++);
    const char *deep_check = (const char *) sqlite3_column_text(st, c++);
    const char *script_args = (const char *) sqlite3_column_text(st, c++);
    const char *state = (const char *) sqlite3_column_text(st, c++);
    copy_text(res->reason, sizeof(res->reason), st, c++);
    const char *pending = (const char *) sqlite3_column_text(st, c++);
    res->target_in_service = sqlite3_column_int(st, c++) != 0;
    res->check_failures_in_row = (uint32_t) sqlite3_column_int(st, c++);
    res->local_recoveries = (uint32_t) sqlite3_column_int(st, c++);
    res->stop_failed = sqlite3_column_int(st, c++) != 0;
    res->unable = sqlite3_column_int(st, c++) != 0;
    res->not_configured = sqlite3_column_int(st, c++) != 0;

    char verr[256];
    const char *bad = NULL;
    if (lk_validate_tag(res->tag, "tag", verr, sizeof(verr)) < 0 ||
        lk_validate_tag(res->id, "id", verr, sizeof(verr)) < 0 ||
        lk_validate_info(res->info, verr, sizeof(verr)) < 0 ||
        lk_validate_app_type(res->app, res->type, verr, sizeof(verr)) < 0) {
        bad = verr;
    } else if (lk_switchback_from_name(switchback, &s->switchback) < 0) {
        bad = "invalid switchback";
    } else if (lk_timeout_action_from_name(mta, &s->monitor_timeout_action) < 0) {
        bad = "invalid monitor-timeout-action";
    } else if (lk_init_from_name(init, &s->init) < 0) {
        bad = "invalid init strategy";
    } else if (lk_watch_from_name(watch, &s->watch) < 0) {
        bad = "invalid watch";
    } else if (lk_kill_mode_from_name(kill_mode, &s->kill_mode) < 0) {
        bad = "invalid kill-mode";
    } else if (lk_script_args_from_name(script_args, &s->script_args) < 0) {
        bad = "invalid script-args";
    } else if (lk_settings_set(s, "quickchk-check", quick_check ? quick_check : "", verr,
                               sizeof(verr)) < 0 ||
               lk_settings_set(s, "deepchk-check", deep_check ? deep_check : "", verr,
                               sizeof(verr)) < 0) {
        bad = verr;
    } else if (lk_settings_check(s, verr, sizeof(verr)) < 0) {
        bad = verr;
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

#define RESOURCE_COLUMNS                                                                           \
    "SELECT r.tag, r.id, r.app, r.type, r.info, r.scripts, r.quickchk_interval_us,"                \
    " r.deepchk_interval_us, r.quickchk_timeout_us, r.deepchk_timeout_us,"                         \
    " r.action_timeout_us, r.start_grace_us, r.recovery_window_us, r.check_failures,"              \
    " r.max_recoveries, r.local_recovery, r.monitor, r.switchback, r.monitor_timeout_action,"      \
    " r.init, r.pidfile, r.watch, r.kill_mode, r.quickchk_check, r.deepchk_check,"                 \
    " r.script_args, "

/* Only the resources extended to the node, with the node's state. */
#define LOAD_SQL                                                                                   \
    RESOURCE_COLUMNS                                                                               \
    "s.state, s.reason, s.pending, s.target, s.check_failures, s.recoveries, s.stop_failed,"       \
    " s.unable, s.not_configured"                                                                  \
    " FROM resources r JOIN states s ON s.tag = r.tag AND s.node = ?1"                             \
    " JOIN extends e ON e.tag = r.tag AND e.node = ?1 ORDER BY r.tag"

/* One resource whether or not it is extended to the node; a node without a state row
 * reads as out of service with nothing pending. */
#define LOAD_ONE_SQL                                                                               \
    RESOURCE_COLUMNS                                                                               \
    "coalesce(s.state, 'OSU'), coalesce(s.reason, ''), coalesce(s.pending, ''),"                   \
    " coalesce(s.target, 0), coalesce(s.check_failures, 0), coalesce(s.recoveries, 0),"            \
    " coalesce(s.stop_failed, 0), coalesce(s.unable, 0), coalesce(s.not_configured, 0)"            \
    " FROM resources r LEFT JOIN states s ON s.tag = r.tag AND s.node = ?1 WHERE r.tag = ?2"

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
            lk_log(LK_LOG_ERR, "%s", err);
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
    sqlite3_bind_text(st, i++, lk_watch_name(s->watch), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, lk_kill_mode_name(s->kill_mode), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, s->quickchk_check, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, s->deepchk_check, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, lk_script_args_name(s->script_args), -1, SQLITE_STATIC);
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
                      " monitor, switchback, monitor_timeout_action, init, pidfile, watch,"
                      " kill_mode, quickchk_check, deepchk_check, script_args)"
                      " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
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
    if (sqlite3_prepare_v2(store->db, "INSERT INTO extends (tag, node, priority) VALUES (?,?,1)",
                           -1, &st, NULL) != SQLITE_OK) {
        goto io;
    }
    sqlite3_bind_text(st, 1, res->tag, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, node, -1, SQLITE_STATIC);
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
                      " monitor_timeout_action=?13, init=?14, pidfile=?15, watch=?16,"
                      " kill_mode=?17, quickchk_check=?18, deepchk_check=?19, script_args=?20,"
                      " info=?21, id=?22 WHERE tag=?23";
    if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK) {
        return -EIO;
    }
    int i = bind_settings(st, 1, &res->settings);
    sqlite3_bind_text(st, i++, res->info, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, res->id, -1, SQLITE_STATIC);
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
    sqlite3_stmt *st = hot(store, HOT_SAVE_STATE);
    if (!st) {
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
    sqlite3_bind_int(st, 9, res->stop_failed);
    sqlite3_bind_int(st, 10, res->unable);
    sqlite3_bind_int(st, 11, res->not_configured);
    int r = hot_done(store, st);
    if (r == 0 && sqlite3_changes(store->db) != 1) {
        return -ENOENT;
    }
    return r;
}

int lk_store_add_event(struct lk_store *store, struct lk_event_record *e)
{
    sqlite3_stmt *st = hot(store, HOT_ADD_EVENT);
    if (!st) {
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
    int r = hot_done(store, st);
    if (r < 0) {
        return r;
    }
    e->seq = sqlite3_last_insert_rowid(store->db);
    /* Bounded: trim now and then rather than at every insert, each severity on its own
     * (LK_EVENTS_KEPT_PER_SEVERITY of each, found by the index events_severity), so that
     * a flood of infos or warnings never pushes the last error out. */
    if (e->seq % 100 == 0) {
        if (sqlite3_prepare_v2(store->db,
                               "DELETE FROM events WHERE severity = ?1 AND seq < (SELECT seq FROM"
                               " events WHERE severity = ?1 ORDER BY seq DESC LIMIT 1 OFFSET ?2)",
                               -1, &st, NULL) != SQLITE_OK) {
            return 0; /* the event is in; the trim waits for the next time */
        }
        for (int sev = 0; sev < LK_SEV_COUNT; sev++) {
            sqlite3_bind_text(st, 1, lk_severity_name((enum lk_severity) sev), -1, SQLITE_STATIC);
            sqlite3_bind_int(st, 2, LK_EVENTS_KEPT_PER_SEVERITY - 1);
            (void) sqlite3_step(st);
            sqlite3_reset(st);
        }
        sqlite3_finalize(st);
    }
    return 0;
}

int lk_store_last_events(struct lk_store *store, size_t n, const char *tag, lk_store_event_cb cb,
                         void *userdata)
{
    return lk_store_last_events_filtered(store, n, tag, NULL, cb, userdata);
}

int lk_store_last_events_filtered(struct lk_store *store, size_t n, const char *tag,
                                  const struct lk_event_filter *f, lk_store_event_cb cb,
                                  void *userdata)
{
    sqlite3_stmt *st = NULL;
    /* Newest first by seq, stopping at n matching rows: a filter costs the rows it skips
     * (cheap column tests), never their decoding or encoding. */
    const char *sql = "SELECT * FROM (SELECT seq, time_ms, node, severity, number, tag,"
                      " process, message, detail FROM events WHERE (?2 IS NULL OR tag = ?2)"
                      " AND (?3 IS NULL OR severity = ?3) AND (?4 IS NULL OR number = ?4)"
                      " AND (?5 IS NULL OR time_ms < ?5) AND (?6 IS NULL OR node = ?6)"
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
    if (f && f->severity >= 0 && f->severity < LK_SEV_COUNT) {
        sqlite3_bind_text(st, 3, lk_severity_name((enum lk_severity) f->severity), -1,
                          SQLITE_STATIC);
    }
    if (f && f->number >= 0) {
        sqlite3_bind_int(st, 4, f->number);
    }
    if (f && f->before_ms > 0) {
        sqlite3_bind_int64(st, 5, f->before_ms);
    }
    if (f && f->node[0]) {
        sqlite3_bind_text(st, 6, f->node, -1, SQLITE_STATIC);
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
    sqlite3_stmt *st = hot(store, HOT_ADD_RUN);
    if (!st) {
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
    int r = hot_done(store, st);
    if (r < 0) {
        return r;
    }
    st = hot(store, HOT_TRIM_RUNS);
    if (st) {
        sqlite3_bind_text(st, 1, run->tag, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, LK_RUNS_KEPT);
        (void) hot_done(store, st);
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
            lk_log(LK_LOG_ERR, "invalid dependency in the database: %s", err);
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

int lk_store_load_one(struct lk_store *store, const char *node, const char *tag,
                      struct lk_resource *res)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(store->db, LOAD_ONE_SQL, -1, &st, NULL) != SQLITE_OK) {
        return -EIO;
    }
    sqlite3_bind_text(st, 1, node, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, tag, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int r = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
    if (r == 0) {
        struct lk_resource *tmp = calloc(1, sizeof(*tmp));
        char err[512];
        if (!tmp) {
            r = -ENOMEM;
        } else if (row_to_resource(st, tmp, err, sizeof(err)) < 0) {
            lk_log(LK_LOG_ERR, "%s", err);
            r = -EINVAL;
        } else {
            memcpy(res, tmp, sizeof(*res));
        }
        free(tmp);
    }
    sqlite3_finalize(st);
    return r;
}

int lk_store_add_state(struct lk_store *store, const char *node, const struct lk_resource *res)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(store->db,
                           "INSERT OR IGNORE INTO states (tag, node, state, reason, pending,"
                           " target, check_failures, recoveries) VALUES (?,?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK) {
        return -EIO;
    }
    sqlite3_bind_text(st, 1, res->tag, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, node, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, lk_state_name(res->state), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, res->reason, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, lk_pending_name(res->pending), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, res->target_in_service);
    sqlite3_bind_int(st, 7, (int) res->check_failures_in_row);
    sqlite3_bind_int(st, 8, (int) res->local_recoveries);
    return step_done(st);
}

/* ---- Cluster data ---- */

/* A node name read back: a tag, or "" where allow_empty. */
static bool node_name_ok(const char *name, bool allow_empty)
{
    char err[256];
    if (allow_empty && name[0] == '\0') {
        return true;
    }
    return lk_validate_tag(name, "node", err, sizeof(err)) == 0;
}

static int load_extends(struct lk_store *store, const char *tag, struct lk_extend **ret,
                        size_t *ret_count)
{
    sqlite3_stmt *st = NULL;
    const char *sql = "SELECT tag, node, priority FROM extends WHERE (?1 IS NULL OR tag = ?1)"
                      " ORDER BY tag, priority";
    if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK) {
        return -EIO;
    }
    if (tag) {
        sqlite3_bind_text(st, 1, tag, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, 1);
    }
    struct lk_extend *list = NULL;
    size_t count = 0, cap = 0;
    int r = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == cap) {
            cap = cap ? cap * 2 : 32;
            struct lk_extend *bigger = realloc(list, cap * sizeof(*bigger));
            if (!bigger) {
                r = -ENOMEM;
                break;
            }
            list = bigger;
        }
        struct lk_extend *e = &list[count];
        copy_text(e->tag, sizeof(e->tag), st, 0);
        copy_text(e->node, sizeof(e->node), st, 1);
        int64_t priority = sqlite3_column_int64(st, 2);
        char err[256];
        if (lk_validate_tag(e->tag, "tag", err, sizeof(err)) < 0 ||
            lk_validate_tag(e->node, "node", err, sizeof(err)) < 0) {
            lk_log(LK_LOG_ERR, "invalid extend in the database: %s", err);
            r = -EINVAL;
            break;
        }
        if (priority < 1 || priority > LK_PRIORITY_MAX) {
            lk_log(LK_LOG_ERR,
                   "invalid extend in the database: resource '%s' on node '%s' has"
                   " priority %" PRId64,
                   e->tag, e->node, priority);
            r = -EINVAL;
            break;
        }
        e->priority = (uint32_t) priority;
        count++;
    }
    if (r == 0 && rc != SQLITE_DONE) {
        r = -EIO;
    }
    sqlite3_finalize(st);
    if (r < 0) {
        free(list);
        return r;
    }
    *ret = list;
    *ret_count = count;
    return 0;
}

int lk_store_load_extends(struct lk_store *store, struct lk_extend **ret, size_t *ret_count)
{
    return load_extends(store, NULL, ret, ret_count);
}

int lk_store_load_extends_of(struct lk_store *store, const char *tag, struct lk_extend **ret,
                             size_t *ret_count)
{
    return load_extends(store, tag, ret, ret_count);
}

static int tag_node_exec(struct lk_store *store, const char *sql, const char *tag, const char *node,
                         int64_t number)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK) {
        return -EIO;
    }
    sqlite3_bind_text(st, 1, tag, -1, SQLITE_STATIC);
    if (node) {
        sqlite3_bind_text(st, 2, node, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, 2);
    }
    sqlite3_bind_int64(st, 3, number);
    return step_done(st);
}

int lk_store_set_extend(struct lk_store *store, const char *tag, const char *node,
                        uint32_t priority)
{
    if (priority < 1 || priority > LK_PRIORITY_MAX) {
        return -EINVAL;
    }
    if (!exists_where(store, "SELECT 1 FROM resources WHERE tag = ?1", tag)) {
        return -ENOENT;
    }
    /* Checked rather than left to the UNIQUE constraint so that the answer is -EEXIST for
     * exactly this reason and never for an I/O error. */
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(store->db,
                           "SELECT 1 FROM extends WHERE tag = ?1 AND node <> ?2 AND priority = ?3",
                           -1, &st, NULL) != SQLITE_OK) {
        return -EIO;
    }
    sqlite3_bind_text(st, 1, tag, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, node, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, priority);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW) {
        return -EEXIST;
    }
    if (rc != SQLITE_DONE) {
        return -EIO;
    }
    int r = tag_node_exec(store,
                          "INSERT INTO extends (tag, node, priority) VALUES (?1, ?2, ?3)"
                          " ON CONFLICT (tag, node) DO UPDATE SET priority = excluded.priority",
                          tag, node, priority);
    return r == -EEXIST ? -EIO : r;
}

int lk_store_drop_extend(struct lk_store *store, const char *tag, const char *node)
{
    int r = tag_node_exec(store, "DELETE FROM extends WHERE tag = ?1 AND (?2 IS NULL OR node = ?2)",
                          tag, node, 0);
    if (r == 0 && node && sqlite3_changes(store->db) != 1) {
        return -ENOENT;
    }
    return r;
}

int lk_store_drop_children(struct lk_store *store, const char *parent)
{
    return tag_node_exec(store, "DELETE FROM dependencies WHERE parent = ?1", parent, NULL, 0);
}

/* A version read back: counter ≥ 0, node a name (or "" for a resource never stamped). */
static int read_version(sqlite3_stmt *st, int col, const char *tag, uint64_t *ret_counter,
                        char *ret_node, size_t node_size)
{
    int64_t counter = sqlite3_column_int64(st, col);
    char name[LK_TAG_MAX + 1];
    copy_text(name, sizeof(name), st, col + 1);
    if (counter < 0 || !node_name_ok(name, counter == 0)) {
        lk_log(LK_LOG_ERR, "invalid version of resource '%s' in the database", tag);
        return -EINVAL;
    }
    *ret_counter = (uint64_t) counter;
    if (ret_node) {
        snprintf(ret_node, node_size, "%s", name);
    }
    return 0;
}

int lk_store_get_version(struct lk_store *store, const char *tag, uint64_t *ret_counter,
                         char *ret_node, size_t node_size, bool *ret_deleted)
{
    static const char *const sql[] = {
            "SELECT ver_counter, ver_node FROM resources WHERE tag = ?1",
            "SELECT counter, node FROM tombstones WHERE tag = ?1",
    };
    for (size_t i = 0; i < 2; i++) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(store->db, sql[i], -1, &st, NULL) != SQLITE_OK) {
            return -EIO;
        }
        sqlite3_bind_text(st, 1, tag, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        int r = rc == SQLITE_ROW    ? read_version(st, 0, tag, ret_counter, ret_node, node_size)
                : rc == SQLITE_DONE ? -ENOENT
                                    : -EIO;
        sqlite3_finalize(st);
        if (r != -ENOENT) {
            if (r == 0 && ret_deleted) {
                *ret_deleted = i == 1;
            }
            return r;
        }
    }
    return -ENOENT;
}

static int raise_clock(struct lk_store *store, uint64_t counter)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(store->db,
                           "INSERT INTO meta (key, value) VALUES ('clock', ?1)"
                           " ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)",
                           -1, &st, NULL) != SQLITE_OK) {
        return -EIO;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64) counter);
    return step_done(st) < 0 ? -EIO : 0;
}

int lk_store_set_version(struct lk_store *store, const char *tag, uint64_t counter,
                         const char *node, bool tombstone, const char *nodes_json)
{
    if (counter > INT64_MAX) {
        return -EINVAL;
    }
    sqlite3_stmt *st = NULL;
    const char *sql = tombstone ? "INSERT OR REPLACE INTO tombstones (tag, counter, node, nodes)"
                                  " VALUES (?1, ?2, ?3, ?4)"
                                : "UPDATE resources SET ver_counter = ?2, ver_node = ?3"
                                  " WHERE tag = ?1";
    if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK) {
        return -EIO;
    }
    sqlite3_bind_text(st, 1, tag, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64) counter);
    sqlite3_bind_text(st, 3, node, -1, SQLITE_STATIC);
    if (tombstone) {
        sqlite3_bind_text(st, 4, nodes_json ? nodes_json : "{}", -1, SQLITE_STATIC);
    }
    int r = step_done(st);
    if (r < 0) {
        return -EIO;
    }
    if (!tombstone && sqlite3_changes(store->db) != 1) {
        return -ENOENT;
    }
    /* A version written is a counter seen: the clock never falls behind the data. */
    return raise_clock(store, counter);
}

int lk_store_drop_tombstone(struct lk_store *store, const char *tag)
{
    return tag_node_exec(store, "DELETE FROM tombstones WHERE tag = ?1", tag, NULL, 0);
}

/* Whether text is a nodes object as objects carry it: {"name": priority 1..1024, …}. */
static bool nodes_json_ok(const char *text)
{
    json_t *nodes = json_loads(text, 0, NULL);
    bool ok = json_is_object(nodes);
    const char *name;
    json_t *v;
    json_object_foreach(ok ? nodes : NULL, name, v)
    {
        json_int_t p = json_integer_value(v);
        if (!json_is_integer(v) || p < 1 || p > LK_PRIORITY_MAX || !node_name_ok(name, false)) {
            ok = false;
            break;
        }
    }
    json_decref(nodes);
    return ok;
}

int lk_store_each_tombstone(struct lk_store *store, lk_store_tombstone_cb cb, void *userdata)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(store->db,
                           "SELECT tag, counter, node, nodes FROM tombstones ORDER BY tag", -1, &st,
                           NULL) != SQLITE_OK) {
        return -EIO;
    }
    int r = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char tag[LK_TAG_MAX + 1], node[LK_TAG_MAX + 1], err[256];
        uint64_t counter = 0;
        copy_text(tag, sizeof(tag), st, 0);
        const char *nodes = (const char *) sqlite3_column_text(st, 3);
        if (lk_validate_tag(tag, "tag", err, sizeof(err)) < 0 ||
            read_version(st, 1, tag, &counter, node, sizeof(node)) < 0 || counter == 0 || !nodes ||
            !nodes_json_ok(nodes)) {
            lk_log(LK_LOG_ERR, "invalid tombstone '%s' in the database", tag);
            r = -EINVAL;
            break;
        }
        cb(tag, counter, node, nodes, userdata);
    }
    if (r == 0 && rc != SQLITE_DONE) {
        r = -EIO;
    }
    sqlite3_finalize(st);
    return r;
}

int lk_store_each_version(struct lk_store *store, lk_store_version_cb cb, void *userdata)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(store->db,
                           "SELECT tag, ver_counter, ver_node FROM resources ORDER BY tag", -1, &st,
                           NULL) != SQLITE_OK) {
        return -EIO;
    }
    int r = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char tag[LK_TAG_MAX + 1], node[LK_TAG_MAX + 1];
        uint64_t counter = 0;
        copy_text(tag, sizeof(tag), st, 0);
        r = read_version(st, 1, tag, &counter, node, sizeof(node));
        if (r < 0) {
            break;
        }
        cb(tag, counter, node, userdata);
    }
    if (r == 0 && rc != SQLITE_DONE) {
        r = -EIO;
    }
    sqlite3_finalize(st);
    return r;
}

int lk_store_get_clock(struct lk_store *store, uint64_t *ret_counter)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(store->db, "SELECT value FROM meta WHERE key = 'clock'", -1, &st,
                           NULL) != SQLITE_OK) {
        return -EIO;
    }
    int rc = sqlite3_step(st);
    int r = 0;
    uint64_t counter = 0;
    if (rc == SQLITE_ROW) {
        int64_t v = sqlite3_column_int64(st, 0);
        if (v < 0) {
            lk_log(LK_LOG_ERR, "invalid clock %" PRId64 " in the database", v);
            r = -EINVAL;
        }
        counter = (uint64_t) v;
    } else if (rc != SQLITE_DONE) {
        r = -EIO;
    }
    sqlite3_finalize(st);
    if (r == 0) {
        *ret_counter = counter;
    }
    return r;
}

int lk_store_see_clock(struct lk_store *store, uint64_t counter)
{
    if (counter > INT64_MAX) {
        return -EINVAL;
    }
    return raise_clock(store, counter);
}

int lk_store_save_owner(struct lk_store *store, const char *tag, const char *json_text)
{
    json_t *rec = json_loads(json_text, 0, NULL);
    if (!json_is_object(rec)) {
        json_decref(rec);
        return -EINVAL;
    }
    /* The columns repeat what the record says, for a reader with sqlite3 alone. */
    json_int_t generation = json_integer_value(json_object_get(rec, "g"));
    const char *owner = json_string_value(json_object_get(rec, "o"));
    json_t *failovers = json_object_get(rec, "f");
    char *failovers_text = json_is_array(failovers) ? json_dumps(failovers, JSON_COMPACT) : NULL;
    sqlite3_stmt *st = NULL;
    int r = -EIO;
    if (sqlite3_prepare_v2(store->db,
                           "INSERT OR REPLACE INTO ownership (tag, generation, owner, failovers,"
                           " record) VALUES (?1, ?2, ?3, ?4, ?5)",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, tag, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, generation > 0 ? generation : 0);
        sqlite3_bind_text(st, 3, owner ? owner : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, failovers_text ? failovers_text : "[]", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, json_text, -1, SQLITE_STATIC);
        r = step_done(st) < 0 ? -EIO : 0;
    }
    free(failovers_text);
    json_decref(rec);
    return r;
}

int lk_store_each_owner(struct lk_store *store, lk_store_owner_cb cb, void *userdata)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(store->db, "SELECT tag, record FROM ownership ORDER BY tag", -1, &st,
                           NULL) != SQLITE_OK) {
        return -EIO;
    }
    int r = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char tag[LK_TAG_MAX + 1], err[256];
        copy_text(tag, sizeof(tag), st, 0);
        const char *text = (const char *) sqlite3_column_text(st, 1);
        json_t *rec = text ? json_loads(text, 0, NULL) : NULL;
        bool ok = json_is_object(rec);
        json_decref(rec);
        if (lk_validate_tag(tag, "tag", err, sizeof(err)) < 0 || !ok) {
            lk_log(LK_LOG_ERR, "invalid ownership record of '%s' in the database", tag);
            r = -EINVAL;
            break;
        }
        cb(tag, text, userdata);
    }
    if (r == 0 && rc != SQLITE_DONE) {
        r = -EIO;
    }
    sqlite3_finalize(st);
    return r;
}
