/* Monitoring: one watch per resource with two timers (quickchk, deepchk), the check runs
 * in flight, an optional pidfd poll on the application's process (--pidfile), and with
 * containment the watch of the resource's cgroup (--watch cgroup): once the cgroup held
 * a process while the resource was in service, its becoming empty is a failure at once.
 * A resource whose restore leaves no process (a virtual address) is never armed.
 *
 * Scheduling keeps a due time per check: the next run is due one interval after the
 * previous due time, ticks missed while the loop was busy are skipped, not queued, and a
 * tick that finds the previous run of the same check still going is skipped too. Checks
 * start no earlier than the start grace after the resource came in service.
 *
 * A watch is freed only from the close callback of its last handle. Results of checks
 * aborted because an action started are dropped: the engine never sees a check that ran
 * during an action. */
#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bisect.h"
#include "bus.h"
#include "cgroup.h"
#include "eventlog.h"
#include "executor.h"
#include "guardlink.h"
#include "probe.h"
#include "procinfo.h"
#include "restype.h"
#include "runner.h"
#include "safeopen.h"

/* A pid and a newline; more is not read. */
#define PIDFILE_READ_MAX 31

enum depth {
    QUICK,
    DEEP,
    DEPTHS,
};

struct watch {
    struct lk_monitor *mon;
    char tag[LK_TAG_MAX + 1];
    uv_timer_t timer[DEPTHS];
    uint64_t due_usec[DEPTHS];
    uint64_t interval_usec[DEPTHS]; /* what the timer was armed with; 0 = not armed */
    struct lk_run *run[DEPTHS];
    struct lk_probe *probe[DEPTHS]; /* a built-in check in flight (instead of run) */
    bool stale[DEPTHS];
    bool active;

    /* The pidfd watch. */
    uv_poll_t poll;
    int pidfd;
    int pid;
    bool polling;
    char *pidfile; /* the pidfile the watch was set up from (owned), NULL when not polling */
    /* A pidfile problem was logged since the watch was armed: the next successful check
     * tries the pidfile again, but says so only once. */
    bool pidfile_warned;

    /* The cgroup watch: armed once the cgroup held a process while in service. */
    struct lk_cgroup_watch *cgw;
    bool cg_armed;

    unsigned open_handles;
    bool forgotten;
};

struct lk_monitor {
    struct lk_node *node;
    struct watch **watches;
    size_t count, capacity;
    unsigned running;
    uint64_t syncs; /* counts sync_many calls: one nested in another shows up */
    size_t active;  /* the watches that are active */
};

static const enum lk_action depth_action[DEPTHS] = {LK_ACTION_QUICKCHK, LK_ACTION_DEEPCHK};

struct lk_monitor *lk_monitor_new(struct lk_node *node)
{
    struct lk_monitor *mon = calloc(1, sizeof(*mon));
    if (mon) {
        mon->node = node;
    }
    return mon;
}

unsigned lk_monitor_running(const struct lk_monitor *mon)
{
    return mon ? mon->running : 0;
}

static void on_handle_closed(uv_handle_t *h)
{
    struct watch *w = h->data;
    if (--w->open_handles == 0) {
        free(w->pidfile);
        free(w);
    }
}

/* Watches are kept sorted by tag: binary search for tag; *ret_index is its position, or
 * where it would be inserted. */
static struct watch *find_watch(struct lk_monitor *mon, const char *tag, size_t *ret_index)
{
    bool found = false;
    size_t i = lk_bisect_tag((const void *const *) mon->watches, mon->count,
                             offsetof(struct watch, tag), tag, &found);
    if (ret_index) {
        *ret_index = i;
    }
    return found ? mon->watches[i] : NULL;
}

static struct watch *get_watch(struct lk_monitor *mon, const char *tag)
{
    size_t at = 0;
    struct watch *w = find_watch(mon, tag, &at);
    if (w) {
        return w;
    }
    if (mon->count == mon->capacity) {
        size_t cap = mon->capacity ? mon->capacity * 2 : 64;
        struct watch **bigger = realloc(mon->watches, cap * sizeof(*bigger));
        if (!bigger) {
            return NULL;
        }
        mon->watches = bigger;
        mon->capacity = cap;
    }
    w = calloc(1, sizeof(*w));
    if (!w) {
        return NULL;
    }
    w->mon = mon;
    w->pidfd = -1;
    snprintf(w->tag, sizeof(w->tag), "%s", tag);
    for (int d = 0; d < DEPTHS; d++) {
        uv_timer_init(mon->node->loop, &w->timer[d]);
        w->timer[d].data = w;
        w->open_handles++;
    }
    memmove(&mon->watches[at + 1], &mon->watches[at], (mon->count - at) * sizeof(*mon->watches));
    mon->watches[at] = w;
    mon->count++;
    return w;
}

/* ---------------------------------------------------------------- pidfd watch */

static void unwatch_process(struct watch *w)
{
    if (!w->polling) {
        return;
    }
    w->polling = false;
    uv_poll_stop(&w->poll);
    /* The poll handle owns nothing but the fd; close both once the handle is closed. */
    int fd = w->pidfd;
    w->pidfd = -1;
    w->poll.data = w;
    uv_close((uv_handle_t *) &w->poll, on_handle_closed);
    close(fd);
}

static void on_process_exit(uv_poll_t *poll, int status, int events)
{
    (void) status;
    (void) events;
    struct watch *w = poll->data;
    struct lk_node *node = w->mon->node;
    int pid = w->pid;
    char tag[LK_TAG_MAX + 1];
    snprintf(tag, sizeof(tag), "%s", w->tag);
    unwatch_process(w);
    const struct lk_resource *res = lk_node_find(node, tag);
    if (!res) {
        return;
    }
    struct lk_event ev = {.type = LK_EV_PROCESS_EXITED,
                          .tag = tag,
                          .now_usec = lk_mono_usec(),
                          .pid = pid,
                          .detail = res->settings.pidfile};
    char err[LK_REASON_MAX];
    (void) lk_executor_handle(node, &ev, err, sizeof(err));
}

/* Drops "'path' " or "cannot open 'path': " from the start of why: the event that says
 * why names the pidfile already. */
static void drop_path(char *why, const char *path)
{
    char quoted[LK_PATH_MAX + 32];
    const char *forms[] = {"'%s' ", "cannot open '%s': ", "cannot read '%s': "};
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        int len = snprintf(quoted, sizeof(quoted), forms[i], path);
#pragma GCC diagnostic pop
        if (len > 0 && (size_t) len < sizeof(quoted) && strncmp(why, quoted, (size_t) len) == 0) {
            memmove(why, why + len, strlen(why + len) + 1);
            return;
        }
    }
}

/* Reads the pidfile and starts polling a pidfd of its process. A process that started
 * after the pidfile was last written is not the one it names (the pid was reused), and
 * a pid with no process means the application is gone: both count as an exit. A missing
 * or unreadable pidfile is logged and leaves the checks to do the work. */
static void watch_process(struct watch *w, const struct lk_resource *res)
{
    struct lk_node *node = w->mon->node;
    const char *pidfile = res->settings.pidfile;
    if (w->polling || !pidfile[0]) {
        return;
    }
    char why[LK_PATH_MAX + 128] = "";
    int pid = 0;
    struct stat st;
    char *buf = NULL;
    size_t n = 0;
    /* The pidfile lives where the application writes, often a directory its user owns: a
     * FIFO, a device or a link put there must not block or redirect lkd (safeopen.h). */
    if (lk_safeopen_read(pidfile, &lk_safeopen_pidfile, PIDFILE_READ_MAX, &buf, &n, &st, why,
                         sizeof(why)) < 0) {
        drop_path(why, pidfile);
    } else {
        char *end = NULL;
        long v = strtol(buf, &end, 10);
        if (n == 0 || v <= 1 || v > 4194304 || (*end && *end != '\n' && *end != ' ')) {
            snprintf(why, sizeof(why), "no pid in it");
        } else {
            pid = (int) v;
        }
        free(buf);
    }
    if (why[0]) {
        if (!w->pidfile_warned) {
            w->pidfile_warned = true;
            lk_eventlog_msg(node, res->tag, LK_MSG_PIDFILE_PROBLEM, pidfile, why);
        }
        return;
    }
    int pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
    bool gone = pidfd < 0 && errno == ESRCH;
    if (pidfd < 0 && !gone) {
        snprintf(why, sizeof(why), "pidfd_open: %s", strerror(errno));
        if (!w->pidfile_warned) {
            w->pidfile_warned = true;
            lk_eventlog_msg(node, res->tag, LK_MSG_PIDFILE_PROBLEM, pidfile, why);
        }
        return;
    }
    if (!gone) {
        /* Checked after pidfd_open, so the process we hold is the one we inspected. */
        gone = lk_proc_started_after(pid, st.st_mtime);
    }
    if (gone) {
        if (pidfd >= 0) {
            close(pidfd);
        }
        w->pid = pid;
        struct lk_event ev = {.type = LK_EV_PROCESS_EXITED,
                              .tag = res->tag,
                              .now_usec = lk_mono_usec(),
                              .pid = pid,
                              .detail = pidfile};
        char err[LK_REASON_MAX];
        (void) lk_executor_handle(node, &ev, err, sizeof(err));
        return;
    }
    if (uv_poll_init(node->loop, &w->poll, pidfd) < 0) {
        close(pidfd);
        return;
    }
    w->poll.data = w;
    w->open_handles++;
    w->pidfd = pidfd;
    w->pid = pid;
    w->polling = true;
    free(w->pidfile);
    w->pidfile = strdup(pidfile);
    uv_poll_start(&w->poll, UV_READABLE, on_process_exit);
}

/* ---------------------------------------------------------------- cgroup watch */

static void unwatch_cgroup(struct watch *w)
{
    lk_cgroup_watch_stop(w->cgw);
    w->cgw = NULL;
    w->cg_armed = false;
}

static void on_cgroup_event(void *userdata, const char *tag, bool populated)
{
    struct watch *w = userdata;
    struct lk_node *node = w->mon->node;
    (void) tag;
    if (populated || !w->cg_armed || !w->active) {
        return;
    }
    /* Armed again by the next sync that finds the application's processes there (after a
     * recovery, a check that passed). */
    unwatch_cgroup(w);
    const struct lk_resource *res = lk_node_find(node, w->tag);
    if (!res) {
        return;
    }
    char path[LK_PATH_MAX], tagcopy[LK_TAG_MAX + 1];
    snprintf(tagcopy, sizeof(tagcopy), "%s", w->tag);
    lk_cgroups_path(node->cgroups, tagcopy, path, sizeof(path));
    struct lk_event ev = {.type = LK_EV_PROCESS_EXITED,
                          .tag = tagcopy,
                          .now_usec = lk_mono_usec(),
                          .pid = 0,
                          .detail = path};
    char err[LK_REASON_MAX];
    (void) lk_executor_handle(node, &ev, err, sizeof(err));
}

/* Watches the cgroup once the resource's processes are there and no check of ours runs (a
 * check's own process is not the application). A resource whose cgroup is empty at every
 * sync (its restore left nothing running: an address) is never watched, so its checks,
 * which run in that cgroup, cost no notification. */
static void watch_cgroup(struct watch *w, const struct lk_resource *res)
{
    struct lk_node *node = w->mon->node;
    if (!node->cgroups || res->settings.watch != LK_WATCH_CGROUP) {
        unwatch_cgroup(w);
        return;
    }
    if (w->cgw || w->run[QUICK] || w->run[DEEP] || !lk_cgroups_populated(node->cgroups, res->tag)) {
        return;
    }
    if (lk_cgroups_watch(node->cgroups, node->loop, res->tag, on_cgroup_event, w, &w->cgw) < 0) {
        w->cgw = NULL;
        return;
    }
    w->cg_armed = true;
}

/* ---------------------------------------------------------------- checks */

/* Whether a sync could set up a watch that is not there yet: the pidfile's or the
 * cgroup's. */
static bool sync_may_arm(const struct watch *w, const struct lk_resource *res)
{
    bool pidfile = res->settings.pidfile[0] && res->settings.watch != LK_WATCH_NONE;
    bool cgroup = w->mon->node->cgroups && res->settings.watch == LK_WATCH_CGROUP;
    return (pidfile && !w->polling) || (cgroup && !w->cgw);
}

/* The end of check d of w, a script's run (check_done) or a built-in probe (probe_done):
 * the engine hears it unless it is to be ignored (it became stale), and the run's hold on
 * the watch ends. */
static void report_check(struct watch *w, enum depth d, bool ignore, const struct lk_result *result,
                         const char *output, size_t output_len)
{
    struct lk_monitor *mon = w->mon;
    if (!ignore) {
        char tag[LK_TAG_MAX + 1];
        snprintf(tag, sizeof(tag), "%s", w->tag);
        struct lk_event ev = {.type = LK_EV_CHECK_FINISHED,
                              .tag = tag,
                              .action = depth_action[d],
                              .result = *result,
                              .now_usec = lk_mono_usec(),
                              .pid = (int) getpid()};
        lk_bus_ran(mon->node->bus, &(struct lk_bus_run){.tag = tag,
                                                        .action = lk_action_name(depth_action[d]),
                                                        .check = true,
                                                        .result = result});
        char *detail = !lk_result_ok(result) && output_len ? strndup(output, output_len) : NULL;
        char err[LK_REASON_MAX];
        (void) lk_executor_handle_detail(mon->node, &ev, detail, err, sizeof(err));
        free(detail);
        /* A pidfile that was missing at restore may exist now, the application may have
         * put its first process into the cgroup: a sync looks again, when either watch is
         * still to be set up (a thousand checks a second must not each cost a sync). */
        const struct lk_resource *res = lk_result_ok(result) ? lk_node_find(mon->node, tag) : NULL;
        if (res && sync_may_arm(w, res)) {
            lk_monitor_sync(mon, tag);
        }
    }
    /* The run's hold on the watch ends here. */
    if (--w->open_handles == 0) {
        free(w->pidfile);
        free(w);
    }
}

static void check_done(struct lk_run *run, const struct lk_result *result, const char *output,
                       size_t output_len, void *userdata)
{
    struct watch *w = userdata;
    struct lk_monitor *mon = w->mon;
    enum depth d = w->run[DEEP] == run ? DEEP : QUICK;
    w->run[d] = NULL;
    mon->running--;
    bool ignore = w->stale[d] || w->forgotten;
    w->stale[d] = false;
    /* The type says what the result means (OCF's 7 on a check: not running), once,
     * before the engine, the bus and the counters hear of it. */
    struct lk_result classified = *result;
    const struct lk_resource *res = ignore ? NULL : lk_node_find(mon->node, w->tag);
    char masked[LK_RUN_OUTPUT_MAX];
    if (res) {
        /* Secrets the check printed never reach an event. */
        struct lk_type_ctx tctx = {.root = mon->node->root, .node_name = mon->node->name};
        output = lk_type_read_run(&tctx, res, depth_action[d], 0, &classified, output, output_len,
                                  masked);
    }
    report_check(w, d, ignore, &classified, output, output_len);
}

/* ---------------------------------------------------------------- built-in checks */

/* A built-in check's end. Its result is lkd's own words, not a script's exit status: the
 * resource's type has nothing to classify in it. */
static void probe_done(struct lk_probe *probe, const struct lk_result *result, const char *output,
                       size_t output_len, void *userdata)
{
    struct watch *w = userdata;
    struct lk_monitor *mon = w->mon;
    enum depth d = w->probe[DEEP] == probe ? DEEP : QUICK;
    w->probe[d] = NULL;
    mon->running--;
    bool ignore = w->stale[d] || w->forgotten;
    w->stale[d] = false;
    report_check(w, d, ignore, result, output, output_len);
}

/* Runs res's built-in check for depth d inside lkd (io/probe.c) instead of a script:
 * same timeout, and the result goes the scripts' way (report_check). */
static void start_probe(struct watch *w, enum depth d, const struct lk_resource *res)
{
    struct lk_monitor *mon = w->mon;
    lk_guardlink_exit_if_fenced(mon->node);
    struct lk_probe_spec ps;
    if (lk_probe_spec_for(&ps, res, depth_action[d], mon->node->cgroups) < 0) {
        return; /* validated when set: not reached */
    }
    struct lk_probe *probe = NULL;
    w->open_handles++;
    if (lk_probe_start(mon->node->loop, &ps, probe_done, w, &probe) < 0) {
        w->open_handles--;
        return;
    }
    w->probe[d] = probe;
    mon->running++;
}

static void start_check(struct watch *w, enum depth d, const struct lk_resource *res)
{
    struct lk_monitor *mon = w->mon;
    lk_guardlink_exit_if_fenced(mon->node);
    struct lk_type_run *prep = malloc(sizeof(*prep));
    if (!prep) {
        return;
    }
    struct lk_type_ctx tctx = {.root = mon->node->root,
                               .node_name = mon->node->name,
                               .exe_dir = lk_type_exe_dir(),
                               .tunables = mon->node->config.cluster.tunables};
    char why[256];
    int r = lk_type_prepare(&tctx, res, depth_action[d], 0, prep, why, sizeof(why));
    if (r < 0) {
        free(prep);
        fprintf(stderr, "lkd: cannot run the %s of '%s': %s\n", lk_action_name(depth_action[d]),
                res->tag, why);
        return;
    }
    lk_node_contain(mon->node, res->tag, &prep->spec);
    struct lk_run *run = NULL;
    /* The run holds the watch open until its callback: stale or not, it is told. */
    w->open_handles++;
    r = lk_run_start(mon->node->loop, &prep->spec, check_done, w, &run);
    lk_type_run_free(prep);
    free(prep);
    if (r < 0) {
        w->open_handles--;
        return;
    }
    w->run[d] = run;
    mon->running++;
}

static void on_tick(uv_timer_t *timer)
{
    struct watch *w = timer->data;
    enum depth d = timer == &w->timer[QUICK] ? QUICK : DEEP;
    struct lk_node *node = w->mon->node;
    const struct lk_resource *res = lk_node_find(node, w->tag);
    uint64_t now = lk_mono_usec();
    if (!res || !w->active) {
        return;
    }
    if (!w->run[d] && !w->probe[d]) {
        if (lk_resource_builtin_check(res, depth_action[d])) {
            start_probe(w, d, res);
        } else {
            start_check(w, d, res);
        }
    }
    /* Next due: one interval after this due time; ticks already missed are skipped. */
    uint64_t interval = w->interval_usec[d];
    w->due_usec[d] += interval;
    if (w->due_usec[d] <= now) {
        uint64_t missed = (now - w->due_usec[d]) / interval + 1;
        w->due_usec[d] += missed * interval;
    }
    uv_timer_start(&w->timer[d], on_tick, (w->due_usec[d] - now + 999) / 1000, 0);
}

static void arm(struct watch *w, enum depth d, uint64_t first_due)
{
    uint64_t now = lk_mono_usec();
    w->due_usec[d] = first_due;
    uv_timer_start(&w->timer[d], on_tick, first_due > now ? (first_due - now + 999) / 1000 : 0, 0);
}

static void disarm(struct watch *w)
{
    for (int d = 0; d < DEPTHS; d++) {
        uv_timer_stop(&w->timer[d]);
        w->interval_usec[d] = 0;
        if (w->run[d] && !w->stale[d]) {
            w->stale[d] = true;
            lk_run_abort(w->run[d]);
        }
        if (w->probe[d] && !w->stale[d]) {
            w->stale[d] = true;
            lk_probe_abort(w->probe[d]);
        }
    }
    unwatch_process(w);
    unwatch_cgroup(w);
    if (w->active) {
        w->mon->active--;
    }
    w->active = false;
    w->pidfile_warned = false;
}

/* busy: whether res's hierarchy has an action pending, when the caller knows (0 or 1),
 * else -1. */
static bool wants_monitoring(struct lk_node *node, const struct lk_resource *res, int busy)
{
    if (node->stopping || !lk_state_in_service(res->state) || !res->settings.monitor) {
        return false;
    }
    /* Before the start-up the states are those stored before the restart, not what runs:
     * a check then would recover a copy the cluster may run elsewhere (a commit before it,
     * as a reset, must not arm one). The start-up's commits arm the checks. */
    if (!node->started_up) {
        return false;
    }
    /* No check runs while an action runs anywhere on the resource's hierarchy. */
    if (busy >= 0) {
        return !busy;
    }
    struct lk_view view = lk_node_view(node);
    return !lk_engine_hierarchy_busy(&view, res->tag);
}

static void sync_one(struct lk_monitor *mon, const char *tag, int busy)
{
    struct lk_node *node = mon->node;
    const struct lk_resource *res = lk_node_find(node, tag);
    if (!res) {
        lk_monitor_forget(mon, tag);
        return;
    }
    struct watch *w = find_watch(mon, tag, NULL);
    if (!wants_monitoring(node, res, busy)) {
        if (w) {
            disarm(w);
        }
        return;
    }
    if (!w && !(w = get_watch(mon, tag))) {
        return;
    }
    uint64_t now = lk_mono_usec();
    bool starting = !w->active;
    w->active = true;
    mon->active += starting;
    const uint64_t interval[DEPTHS] = {res->settings.quickchk_interval_usec,
                                       res->settings.deepchk_interval_usec};
    for (int d = 0; d < DEPTHS; d++) {
        bool wanted = interval[d] > 0 && lk_resource_has_check(res, depth_action[d]);
        if (!wanted) {
            uv_timer_stop(&w->timer[d]);
            w->interval_usec[d] = 0;
            continue;
        }
        if (w->interval_usec[d] == interval[d]) {
            continue; /* already armed with this interval */
        }
        /* First check one interval from now, and not before the start grace has passed
         * since the resource came in service. */
        uint64_t wait = interval[d];
        if (starting && res->settings.start_grace_usec > wait) {
            wait = res->settings.start_grace_usec;
        }
        w->interval_usec[d] = interval[d];
        arm(w, (enum depth) d, now + wait);
    }
    if (w->polling && (!w->pidfile || strcmp(w->pidfile, res->settings.pidfile) != 0)) {
        unwatch_process(w); /* the pidfile setting changed: follow the new one */
    }
    if (res->settings.pidfile[0] && res->settings.watch != LK_WATCH_NONE) {
        watch_process(w, res);
    } else {
        unwatch_process(w);
    }
    watch_cgroup(w, res);
}

void lk_monitor_sync(struct lk_monitor *mon, const char *tag)
{
    if (mon) {
        sync_one(mon, tag, -1);
    }
}

/* Whether component c of index h has an action pending: its members until the first. */
static bool comp_busy(const struct lk_node *node, const struct lk_hier *h, size_t c)
{
    for (size_t k = h->member_start[c]; k < h->member_start[c + 1]; k++) {
        if (node->resources[h->members[k]]->pending != LK_PENDING_NONE) {
            return true;
        }
    }
    return false;
}

/* Whether each hierarchy (a component of the node's index) has an action pending, for
 * the components listed (comps[0..n)), or for every one (comps NULL); busy holds a flag
 * per component. */
static void find_busy(const struct lk_node *node, const struct lk_hier *h, const size_t *comps,
                      size_t n, bool *busy)
{
    if (!comps) {
        memset(busy, 0, (h->comp_count ? h->comp_count : 1) * sizeof(*busy));
        for (size_t r = 0; r < node->count; r++) {
            busy[h->comp[r]] |= node->resources[r]->pending != LK_PENDING_NONE;
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        busy[comps[i]] = comp_busy(node, h, comps[i]);
    }
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *) a, y = *(const size_t *) b;
    return x < y ? -1 : x > y;
}

/* Syncs every resource of the hierarchies of tags[0..count) (every resource: tags
 * NULL), finding which hierarchies are busy once rather than for each resource. Those of
 * idle hierarchies are synced in the view's order; of a busy hierarchy, a sync only
 * disarms an active watch (an inactive one has no timer, run or watch left), so only
 * the active watches are visited: a commit in the middle of a hierarchy's restore
 * costs a look at its members up to the first busy one (the busy hierarchies of the
 * tags only) and at the active watches, not a pass over every resource. A sync may hand
 * an event to the executor (a watched process found gone), which commits and syncs in
 * turn: then the busy hierarchies are found again before the next sync. */
static void sync_many(struct lk_monitor *mon, const char *const *tags, size_t count)
{
    struct lk_node *node = mon->node;
    const struct lk_hier *h = lk_node_hier(node);
    bool *follow = h ? calloc(h->comp_count ? h->comp_count : 1, sizeof(*follow)) : NULL;
    bool *busy = h ? calloc(h->comp_count ? h->comp_count : 1, sizeof(*busy)) : NULL;
    size_t *comps = tags ? calloc(count ? count : 1, sizeof(*comps)) : NULL;
    if (!follow || !busy || (tags && !comps)) {
        /* Out of memory: every resource on its own. */
        free(follow);
        free(busy);
        free(comps);
        for (size_t r = 0; r < node->count; r++) {
            sync_one(mon, node->resources[r]->tag, -1);
        }
        return;
    }
    size_t nc = 0;
    for (size_t i = 0; tags && i < count; i++) {
        size_t v;
        if (lk_hier_vertex(h, tags[i], &v) && !follow[h->comp[v]]) {
            follow[h->comp[v]] = true;
            comps[nc++] = h->comp[v];
        }
    }
    find_busy(node, h, tags ? comps : NULL, nc, busy);
    /* The resources to sync, in the view's order: every one, or the members of the
     * idle hierarchies followed. */
    size_t *todo = NULL, nt = 0;
    if (tags) {
        size_t total = 0;
        for (size_t i = 0; i < nc; i++) {
            total += busy[comps[i]] ? 0 : h->member_start[comps[i] + 1] - h->member_start[comps[i]];
        }
        todo = calloc(total ? total : 1, sizeof(*todo));
        for (size_t i = 0; todo && i < nc; i++) {
            for (size_t k = h->member_start[comps[i]];
                 !busy[comps[i]] && k < h->member_start[comps[i] + 1]; k++) {
                todo[nt++] = h->members[k];
            }
        }
        if (!todo) {
            /* Out of memory: the pass over every followed position below. */
            nt = 0;
        } else if (nc > 1) {
            qsort(todo, nt, sizeof(*todo), cmp_size);
        }
    }
    uint64_t mine = ++mon->syncs;
    size_t from = 0; /* where the pass over every followed position starts */
    if (todo) {
        /* The members of the idle hierarchies, until a sync commits (a nested commit):
         * then, from the position after that sync, every followed position as below,
         * which finds the busy hierarchies again first. */
        size_t after = 0;
        for (size_t i = 0; i < nt && mon->syncs == mine; i++) {
            if (!busy[h->comp[todo[i]]]) {
                sync_one(mon, node->resources[todo[i]]->tag, 0);
            }
            after = todo[i] + 1;
        }
        from = mon->syncs != mine ? after : node->count;
    }
    for (size_t r = from; r < node->count; r++) {
        if (tags && !follow[h->comp[r]]) {
            continue;
        }
        if (mon->syncs != mine) {
            /* A nested commit: the states changed (never the resources or the
             * dependencies: only definitions change those). */
            find_busy(node, h, tags ? comps : NULL, nc, busy);
            mine = mon->syncs;
        }
        if (!busy[h->comp[r]]) {
            sync_one(mon, node->resources[r]->tag, 0);
        }
    }
    /* The active watches of busy hierarchies: their tags first (a sync may not change
     * the list, but a copy is simpler to trust), then each disarmed. */
    size_t nd = 0;
    char(*disarm_tags)[LK_TAG_MAX + 1] = NULL;
    for (size_t i = 0; mon->active > 0 && i < mon->count; i++) {
        struct watch *w = mon->watches[i];
        size_t v;
        if (!w->active || !lk_hier_vertex(h, w->tag, &v) || v >= h->count ||
            (tags && !follow[h->comp[v]]) || !busy[h->comp[v]]) {
            continue;
        }
        if (!disarm_tags && !(disarm_tags = calloc(mon->count, sizeof(*disarm_tags)))) {
            break;
        }
        snprintf(disarm_tags[nd++], sizeof(disarm_tags[0]), "%s", w->tag);
    }
    for (size_t i = 0; i < nd; i++) {
        sync_one(mon, disarm_tags[i], 1);
    }
    free(disarm_tags);
    free(todo);
    free(comps);
    free(follow);
    free(busy);
}

void lk_monitor_forget(struct lk_monitor *mon, const char *tag)
{
    size_t i;
    struct watch *w = mon ? find_watch(mon, tag, &i) : NULL;
    if (!w) {
        return;
    }
    disarm(w);
    memmove(&mon->watches[i], &mon->watches[i + 1], (mon->count - i - 1) * sizeof(*mon->watches));
    mon->count--;
    w->forgotten = true;
    for (int d = 0; d < DEPTHS; d++) {
        uv_close((uv_handle_t *) &w->timer[d], on_handle_closed);
    }
}

void lk_monitor_stop_all(struct lk_monitor *mon)
{
    for (size_t i = 0; mon && i < mon->count; i++) {
        disarm(mon->watches[i]);
    }
}

void lk_monitor_on_committed(void *userdata, const char *const *tags, size_t count)
{
    sync_many(userdata, tags, count);
}

void lk_monitor_on_defined(void *userdata, const char *tag)
{
    struct lk_monitor *mon = userdata;
    struct lk_node *node = mon->node;
    if (tag) {
        lk_monitor_sync(mon, tag);
        return;
    }
    for (size_t i = mon ? mon->count : 0; i-- > 0;) {
        if (!lk_node_find(node, mon->watches[i]->tag)) {
            lk_monitor_forget(mon, mon->watches[i]->tag);
        }
    }
    sync_many(mon, NULL, 0);
}
