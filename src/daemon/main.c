/* lkd, the node daemon: argument parsing, the descriptor limit (raised, io/fdbudget.h),
 * the root's lock and pidfile, the database, the switch to the background, signals, the
 * loop-stall recorder, the wiring of the bus, and the order of start-up and shutdown.
 *
 * Start-up: lock the root (one daemon per root), open and check the database, load the
 * resources, detach (unless -f) and report readiness to the parent through a pipe only
 * once the command socket listens, then hand every resource to the engine (probe or
 * restore as it decides). Under systemd (lkd -f in packaging/systemd/lkd.service) the
 * same moment is READY=1, the stop order's start STOPPING=1, and the loop pings the
 * watchdog (io/sdnotify.h). SIGTERM and SIGINT stop the daemon like `lkstop -f`: scripts
 * that run keep running in their own sessions, and the next start probes.
 *
 * The event map (bus.h; every subscription is made here, in this order):
 *
 *   topic       published by                              subscribers
 *   changed     executor (each event, each run's end),    api (waits end, replies),
 *               cluster, cluster_owner (a peer's state,   main (lkstop: nothing busy yet?),
 *               an object, an ownership record)           guardlink (the guard's plan)
 *   event       eventlog (each event logged)              api (log --follow, progress),
 *                                                         alerts (the hooks' queues)
 *                                                         counters (/metrics)
 *   committed   executor (after each commit)              cluster (push the states to the
 *                                                         peers), monitor (checks follow),
 *                                                         guardlink
 *   defined     define (every definition written, local   monitor (checks follow the new
 *               or from a peer)                           definition, or are forgotten),
 *                                                         guardlink, counters, sdunits
 *                                                         (hold or give back systemd units)
 *   ran         executor (an action's run ended),         counters (runs, durations)
 *               monitor (a scheduled check ended)
 *   owners      executor (records written, a fence run    cluster (tell the peers,
 *               ended, a switchover started)              reconsider), guardlink
 *   stop        api (lkstop, lkstop -f, --switchover)     main (runs the stop order)
 *   stopping    main (the last step, outside any          api (lkstop gets its answer),
 *               notification)                             sdunits (no new run)
 *
 * The engine's view asks the cluster three facts (has a backup, owned elsewhere,
 * holding after a freeze); main registers them in node->facts, with the coordinator as
 * their context. main keeps the modules' pointers (cluster, api, monitor, owners) and
 * hands each what it needs; struct lk_node carries none of them. Shutdown (stop_step)
 * runs on a timer of its own, never inside a notification: stop the checks, take the
 * resources out of service (lkstop), wait until nothing is busy, tell the peers and
 * close the comm paths (lk_cluster_stop), answer lkstop, stop the loop; after the loop,
 * let the comm paths drain and close the database. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "alerts.h"
#include "api.h"
#include "bus.h"
#include "catchup.h"
#include "cgroup.h"
#include "cluster.h"
#include "config.h"
#include "counters.h"
#include "eventlog.h"
#include "executor.h"
#include "fdbudget.h"
#include "guardlink.h"
#include "lkinstall.h"
#include "log.h"
#include "loopwatch.h"
#include "monitor.h"
#include "node.h"
#include "proto.h"
#include "restype.h"
#include "runner.h"
#include "scriptwatch.h"
#include "sdnotify.h"
#include "sdunits.h"
#include "store.h"
#include "tunwatch.h"

#define DEFAULT_ROOT "/opt/openkeeper"

static int ready_fd = -1; /* write end of the readiness pipe while detaching */

__attribute__((format(printf, 1, 2))) static int die(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (ready_fd >= 0) {
        ssize_t w = write(ready_fd, msg, strlen(msg));
        (void) w;
    }
    fprintf(stderr, "lkd: %s\n", msg);
    exit(1);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: lkd [-f] [--root DIR] [--witness]\n"
            "  -f, --foreground  stay in the foreground; default: detach once ready\n"
            "  --witness         be the cluster's witness: vote, run no resources; default: "
            "off\n"
            "  --root DIR        the node's root directory (default $LKROOT or %s)\n"
            "  --version         the version\n"
            "  --help            this help\n"
            "lkstart starts lkd; see lkstart --help.\n",
            DEFAULT_ROOT);
}

static void ensure_dir(const char *root, const char *sub, mode_t mode)
{
    char path[LK_PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%s", root, sub);
    if (mkdir(path, mode) < 0 && errno != EEXIST) {
        die("cannot create '%s': %s", path, strerror(errno));
    }
}

static int lock_root(const char *root)
{
    char path[LK_PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%s", root, LK_PIDFILE_NAME);
    /* Neither blocking nor following a link: whatever is put in its place is refused. */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0644);
    if (fd < 0) {
        die("cannot open '%s': %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        die("'%s' is not a regular file", path);
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        char buf[32] = "";
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        die("lkd is already running on '%s' (pid %s)", root, buf[0] ? buf : "unknown");
    }
    return fd;
}

static void write_pid(int fd)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%d\n", (int) getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t) n, 0) != n) {
        die("cannot write the pidfile: %s", strerror(errno));
    }
}

/* Forks; the parent waits until the child reports readiness (or an error) and exits. */
static void detach(const char *root)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        die("cannot create a pipe: %s", strerror(errno));
    }
    pid_t pid = fork();
    if (pid < 0) {
        die("cannot fork: %s", strerror(errno));
    }
    if (pid > 0) {
        close(fds[1]);
        char msg[1024];
        ssize_t n = read(fds[0], msg, sizeof(msg) - 1);
        if (n > 0 && msg[0] == '\0') {
            _exit(0);
        }
        /* die() in the child already printed the message on our shared stderr. */
        _exit(1);
    }
    close(fds[0]);
    ready_fd = fds[1];
    if (setsid() < 0) {
        die("cannot start a new session: %s", strerror(errno));
    }
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    char out[LK_PATH_MAX + 64];
    snprintf(out, sizeof(out), "%s/log/lkd.out", root);
    /* O_NONBLOCK: a FIFO there fails the open (no reader) instead of hanging it. */
    int log = open(out, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0640);
    if (null < 0 || log < 0) {
        die("cannot open '%s': %s", out, strerror(errno));
    }
    dup2(null, STDIN_FILENO);
    /* stderr keeps pointing at the caller's terminal until readiness, so start-up errors
     * are seen there; stdout goes to the log at once. */
    dup2(log, STDOUT_FILENO);
    close(null);
    ready_fd = fds[1];
    /* Remember the log fd for after readiness. */
    if (dup2(log, 100) < 0) {
        die("cannot keep the log open: %s", strerror(errno));
    }
    close(log);
}

static void report_ready(void)
{
    if (ready_fd < 0) {
        return;
    }
    char ok = '\0';
    ssize_t w = write(ready_fd, &ok, 1);
    (void) w;
    close(ready_fd);
    ready_fd = -1;
    dup2(100, STDERR_FILENO);
    close(100);
}

/* run/cgroup names the node's cgroup subtree (absent without containment): for tools and
 * tests that clean up after the node. */
static void write_cgroup_base(const struct lk_node *node)
{
    char path[LK_PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/run/cgroup", node->root);
    if (!node->cgroups) {
        (void) unlink(path);
        return;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (f) {
        fprintf(f, "%s\n", lk_cgroups_base(node->cgroups));
        (void) fclose(f);
    } else if (fd >= 0) {
        (void) close(fd);
    }
}

/* The files install_helpers did not find, said once lkd is ready: on lkd's own stderr
 * (log/lkd.out, or the journal in the foreground), not on lkstart's, where a start that
 * works stays silent. */
static char install_missing[1024];

/* Puts LifeKeeper's commands (lk_err, ins_list, …) into $LKROOT/bin, where scripts find
 * them on their PATH, and the Perl API into $LKROOT (io/lkinstall.h). A file that could not
 * be written is said at once. */
static void install_helpers(const char *root)
{
    char failed[1024];
    (void) lk_lkinstall_run(root, lk_type_exe_dir(), install_missing, sizeof(install_missing),
                            failed, sizeof(failed));
    if (failed[0]) {
        fprintf(stderr, "lkd: cannot install into '%s': %s, ignoring\n", root, failed);
    }
}

/* The stop order. A request (the bus's stop topic, or a signal) only records what was
 * asked and arms the timer; stop_step does the work on a loop turn of its own, so that
 * nothing stops the daemon from inside a notification (lk_cluster_stop itself publishes
 * changes while it tells the peers). */
struct stopper {
    struct lk_node *node;
    struct lk_cluster *cluster;
    struct lk_monitor *monitor;
    uv_timer_t timer;
    bool leave_now; /* lkstop -f, --switchover, a signal: leave what runs running */
    bool apps_out;  /* lkstop: take the resources out of service first */
    bool removing;  /* the removals were started; waiting until nothing is busy */
    bool done;      /* the last step ran */
};

static void stop_step(uv_timer_t *t)
{
    struct stopper *s = t->data;
    struct lk_node *node = s->node;
    if (s->done) {
        return;
    }
    if (!s->leave_now && s->apps_out && !s->removing) {
        s->removing = true;
        lk_monitor_stop_all(s->monitor);
        /* Each removal's end publishes a change, which arms this timer again. */
        lk_executor_shutdown(node);
    }
    if (!s->leave_now && !(s->removing && lk_node_busy_count(node) == 0)) {
        return;
    }
    s->done = true;
    lk_monitor_stop_all(s->monitor);
    /* The peers hear that this node leaves on purpose, its applications out of service
     * (lkstop) or running (-f, --switchover after the moves, a signal): its hierarchies
     * do not fail over (docs/CLUSTER.md). Then the comm paths close. */
    lk_cluster_stop(s->cluster, s->leave_now ? LK_LEAVE_RUNNING : LK_LEAVE_STOPPED);
    lk_bus_stopping(node->bus, s->leave_now ? LK_BUS_STOP_RUNNING : LK_BUS_STOP_APPS);
    uv_stop(node->loop);
}

static void arm_stop(struct stopper *s)
{
    if (!s->done) {
        uv_timer_start(&s->timer, stop_step, 0, 0);
    }
}

static struct lk_sdnotify sdnotify; /* systemd's readiness, status and watchdog */

static void on_stop_request(void *userdata, enum lk_bus_stop why)
{
    struct stopper *s = userdata;
    lk_sdnotify_stopping(&sdnotify, why == LK_BUS_STOP_RUNNING
                                            ? "stopping: applications keep running"
                                            : "stopping: taking the resources out of service");
    if (why == LK_BUS_STOP_RUNNING) {
        s->leave_now = true;
    } else {
        s->apps_out = true;
    }
    arm_stop(s);
}

static void on_changed_while_stopping(void *userdata, const char *tag)
{
    struct stopper *s = userdata;
    (void) tag;
    if (s->removing && !s->done && lk_node_busy_count(s->node) == 0) {
        arm_stop(s);
    }
}

static struct stopper stopper;
static struct lk_sdunits *sdunits;         /* the systemd units held for the cluster (sdunits.h) */
static struct lk_scriptwatch *scriptwatch; /* the LifeKeeper script files (scriptwatch.h) */

/* A script the watcher took from a LifeKeeper file goes to the peers as the update-script
 * command's does. */
static void push_defined(void *userdata, const char *tag)
{
    lk_cluster_push(userdata, &tag, 1, NULL);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct lk_node *node = h->data;
    lk_eventlog_msg(node, NULL, LK_MSG_DAEMON_STOPPING,
                    signum == SIGTERM ? "SIGTERM: applications keep running"
                                      : "SIGINT: applications keep running");
    node->stopping = true;
    on_stop_request(&stopper, LK_BUS_STOP_RUNNING);
}

/* The cluster's answers to the engine's view (struct lk_view_facts). */
static bool cluster_holding(const void *ctx)
{
    return lk_cluster_holding((struct lk_cluster *) (uintptr_t) ctx);
}

static void cluster_committed(void *userdata, const char *const *tags, size_t count)
{
    (void) tags;
    (void) count;
    lk_cluster_on_local_change(userdata);
}

/* Every subscription, in delivery order (the map at the top of this file). A bus that
 * cannot take them is a programming error: too small a table. */
/* A hand edit of the tunables' file changed them here: the peers hear it as they hear
 * `lkcli cluster tunables`. */
static void on_tunables_changed(void *userdata)
{
    lk_cluster_reconfigure(userdata, true);
}

static void wire(struct lk_node *node, struct lk_api *api, struct lk_cluster *cl,
                 struct lk_monitor *mon)
{
    struct lk_bus *bus = node->bus;
    int r = 0;
    if (api) {
        r |= lk_bus_on_changed(bus, lk_api_on_change, api);
        r |= lk_bus_on_event(bus, lk_api_on_event, api);
        r |= lk_bus_on_stopping(bus, lk_api_on_stopping, api);
    }
    if (node->alerts) {
        r |= lk_bus_on_event(bus, lk_alerts_on_event, node->alerts);
    }
    r |= lk_bus_on_changed(bus, on_changed_while_stopping, &stopper);
    r |= lk_bus_on_stop(bus, on_stop_request, &stopper);
    r |= lk_bus_on_committed(bus, cluster_committed, cl);
    r |= lk_bus_on_owners(bus, lk_cluster_on_owners, cl);
    r |= lk_bus_on_defined(bus, lk_cluster_on_defined, cl);
    r |= lk_bus_on_committed(bus, lk_monitor_on_committed, mon);
    r |= lk_bus_on_defined(bus, lk_monitor_on_defined, mon);
    r |= lk_bus_on_changed(bus, lk_guardlink_on_changed, node);
    r |= lk_bus_on_committed(bus, lk_guardlink_on_committed, node);
    r |= lk_bus_on_defined(bus, lk_guardlink_on_defined, node);
    r |= lk_bus_on_owners(bus, lk_guardlink_on_owners, node);
    if (sdunits) {
        r |= lk_bus_on_defined(bus, lk_sdunits_on_defined, sdunits);
        r |= lk_bus_on_stopping(bus, lk_sdunits_on_stopping, sdunits);
    }
    if (node->counters) {
        r |= lk_bus_on_event(bus, lk_counters_on_event, node->counters);
        r |= lk_bus_on_ran(bus, lk_counters_on_ran, node->counters);
        r |= lk_bus_on_defined(bus, lk_counters_on_defined, node->counters);
    }
    if (r != 0) {
        die("cannot wire the bus");
    }
    node->facts = (struct lk_view_facts){
            .ctx = cl,
            .has_backup = lk_cluster_has_backup,
            .owned_elsewhere = lk_cluster_owned_elsewhere,
            .holding = cluster_holding,
    };
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
            {"foreground", no_argument, NULL, 'f'}, {"root", required_argument, NULL, 'r'},
            {"witness", no_argument, NULL, 'w'},    {"version", no_argument, NULL, 'V'},
            {"help", no_argument, NULL, 'h'},       {0},
    };
    bool foreground = false, witness = false;
    const char *root_arg = getenv("LKROOT");
    int c;
    while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            foreground = true;
            break;
        case 'r':
            root_arg = optarg;
            break;
        case 'w':
            witness = true;
            break;
        case 'V':
            printf("lkd (OpenKeeper) %s\n", LK_SOFTWARE_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "lkd: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!root_arg || !root_arg[0]) {
        root_arg = DEFAULT_ROOT;
    }

    static struct lk_node node;
    static struct lk_owners owners; /* the executor writes it, the cluster reads it */
    static struct lk_fdbudget fdbudget;
    static struct lk_loopwatch loopwatch;
    node.log_fd = -1;
    /* Descriptors: the soft limit raised to the hard one (a systemd service starts at 1,024),
     * then a reserve for scripts, the store and the comm paths that local clients never
     * get (io/fdbudget.h; the socket asks before it keeps a client). */
    uint64_t fd_limit = 0;
    struct rlimit started_with;
    bool known = getrlimit(RLIMIT_NOFILE, &started_with) == 0;
    int raised = lk_fdbudget_raise(&fd_limit);
    lk_fdbudget_init(&fdbudget, fd_limit);
    node.fdbudget = &fdbudget;
    /* Scripts, and the applications they start, keep the limit lkd was started with. */
    if (known && raised == 0 && started_with.rlim_cur < fd_limit) {
        lk_run_set_script_nofile(started_with.rlim_cur, started_with.rlim_max);
    }
    char real[PATH_MAX];
    if (!realpath(root_arg, real)) {
        die("cannot use root '%s': %s (create it with lkstart)", root_arg, strerror(errno));
    }
    if (strlen(real) >= sizeof(node.root) - 256) {
        die("root path '%s' is too long", real);
    }
    snprintf(node.root, sizeof(node.root), "%s", real);

    char err[1024], path[LK_PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%s", node.root, LK_CONF_NAME);
    if (lk_config_load(path, &node.config, err, sizeof(err)) < 0) {
        die("%s", err);
    }
    lk_log_set_level(node.config.log_level);
    snprintf(node.name, sizeof(node.name), "%s", node.config.node);
    node.witness = witness;
    ensure_dir(node.root, "run", 0755);
    ensure_dir(node.root, "log", 0755);
    ensure_dir(node.root, "db", 0700);
    ensure_dir(node.root, "bin", 0755);
    ensure_dir(node.root, "var", 0755); /* the disk reserve (core/catchup.h) */
    int lock_fd = lock_root(node.root);
    if (sodium_init() < 0) {
        die("cannot initialise libsodium");
    }
    randombytes_buf(&node.incarnation, sizeof(node.incarnation));
    /* Containment (io/cgroup.h): without it lkd works as before, and says why. */
    int r = lk_cgroups_open(node.root, node.name,
                            witness                      ? "off"
                            : node.config.containment[0] ? node.config.containment
                                                         : "auto",
                            &node.cgroups, node.containment_why, sizeof(node.containment_why));
    if (witness) {
        snprintf(node.containment_why, sizeof(node.containment_why), "a witness runs nothing");
    }
    if (r < 0) {
        die("cannot set up containment: %s", strerror(-r));
    }

    snprintf(path, sizeof(path), "%s/%s", node.root, LK_DB_NAME);
    if (lk_store_open(path, &node.store, err, sizeof(err)) < 0) {
        /* A full disk cannot even open a database in WAL mode (its -wal and -shm files):
         * the reserve is for this. The node then starts not writable (core/catchup.h). */
        char reserve[LK_PATH_MAX + 64];
        snprintf(reserve, sizeof(reserve), "%s/%s", node.root, LK_RESERVE_NAME);
        struct statvfs vfs;
        bool full = statvfs(path, &vfs) == 0 && (uint64_t) vfs.f_bavail * vfs.f_frsize < (1 << 20);
        if (!full || lk_store_reserve_free(reserve) < 0 ||
            lk_store_open(path, &node.store, err, sizeof(err)) < 0) {
            die("%s", err);
        }
        lk_log(LK_LOG_WARNING, "the disk reserve '%s' was freed to open the database", reserve);
    }
    r = lk_store_load(node.store, node.name, &node.resources, &node.count);
    if (r < 0) {
        die("cannot load resources from '%s': %s", path,
            r == -EINVAL ? "invalid data (see above)" : lk_store_errmsg(node.store));
    }
    node.capacity = node.count;
    r = lk_store_load_deps(node.store, &node.deps, &node.dep_count);
    if (r < 0) {
        die("cannot load dependencies from '%s': %s", path,
            r == -EINVAL ? "invalid data (see above)" : lk_store_errmsg(node.store));
    }
    r = lk_store_load_extends(node.store, &node.extends, &node.extend_count);
    if (r < 0) {
        die("cannot load extends from '%s': %s", path,
            r == -EINVAL ? "invalid data (see above)" : lk_store_errmsg(node.store));
    }
    if (witness && node.count > 0) {
        die("'%s' holds resources: a witness runs none (use another root for it)", node.root);
    }

    signal(SIGPIPE, SIG_IGN);
    if (!foreground) {
        detach(node.root);
    }
    write_pid(lock_fd);
    install_helpers(node.root);

    node.loop = uv_default_loop();
    node.started_usec = lk_mono_usec();
    if (raised < 0) {
        lk_log(LK_LOG_WARNING, "cannot raise the descriptor limit above %llu: %s, ignoring",
               (unsigned long long) fd_limit, strerror(-raised));
    }
    r = lk_loopwatch_start(&loopwatch, node.loop);
    if (r < 0) {
        lk_log(LK_LOG_WARNING, "cannot record the loop's stalls: %s, ignoring", uv_strerror(r));
    } else {
        node.loopwatch = &loopwatch;
    }
    /* Under systemd (packaging/systemd/lkd.service): the watchdog's pings come from this
     * loop, so a loop that stops turning stops them. */
    r = lk_sdnotify_start(&sdnotify, node.loop);
    if (r < 0) {
        lk_log(LK_LOG_WARNING, "cannot ping the service manager's watchdog: %s, ignoring",
               uv_strerror(r));
    }
    node.bus = lk_bus_new();
    node.counters = lk_counters_new(&node);
    if (!node.bus || !node.counters) {
        die("out of memory");
    }
    stopper.node = &node;
    uv_timer_init(node.loop, &stopper.timer);
    stopper.timer.data = &stopper;
    int log_r = lk_eventlog_open(&node);
    if (log_r < 0) {
        die("cannot open the event log '%s/%s': %s", node.root, LK_LOG_NAME,
            log_r == -EINVAL ? "not a regular file" : strerror(-log_r));
    }
    /* Alerts: a witness logs events too, and delivers them like any node. */
    node.alerts = lk_alerts_new(&node);
    if (!node.alerts) {
        die("out of memory");
    }
    sdunits = lk_sdunits_new(&node);
    stopper.monitor = lk_monitor_new(&node);
    if (!stopper.monitor || !sdunits) {
        die("out of memory");
    }
    /* The coordinator exists before the api and the bus's subscriptions that talk to it;
     * it starts (membership, the comm paths) below. */
    struct lk_cluster *cluster = lk_cluster_new(&node, &owners, &lk_membership_tcp);
    if (!cluster) {
        die("out of memory");
    }
    stopper.cluster = cluster;
    struct lk_api *api = NULL;
    if (lk_api_start(&node, cluster, &api, err, sizeof(err)) < 0) {
        die("%s", err);
    }
    wire(&node, api, cluster, stopper.monitor);
    uv_signal_init(node.loop, &node.sigterm);
    uv_signal_init(node.loop, &node.sigint);
    node.sigterm.data = node.sigint.data = &node;
    uv_signal_start(&node.sigterm, on_signal, SIGTERM);
    uv_signal_start(&node.sigint, on_signal, SIGINT);

    lk_eventlog_msg(&node, NULL, LK_MSG_DAEMON_STARTED, node.name, (int) getpid());
    /* The disk reserve, and the node going on from memory when the disk fails. */
    if (lk_catchup_start(&node, &owners) < 0) {
        die("out of memory");
    }
    char contained[LK_PATH_MAX + 64];
    snprintf(contained, sizeof(contained), node.cgroups ? "on (%s)" : "off (%s)",
             node.cgroups ? lk_cgroups_base(node.cgroups) : node.containment_why);
    lk_eventlog_msg(&node, NULL, LK_MSG_CONTAINMENT, contained);
    write_cgroup_base(&node);
    /* The tunables before the comm paths: the HELLO carries them. */
    lk_tunwatch_load(&node);
    struct lk_tunwatch *tunwatch = lk_tunwatch_start(&node, on_tunables_changed, cluster);
    if (!tunwatch) {
        die("out of memory");
    }
    r = node.witness ? 0 : lk_guardlink_start(&node);
    if (r < 0) {
        lk_log(LK_LOG_WARNING, "cannot make the guard's liveness page: %s", strerror(-r));
    }
    /* The comm paths listen before readiness, so a port in use is a start-up error. The
     * local start-up runs once the node is up to date with its peers (cluster.c). */
    if (lk_cluster_start(cluster, err, sizeof(err)) < 0) {
        die("%s", err);
    }
    /* After the cluster: a script written at its LifeKeeper name while lkd was stopped is
     * taken now, and its push queued for the peers. */
    if (!node.witness) {
        scriptwatch = lk_scriptwatch_start(&node, push_defined, cluster);
        if (!scriptwatch) {
            die("out of memory");
        }
    }
    report_ready();
    if (install_missing[0]) {
        fprintf(stderr, "lkd: not found beside lkd, not installed into '%s': %s, ignoring\n",
                node.root, install_missing);
    }
    char ready[LK_TAG_MAX + 128];
    snprintf(ready, sizeof(ready), "node '%s' serves, %zu resources%s", node.name, node.count,
             node.witness ? " (witness)" : "");
    lk_sdnotify_ready(ready);

    uv_run(node.loop, UV_RUN_DEFAULT);
    /* stop_step told the peers and closed the comm paths; if the loop ended any other
     * way, close them without a word (LK_LEAVE_CRASH). Then let the closes finish. */
    lk_cluster_stop(cluster, LK_LEAVE_CRASH);
    uv_close((uv_handle_t *) &stopper.timer, NULL);
    lk_sdnotify_stop(&sdnotify);
    lk_catchup_stop(&node);
    lk_alerts_stop(node.alerts);
    lk_sdunits_stop(sdunits);
    lk_scriptwatch_stop(scriptwatch);
    lk_tunwatch_stop(tunwatch);
    lk_executor_stop(&node);
    if (node.loopwatch) {
        lk_loopwatch_stop(node.loopwatch);
    }
    /* The comm paths drain for up to 500 ms (net.h); their timer wakes the loop, so
     * UV_RUN_ONCE cannot block past it. */
    while (!lk_cluster_net_stopped(cluster) && uv_run(node.loop, UV_RUN_ONCE) != 0) {
    }
    for (int i = 0; i < 10 && uv_run(node.loop, UV_RUN_NOWAIT) != 0; i++) {
    }

    /* Nothing more runs on the loop: scripts still running finish in their own sessions
     * and the next start probes their resources. What is still allocated stays reachable
     * from node until exit. */
    /* A stop through stop_step (lkstop, lkstop -f, a signal) is clean: the guard leaves
     * without fencing. Empty resource cgroups go; those with applications left stay. */
    lk_guardlink_stop(&node, true);
    lk_cgroups_close(node.cgroups);
    node.cgroups = NULL;
    lk_eventlog_msg(&node, NULL, LK_MSG_DAEMON_STOPPED);
    snprintf(path, sizeof(path), "%s/%s", node.root, LK_SOCKET_NAME);
    (void) unlink(path);
    lk_eventlog_close(&node);
    node.store = lk_store_close(node.store);
    node.bus = lk_bus_free(node.bus);
    node.counters = lk_counters_free(node.counters);
    snprintf(path, sizeof(path), "%s/%s", node.root, LK_PIDFILE_NAME);
    (void) unlink(path);
    close(lock_fd);
    return 0;
}
