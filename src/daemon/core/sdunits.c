/* Holding systemd units for the cluster (sdunits.h, docs/SYSTEMD.md "Holding a unit"): one
 * pass at a time compares the systemd resources defined on this node with the records
 * lk_systemd keeps under $LKROOT/subsys/gen/resources/systemd, and runs one `lk_systemd
 * own` (a resource not yet held since lkd started) or `release` (a record whose resource
 * is gone) through the runner; when it ends, the next pass. Each outcome is an event
 * (1550-1553) and is not retried until the resource's definition changes again.
 *
 * Events that enter: "defined" from the bus (a resource created, received, deleted,
 * unextended), the end of a run, the stop. It must never touch a resource's state (the
 * executor's), decide anything about placement, or run more than one process at a time. */
#include "sdunits.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eventlog.h"
#include "runner.h"
#include "safeopen.h"
#include "type_systemd.h"
#include "validate.h"

#define HOLD_TIMEOUT_USEC (60 * 1000000ULL)
#define RECORD_READ_MAX   1024

struct done {
    char tag[LK_TAG_MAX + 1];
    bool own; /* the outcome of an own (else of a release) */
    bool ok;
};

struct lk_sdunits {
    struct lk_node *node;
    uv_timer_t kick;
    bool kick_inited;
    bool stopping;
    struct lk_run *run; /* the own/release in flight */
    char run_tag[LK_TAG_MAX + 1];
    char run_unit[LK_UNIT_NAME_MAX + 1];
    bool run_own;
    struct done *done; /* tried since lkd started (or since the tag's last definition) */
    size_t done_count;
};

static void pass(struct lk_sdunits *u);

static void on_kick(uv_timer_t *t)
{
    pass(t->data);
}

static void schedule(struct lk_sdunits *u)
{
    if (u->kick_inited && !u->stopping && !u->run) {
        uv_timer_start(&u->kick, on_kick, 0, 0);
    }
}

static ssize_t find_done(const struct lk_sdunits *u, const char *tag)
{
    for (size_t i = 0; i < u->done_count; i++) {
        if (strcmp(u->done[i].tag, tag) == 0) {
            return (ssize_t) i;
        }
    }
    return -1;
}

static void forget(struct lk_sdunits *u, const char *tag)
{
    ssize_t i = find_done(u, tag);
    if (i >= 0) {
        u->done[i] = u->done[--u->done_count];
    }
}

static void remember(struct lk_sdunits *u, const char *tag, bool own, bool ok)
{
    forget(u, tag);
    struct done *d = realloc(u->done, (u->done_count + 1) * sizeof(*d));
    if (!d) {
        return; /* tried again at the next pass: harmless, own and release are idempotent */
    }
    u->done = d;
    snprintf(d[u->done_count].tag, sizeof(d[u->done_count].tag), "%s", tag);
    d[u->done_count].own = own;
    d[u->done_count].ok = ok;
    u->done_count++;
}

static bool held_here(const struct lk_resource *res)
{
    return strcmp(res->app, "systemd") == 0;
}

/* The unit of tag's record, or false when there is none or it does not parse. */
static bool record_unit(const char *root, const char *tag, char *unit, size_t size)
{
    char path[LK_PATH_MAX + LK_TAG_MAX + 64];
    snprintf(path, sizeof(path), "%s/" LK_SYSTEMD_RECORD_DIR "/%s", root, tag);
    /* On the loop, in a directory of the root: never a FIFO to block on, never a link. */
    char *buf = NULL;
    size_t n = 0;
    char err[256];
    if (lk_safeopen_read(path, &lk_safeopen_pidfile, RECORD_READ_MAX, &buf, &n, NULL, err,
                         sizeof(err)) < 0) {
        return false;
    }
    const char *line = strstr(buf, "unit=");
    bool ok = line && (line == buf || line[-1] == '\n');
    size_t len = ok ? strcspn(line + 5, "\n") : 0;
    ok = ok && len > 0 && len < size;
    if (ok) {
        snprintf(unit, size, "%.*s", (int) len, line + 5);
    }
    free(buf);
    return ok && lk_unit_name_valid(unit, NULL, 0);
}

static void run_done(struct lk_run *run, const struct lk_result *result, const char *output,
                     size_t output_len, void *userdata)
{
    (void) run;
    struct lk_sdunits *u = userdata;
    u->run = NULL;
    /* The helper's last line, as the type classifies it. */
    struct lk_resource res = {0};
    snprintf(res.app, sizeof(res.app), "systemd");
    snprintf(res.type, sizeof(res.type), "%s", u->run_unit);
    struct lk_result r = *result;
    lk_type_classify(&res, LK_ACTION_RESTORE, 0, &r, output, output_len);
    if (!u->stopping) {
        if (lk_result_ok(&r)) {
            lk_eventlog_msg(u->node, u->run_tag,
                            u->run_own ? LK_MSG_SYSTEMD_OWNED : LK_MSG_SYSTEMD_RELEASED,
                            u->run_unit, r.exit_reason[0] ? r.exit_reason : "done");
        } else {
            char desc[LK_REASON_MAX];
            lk_eventlog_msg(u->node, u->run_tag,
                            u->run_own ? LK_MSG_SYSTEMD_OWN_FAILED : LK_MSG_SYSTEMD_RELEASE_FAILED,
                            u->run_unit, lk_result_describe(&r, desc, sizeof(desc)));
        }
    }
    remember(u, u->run_tag, u->run_own, lk_result_ok(&r));
    schedule(u);
}

static void start(struct lk_sdunits *u, const char *tag, const char *unit, bool own)
{
    struct lk_type_run *prep = malloc(sizeof(*prep));
    struct lk_type_ctx ctx = {
            .root = u->node->root, .node_name = u->node->name, .exe_dir = lk_type_exe_dir()};
    if (!prep || lk_type_systemd_prepare_hold(&ctx, tag, unit, own, HOLD_TIMEOUT_USEC, prep) < 0) {
        free(prep);
        remember(u, tag, own, false);
        schedule(u); /* the next one */
        return;
    }
    snprintf(u->run_tag, sizeof(u->run_tag), "%s", tag);
    snprintf(u->run_unit, sizeof(u->run_unit), "%s", unit);
    u->run_own = own;
    int r = lk_run_start(u->node->loop, &prep->spec, run_done, u, &u->run);
    lk_type_run_free(prep);
    free(prep);
    if (r < 0) {
        u->run = NULL;
        remember(u, tag, own, false);
        schedule(u);
    }
}

/* One step: the first resource to hold, else the first record to give back. */
static void pass(struct lk_sdunits *u)
{
    if (u->stopping || u->run) {
        return;
    }
    struct lk_node *node = u->node;
    for (size_t i = 0; i < node->count; i++) {
        const struct lk_resource *res = node->resources[i];
        ssize_t d = find_done(u, res->tag);
        if (held_here(res) && (d < 0 || !u->done[d].own)) {
            char unit[LK_UNIT_NAME_MAX + 1];
            snprintf(unit, sizeof(unit), "%.*s", (int) sizeof(res->type), res->type);
            if (lk_unit_name_valid(unit, NULL, 0)) {
                start(u, res->tag, unit, true);
                return;
            }
        }
    }
    char dir[LK_PATH_MAX + 64];
    snprintf(dir, sizeof(dir), "%s/" LK_SYSTEMD_RECORD_DIR, node->root);
    DIR *dp = opendir(dir);
    if (!dp) {
        return;
    }
    struct dirent *de;
    while ((de = readdir(dp))) {
        const char *tag = de->d_name;
        char err[128];
        size_t len = strlen(tag);
        if (tag[0] == '.' || strstr(tag, ".tmp") ||
            (len > 6 && strcmp(tag + len - 6, ".watch") == 0) ||
            lk_validate_tag(tag, "tag", err, sizeof(err)) < 0) {
            continue;
        }
        const struct lk_resource *res = lk_node_find(node, tag);
        ssize_t d = find_done(u, tag);
        char unit[LK_UNIT_NAME_MAX + 1];
        if ((res && held_here(res)) || (d >= 0 && !u->done[d].own) ||
            !record_unit(node->root, tag, unit, sizeof(unit))) {
            continue;
        }
        char tagcopy[LK_TAG_MAX + 1];
        snprintf(tagcopy, sizeof(tagcopy), "%s", tag);
        closedir(dp);
        start(u, tagcopy, unit, false);
        return;
    }
    closedir(dp);
}

struct lk_sdunits *lk_sdunits_new(struct lk_node *node)
{
    struct lk_sdunits *u = calloc(1, sizeof(*u));
    if (!u) {
        return NULL;
    }
    u->node = node;
    if (uv_timer_init(node->loop, &u->kick) < 0) {
        free(u);
        return NULL;
    }
    u->kick.data = u;
    u->kick_inited = true;
    schedule(u);
    return u;
}

/* Whether entry i still stands: a unit held, whose resource is still a systemd one here.
 * Anything else (a failure, a release, a resource gone) is tried again. */
static bool still_stands(const struct lk_sdunits *u, size_t i)
{
    const struct lk_resource *res = lk_node_find(u->node, u->done[i].tag);
    return u->done[i].own && u->done[i].ok && res && held_here(res);
}

void lk_sdunits_on_defined(void *userdata, const char *tag)
{
    struct lk_sdunits *u = userdata;
    for (size_t i = 0; i < u->done_count;) {
        if ((!tag || strcmp(u->done[i].tag, tag) == 0) && !still_stands(u, i)) {
            u->done[i] = u->done[--u->done_count];
        } else {
            i++;
        }
    }
    schedule(u);
}

void lk_sdunits_on_stopping(void *userdata, enum lk_bus_stop why)
{
    (void) why;
    struct lk_sdunits *u = userdata;
    u->stopping = true;
}

void lk_sdunits_stop(struct lk_sdunits *units)
{
    if (!units) {
        return;
    }
    units->stopping = true;
    if (units->run) {
        lk_run_abort(units->run);
    }
    if (units->kick_inited) {
        uv_timer_stop(&units->kick);
        uv_close((uv_handle_t *) &units->kick, NULL);
        units->kick_inited = false;
    }
}
