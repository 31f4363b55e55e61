/* Golden cases: real decisions from the daemon's debug log (lkd: decision {…}), kept as
 * files under tests/golden/engine/ and tests/golden/placement/ (one decision object per
 * file, with its "name" and "why"; scripts/golden-from-log.py writes them). For every
 * file, the view and the event are decoded (src/lib/decision.c), the decider runs again
 * and its formatted acts must equal the recorded "acts" exactly; a mismatch prints the
 * file, its name and both lists.
 *
 * Also the decoder itself: decode(encode(x)) decides exactly like x, for views built
 * here with every field set, and every bad field is refused with -EINVAL (ASan: nothing
 * leaked).
 *
 * The folder is the first argument (then only the golden cases run: a replay command for
 * a folder of cases made from an incident) or LK_GOLDEN_DIR (set by meson). */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decision.h"

static const char *golden_dir;

/* ---------------------------------------------------------------- replay of files */

static void free_acts(char **acts, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(acts[i]);
    }
    free(acts);
}

/* Checks one file; prints what is wrong and returns false on any mismatch. */
static bool replay_file(const char *path)
{
    json_error_t jerr;
    json_t *json = json_load_file(path, 0, &jerr);
    if (!json) {
        printf("%s: not JSON: %s (line %d)\n", path, jerr.text, jerr.line);
        return false;
    }
    struct lk_decision *dc = NULL;
    char err[512];
    int r = lk_decision_parse(json, &dc, err, sizeof(err));
    json_decref(json);
    if (r < 0) {
        printf("%s: cannot decode: %s\n", path, err);
        return false;
    }
    bool ok = true;
    if (!dc->name || !dc->name[0] || !dc->why || !dc->why[0]) {
        printf("%s: a golden case needs a \"name\" and a \"why\"\n", path);
        ok = false;
    }
    char **acts = NULL;
    size_t count = 0;
    r = lk_decision_replay(dc, &acts, &count);
    if (r < 0) {
        printf("%s (%s): the decider returned %d\n", path, dc->name ? dc->name : "?", r);
        lk_decision_free(dc);
        return false;
    }
    bool same = count == dc->act_count;
    for (size_t i = 0; same && i < count; i++) {
        same = strcmp(acts[i], dc->acts[i]) == 0;
    }
    if (!same) {
        printf("%s (%s): the decision differs from the recorded one\n", path,
               dc->name ? dc->name : "?");
        size_t n = count > dc->act_count ? count : dc->act_count;
        for (size_t i = 0; i < n; i++) {
            const char *want = i < dc->act_count ? dc->acts[i] : "(none)";
            const char *got = i < count ? acts[i] : "(none)";
            printf("  %s act %zu\n    recorded: %s\n    replayed: %s\n",
                   strcmp(want, got) == 0 ? " " : "!", i, want, got);
        }
        ok = false;
    }
    free_acts(acts, count);
    lk_decision_free(dc);
    return ok;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Replays every *.json under dir (and its folders), in name order; counts files and
 * failures. */
static void replay_dir(const char *dir, size_t *files, size_t *failed)
{
    DIR *d = opendir(dir);
    if (!d) {
        printf("%s: %s\n", dir, strerror(errno));
        (*failed)++;
        return;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char **grown = realloc(names, (n + 1) * sizeof(*names));
        assert_non_null(grown);
        names = grown;
        names[n] = strdup(e->d_name);
        assert_non_null(names[n]);
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof(*names), name_cmp);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        DIR *sub = opendir(path);
        if (sub) {
            closedir(sub);
            replay_dir(path, files, failed);
        } else if (strlen(names[i]) > 5 && strcmp(names[i] + strlen(names[i]) - 5, ".json") == 0) {
            (*files)++;
            if (!replay_file(path)) {
                (*failed)++;
            } else {
                printf("ok %s\n", path);
            }
        }
        free(names[i]);
    }
    free(names);
}

static void lk_decision_replay__golden_files(void **state)
{
    (void) state;
    assert_non_null(golden_dir);
    size_t files = 0, failed = 0;
    replay_dir(golden_dir, &files, &failed);
    printf("%zu golden case(s), %zu failed\n", files, failed);
    assert_true(files > 0);
    assert_int_equal(failed, 0);
}

/* ---------------------------------------------------------------- round trips */

static bool backup_of(const void *ctx, const char *tag)
{
    (void) ctx;
    return strcmp(tag, "db") == 0 || strcmp(tag, "app") == 0;
}

static bool elsewhere_of(const void *ctx, const char *tag)
{
    (void) ctx;
    return strcmp(tag, "web") == 0;
}

struct eworld {
    struct lk_resource res[4];
    struct lk_resource *ptrs[4];
    struct lk_dep deps[2];
    struct lk_view view;
};

static void eworld_init(struct eworld *w)
{
    memset(w, 0, sizeof(*w));
    const char *tags[] = {"app", "db", "ip", "web"};
    for (size_t i = 0; i < 4; i++) {
        struct lk_resource *r = &w->res[i];
        snprintf(r->tag, sizeof(r->tag), "%s", tags[i]);
        lk_settings_init(&r->settings);
        r->has_script[LK_ACTION_RESTORE] = true;
        r->has_script[LK_ACTION_REMOVE] = true;
        r->has_script[LK_ACTION_QUICKCHK] = true;
        r->has_script[LK_ACTION_RECOVER] = i % 2 == 0;
        r->state = LK_STATE_ISP;
        r->target_in_service = true;
        snprintf(r->reason, sizeof(r->reason), "restored by an operator");
        w->ptrs[i] = r;
    }
    w->res[0].settings.local_recovery = true;
    w->res[0].settings.max_recoveries = 3;
    w->res[0].settings.check_failures = 2;
    w->res[0].check_failures_in_row = 1;
    w->res[0].local_recoveries = 2;
    lk_resource_note_recovery(&w->res[0], 5000000);
    lk_resource_note_recovery(&w->res[0], 9000000);
    w->res[3].state = LK_STATE_OSU;
    w->res[3].target_in_service = false;
    w->res[3].settings.init = LK_INIT_INIT_ISP;
    w->res[2].stop_failed = true;
    snprintf(w->res[2].settings.pidfile, sizeof(w->res[2].settings.pidfile), "/run/ip.pid");
    snprintf(w->deps[0].parent, sizeof(w->deps[0].parent), "app");
    snprintf(w->deps[0].child, sizeof(w->deps[0].child), "db");
    snprintf(w->deps[1].parent, sizeof(w->deps[1].parent), "app");
    snprintf(w->deps[1].child, sizeof(w->deps[1].child), "ip");
    w->view = (struct lk_view){
            .resources = w->ptrs,
            .count = 4,
            .node = "a",
            .deps = w->deps,
            .dep_count = 2,
            .sorted = true,
            .has_backup = backup_of,
            .owned_elsewhere = elsewhere_of,
    };
}

/* Formats a plan's acts as one text, for comparing. */
static char *plan_text(size_t count, bool resource, const void *acts)
{
    size_t size = count * (LK_REASON_MAX + 258) + 1;
    char *text = calloc(1, size);
    assert_non_null(text);
    for (size_t i = 0; i < count; i++) {
        char line[LK_REASON_MAX + 256];
        if (resource) {
            lk_act_format(&((const struct lk_act *) acts)[i], line, sizeof(line));
        } else {
            lk_pact_format(&((const struct lk_pact *) acts)[i], line, sizeof(line));
        }
        strcat(text, line);
        strcat(text, "\n");
    }
    return text;
}

static char *replay_text(const struct lk_decision *dc)
{
    char **acts = NULL;
    size_t count = 0;
    assert_int_equal(lk_decision_replay(dc, &acts, &count), 0);
    char *text = calloc(1, count * (LK_REASON_MAX + 258) + 1);
    assert_non_null(text);
    for (size_t i = 0; i < count; i++) {
        strcat(text, acts[i]);
        strcat(text, "\n");
    }
    free_acts(acts, count);
    return text;
}

/* Encodes, dumps, loads and decodes; the decoded decision must decide like the original
 * and carry its acts. */
static struct lk_decision *through_text(json_t *json)
{
    assert_non_null(json);
    char *text = json_dumps(json, JSON_COMPACT);
    assert_non_null(text);
    json_decref(json);
    json_t *back = json_loads(text, 0, NULL);
    free(text);
    assert_non_null(back);
    struct lk_decision *dc = NULL;
    char err[512] = "";
    int r = lk_decision_parse(back, &dc, err, sizeof(err));
    if (r < 0) {
        print_error("decode: %s\n", err);
    }
    json_decref(back);
    assert_int_equal(r, 0);
    return dc;
}

static void engine_round_trip(const struct lk_view *view, const struct lk_event *ev)
{
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    int r = lk_engine_decide(view, ev, &plan);
    if (r < 0) {
        print_error("%s %s: %d\n", lk_event_type_name(ev->type), ev->tag, r);
    }
    assert_int_equal(r, 0);
    char *want = plan_text(plan.count, true, plan.acts);
    struct lk_decision *dc = through_text(lk_decision_engine_json(view, ev, &plan));
    assert_int_equal(dc->kind, LK_DECISION_RESOURCE);
    char *got = replay_text(dc);
    assert_string_equal(got, want);
    assert_int_equal(dc->act_count, plan.count);
    free(got);
    free(want);
    lk_decision_free(dc);
}

static void lk_decision_parse__engine_round_trip_decides_alike(void **state)
{
    (void) state;
    struct eworld w;
    eworld_init(&w);
    struct lk_result fail = {.outcome = LK_OUTCOME_EXIT, .exit_status = 1, .pid = 77};
    snprintf(fail.message, sizeof(fail.message), "m");
    const struct lk_event events[] = {
            {.type = LK_EV_CHECK_FINISHED,
             .tag = "app",
             .action = LK_ACTION_QUICKCHK,
             .result = fail,
             .now_usec = 10000000},
            {.type = LK_EV_REMOVE_REQUESTED, .tag = "db", .whole_hierarchy = true},
            {.type = LK_EV_REMOVE_REQUESTED, .tag = "app", .preempt = true},
            {.type = LK_EV_RESTORE_REQUESTED, .tag = "web"},
            {.type = LK_EV_STARTUP, .tag = "web"},
            {.type = LK_EV_SHUTDOWN, .tag = "ip"},
            {.type = LK_EV_PROCESS_EXITED, .tag = "ip", .pid = 42, .detail = "from /run/ip.pid"},
            {.type = LK_EV_PROCESS_EXITED,
             .tag = "ip",
             .pid = 0,
             .detail = "/sys/fs/cgroup/openkeeper/a-1f/ip.res"},
            {.type = LK_EV_CLUSTER_FAILED, .tag = "web", .detail = "no node left"},
            {.type = LK_EV_RESET, .tag = "app"},
            {.type = LK_EV_MARK_IN, .tag = "web", .detail = "set by ins_setstate"},
            {.type = LK_EV_MARK_IN, .tag = "app"},
            {.type = LK_EV_MARK_OUT, .tag = "ip", .detail = "maintenance"},
    };
    for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
        engine_round_trip(&w.view, &events[i]);
    }
    /* A run that finished, and a check failure that brings a recovery. */
    w.res[1].pending = LK_PENDING_RESTORE;
    w.res[1].state = LK_STATE_OSU;
    struct lk_event done = {.type = LK_EV_RUN_FINISHED,
                            .tag = "db",
                            .action = LK_ACTION_RESTORE,
                            .result = fail,
                            .now_usec = 20000000};
    engine_round_trip(&w.view, &done);
    w.res[0].check_failures_in_row = 1;
    engine_round_trip(&w.view, &events[0]);
    w.view.holding = true;
    engine_round_trip(&w.view, &events[0]);
}

static void placement_round_trip(const struct lk_placement_view *view, const struct lk_pevent *ev)
{
    LK_CLEANUP_PPLAN struct lk_pplan plan = {0};
    assert_int_equal(lk_placement_decide(view, ev, &plan), 0);
    char *want = plan_text(plan.count, false, plan.acts);
    struct lk_decision *dc = through_text(lk_decision_placement_json(view, ev, &plan));
    assert_int_equal(dc->kind, LK_DECISION_PLACEMENT);
    char *got = replay_text(dc);
    assert_string_equal(got, want);
    free(got);
    free(want);
    lk_decision_free(dc);
}

struct pworld {
    struct lk_ptag tags[2];
    struct lk_ppeer peers[2];
    struct lk_ppeer_state states[2][2];
    bool stop_failed[2];
    const char *alive_b[2];
    struct lk_pfence fences[1];
    struct lk_placement_view view;
};

static void pworld_init(struct pworld *w)
{
    memset(w, 0, sizeof(*w));
    w->tags[0] = (struct lk_ptag){
            .tag = "app", .exists = true, .root = true, .clustered = true, .state = LK_STATE_OSU};
    w->tags[1] = (struct lk_ptag){.tag = "db",
                                  .exists = true,
                                  .clustered = true,
                                  .state = LK_STATE_OSF,
                                  .reason = "quickchk failed"};
    w->alive_b[0] = "a";
    w->alive_b[1] = "c";
    w->states[0][0] = (struct lk_ppeer_state){.known = true, .in_service = true};
    w->states[0][1] = (struct lk_ppeer_state){.known = true, .in_service = true, .busy = true};
    w->stop_failed[1] = true;
    w->peers[0] = (struct lk_ppeer){.name = "b",
                                    .configured = true,
                                    .alive = true,
                                    .synced = true,
                                    .has_states = true,
                                    .has_alive_set = true,
                                    .alive_set = w->alive_b,
                                    .alive_count = 2,
                                    .priority = 2,
                                    .states = w->states[0]};
    w->peers[1] = (struct lk_ppeer){.name = "c",
                                    .configured = true,
                                    .dead_since_ms = 90000,
                                    .priority = 3,
                                    .stop_failed = w->stop_failed};
    w->fences[0] = (struct lk_pfence){.node = "c", .failed_at_ms = 95000};
    w->view = (struct lk_placement_view){
            .node = "a",
            .settled = true,
            .quorate = true,
            .fence_script = true,
            .max_failovers = 2,
            .failover_window_s = 3600,
            .dead_ms = 3000,
            .now_ms = INT64_C(1700000000000),
            .mono_ms = 100000,
            .started_ms = 1000,
            .peers = w->peers,
            .peer_count = 2,
            .fences = w->fences,
            .fence_count = 1,
            .hier = {.tags = w->tags,
                     .count = 2,
                     .priority = 1,
                     .has_rec = true,
                     .acted = true,
                     .held_gen = 3,
                     .has_root = true,
                     .switchback = LK_SWITCHBACK_AUTOMATIC,
                     .removing_tag = NULL},
    };
    struct lk_owner_rec *rec = &w->view.hier.rec;
    rec->gen = 3;
    rec->seq = 1;
    snprintf(rec->owner, sizeof(rec->owner), "c");
    rec->active = true;
    rec->failed_over = true;
    lk_owner_add_tried(rec, "b");
    lk_owner_note_failover(rec, INT64_C(1700000000000) - 60000);
    snprintf(rec->reason, sizeof(rec->reason), "c failed");
}

static void lk_decision_parse__placement_round_trip_decides_alike(void **state)
{
    (void) state;
    struct pworld w;
    pworld_init(&w);
    const struct lk_pevent events[] = {
            {.type = LK_PEV_RECONCILE},
            {.type = LK_PEV_RESTORE_REQUESTED, .tag = "app", .target = "b", .target_priority = 2},
            {.type = LK_PEV_REMOVE_REQUESTED, .tag = "db", .whole = true},
            {.type = LK_PEV_SWITCH_MESSAGE, .tag = "app", .target = "b", .from = "b"},
            {.type = LK_PEV_REMOVE_MESSAGE, .tag = "app", .from = "b", .whole = true},
            {.type = LK_PEV_SWITCH_ALL},
            {.type = LK_PEV_LEAVE, .running = true},
            {.type = LK_PEV_RESET, .tag = "db"},
            {.type = LK_PEV_MARK_IN, .tag = "app", .target = "a", .target_priority = 1},
            {.type = LK_PEV_MARK_IN, .tag = "db", .target = "a", .target_priority = 1},
            {.type = LK_PEV_MARK_OUT, .tag = "app"},
    };
    for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
        placement_round_trip(&w.view, &events[i]);
    }
    /* The owner died: fencing, then takeover once it is fenced. */
    w.peers[0].alive = false;
    w.peers[0].dead_since_ms = 50000;
    w.peers[0].states = NULL;
    snprintf(w.view.hier.rec.owner, sizeof(w.view.hier.rec.owner), "b");
    w.view.hier.switch_tag = "app";
    w.view.hier.switch_to = "c";
    for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
        placement_round_trip(&w.view, &events[i]);
    }
    w.fences[0] = (struct lk_pfence){.node = "b", .ok = true};
    w.view.hier.has_rec = false;
    placement_round_trip(&w.view, &events[0]);
}

/* "guarded" (issue 10): a dead guarded owner is waited for until it fenced itself; the
 * flag survives the text (the replay waits as the original did), and a decision logged
 * before the flag existed decodes as not guarded (the replay takes over as it did). */
static void lk_decision_parse__placement_guarded_round_trip(void **state)
{
    (void) state;
    struct pworld w;
    pworld_init(&w);
    w.view.fence_script = false;
    w.view.fence_count = 0;
    w.view.quorum_none = true;
    w.view.quorate = false;
    w.peers[0].alive = false;
    w.peers[0].dead_since_ms = w.view.mono_ms - 1000;
    w.peers[0].states = NULL;
    w.peers[0].has_states = false;
    w.peers[0].guarded = true;
    w.peers[1].stop_failed = NULL;
    w.view.peer_count = 1;
    snprintf(w.view.hier.rec.owner, sizeof(w.view.hier.rec.owner), "b");
    w.tags[1].state = LK_STATE_OSU;
    const struct lk_pevent ev = {.type = LK_PEV_RECONCILE};

    LK_CLEANUP_PPLAN struct lk_pplan waits = {0};
    assert_int_equal(lk_placement_decide(&w.view, &ev, &waits), 0);
    assert_int_equal(waits.count, 1);
    assert_int_equal(waits.acts[0].type, LK_PACT_WAIT);
    json_t *json = lk_decision_placement_json(&w.view, &ev, &waits);
    assert_non_null(json);
    json_t *peer = json_array_get(json_object_get(json_object_get(json, "view"), "peers"), 0);
    assert_true(json_is_true(json_object_get(peer, "guarded")));
    struct lk_decision *dc = through_text(json);
    assert_true(dc->pview.peers[0].guarded);
    char *got = replay_text(dc);
    assert_string_equal(got, "WAIT\n");
    free(got);
    lk_decision_free(dc);

    /* Logged before "guarded" existed: not guarded, and that decision (a takeover at once
     * under quorum none) replays alike. */
    w.peers[0].guarded = false;
    LK_CLEANUP_PPLAN struct lk_pplan takes = {0};
    assert_int_equal(lk_placement_decide(&w.view, &ev, &takes), 0);
    char *want = plan_text(takes.count, false, takes.acts);
    assert_non_null(strstr(want, "WRITE_REC gen=4 seq=0 owner=a"));
    json_t *old = lk_decision_placement_json(&w.view, &ev, &takes);
    assert_non_null(old);
    peer = json_array_get(json_object_get(json_object_get(old, "view"), "peers"), 0);
    assert_int_equal(json_object_del(peer, "guarded"), 0);
    dc = through_text(old);
    assert_false(dc->pview.peers[0].guarded);
    got = replay_text(dc);
    assert_string_equal(got, want);
    free(got);
    free(want);
    lk_decision_free(dc);
}

/* ---------------------------------------------------------------- bad input */

/* Sets path (dot-separated keys and indexes) in json to value (NULL: deletes it). */
static void set_path(json_t *json, const char *path, json_t *value)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    json_t *at = json;
    char *save = NULL;
    char *key = strtok_r(buf, ".", &save);
    char *next;
    while ((next = strtok_r(NULL, ".", &save)) != NULL) {
        at = json_is_array(at) ? json_array_get(at, (size_t) atoi(key)) : json_object_get(at, key);
        assert_non_null(at);
        key = next;
    }
    if (json_is_array(at)) {
        if (value) {
            assert_int_equal(json_array_set_new(at, (size_t) atoi(key), value), 0);
        } else {
            assert_int_equal(json_array_remove(at, (size_t) atoi(key)), 0);
        }
    } else if (value) {
        assert_int_equal(json_object_set_new(at, key, value), 0);
    } else {
        assert_int_equal(json_object_del(at, key), 0);
    }
}

struct bad {
    const char *path;
    json_t *(*value)(void);
};

static json_t *v_delete(void)
{
    return NULL;
}
static json_t *v_str(void)
{
    return json_string("nonsense");
}
static json_t *v_neg(void)
{
    return json_integer(-1);
}
static json_t *v_big(void)
{
    return json_integer(INT64_C(1) << 40);
}
static json_t *v_true(void)
{
    return json_true();
}
static json_t *v_obj(void)
{
    return json_object();
}
static json_t *v_arr1(void)
{
    return json_pack("[b]", 1);
}
static json_t *v_longtag(void)
{
    char tag[LK_TAG_MAX + 8];
    memset(tag, 'x', sizeof(tag) - 1);
    tag[sizeof(tag) - 1] = '\0';
    return json_string(tag);
}
static json_t *v_ctl(void)
{
    return json_string("a\nb");
}

static void expect_refused(json_t *good, const struct bad *bad, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        json_t *json = json_deep_copy(good);
        assert_non_null(json);
        set_path(json, bad[i].path, bad[i].value());
        struct lk_decision *dc = NULL;
        char err[512] = "";
        int r = lk_decision_parse(json, &dc, err, sizeof(err));
        if (r != -EINVAL) {
            print_error("%s: accepted (%d)\n", bad[i].path, r);
        }
        assert_int_equal(r, -EINVAL);
        assert_null(dc);
        assert_true(err[0] != '\0' && strchr(err, '\n') == NULL);
        json_decref(json);
    }
    /* The good one is accepted (the bad ones fail for their field, not for the rest). */
    struct lk_decision *dc = NULL;
    assert_int_equal(lk_decision_parse(good, &dc, NULL, 0), 0);
    lk_decision_free(dc);
}

static void lk_decision_parse__bad_fields_are_refused(void **state)
{
    (void) state;
    struct eworld w;
    eworld_init(&w);
    struct lk_event ev = {.type = LK_EV_REMOVE_REQUESTED, .tag = "app"};
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    assert_int_equal(lk_engine_decide(&w.view, &ev, &plan), 0);
    json_t *good = lk_decision_engine_json(&w.view, &ev, &plan);
    static const struct bad ebad[] = {
            {"engine", v_str},
            {"engine", v_delete},
            {"view", v_delete},
            {"view", v_str},
            {"acts", v_str},
            {"acts.0", v_true},
            {"name", v_true},
            {"view.node", v_ctl},
            {"view.sorted", v_str},
            {"view.resources.1.tag", v_longtag},
            {"view.resources.1.tag", v_str}, /* out of order */
            {"view.resources.0.state", v_str},
            {"view.resources.0.pending", v_delete},
            {"view.resources.0.scripts.0", v_str},
            {"view.resources.0.settings.init", v_str},
            {"view.resources.0.settings.check_failures", v_big},
            {"view.resources.0.settings.quickchk_interval_usec", v_neg},
            {"view.resources.0.settings.pidfile", v_true},
            {"view.resources.0.recoveries_usec.0", v_neg},
            {"view.resources.0.check_failures_in_row", v_str},
            {"view.resources.0", v_str},
            {"view.deps.0", v_arr1},
            {"view.deps.0.0", v_ctl},
            {"view.has_backup.0", v_true},
            {"view.owned_elsewhere", v_obj},
            {"event.type", v_str},
            {"event.tag", v_delete},
            {"event.action", v_str},
            {"event.pid", v_big},
            {"event.detail", v_true},
            {"event.result.outcome", v_str},
            {"event.result.message", v_true},
            {"event.result", v_str},
    };
    expect_refused(good, ebad, sizeof(ebad) / sizeof(ebad[0]));
    json_decref(good);

    struct pworld p;
    pworld_init(&p);
    struct lk_pevent pev = {.type = LK_PEV_RECONCILE};
    LK_CLEANUP_PPLAN struct lk_pplan pplan = {0};
    assert_int_equal(lk_placement_decide(&p.view, &pev, &pplan), 0);
    good = lk_decision_placement_json(&p.view, &pev, &pplan);
    static const struct bad pbad[] = {
            {"view.node", v_delete},
            {"view.quorate", v_str},
            {"view.max_failovers", v_big},
            {"view.now_ms", v_str},
            {"view.peers.0.name", v_longtag},
            {"view.peers.0.guarded", v_str},
            {"view.peers.0.alive_set.0", v_true},
            {"view.peers.0.states", v_arr1},
            {"view.peers.0.states.0.busy", v_str},
            {"view.peers.1.stop_failed", v_arr1},
            {"view.peers.0", v_str},
            {"view.fences.0.ok", v_delete},
            {"view.fences.0.failed_at_ms", v_neg},
            {"view.hier.tags", v_obj},
            {"view.hier.tags.0.state", v_str},
            {"view.hier.tags.1.reason", v_true},
            {"view.hier.rec", v_obj},
            {"view.hier.rec.g", v_neg},
            {"view.hier.switchback", v_str},
            {"view.hier.switch_tag", v_ctl},
            {"event.type", v_str},
            {"event.target", v_true},
            {"event.target_priority", v_neg},
    };
    expect_refused(good, pbad, sizeof(pbad) / sizeof(pbad[0]));
    json_decref(good);
}

int main(int argc, char **argv)
{
    golden_dir = argc > 1 ? argv[1] : getenv("LK_GOLDEN_DIR");
    const struct CMUnitTest golden[] = {
            cmocka_unit_test(lk_decision_replay__golden_files),
    };
    if (argc > 1) {
        return cmocka_run_group_tests(golden, NULL, NULL);
    }
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_decision_parse__engine_round_trip_decides_alike),
            cmocka_unit_test(lk_decision_parse__placement_round_trip_decides_alike),
            cmocka_unit_test(lk_decision_parse__placement_guarded_round_trip),
            cmocka_unit_test(lk_decision_parse__bad_fields_are_refused),
            cmocka_unit_test(lk_decision_replay__golden_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
