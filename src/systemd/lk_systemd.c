/* lk_systemd: the actions of a systemd resource (docs/SYSTEMD.md), run by lkd's runner
 * like a script: `lk_systemd start|stop|restart|status|watch|own|release UNIT`. It speaks
 * D-Bus to the manager (sd-bus; LK_SYSTEMD_BUS, else /run/systemd/private, else the system
 * bus), never systemctl. start/stop/restart queue a job with mode "replace" and wait for
 * its JobRemoved within LK_SYSTEMD_TIMEOUT_MS; status reads ActiveState; watch follows the
 * unit's PropertiesChanged and exits as soon as it stops being active (a failure lkd sees);
 * own/release put and take away the runtime drop-in and the autostart (state in $LKROOT).
 *
 * The exit status is sdunit.h's table; the last output line says why, in one line. A
 * reload, a re-execution or a D-Bus timeout is retried here until the budget ends, then
 * reported as "pending" (75), never as a failure. It must never act on another unit than
 * the one named, print anything but one line per outcome, or run a process. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "sdunit.h"

#define PROG               LK_SYSTEMD_PROGRAM
#define DEST               "org.freedesktop.systemd1"
#define MANAGER_PATH       "/org/freedesktop/systemd1"
#define MANAGER_IFACE      "org.freedesktop.systemd1.Manager"
#define UNIT_IFACE         "org.freedesktop.systemd1.Unit"
#define SERVICE_IFACE      "org.freedesktop.systemd1.Service"
#define JOB_IFACE          "org.freedesktop.systemd1.Job"
#define PROPS_IFACE        "org.freedesktop.DBus.Properties"
#define SYSTEM_PRIVATE     "/run/systemd/private"
#define DEFAULT_TIMEOUT_MS 90000
#define CALL_TIMEOUT_USEC  (5 * 1000000ULL) /* one call; a reload answers later */
#define POLL_USEC          (1000000ULL)     /* re-read the job and the state while waiting */
#define RETRY_USEC         (200000ULL)
#define WATCH_GONE_USEC    (60 * 1000000ULL) /* a watcher whose manager stays away gives up */
#define WATCHERS_GONE_USEC (3 * 1000000ULL)  /* a stop waits this long for the watchers */
#define DROPIN_NAME        "90-openkeeper.conf"
#define OWNER_UNIT         "lkd.service"
#define STATE_SUBDIR       "subsys/gen/resources/systemd"
#define TRANSIENT          (-EAGAIN) /* an op's "retry": the reason is in c->why */

struct ctx {
    sd_bus *bus;
    bool direct; /* peer-to-peer with the manager (its private socket): no Hello, no sender */
    const char *address;
    const char *unit;
    char unit_path[512];
    uint64_t deadline;
    char why[512];
    /* the job waited for */
    char job[256];
    bool job_done;
    char job_result[32];
    bool changed; /* watch: a PropertiesChanged arrived */
};

static uint64_t now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

__attribute__((format(printf, 2, 3))) static int say(int status, const char *fmt, ...)
{
    char line[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    for (char *p = line; *p; p++) {
        if (*p == '\n' || *p == '\r') {
            *p = ' ';
        }
    }
    printf("%s: %s\n", PROG, line);
    fflush(stdout);
    return status;
}

__attribute__((format(printf, 2, 3))) static int transient(struct ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, sizeof(c->why), fmt, ap);
    va_end(ap);
    return TRANSIENT;
}

/* An error after which the same question may get an answer later: no answer in time, the
 * connection gone (a re-execution), the manager busy reloading or shutting down. */
static bool is_transient(int r, const sd_bus_error *e)
{
    if (e && sd_bus_error_is_set(e)) {
        static const char *const names[] = {
                "org.freedesktop.DBus.Error.NoReply",
                "org.freedesktop.DBus.Error.Timeout",
                "org.freedesktop.DBus.Error.TimedOut",
                "org.freedesktop.DBus.Error.Disconnected",
                "org.freedesktop.DBus.Error.ServiceUnknown",
                "org.freedesktop.DBus.Error.NameHasNoOwner",
                "org.freedesktop.systemd1.ShuttingDown",
                "org.freedesktop.systemd1.TransactionIsDestructive",
        };
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            if (sd_bus_error_has_name(e, names[i])) {
                return true;
            }
        }
    }
    switch (r) {
    case -ETIMEDOUT:
    case -ECONNRESET:
    case -ENOTCONN:
    case -EPIPE:
    case -ECONNREFUSED:
    case -ENOENT:
    case -ESHUTDOWN:
    case -ECONNABORTED:
        return true;
    default:
        return false;
    }
}

static const char *err_text(int r, const sd_bus_error *e)
{
    if (e && sd_bus_error_is_set(e)) {
        return e->message ? e->message : e->name;
    }
    return strerror(-r);
}

/* ---------------------------------------------------------------- connection */

static void bus_close(struct ctx *c)
{
    c->bus = sd_bus_close_unref(c->bus); /* no flush: it waits 90 s for a mute peer */
}

/* The manager's address: LK_SYSTEMD_BUS, else the system manager's private socket, else
 * the system bus. An address naming a ".../systemd/private" socket is peer-to-peer. */
static int pick_address(struct ctx *c)
{
    const char *env = getenv(LK_SYSTEMD_ENV_BUS);
    if (env && *env) {
        if (strlen(env) > 1024) {
            return say(LK_SD_EXIT_USAGE, "%s is longer than 1024 bytes", LK_SYSTEMD_ENV_BUS);
        }
        c->address = env;
    } else if (sd_booted() <= 0) {
        return say(LK_SD_EXIT_NO_MANAGER,
                   "this machine's PID 1 is not systemd and %s is not "
                   "set: no systemd manager to run units",
                   LK_SYSTEMD_ENV_BUS);
    } else if (access(SYSTEM_PRIVATE, F_OK) == 0) {
        c->address = "unix:path=" SYSTEM_PRIVATE;
    } else {
        c->address = NULL; /* the system bus */
    }
    c->direct = c->address && strstr(c->address, "/systemd/private") != NULL;
    return 0;
}

static int bus_connect(struct ctx *c)
{
    bus_close(c);
    int r = c->address ? sd_bus_new(&c->bus) : sd_bus_open_system(&c->bus);
    if (r >= 0 && c->address) {
        r = sd_bus_set_address(c->bus, c->address);
        if (r >= 0) {
            r = sd_bus_set_bus_client(c->bus, !c->direct);
        }
        if (r >= 0) {
            r = sd_bus_start(c->bus);
        }
    }
    if (r < 0) {
        bus_close(c);
        return r;
    }
    uint64_t now = now_usec();
    uint64_t left = c->deadline > now ? c->deadline - now : 1;
    uint64_t limit = left < CALL_TIMEOUT_USEC ? left : CALL_TIMEOUT_USEC;
    (void) sd_bus_set_method_call_timeout(c->bus, limit);
    /* The handshake has a timeout of its own (90 s in sd-bus): a manager that does not
     * answer it is waited for only as long as a call would be. */
    uint64_t until = now + limit;
    while ((r = sd_bus_is_ready(c->bus)) == 0) {
        now = now_usec();
        if (now >= until) {
            r = -ETIMEDOUT;
            break;
        }
        r = sd_bus_process(c->bus, NULL);
        if (r == 0) {
            r = sd_bus_wait(c->bus, until - now);
        }
        if (r < 0 && r != -EINTR) {
            break;
        }
    }
    if (r < 0) {
        bus_close(c);
        return r;
    }
    return 0;
}

/* ---------------------------------------------------------------- small questions */

static int unit_path(struct ctx *c)
{
    sd_bus_error e = SD_BUS_ERROR_NULL;
    sd_bus_message *reply = NULL;
    int r = sd_bus_call_method(c->bus, DEST, MANAGER_PATH, MANAGER_IFACE, "LoadUnit", &e, &reply,
                               "s", c->unit);
    if (r < 0) {
        int ret = is_transient(r, &e)
                          ? transient(c, "LoadUnit: %s", err_text(r, &e))
                          : say(LK_SD_EXIT_FAILED, "cannot load %s: %s", c->unit, err_text(r, &e));
        sd_bus_error_free(&e);
        return ret;
    }
    const char *path = NULL;
    r = sd_bus_message_read(reply, "o", &path);
    if (r >= 0) {
        snprintf(c->unit_path, sizeof(c->unit_path), "%s", path);
    }
    sd_bus_message_unref(reply);
    return r < 0 ? say(LK_SD_EXIT_FAILED, "LoadUnit answered oddly: %s", strerror(-r)) : 0;
}

/* A string property into buf; 0, TRANSIENT or a final exit status (said). */
static int get_string(struct ctx *c, const char *path, const char *iface, const char *name,
                      char *buf, size_t size)
{
    sd_bus_error e = SD_BUS_ERROR_NULL;
    char *value = NULL;
    int r = sd_bus_get_property_string(c->bus, DEST, path, iface, name, &e, &value);
    if (r < 0) {
        int ret = is_transient(r, &e) ? transient(c, "reading %s: %s", name, err_text(r, &e))
                                      : say(LK_SD_EXIT_FAILED, "cannot read %s of %s: %s", name,
                                            c->unit, err_text(r, &e));
        sd_bus_error_free(&e);
        return ret;
    }
    snprintf(buf, size, "%s", value);
    free(value);
    return 0;
}

/* The unit must be loaded: not-found, masked or a unit file that does not load is
 * LK_SD_EXIT_NOT_FOUND (this node cannot run it). */
static int check_loaded(struct ctx *c, bool quiet)
{
    char load[64];
    int r = get_string(c, c->unit_path, UNIT_IFACE, "LoadState", load, sizeof(load));
    if (r != 0) {
        return r;
    }
    if (strcmp(load, "loaded") == 0) {
        return 0;
    }
    if (quiet) {
        return LK_SD_EXIT_NOT_FOUND;
    }
    if (strcmp(load, "not-found") == 0) {
        return say(LK_SD_EXIT_NOT_FOUND, "unit %s not found on this node", c->unit);
    }
    if (strcmp(load, "masked") == 0) {
        return say(LK_SD_EXIT_NOT_FOUND, "unit %s is masked on this node", c->unit);
    }
    return say(LK_SD_EXIT_NOT_FOUND, "unit %s does not load on this node (%s)", c->unit, load);
}

struct state {
    char active[32];
    char sub[32];
    char result[32]; /* services only, else "" */
};

static int read_state(struct ctx *c, struct state *s)
{
    memset(s, 0, sizeof(*s));
    int r = get_string(c, c->unit_path, UNIT_IFACE, "ActiveState", s->active, sizeof(s->active));
    if (r == 0) {
        r = get_string(c, c->unit_path, UNIT_IFACE, "SubState", s->sub, sizeof(s->sub));
    }
    if (r == 0 && lk_unit_is_service(c->unit)) {
        r = get_string(c, c->unit_path, SERVICE_IFACE, "Result", s->result, sizeof(s->result));
    }
    return r;
}

static void describe_state(const struct state *s, char *buf, size_t size)
{
    if (s->result[0] && strcmp(s->result, "success") != 0) {
        snprintf(buf, size, "%s (%s, result %s)", s->active, s->sub, s->result);
    } else {
        snprintf(buf, size, "%s (%s)", s->active, s->sub);
    }
}

/* Whether the manager is going down (then a unit that stops is not a failure). */
static bool manager_stopping(struct ctx *c)
{
    char st[64] = "";
    int r = get_string(c, MANAGER_PATH, MANAGER_IFACE, "SystemState", st, sizeof(st));
    return r != 0 || strcmp(st, "stopping") == 0;
}

static int subscribe(struct ctx *c)
{
    sd_bus_error e = SD_BUS_ERROR_NULL;
    int r = sd_bus_call_method(c->bus, DEST, MANAGER_PATH, MANAGER_IFACE, "Subscribe", &e, NULL,
                               "");
    int ret = 0;
    /* Subscribed already (a private connection of ours): fine. */
    if (r < 0 && !sd_bus_error_has_name(&e, "org.freedesktop.systemd1.AlreadySubscribed")) {
        ret = is_transient(r, &e) ? transient(c, "Subscribe: %s", err_text(r, &e))
                                  : say(LK_SD_EXIT_FAILED, "cannot subscribe to the manager: %s",
                                        err_text(r, &e));
    }
    sd_bus_error_free(&e);
    return ret;
}

/* ---------------------------------------------------------------- jobs */

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
    struct ctx *c = userdata;
    (void) ret_error;
    uint32_t id;
    const char *path, *unit, *result;
    if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0) {
        return 0;
    }
    if (c->job[0] && strcmp(path, c->job) == 0) {
        c->job_done = true;
        snprintf(c->job_result, sizeof(c->job_result), "%s", result);
    }
    return 0;
}

/* Whether the job object still exists: 1 yes, 0 gone (finished), or TRANSIENT. */
static int job_exists(struct ctx *c)
{
    sd_bus_error e = SD_BUS_ERROR_NULL;
    char *value = NULL;
    int r = sd_bus_get_property_string(c->bus, DEST, c->job, JOB_IFACE, "State", &e, &value);
    free(value);
    if (r >= 0) {
        return 1;
    }
    int ret = is_transient(r, &e) ? transient(c, "reading the job: %s", err_text(r, &e)) : 0;
    sd_bus_error_free(&e);
    return ret;
}

enum verb { START, STOP, RESTART };

static const char *const method_of[] = {
        [START] = "StartUnit", [STOP] = "StopUnit", [RESTART] = "RestartUnit"};

/* The unit's state after its job: final, or still on its way (activating/deactivating). */
static int judge(struct ctx *c, enum verb v, const struct state *s, bool *pending)
{
    char desc[160];
    describe_state(s, desc, sizeof(desc));
    *pending = false;
    const char *a = s->active;
    if (v == STOP) {
        if (strcmp(a, "failed") == 0) {
            /* Down, but left "failed": made inactive, so the next probe says "stopped". */
            sd_bus_error e = SD_BUS_ERROR_NULL;
            (void) sd_bus_call_method(c->bus, DEST, MANAGER_PATH, MANAGER_IFACE, "ResetFailedUnit",
                                      &e, NULL, "s", c->unit);
            sd_bus_error_free(&e);
        }
        if (strcmp(a, "inactive") == 0 || strcmp(a, "failed") == 0) {
            return say(LK_SD_EXIT_OK, "%s stopped: %s", c->unit, desc);
        }
        if (strcmp(a, "deactivating") == 0) {
            *pending = true;
            return 0;
        }
        return say(LK_SD_EXIT_FAILED, "%s did not stop: %s (job %s)", c->unit, desc,
                   c->job_result[0] ? c->job_result : "gone");
    }
    if (strcmp(a, "active") == 0 || strcmp(a, "reloading") == 0) {
        return say(LK_SD_EXIT_OK, "%s started: %s", c->unit, desc);
    }
    if (strcmp(a, "activating") == 0 ||
        (strcmp(a, "deactivating") == 0 && v == RESTART && !c->job_done)) {
        *pending = true;
        return 0;
    }
    return say(LK_SD_EXIT_FAILED, "%s did not start: %s (job %s)", c->unit, desc,
               c->job_result[0] ? c->job_result : "gone");
}

/* Settles the job: whether it ended, then the unit's state. *finished when the op is over
 * (its status returned, said); 0 with !*finished: wait on; TRANSIENT: retry. */
static int settle(struct ctx *c, enum verb v, bool last, bool *finished)
{
    *finished = false;
    if (!c->job_done) {
        int exists = job_exists(c);
        if (exists < 0) {
            return exists;
        }
        if (exists == 0) {
            c->job_done = true; /* finished while we did not listen (a re-execution) */
        }
    }
    if (!c->job_done) {
        if (last) {
            *finished = true;
            return say(LK_SD_EXIT_FAILED, "%s %s timed out: its job is still running", method_of[v],
                       c->unit);
        }
        return 0;
    }
    struct state s;
    int r = read_state(c, &s);
    if (r != 0) {
        *finished = r != TRANSIENT;
        return r;
    }
    bool pending;
    r = judge(c, v, &s, &pending);
    if (!pending) {
        *finished = true;
        return r;
    }
    if (last) {
        char desc[160];
        describe_state(&s, desc, sizeof(desc));
        *finished = true;
        return say(LK_SD_EXIT_FAILED, "%s timed out: %s is still %s", method_of[v], c->unit, desc);
    }
    return 0;
}

/* Queues the job (mode "replace") and waits for its JobRemoved, then for the unit to
 * settle; a job whose signal was missed is noticed gone by a poll every second. */
static int run_job(struct ctx *c, enum verb v)
{
    sd_bus_slot *slot = NULL;
    int r = sd_bus_match_signal(c->bus, &slot, c->direct ? NULL : DEST, MANAGER_PATH, MANAGER_IFACE,
                                "JobRemoved", on_job_removed, c);
    if (r < 0) {
        return is_transient(r, NULL)
                       ? transient(c, "watching jobs: %s", strerror(-r))
                       : say(LK_SD_EXIT_FAILED, "cannot watch jobs: %s", strerror(-r));
    }
    int ret = subscribe(c);
    c->job[0] = '\0';
    c->job_done = false;
    c->job_result[0] = '\0';
    if (ret == 0) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        r = sd_bus_call_method(c->bus, DEST, MANAGER_PATH, MANAGER_IFACE, method_of[v], &e, &reply,
                               "ss", c->unit, "replace");
        const char *job = NULL;
        if (r < 0) {
            ret = is_transient(r, &e) ? transient(c, "%s: %s", method_of[v], err_text(r, &e))
                                      : say(LK_SD_EXIT_FAILED, "%s %s refused: %s", method_of[v],
                                            c->unit, err_text(r, &e));
        } else if (sd_bus_message_read(reply, "o", &job) < 0 || !job) {
            ret = say(LK_SD_EXIT_FAILED, "%s answered without a job", method_of[v]);
        } else {
            snprintf(c->job, sizeof(c->job), "%s", job);
        }
        sd_bus_message_unref(reply);
        sd_bus_error_free(&e);
    }
    uint64_t next_poll = now_usec() + POLL_USEC;
    bool finished = false;
    while (ret == 0 && !finished) {
        r = sd_bus_process(c->bus, NULL);
        if (r < 0) {
            ret = transient(c, "the connection to the manager broke: %s", strerror(-r));
            break;
        }
        if (r > 0) {
            continue;
        }
        uint64_t now = now_usec();
        if (c->job_done || now >= next_poll || now >= c->deadline) {
            next_poll = now + POLL_USEC;
            ret = settle(c, v, now >= c->deadline, &finished);
            if (ret != 0 || finished) {
                break;
            }
        }
        uint64_t until = next_poll < c->deadline ? next_poll : c->deadline;
        now = now_usec();
        r = sd_bus_wait(c->bus, until > now ? until - now : 0);
        if (r < 0 && r != -EINTR) {
            ret = transient(c, "the connection to the manager broke: %s", strerror(-r));
        }
    }
    sd_bus_slot_unref(slot);
    return ret;
}

/* ---------------------------------------------------------------- the drop-in */

/* The manager's runtime unit directory (/run/systemd/system, $XDG_RUNTIME_DIR/systemd/user
 * for a user manager): the sibling of its ".../systemd/transient" entry in UnitPath. */
static int runtime_dir(struct ctx *c, char *buf, size_t size)
{
    sd_bus_error e = SD_BUS_ERROR_NULL;
    char **paths = NULL;
    int r = sd_bus_get_property_strv(c->bus, DEST, MANAGER_PATH, MANAGER_IFACE, "UnitPath", &e,
                                     &paths);
    if (r < 0) {
        int ret = is_transient(r, &e) ? transient(c, "reading UnitPath: %s", err_text(r, &e))
                                      : say(LK_SD_EXIT_FAILED,
                                            "cannot read the manager's unit "
                                            "path: %s",
                                            err_text(r, &e));
        sd_bus_error_free(&e);
        return ret;
    }
    char base[512] = "";
    for (char **p = paths; p && *p; p++) {
        size_t n = strlen(*p);
        const char *tail = "/systemd/transient";
        if (n > strlen(tail) && n < sizeof(base) && strcmp(*p + n - strlen(tail), tail) == 0) {
            snprintf(base, sizeof(base), "%.*s", (int) (n - strlen("/transient")), *p);
        }
    }
    bool found = false;
    for (char **p = paths; base[0] && p && *p && !found; p++) {
        for (int k = 0; k < 2 && !found; k++) {
            char want[600];
            snprintf(want, sizeof(want), "%s/%s", base, k == 0 ? "system" : "user");
            if (strcmp(*p, want) == 0) {
                snprintf(buf, size, "%s", want);
                found = true;
            }
        }
    }
    for (char **p = paths; p && *p; p++) {
        free(*p);
    }
    free(paths);
    return found ? 0
                 : say(LK_SD_EXIT_FAILED, "the manager names no runtime unit directory in its "
                                          "UnitPath");
}

static int reload(struct ctx *c)
{
    sd_bus_error e = SD_BUS_ERROR_NULL;
    int r = sd_bus_call_method(c->bus, DEST, MANAGER_PATH, MANAGER_IFACE, "Reload", &e, NULL, "");
    int ret = 0;
    if (r < 0) {
        ret = is_transient(r, &e) ? transient(c, "Reload: %s", err_text(r, &e))
                                  : say(LK_SD_EXIT_FAILED, "the manager refused to reload: %s",
                                        err_text(r, &e));
    }
    sd_bus_error_free(&e);
    return ret;
}

static void dropin_text(const char *unit, char *buf, size_t size)
{
    snprintf(buf, size,
             "# Written by OpenKeeper (lk_systemd) while the cluster owns this unit; removed when\n"
             "# the resource is deleted or unextended here (docs/SYSTEMD.md).\n"
             "[Unit]\n"
             "# Shutdown stops this unit before lkd: a unit stops before the units it is\n"
             "# ordered After=, and lkd's own stop then finds it already down.\n"
             "After=" OWNER_UNIT "\n"
             "# Starts and restarts are the cluster's (max-recoveries): no rate limit here.\n"
             "StartLimitIntervalSec=0\n"
             "%s",
             lk_unit_is_service(unit) ? "\n[Service]\n# The cluster, not systemd, decides "
                                        "recovery.\nRestart=no\n"
                                      : "");
}

/* Writes text to path through tmp (written, synced, renamed over path), with mode: the
 * drop-in and the enablement record both. 0, or the exit status after one line. */
static int write_atomically(const char *path, const char *tmp, const char *text, mode_t mode)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) {
        return say(LK_SD_EXIT_FAILED, "cannot write %s: %s", tmp, strerror(errno));
    }
    size_t n = strlen(text);
    bool ok = write(fd, text, n) == (ssize_t) n && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) < 0) {
        int err = errno;
        unlink(tmp);
        return say(LK_SD_EXIT_FAILED, "cannot write %s: %s", path, strerror(err));
    }
    /* The rename itself reaches the disk before what follows acts on it (the enablement
     * record before DisableUnitFiles: a crash must not lose the state to give back). */
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *(slash == dir ? slash + 1 : slash) = '\0';
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        bool synced = dfd >= 0 && fsync(dfd) == 0;
        if (dfd >= 0) {
            close(dfd);
        }
        if (!synced) {
            return say(LK_SD_EXIT_FAILED, "cannot sync the directory of %s: %s", path,
                       strerror(errno));
        }
    }
    return 0;
}

/* Writes the drop-in when it is missing or different; *changed says whether it did. */
static int put_dropin(struct ctx *c, bool *changed)
{
    char dir[600], path[800], want[1024], have[1024] = "";
    *changed = false;
    int r = runtime_dir(c, dir, sizeof(dir));
    if (r != 0) {
        return r;
    }
    size_t len = strlen(dir);
    snprintf(dir + len, sizeof(dir) - len, "/%s.d", c->unit);
    snprintf(path, sizeof(path), "%s/" DROPIN_NAME, dir);
    dropin_text(c->unit, want, sizeof(want));
    FILE *f = fopen(path, "re");
    if (f) {
        size_t n = fread(have, 1, sizeof(have) - 1, f);
        have[n] = '\0';
        fclose(f);
        if (strcmp(have, want) == 0) {
            return 0;
        }
    }
    /* The runtime directory of a user manager may not exist yet. */
    char parent[600];
    snprintf(parent, sizeof(parent), "%.*s", (int) len, dir);
    if ((mkdir(parent, 0755) < 0 && errno != EEXIST) || (mkdir(dir, 0755) < 0 && errno != EEXIST)) {
        return say(LK_SD_EXIT_FAILED, "cannot make %s: %s", dir, strerror(errno));
    }
    char tmp[820];
    snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int) getpid());
    r = write_atomically(path, tmp, want, 0644);
    if (r != 0) {
        return r;
    }
    *changed = true;
    return 0;
}

/* Removes the drop-in (and its directory when that is empty); *changed if it was there. */
static int drop_dropin(struct ctx *c, bool *changed)
{
    char dir[600], path[800];
    *changed = false;
    int r = runtime_dir(c, dir, sizeof(dir));
    if (r != 0) {
        return r;
    }
    size_t len = strlen(dir);
    snprintf(dir + len, sizeof(dir) - len, "/%s.d", c->unit);
    snprintf(path, sizeof(path), "%s/" DROPIN_NAME, dir);
    if (unlink(path) == 0) {
        *changed = true;
    } else if (errno != ENOENT) {
        return say(LK_SD_EXIT_FAILED, "cannot remove %s: %s", path, strerror(errno));
    }
    (void) rmdir(dir);
    return 0;
}

/* ---------------------------------------------------------------- own / release state */

/* $LKROOT/subsys/gen/resources/systemd/<tag>: "unit=<unit>\nenablement=<state>\n", the
 * unit's autostart before the cluster took it. */
static int state_path(char *buf, size_t size, bool make_dir)
{
    const char *root = getenv("LKROOT");
    const char *tag = getenv("LK_TAG");
    if (!root || root[0] != '/' || !tag || !*tag || strchr(tag, '/') || strcmp(tag, ".") == 0 ||
        strcmp(tag, "..") == 0 || strlen(tag) > 255 || strlen(root) > 2048) {
        return say(LK_SD_EXIT_USAGE, "own and release need LKROOT (absolute) and LK_TAG");
    }
    if (make_dir) {
        char dir[2400];
        const char *steps[] = {"subsys", "subsys/gen", "subsys/gen/resources", STATE_SUBDIR};
        for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
            snprintf(dir, sizeof(dir), "%s/%s", root, steps[i]);
            if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
                return say(LK_SD_EXIT_FAILED, "cannot make %s: %s", dir, strerror(errno));
            }
        }
    }
    snprintf(buf, size, "%s/" STATE_SUBDIR "/%s", root, tag);
    return 0;
}

/* The recorded enablement into buf ("" when none was recorded for this unit). */
static void read_record(const char *path, const char *unit, char *buf, size_t size)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "re");
    if (!f) {
        return;
    }
    char line[512];
    bool same_unit = false;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "unit=", 5) == 0) {
            same_unit = strcmp(line + 5, unit) == 0;
        } else if (strncmp(line, "enablement=", 11) == 0 && strlen(line + 11) < 64) {
            snprintf(buf, size, "%s", line + 11);
        }
    }
    fclose(f);
    if (!same_unit) {
        buf[0] = '\0';
    }
}

static int write_record(const char *path, const char *unit, const char *enablement)
{
    char tmp[2600], text[600];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    snprintf(text, sizeof(text), "unit=%s\nenablement=%s\n", unit, enablement);
    return write_atomically(path, tmp, text, 0600);
}

static int unit_file_state(struct ctx *c, char *buf, size_t size)
{
    sd_bus_error e = SD_BUS_ERROR_NULL;
    sd_bus_message *reply = NULL;
    int r = sd_bus_call_method(c->bus, DEST, MANAGER_PATH, MANAGER_IFACE, "GetUnitFileState", &e,
                               &reply, "s", c->unit);
    int ret = 0;
    const char *st = NULL;
    if (r < 0) {
        if (is_transient(r, &e)) {
            ret = transient(c, "GetUnitFileState: %s", err_text(r, &e));
        } else {
            snprintf(buf, size, "none"); /* no unit file (transient, generated) */
        }
    } else if (sd_bus_message_read(reply, "s", &st) >= 0 && st && strlen(st) < 64) {
        snprintf(buf, size, "%s", st);
    } else {
        snprintf(buf, size, "unknown");
    }
    sd_bus_message_unref(reply);
    sd_bus_error_free(&e);
    return ret;
}

/* EnableUnitFiles / DisableUnitFiles for the unit alone. */
static int set_enabled(struct ctx *c, bool enable, bool runtime)
{
    sd_bus_error e = SD_BUS_ERROR_NULL;
    sd_bus_message *m = NULL;
    int r = sd_bus_message_new_method_call(c->bus, &m, DEST, MANAGER_PATH, MANAGER_IFACE,
                                           enable ? "EnableUnitFiles" : "DisableUnitFiles");
    if (r >= 0) {
        r = sd_bus_message_append_strv(m, (char *[]){(char *) (uintptr_t) c->unit, NULL});
    }
    if (r >= 0) {
        r = enable ? sd_bus_message_append(m, "bb", runtime, false)
                   : sd_bus_message_append(m, "b", runtime);
    }
    if (r >= 0) {
        r = sd_bus_call(c->bus, m, 0, &e, NULL);
    }
    sd_bus_message_unref(m);
    int ret = 0;
    if (r < 0) {
        ret = is_transient(r, &e) ? transient(c, "%s: %s",
                                              enable ? "EnableUnitFiles"
                                                     : "Disable"
                                                       "UnitFiles",
                                              err_text(r, &e))
                                  : say(LK_SD_EXIT_FAILED, "cannot %s %s: %s",
                                        enable ? "re-enable" : "disable", c->unit, err_text(r, &e));
    }
    sd_bus_error_free(&e);
    return ret;
}

static bool is_enabled(const char *st, bool *runtime)
{
    *runtime = strcmp(st, "enabled-runtime") == 0;
    return strcmp(st, "enabled") == 0 || *runtime;
}

static int op_own(struct ctx *c)
{
    char path[2600], recorded[64], now_state[64];
    int r = state_path(path, sizeof(path), true);
    if (r == 0) {
        r = unit_path(c);
    }
    if (r == 0) {
        r = check_loaded(c, false);
    }
    if (r == 0) {
        r = unit_file_state(c, now_state, sizeof(now_state));
    }
    if (r != 0) {
        return r;
    }
    read_record(path, c->unit, recorded, sizeof(recorded));
    if (!recorded[0]) {
        /* The first own: what the unit was before the cluster took it. A later own (lkd
         * started again, a second extend) keeps that, never the disabled state we made. */
        r = write_record(path, c->unit, now_state);
        if (r != 0) {
            return r;
        }
        snprintf(recorded, sizeof(recorded), "%s", now_state);
    }
    bool runtime;
    bool disabled = false;
    if (is_enabled(now_state, &runtime)) {
        r = set_enabled(c, false, runtime);
        if (r != 0) {
            return r;
        }
        disabled = true;
    }
    bool changed;
    r = put_dropin(c, &changed);
    if (r == 0 && (changed || disabled)) {
        r = reload(c);
    }
    if (r != 0) {
        return r;
    }
    return say(LK_SD_EXIT_OK, "%s owned: drop-in in place, autostart %s (was %s)", c->unit,
               disabled ? "disabled" : "off", recorded);
}

static int op_release(struct ctx *c)
{
    char path[2600], recorded[64];
    int r = state_path(path, sizeof(path), false);
    if (r != 0) {
        return r;
    }
    read_record(path, c->unit, recorded, sizeof(recorded));
    bool changed;
    r = drop_dropin(c, &changed);
    bool runtime;
    bool enable = r == 0 && is_enabled(recorded, &runtime);
    if (enable) {
        char now_state[64];
        r = unit_file_state(c, now_state, sizeof(now_state));
        bool now_runtime;
        if (r == 0 && !is_enabled(now_state, &now_runtime)) {
            r = set_enabled(c, true, runtime);
        }
    }
    if (r == 0 && (changed || enable)) {
        r = reload(c);
    }
    if (r != 0) {
        return r;
    }
    if (unlink(path) < 0 && errno != ENOENT) {
        return say(LK_SD_EXIT_FAILED, "cannot remove %s: %s", path, strerror(errno));
    }
    char lock[2700];
    snprintf(lock, sizeof(lock), "%s.watch", path);
    (void) unlink(lock);
    return say(LK_SD_EXIT_OK, "%s released: drop-in removed, autostart %s", c->unit,
               enable        ? "enabled again"
               : recorded[0] ? "left as it was"
                             : "untouched");
}

/* $LKROOT/subsys/gen/resources/systemd/<tag>.watch: every watcher of the resource holds a
 * shared lock on it while it lives, so that stop can wait for them to go (a watcher left
 * behind in the resource's cgroup would be killed by lkd after the remove, with a warning).
 * -1 without LKROOT and LK_TAG (run by hand). */
static int watch_lock(bool make)
{
    const char *root = getenv("LKROOT");
    const char *tag = getenv("LK_TAG");
    if (!root || root[0] != '/' || !tag || !*tag || strchr(tag, '/') || tag[0] == '.' ||
        strlen(tag) > 255 || strlen(root) > 2048) {
        return -1;
    }
    char path[2600];
    if (make) {
        const char *steps[] = {"subsys", "subsys/gen", "subsys/gen/resources", STATE_SUBDIR};
        for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
            snprintf(path, sizeof(path), "%s/%s", root, steps[i]);
            if (mkdir(path, 0700) < 0 && errno != EEXIST) {
                return -1;
            }
        }
    }
    snprintf(path, sizeof(path), "%s/" STATE_SUBDIR "/%s.watch", root, tag);
    return open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | (make ? O_CREAT : 0), 0600);
}

/* After a stop: waits (at most WATCHERS_GONE_USEC) until no watcher holds the lock. */
static void wait_watchers_gone(void)
{
    int fd = watch_lock(false);
    if (fd < 0) {
        return;
    }
    uint64_t until = now_usec() + WATCHERS_GONE_USEC;
    while (flock(fd, LOCK_EX | LOCK_NB) < 0 && now_usec() < until) {
        usleep(20000);
    }
    close(fd);
}

/* ---------------------------------------------------------------- status, watch */

static int op_status(struct ctx *c)
{
    int r = unit_path(c);
    if (r == 0) {
        r = check_loaded(c, false);
    }
    struct state s;
    if (r == 0) {
        r = read_state(c, &s);
    }
    if (r != 0) {
        return r;
    }
    char desc[160];
    describe_state(&s, desc, sizeof(desc));
    const char *a = s.active;
    if (strcmp(a, "active") == 0 || strcmp(a, "reloading") == 0) {
        return say(LK_SD_EXIT_OK, "%s is %s", c->unit, desc);
    }
    if (strcmp(a, "activating") == 0 || strcmp(a, "deactivating") == 0) {
        return say(LK_SD_EXIT_PENDING, "pending: %s is %s", c->unit, desc);
    }
    if (manager_stopping(c)) {
        return say(LK_SD_EXIT_PENDING, "pending: %s is %s while the manager shuts down", c->unit,
                   desc);
    }
    if (strcmp(a, "inactive") == 0) {
        return say(LK_SD_EXIT_INACTIVE, "%s is %s", c->unit, desc);
    }
    return say(LK_SD_EXIT_FAILED, "%s is %s", c->unit, desc);
}

static int on_props(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
    struct ctx *c = userdata;
    (void) m;
    (void) ret_error;
    c->changed = true;
    return 0;
}

/* Follows the unit until it is no longer active; returns TRANSIENT when the connection
 * broke, else the exit status (said). */
static int watch_once(struct ctx *c)
{
    int r = unit_path(c);
    if (r == 0) {
        r = check_loaded(c, false);
    }
    if (r != 0) {
        return r;
    }
    sd_bus_slot *slot = NULL;
    r = sd_bus_match_signal(c->bus, &slot, c->direct ? NULL : DEST, c->unit_path, PROPS_IFACE,
                            "PropertiesChanged", on_props, c);
    if (r < 0) {
        return transient(c, "watching %s: %s", c->unit, strerror(-r));
    }
    int ret = subscribe(c);
    c->changed = true;
    while (ret == 0) {
        if (c->changed) {
            c->changed = false;
            struct state s;
            ret = read_state(c, &s);
            if (ret != 0) {
                break;
            }
            const char *a = s.active;
            bool up = strcmp(a, "active") == 0 || strcmp(a, "reloading") == 0 ||
                      strcmp(a, "activating") == 0;
            if (!up && !manager_stopping(c)) {
                char desc[160];
                describe_state(&s, desc, sizeof(desc));
                ret = say(strcmp(a, "failed") == 0 ? LK_SD_EXIT_FAILED : LK_SD_EXIT_INACTIVE,
                          "%s went %s", c->unit, desc);
                break;
            }
        }
        r = sd_bus_process(c->bus, NULL);
        if (r < 0) {
            ret = transient(c, "the connection to the manager broke: %s", strerror(-r));
        } else if (r == 0) {
            r = sd_bus_wait(c->bus, UINT64_MAX);
            if (r < 0 && r != -EINTR) {
                ret = transient(c, "the connection to the manager broke: %s", strerror(-r));
            }
        }
    }
    sd_bus_slot_unref(slot);
    return ret;
}

/* A watcher left behind by start/restart in the run's cgroup (the resource's): its exit is
 * how lkd learns at once that the unit went down (docs/SYSTEMD.md, "Watch"). */
static void spawn_watcher(const char *unit)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) {
        return;
    }
    self[n] = '\0';
    pid_t pid = fork();
    if (pid != 0) {
        return;
    }
    (void) setsid();
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        dup2(fd, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
    }
    unsetenv(LK_SYSTEMD_ENV_WATCH);
    execl(self, PROG, "watch", unit, (char *) NULL);
    _exit(127);
}

/* ---------------------------------------------------------------- main */

enum cmd { C_START, C_STOP, C_RESTART, C_STATUS, C_WATCH, C_OWN, C_RELEASE, C_COUNT };

static const char *const cmd_name[C_COUNT] = {"start", "stop", "restart", "status",
                                              "watch", "own",  "release"};

static int run_cmd(struct ctx *c, enum cmd cmd, bool retried)
{
    switch (cmd) {
    case C_START:
    case C_RESTART: {
        int r = unit_path(c);
        if (r == 0) {
            r = check_loaded(c, false);
        }
        bool changed = false;
        if (r == 0) {
            r = put_dropin(c, &changed); /* the cluster owns what it starts */
        }
        if (r == 0 && changed) {
            r = reload(c);
        }
        if (r == 0) {
            /* A failed unit starts afresh: its failure and start counter are forgotten. */
            sd_bus_error e = SD_BUS_ERROR_NULL;
            (void) sd_bus_call_method(c->bus, DEST, MANAGER_PATH, MANAGER_IFACE, "ResetFailedUnit",
                                      &e, NULL, "s", c->unit);
            sd_bus_error_free(&e);
        }
        /* A restart whose call may have gone through is not repeated: start it instead. */
        return r != 0 ? r : run_job(c, cmd == C_RESTART && !retried ? RESTART : START);
    }
    case C_STOP: {
        int r = unit_path(c);
        if (r == 0) {
            r = check_loaded(c, true);
            if (r == LK_SD_EXIT_NOT_FOUND) {
                return say(LK_SD_EXIT_OK, "%s is not loaded here: nothing runs", c->unit);
            }
        }
        struct state s;
        if (r == 0) {
            r = read_state(c, &s);
        }
        /* Down already (a shutdown stopped it before lkd, After=lkd.service): no job, which
         * a manager going down might refuse. */
        if (r == 0 && strcmp(s.active, "inactive") == 0) {
            char desc[160];
            describe_state(&s, desc, sizeof(desc));
            return say(LK_SD_EXIT_OK, "%s stopped already: %s", c->unit, desc);
        }
        return r != 0 ? r : run_job(c, STOP);
    }
    case C_STATUS:
        return op_status(c);
    case C_OWN:
        return op_own(c);
    case C_RELEASE:
        return op_release(c);
    default:
        return watch_once(c);
    }
}

static int usage(void)
{
    return say(LK_SD_EXIT_USAGE,
               "usage: lk_systemd start|stop|restart|status|watch|own|release UNIT");
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        return usage();
    }
    enum cmd cmd = C_COUNT;
    for (int i = 0; i < C_COUNT; i++) {
        if (strcmp(argv[1], cmd_name[i]) == 0) {
            cmd = (enum cmd) i;
        }
    }
    if (cmd == C_COUNT) {
        return usage();
    }
    char err[256];
    if (!lk_unit_name_valid(argv[2], err, sizeof(err))) {
        return say(LK_SD_EXIT_USAGE, "%s", err);
    }
    signal(SIGPIPE, SIG_IGN);
    uint64_t timeout_ms = DEFAULT_TIMEOUT_MS;
    const char *t = getenv(LK_SYSTEMD_ENV_TIMEOUT);
    if (t && *t) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(t, &end, 10);
        if (errno || *end || v == 0 || v > 86400000ULL) {
            return say(LK_SD_EXIT_USAGE, "%s must be 1..86400000", LK_SYSTEMD_ENV_TIMEOUT);
        }
        timeout_ms = v;
    }
    /* Answer before the runner's timeout kills us: a tenth of the budget, at most 2 s. */
    uint64_t margin = timeout_ms / 10 < 2000 ? timeout_ms / 10 : 2000;
    struct ctx c = {.unit = argv[2]};
    c.deadline = cmd == C_WATCH ? UINT64_MAX : now_usec() + (timeout_ms - margin) * 1000ULL;
    int ret = pick_address(&c);
    if (ret != 0) {
        return ret;
    }
    int lock_fd = -1;
    if (cmd == C_WATCH) {
        lock_fd = watch_lock(true);
        if (lock_fd >= 0) {
            (void) flock(lock_fd, LOCK_SH);
        }
    }
    bool connected = false;
    bool retried = false;
    uint64_t gone_since = 0;
    for (;;) {
        int r = bus_connect(&c);
        if (r < 0 && !connected && r != -ETIMEDOUT) {
            ret = say(LK_SD_EXIT_NO_MANAGER, "cannot reach the systemd manager at %s: %s",
                      c.address ? c.address : "the system bus", strerror(-r));
            break;
        }
        if (r < 0) {
            ret = transient(&c, "%s: %s",
                            connected ? "cannot reach the manager again"
                                      : "the manager does not answer",
                            strerror(-r));
        } else {
            connected = true;
            gone_since = 0;
            ret = run_cmd(&c, cmd, retried);
        }
        if (ret != TRANSIENT) {
            break;
        }
        retried = true;
        uint64_t now = now_usec();
        if (cmd == C_WATCH) {
            gone_since = gone_since ? gone_since : now;
            if (now - gone_since > WATCH_GONE_USEC) {
                ret = say(LK_SD_EXIT_FAILED, "the manager stayed away: %s", c.why);
                break;
            }
        } else if (now + RETRY_USEC >= c.deadline) {
            ret = say(LK_SD_EXIT_PENDING, "pending: %s", c.why);
            break;
        }
        bus_close(&c);
        usleep(RETRY_USEC);
    }
    bus_close(&c);
    if (lock_fd >= 0) {
        close(lock_fd);
    }
    if (ret == LK_SD_EXIT_OK && cmd == C_STOP) {
        wait_watchers_gone();
    }
    if (ret == LK_SD_EXIT_OK && (cmd == C_START || cmd == C_RESTART)) {
        const char *w = getenv(LK_SYSTEMD_ENV_WATCH);
        if (w && strcmp(w, "1") == 0) {
            spawn_watcher(c.unit);
        }
    }
    return ret;
}
