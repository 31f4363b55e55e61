/* The watcher of the LifeKeeper names of the script copies: LifeKeeper's update scripts
 * and administrators replace a gen/app script by writing the file LifeKeeper runs
 * ($LKROOT/subsys/gen/resources/app/actions/!restore/TAG, `cp -f`, `lcdrcp`, an editor);
 * here such a write becomes an update-script of that action, taken through the same
 * definitions writer as the command (define.c: validated, one version step, copies at
 * both names) and sent to the peers through the caller's push (main.c: the cluster).
 *
 * Events enter from inotify (one descriptor on the five directories, polled on the loop):
 * IN_MODIFY (a writer is at it: wait for its close), IN_CLOSE_WRITE and IN_MOVED_TO (a
 * writer finished), IN_DELETE and IN_MOVED_FROM (a file went), IN_Q_OVERFLOW (look at
 * everything again). Each name waits LK_SCRIPTWATCH_SETTLE_MS
 * after its last notification, then its file is read, checked again (the same inode, size
 * and times) and compared with the copy: the same content is nothing, which is also what
 * the daemon's own writes of these files come to. This file must never run a script, take
 * a file it read while it was changing, leave a refused file in place (it is put back to
 * the copy, or removed when there is none, with an event), or call up into the cluster. */
#include "scriptwatch.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "catalog.h"
#include "define.h"
#include "eventlog.h"
#include "log.h"
#include "scripts.h"
#include "validate.h"

#define PENDING_MAX    256 /* names waiting; more: everything is looked at again */
#define SETTLE_TRIES   50  /* re-reads of a file that keeps changing before it is refused */
#define WRITING_TRIES  300 /* settle times a writer may keep a file open (60 s) */
#define RETRY_WATCH_MS 1000
#define WATCH_EVENTS                                                                               \
    (IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR)

struct pending {
    enum lk_action action;
    char tag[LK_TAG_MAX + 1];
    uint64_t due_usec;
    unsigned tries;
    bool writing; /* modified, and its writer has not closed it yet */
};

struct lk_scriptwatch {
    struct lk_node *node;
    lk_scriptwatch_push_cb push;
    void *userdata;
    int fd; /* inotify; -1 when the directories are not watched */
    int wd[LK_ACTION_COUNT];
    uv_poll_t poll;
    uv_timer_t timer;
    int open_handles;
    bool stopping;
    bool rescan; /* every file and every resource, quietly (start, overflow, a lost watch) */
    uint64_t rescan_due_usec;
    struct pending pending[PENDING_MAX];
    size_t count;
};

static void on_timer(uv_timer_t *t);

static void on_close(uv_handle_t *h)
{
    struct lk_scriptwatch *w = h->data;
    if (--w->open_handles == 0) {
        if (w->fd >= 0) {
            close(w->fd);
        }
        free(w);
    }
}

static void arm(struct lk_scriptwatch *w)
{
    if (w->stopping) {
        return;
    }
    uint64_t first = UINT64_MAX;
    for (size_t i = 0; i < w->count; i++) {
        if (w->pending[i].due_usec < first) {
            first = w->pending[i].due_usec;
        }
    }
    if (w->rescan && w->rescan_due_usec < first) {
        first = w->rescan_due_usec;
    }
    if (first == UINT64_MAX) {
        uv_timer_stop(&w->timer);
        return;
    }
    uint64_t now = lk_mono_usec();
    uint64_t ms = first > now ? (first - now + 999) / 1000 : 0;
    uv_timer_start(&w->timer, on_timer, ms, 0);
}

/* Looks at tag's file for action once it has been quiet for the settle time; a name seen
 * again waits again. tries: how often it was found still changing; writing: the latest
 * notification was a write, not yet followed by its writer's close. */
static void queue(struct lk_scriptwatch *w, enum lk_action action, const char *tag, unsigned tries,
                  bool writing)
{
    uint64_t due = lk_mono_usec() + LK_SCRIPTWATCH_SETTLE_MS * 1000ULL;
    for (size_t i = 0; i < w->count; i++) {
        struct pending *p = &w->pending[i];
        if (p->action == action && strcmp(p->tag, tag) == 0) {
            p->due_usec = due;
            p->tries = tries > p->tries ? tries : p->tries;
            p->writing = writing;
            arm(w);
            return;
        }
    }
    if (w->count == PENDING_MAX) {
        /* Too many at once: all of them are looked at again instead. */
        if (!w->rescan) {
            w->rescan = true;
            w->rescan_due_usec = due;
        }
    } else {
        struct pending *p = &w->pending[w->count++];
        p->action = action;
        snprintf(p->tag, sizeof(p->tag), "%s", tag);
        p->due_usec = due;
        p->tries = tries;
        p->writing = writing;
    }
    arm(w);
}

/* Writes the copy of res's action at its LifeKeeper name. 0 or -errno with err. */
static int put_back(struct lk_scriptwatch *w, const char *tag, enum lk_action action, char *err,
                    size_t err_size)
{
    unsigned char *copy = NULL;
    size_t len = 0;
    int r = lk_scripts_read(w->node->root, action, tag, false, &copy, &len, NULL, err, err_size);
    if (r == 0) {
        r = lk_scripts_install_lk(w->node->root, tag, action, copy, len, err, err_size);
    }
    free(copy);
    return r;
}

/* A file that is not taken: put back to the copy when the resource has one, else
 * removed; event 1756 says why and which. */
static void refuse(struct lk_scriptwatch *w, const struct lk_resource *res, enum lk_action action,
                   const char *path, const char *why)
{
    char err[512] = "", done[640];
    if (res->has_script[action] && put_back(w, res->tag, action, err, sizeof(err)) == 0) {
        snprintf(done, sizeof(done), "the file is put back to the current %s script",
                 lk_action_name(action));
    } else if (res->has_script[action]) {
        (void) unlink(path);
        snprintf(done, sizeof(done), "the file is removed (it could not be put back: %s)", err);
    } else {
        (void) unlink(path);
        snprintf(done, sizeof(done), "the file is removed ('%s' has no %s script)", res->tag,
                 lk_action_name(action));
    }
    lk_eventlog_msg(w->node, res->tag, LK_MSG_LKFILE_REFUSED, path, why, done);
}

static bool same_stat(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Whether st changed less than the settle time ago (a writer may still be at it). */
static bool recent(const struct stat *st)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t changed = (int64_t) st->st_ctim.tv_sec * 1000 + st->st_ctim.tv_nsec / 1000000;
    int64_t ms = (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
    return ms - changed < LK_SCRIPTWATCH_SETTLE_MS && ms >= changed - 1000;
}

/* The file tag's action has at its LifeKeeper name, looked at once it settled. quiet: a
 * missing file of a resource is written without an event (start, a rescan). */
static void check(struct lk_scriptwatch *w, enum lk_action action, const char *tag, bool quiet,
                  unsigned tries, bool writing)
{
    struct lk_node *node = w->node;
    char path[LK_PATH_MAX + 256], err[512] = "";
    lk_scripts_lk_path(node->root, action, tag, path, sizeof(path));
    const struct lk_resource *res = lk_node_find(node, tag);
    bool gen = res && strcmp(res->app, "gen") == 0;
    struct stat st;
    if (lstat(path, &st) < 0) {
        /* Gone: a resource's file is put back (removing a script is not a write). */
        if (errno == ENOENT && gen && res->has_script[action] &&
            put_back(w, tag, action, err, sizeof(err)) == 0 && !quiet) {
            lk_eventlog_msg(node, tag, LK_MSG_LKFILE_PUT_BACK, path);
        }
        return;
    }
    if (!gen) {
        char why[LK_TAG_MAX + 128];
        if (res) {
            snprintf(why, sizeof(why), "'%s' is a %s resource, which has no scripts", tag,
                     res->app);
        } else {
            snprintf(why, sizeof(why), "no resource '%s' is defined on this node", tag);
        }
        (void) unlink(path);
        lk_eventlog_msg(node, res ? tag : NULL, LK_MSG_LKFILE_UNKNOWN, path, why);
        return;
    }
    unsigned char *data = NULL, *copy = NULL;
    size_t len = 0, copy_len = 0;
    struct stat read_st, again;
    int r = lk_scripts_read(node->root, action, tag, true, &data, &len, &read_st, err, sizeof(err));
    if (r == -ENOENT) {
        return; /* gone meanwhile: its notification follows */
    }
    if (r < 0) {
        refuse(w, res, action, path, err);
        return;
    }
    char copy_err[512];
    struct stat copy_st;
    bool have_copy = res->has_script[action] &&
                     lk_scripts_read(node->root, action, tag, false, &copy, &copy_len, &copy_st,
                                     copy_err, sizeof(copy_err)) == 0;
    if (have_copy && copy_len == len && memcmp(copy, data, len) == 0) {
        free(copy);
        free(data);
        return; /* the same content: our own write, or nothing new */
    }
    free(copy);
    /* Changed before the copy was last written: not an administrator's write but what the
     * file held before lkd wrote the copy and then failed, or was killed, before it wrote
     * this file too (lk_scripts_install writes the copy first). Taking it would put the old
     * script back over a newer definition on every node; it is put back to the copy. A
     * write (in place, or a rename into the directory) always sets a newer ctime. */
    if (have_copy && (read_st.st_ctim.tv_sec < copy_st.st_ctim.tv_sec ||
                      (read_st.st_ctim.tv_sec == copy_st.st_ctim.tv_sec &&
                       read_st.st_ctim.tv_nsec < copy_st.st_ctim.tv_nsec))) {
        free(data);
        if (put_back(w, tag, action, err, sizeof(err)) == 0) {
            lk_log(LK_LOG_NOTICE, "'%s' was older than the %s script copy: put back from it", path,
                   lk_action_name(action));
        } else {
            refuse(w, res, action, path, "it is older than the script copy");
        }
        return;
    }
    /* Taken only as it was once its writer was done: the same file, unchanged since it was
     * read, and not changed within the settle time (a second writer may be at it). */
    if (writing || lstat(path, &again) < 0 || !same_stat(&read_st, &again) || recent(&again)) {
        free(data);
        unsigned max = writing ? WRITING_TRIES : SETTLE_TRIES;
        if (tries + 1 >= max) {
            char why[128];
            snprintf(why, sizeof(why), "it was %s for %u s",
                     writing ? "held open by its writer" : "still changing",
                     max * LK_SCRIPTWATCH_SETTLE_MS / 1000);
            refuse(w, res, action, path, why);
        } else {
            queue(w, action, tag, tries + 1, writing);
        }
        return;
    }
    /* An update-script of this action, validated as the command validates its content; an
     * action the resource lacks is added, as the command adds it. */
    if (lk_validate_script(data, len, err, sizeof(err)) < 0 ||
        lk_define_script(node, tag, action, data, len, err, sizeof(err)) < 0) {
        free(data);
        refuse(w, res, action, path, err);
        return;
    }
    free(data);
    if (w->push) {
        w->push(w->userdata, tag);
    }
    lk_eventlog_msg(node, tag, LK_MSG_SCRIPT_UPDATED, lk_action_name(action));
    lk_eventlog_msg(node, tag, LK_MSG_LKFILE_TAKEN, lk_action_name(action), path,
                    (unsigned long long) len);
}

/* Watches the directories not watched yet (made first). Event 1759 for each that cannot
 * be, once per loss. */
static void add_watches(struct lk_scriptwatch *w)
{
    for (int a = 0; w->fd >= 0 && a < LK_ACTION_COUNT; a++) {
        if (w->wd[a] >= 0) {
            continue;
        }
        char dir[LK_PATH_MAX + 256];
        lk_scripts_lk_dir(w->node->root, (enum lk_action) a, dir, sizeof(dir));
        int r = lk_scripts_mkdir(dir, 0755);
        if (r == 0) {
            w->wd[a] = inotify_add_watch(w->fd, dir, WATCH_EVENTS);
            r = w->wd[a] < 0 ? -errno : 0;
        }
        if (r < 0) {
            w->wd[a] = -2; /* reported; tried again at the next rescan */
            lk_eventlog_msg(w->node, NULL, LK_MSG_LKFILE_NOT_WATCHED, dir, strerror(-r));
        }
    }
}

/* Whether tag's file for action waits in the queue. */
static bool waiting(const struct lk_scriptwatch *w, enum lk_action action, const char *tag)
{
    for (size_t i = 0; i < w->count; i++) {
        if (w->pending[i].action == action && strcmp(w->pending[i].tag, tag) == 0) {
            return true;
        }
    }
    return false;
}

/* Every file in the directories and every gen resource's files, quietly: a missing file
 * is written, a different one taken (a write made while lkd was stopped), a stray one
 * removed. */
static void rescan(struct lk_scriptwatch *w)
{
    struct lk_node *node = w->node;
    if (w->fd >= 0) {
        for (int a = 0; a < LK_ACTION_COUNT; a++) {
            w->wd[a] = w->wd[a] == -2 ? -1 : w->wd[a];
        }
        add_watches(w);
    }
    for (int a = 0; a < LK_ACTION_COUNT; a++) {
        char dir[LK_PATH_MAX + 256], err[256];
        lk_scripts_lk_dir(node->root, (enum lk_action) a, dir, sizeof(dir));
        (void) lk_scripts_mkdir(dir, 0755);
        DIR *d = opendir(dir);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            /* A name waiting already is left to its own turn, which knows whether a writer
             * still holds it (checked here, a file written in two steps with a pause would
             * be taken half after an overflow of the queue). */
            if (e->d_name[0] != '.' && !waiting(w, (enum lk_action) a, e->d_name) &&
                lk_validate_tag(e->d_name, "tag", err, sizeof(err)) == 0) {
                check(w, (enum lk_action) a, e->d_name, true, 0, false);
            }
        }
        if (d) {
            closedir(d);
        }
    }
    for (size_t i = 0; i < node->count; i++) {
        const struct lk_resource *res = node->resources[i];
        for (int a = 0; strcmp(res->app, "gen") == 0 && a < LK_ACTION_COUNT; a++) {
            char path[LK_PATH_MAX + 256];
            struct stat st;
            lk_scripts_lk_path(node->root, (enum lk_action) a, res->tag, path, sizeof(path));
            if (res->has_script[a] && lstat(path, &st) < 0 && errno == ENOENT) {
                check(w, (enum lk_action) a, res->tag, true, 0, false);
            }
        }
    }
}

static void on_timer(uv_timer_t *t)
{
    struct lk_scriptwatch *w = t->data;
    uint64_t now = lk_mono_usec();
    if (w->rescan && w->rescan_due_usec <= now) {
        w->rescan = false;
        rescan(w);
    }
    /* One due name at a time: check may queue (a file still changing), never due now. */
    for (size_t i = 0; i < w->count;) {
        if (w->pending[i].due_usec > now) {
            i++;
            continue;
        }
        struct pending p = w->pending[i];
        w->pending[i] = w->pending[--w->count];
        check(w, p.action, p.tag, false, p.tries, p.writing);
    }
    arm(w);
}

static void on_readable(uv_poll_t *h, int status, int events)
{
    struct lk_scriptwatch *w = h->data;
    (void) events;
    if (status < 0) {
        return;
    }
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t n = read(w->fd, buf, sizeof(buf));
        if (n <= 0) {
            return; /* EAGAIN: all read */
        }
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *) p;
            p += sizeof(*ev) + ev->len;
            if (ev->mask & IN_Q_OVERFLOW) {
                w->rescan = true;
                w->rescan_due_usec = lk_mono_usec() + LK_SCRIPTWATCH_SETTLE_MS * 1000ULL;
                arm(w);
                continue;
            }
            int a = 0;
            while (a < LK_ACTION_COUNT && w->wd[a] != ev->wd) {
                a++;
            }
            if (a == LK_ACTION_COUNT) {
                continue;
            }
            if (ev->mask & IN_IGNORED) {
                /* The directory went (or was replaced): made and watched again. */
                w->wd[a] = -1;
                w->rescan = true;
                w->rescan_due_usec = lk_mono_usec() + RETRY_WATCH_MS * 1000ULL;
                arm(w);
                continue;
            }
            char err[256];
            /* Only names a tag can have: temporary files (".TAG.new", an editor's "TAG~")
             * are left alone. */
            if (ev->len == 0 || ev->name[0] == '.' ||
                lk_validate_tag(ev->name, "tag", err, sizeof(err)) < 0) {
                continue;
            }
            /* A write (IN_MODIFY) waits for its writer's close (IN_CLOSE_WRITE): a file
             * written in two steps with a pause is never taken after the first. */
            queue(w, (enum lk_action) a, ev->name, 0,
                  (ev->mask & IN_MODIFY) && !(ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)));
        }
    }
}

struct lk_scriptwatch *lk_scriptwatch_start(struct lk_node *node, lk_scriptwatch_push_cb push,
                                            void *userdata)
{
    struct lk_scriptwatch *w = calloc(1, sizeof(*w));
    if (!w) {
        return NULL;
    }
    w->node = node;
    w->push = push;
    w->userdata = userdata;
    for (int a = 0; a < LK_ACTION_COUNT; a++) {
        w->wd[a] = -1;
    }
    uv_timer_init(node->loop, &w->timer);
    w->timer.data = w;
    w->open_handles = 1;
    w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->fd < 0) {
        char dir[LK_PATH_MAX + 64];
        snprintf(dir, sizeof(dir), "%s/subsys/gen/resources/app", node->root);
        lk_eventlog_msg(node, NULL, LK_MSG_LKFILE_NOT_WATCHED, dir, strerror(errno));
    } else {
        add_watches(w);
        int r = uv_poll_init(node->loop, &w->poll, w->fd);
        if (r == 0) {
            w->poll.data = w;
            w->open_handles++;
            r = uv_poll_start(&w->poll, UV_READABLE, on_readable);
        }
        if (r < 0) {
            char dir[LK_PATH_MAX + 64];
            snprintf(dir, sizeof(dir), "%s/subsys/gen/resources/app", node->root);
            lk_eventlog_msg(node, NULL, LK_MSG_LKFILE_NOT_WATCHED, dir, uv_strerror(r));
        }
    }
    /* The files of the resources defined here, now: written where missing (the first start
     * after an upgrade), taken where an administrator wrote them while lkd was stopped. */
    rescan(w);
    return w;
}

void lk_scriptwatch_stop(struct lk_scriptwatch *w)
{
    if (!w || w->stopping) {
        return;
    }
    w->stopping = true;
    uv_timer_stop(&w->timer);
    if (w->open_handles == 2) {
        uv_poll_stop(&w->poll);
        uv_close((uv_handle_t *) &w->poll, on_close);
    }
    uv_close((uv_handle_t *) &w->timer, on_close);
}
