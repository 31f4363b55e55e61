/* Runs cut short by lkd's own death (issue 10, "a crash in the middle of an action").
 *
 * Each restore, remove and recover run leaves a note, $LKROOT/run/actions/<tag>: the boot,
 * the script's pid (also its process group), the process's start time and the action. The
 * note goes when the run's end reaches the executor; a note found at the next start is a
 * run whose end lkd never saw. If that process still runs (same boot, same pid, same start
 * time), the start-up waits for it to finish, within the action's timeout, and kills it
 * (its resource's cgroup with containment, else its process group) when it does not: only
 * then does the engine probe, remove or restore anything, so an interrupted restore is
 * never run a second time beside the first. No fsync: run/ describes this boot only, and a
 * crash of the machine ends the runs too.
 *
 * Never signals a process whose start time does not match its note, never decides. */
#include "interrupted.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup.h"
#include "eventlog.h"
#include "procinfo.h"
#include "safeopen.h"
#include "scripts.h"

#define KILL_GRACE_USEC (5ULL * 1000 * 1000)

struct waiter {
    struct lk_interrupted *owner;
    char tag[LK_TAG_MAX + 1];
    enum lk_action action;
    int pid;
    int pidfd;
    uv_poll_t poll;
    uv_timer_t timer;
    int open_handles;
    bool done;
};

struct lk_interrupted {
    struct lk_node *node;
    lk_interrupted_done_cb cb;
    size_t pending;
    bool reported;
};

static void note_path(const char *root, const char *tag, char *buf, size_t size)
{
    snprintf(buf, size, "%s/run/actions/%s", root, tag);
}

static void boot_id(char buf[64])
{
    buf[0] = '\0';
    int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return;
    }
    ssize_t n = read(fd, buf, 63);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
}

void lk_interrupted_note(const char *root, const char *tag, enum lk_action action, int pid)
{
    char dir[LK_PATH_MAX + 64], path[LK_PATH_MAX + 128], tmp[LK_PATH_MAX + 160], boot[64];
    snprintf(dir, sizeof(dir), "%s/run/actions", root);
    (void) mkdir(dir, 0755);
    note_path(root, tag, path, sizeof(path));
    snprintf(tmp, sizeof(tmp), "%s.new", path);
    boot_id(boot);
    /* Neither blocking on a FIFO nor writing through a link left at the temporary name. */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        if (fd >= 0) {
            (void) close(fd);
        }
        return;
    }
    fprintf(f, "%s %d %llu %s\n", boot[0] ? boot : "-", pid, lk_proc_start_ticks(pid),
            lk_action_name(action));
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        (void) unlink(tmp);
    }
}

void lk_interrupted_clear(const char *root, const char *tag)
{
    char path[LK_PATH_MAX + 128];
    note_path(root, tag, path, sizeof(path));
    (void) unlink(path);
}

/* Reads tag's note; returns the pid of a run that still runs, else 0 (and removes a note
 * that describes nothing alive). A malformed note is dropped. */
static int read_note(const char *root, const char *tag, enum lk_action *ret_action)
{
    char path[LK_PATH_MAX + 128], line[256], boot[64], nboot[64], action[32];
    note_path(root, tag, path, sizeof(path));
    /* run/ is root's, but a FIFO there must not hang the start (safeopen.h). */
    static const struct lk_safeopen_rules rules = {.max_size = 4096, .trusted_owner = true};
    char *text = NULL, why[LK_PATH_MAX + 160];
    size_t len = 0;
    bool ok = lk_safeopen_read(path, &rules, 0, &text, &len, NULL, why, sizeof(why)) == 0;
    if (!ok && access(path, F_OK) != 0) {
        return 0; /* no note */
    }
    if (ok) {
        snprintf(line, sizeof(line), "%s", text);
        free(text);
    }
    int pid = 0;
    unsigned long long ticks = 0;
    ok = ok && sscanf(line, "%63s %d %llu %31s", nboot, &pid, &ticks, action) == 4 && pid > 1 &&
         pid != getpid() && (*ret_action = lk_action_from_name(action)) != LK_ACTION_NONE;
    boot_id(boot);
    ok = ok && strcmp(boot, nboot) == 0 && ticks != 0 && lk_proc_start_ticks(pid) == ticks;
    if (!ok) {
        (void) unlink(path);
        return 0;
    }
    return pid;
}

static void finish_one(struct waiter *w, const char *what)
{
    if (w->done) {
        return;
    }
    w->done = true;
    struct lk_interrupted *in = w->owner;
    lk_eventlog_msg(in->node, w->tag, LK_MSG_INTERRUPTED_RUN, lk_action_name(w->action), w->pid,
                    what);
    lk_interrupted_clear(in->node->root, w->tag);
    if (--in->pending == 0 && !in->reported) {
        in->reported = true;
        in->cb(in->node);
    }
}

static void on_closed(uv_handle_t *h)
{
    struct waiter *w = h->data;
    if (--w->open_handles == 0) {
        if (w->pidfd >= 0) {
            close(w->pidfd);
        }
        free(w);
    }
}

static void close_waiter(struct waiter *w)
{
    if (!uv_is_closing((uv_handle_t *) &w->timer)) {
        uv_close((uv_handle_t *) &w->timer, on_closed);
    }
    if (w->pidfd >= 0 && !uv_is_closing((uv_handle_t *) &w->poll)) {
        uv_close((uv_handle_t *) &w->poll, on_closed);
    }
}

static void on_exit_seen(uv_poll_t *poll, int status, int events)
{
    (void) status;
    (void) events;
    struct waiter *w = poll->data;
    finish_one(w, "it finished by itself; the resource is probed now");
    close_waiter(w);
}

static void on_killed(void *userdata, const char *tag, bool empty, const char *before)
{
    struct waiter *w = userdata;
    (void) tag;
    (void) before;
    finish_one(w, empty ? "it did not finish within the action's timeout: everything in the "
                          "resource's cgroup was killed"
                        : "it did not finish within the action's timeout and survived "
                          "SIGKILL");
    /* The kill's hold on the waiter ends here. */
    if (--w->open_handles == 0) {
        if (w->pidfd >= 0) {
            close(w->pidfd);
        }
        free(w);
    }
}

static void on_timeout(uv_timer_t *timer)
{
    struct waiter *w = timer->data;
    struct lk_node *node = w->owner->node;
    uv_poll_stop(&w->poll);
    /* The kill holds the waiter until on_killed: its handles close now. */
    w->open_handles++;
    if (node->cgroups &&
        lk_cgroups_kill(node->cgroups, node->loop, w->tag, KILL_GRACE_USEC, on_killed, w) == 0) {
        close_waiter(w);
        return;
    }
    w->open_handles--;
    (void) kill(-w->pid, SIGKILL);
    finish_one(w, "it did not finish within the action's timeout: its process group was "
                  "killed");
    close_waiter(w);
}

static bool watch_run(struct lk_interrupted *in, const struct lk_resource *res, int pid,
                      enum lk_action action)
{
    struct lk_node *node = in->node;
    struct waiter *w = calloc(1, sizeof(*w));
    if (!w) {
        return false;
    }
    w->owner = in;
    w->pid = pid;
    w->action = action;
    snprintf(w->tag, sizeof(w->tag), "%s", res->tag);
    w->pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
    if (w->pidfd < 0 || uv_poll_init(node->loop, &w->poll, w->pidfd) < 0) {
        if (w->pidfd >= 0) {
            close(w->pidfd);
        }
        free(w);
        return false;
    }
    w->poll.data = w;
    w->open_handles++;
    uv_timer_init(node->loop, &w->timer);
    w->timer.data = w;
    w->open_handles++;
    in->pending++;
    uv_poll_start(&w->poll, UV_READABLE, on_exit_seen);
    uint64_t timeout = lk_scripts_timeout(res, action);
    if (timeout > 0) {
        uv_timer_start(&w->timer, on_timeout, timeout / 1000 + 1, 0);
    }
    return true;
}

size_t lk_interrupted_wait(struct lk_node *node, lk_interrupted_done_cb cb)
{
    static struct lk_interrupted in;
    in = (struct lk_interrupted){.node = node, .cb = cb};
    for (size_t i = 0; i < node->count; i++) {
        const struct lk_resource *res = node->resources[i];
        enum lk_action action = LK_ACTION_RESTORE;
        int pid = read_note(node->root, res->tag, &action);
        if (pid > 0 && !watch_run(&in, res, pid, action)) {
            (void) kill(-pid, SIGKILL);
            lk_interrupted_clear(node->root, res->tag);
        }
    }
    in.reported = in.pending == 0;
    return in.pending;
}
