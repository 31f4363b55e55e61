/* The tunables of this node ($LKROOT/etc/default/LifeKeeper): what is in force at start,
 * the watch of the file for an administrator's edits, and the one path every local change
 * takes (lk_tunwatch_apply: `lkcli cluster tunables` and hand edits alike).
 * Events that enter: start (main.c), the file's directory changing (inotify: a write waits
 * for its writer's close, IN_CLOSE_WRITE, or a rename into place; then a debounce, so that
 * a writer that pauses is read once it is done), the command.
 * Never: write the file the administrator edited when it is refused (it stays as written
 * until fixed), put a refused text in force, or tell the peers itself (the caller does:
 * core never calls up). */
#include "tunwatch.h"

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
#include "node.h"
#include "tunables.h"
#include "tunfile.h"

#define DEBOUNCE_MS    200
#define RETRY_WATCH_MS 1000
#define WRITING_WAITS  300 /* debounces a writer may keep the file open (60 s) */
#define SETTLE_TRIES   50  /* re-reads of a file that keeps changing */
#define FILE_BASE      "LifeKeeper"
#define WATCH_EVENTS                                                                               \
    (IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE |            \
     IN_ATTRIB | IN_ONLYDIR)

struct lk_tunwatch {
    struct lk_node *node;
    lk_tunwatch_changed_cb cb;
    void *userdata;
    int fd; /* inotify on the file's directory; -1 when it cannot be watched */
    int wd; /* the directory's watch; -1 while it is not watched */
    uv_poll_t poll;
    uv_timer_t timer;
    bool poll_open;
    bool unwatched; /* 1734 said for the current loss of the watch */
    bool writing;   /* the last notification was a write its writer has not closed */
    unsigned waits; /* debounces spent waiting for that writer */
    unsigned rereads;
    int closing;   /* handles still to close */
    char *refused; /* the last text refused (not reported twice), heap */
};

/* The reserved keys that text sets with a value other than old's: "LKROOT, PATH" or "". */
static void reserved_set(const char *old_text, const char *new_text, char *buf, size_t size)
{
    struct lk_tunables a = {0}, b = {0};
    buf[0] = '\0';
    (void) lk_tunables_parse(old_text, strlen(old_text), &a, NULL, 0);
    if (lk_tunables_parse(new_text, strlen(new_text), &b, NULL, 0) == 0) {
        size_t used = 0;
        for (size_t i = 0; i < b.count && used < size; i++) {
            const char *was = lk_tunables_get(&a, b.items[i].key);
            if (b.items[i].reserved && (!was || strcmp(was, b.items[i].value) != 0)) {
                int n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", b.items[i].key);
                used += n > 0 ? (size_t) n : 0;
            }
        }
    }
    lk_tunables_done(&a);
    lk_tunables_done(&b);
}

void lk_tunwatch_overwriting(struct lk_node *node, const char *next_text, const char *by)
{
    if (strcmp(next_text, node->config.cluster.tunables) == 0) {
        return; /* the file is not written */
    }
    char *text = NULL, err[512];
    size_t len = 0;
    if (lk_tunfile_read(node->root, LK_TUNFILE_NAME, &text, &len, err, sizeof(err)) == 0 &&
        strcmp(text, node->config.cluster.tunables) != 0 && strcmp(text, next_text) != 0) {
        char path[LK_PATH_MAX + 64], why[LK_PATH_MAX + 256];
        snprintf(why, sizeof(why),
                 "what it held (an edit not taken yet, or refused) was replaced by the tunables "
                 "from %s; edit it again",
                 by);
        lk_eventlog_msg(node, NULL, LK_MSG_TUNABLES_UNWATCHED,
                        lk_tunfile_path(node->root, LK_TUNFILE_NAME, path, sizeof(path)), why);
    }
    free(text);
}

int lk_tunwatch_apply(struct lk_node *node, const char *text, const char *how, char *changed,
                      size_t changed_size, char *err, size_t err_size)
{
    changed[0] = '\0';
    struct lk_cluster_settings *next = malloc(sizeof(*next));
    if (!next) {
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    *next = node->config.cluster;
    if (strcmp(next->tunables, text) == 0) {
        free(next);
        return 0;
    }
    int r = lk_cluster_settings_set(next, LK_CLUSTER_KEY_TUNABLES, text, err, err_size);
    if (r == 0) {
        lk_tunwatch_overwriting(node, text, how);
    }
    char diff[256], reserved[256];
    (void) lk_tunables_diff(node->config.cluster.tunables, text, diff, sizeof(diff));
    reserved_set(node->config.cluster.tunables, text, reserved, sizeof(reserved));
    if (r == 0) {
        r = lk_define_cluster_settings(node, next, NULL, 0, err, err_size);
        r = r < 0 ? -EIO : 0;
    }
    free(next);
    if (r < 0) {
        return r;
    }
    snprintf(changed, changed_size, "%s", diff);
    lk_eventlog_msg(node, NULL, LK_MSG_TUNABLES_CHANGED, diff, how);
    if (reserved[0]) {
        lk_eventlog_msg(node, NULL, LK_MSG_TUNABLES_RESERVED, reserved);
    }
    return 0;
}

/* A refused file, reported once per text. */
static void refuse(struct lk_node *node, char **last, const char *text, const char *why)
{
    if (*last && text && strcmp(*last, text) == 0) {
        return;
    }
    free(*last);
    *last = text ? strdup(text) : NULL;
    char path[LK_PATH_MAX + 64];
    lk_tunfile_path(node->root, LK_TUNFILE_NAME, path, sizeof(path));
    lk_eventlog_msg(node, NULL, LK_MSG_TUNABLES_REFUSED, path, why);
}

/* The file as it is now, taken when it differs from the tunables in force. */
static bool take_file(struct lk_node *node, char **last_refused, const char *how)
{
    char *text = NULL, err[512], path[LK_PATH_MAX + 64];
    size_t len = 0;
    lk_tunfile_path(node->root, LK_TUNFILE_NAME, path, sizeof(path));
    int r = lk_tunfile_read(node->root, LK_TUNFILE_NAME, &text, &len, err, sizeof(err));
    if (r == -ENOENT) {
        return false; /* removed (or being replaced): nothing changes */
    }
    if (r < 0) {
        refuse(node, last_refused, NULL, err);
        return false;
    }
    bool changed = false;
    if (strcmp(text, node->config.cluster.tunables) != 0) {
        struct lk_tunables t;
        char why[300];
        if (strlen(text) != len) {
            refuse(node, last_refused, NULL, "contains a NUL byte");
        } else if (lk_tunables_parse(text, len, &t, why, sizeof(why)) < 0) {
            refuse(node, last_refused, text, why);
        } else {
            lk_tunables_done(&t);
            char what[256], by[LK_PATH_MAX + 128];
            snprintf(by, sizeof(by), "%s '%s'", how, path);
            r = lk_tunwatch_apply(node, text, by, what, sizeof(what), err, sizeof(err));
            if (r < 0) {
                refuse(node, last_refused, text, err);
            } else {
                free(*last_refused);
                *last_refused = NULL;
                changed = what[0] != '\0';
            }
        }
    }
    free(text);
    return changed;
}

void lk_tunwatch_load(struct lk_node *node)
{
    char *kept = NULL, err[512];
    size_t len = 0;
    char dir[LK_PATH_MAX + 64];
    snprintf(dir, sizeof(dir), "%s/etc/default", node->root);
    (void) mkdir(dir, 0755);
    int r = lk_tunfile_read(node->root, LK_TUNFILE_KEPT, &kept, &len, err, sizeof(err));
    struct lk_tunables t;
    if (r == 0 && strlen(kept) == len && lk_tunables_parse(kept, len, &t, NULL, 0) == 0) {
        lk_tunables_done(&t);
        memcpy(node->config.cluster.tunables, kept, len + 1);
        free(kept);
        char path[LK_PATH_MAX + 64], kept_path[LK_PATH_MAX + 64];
        struct stat st, kept_st;
        bool gone =
                lstat(lk_tunfile_path(node->root, LK_TUNFILE_NAME, path, sizeof(path)), &st) < 0 &&
                errno == ENOENT;
        /* Changed before lkd's copy was written: the text a crash left behind between the
         * two writes (define.c writes the copy first), not an edit; taking it would undo
         * the change on every node. An edit, in place or renamed, has a newer ctime. */
        bool stale =
                !gone && stat(path, &st) == 0 &&
                stat(lk_tunfile_path(node->root, LK_TUNFILE_KEPT, kept_path, sizeof(kept_path)),
                     &kept_st) == 0 &&
                (st.st_ctim.tv_sec < kept_st.st_ctim.tv_sec ||
                 (st.st_ctim.tv_sec == kept_st.st_ctim.tv_sec &&
                  st.st_ctim.tv_nsec < kept_st.st_ctim.tv_nsec));
        char *cur = NULL;
        size_t cur_len = 0;
        if (stale &&
            lk_tunfile_read(node->root, LK_TUNFILE_NAME, &cur, &cur_len, err, sizeof(err)) == 0 &&
            strcmp(cur, node->config.cluster.tunables) == 0) {
            stale = false; /* the same text (as lkd's copy of the first start): nothing */
        } else if (stale) {
            lk_log(LK_LOG_NOTICE, "'%s' is older than lkd's copy of the tunables: written again",
                   path);
        }
        free(cur);
        if (gone || stale) {
            /* Removed while lkd was stopped: written again (removing the file is no way to
             * clear the tunables; `lkcli cluster tunables --file /dev/null` is). */
            if (lk_tunfile_write(node->root, LK_TUNFILE_NAME, node->config.cluster.tunables, err,
                                 sizeof(err)) < 0) {
                lk_log(LK_LOG_WARNING, "%s, ignoring", err);
            }
            return;
        }
        char *last = NULL;
        (void) take_file(node, &last, "edit, while lkd was stopped, of");
        free(last);
        return;
    }
    if (r == 0) {
        lk_log(LK_LOG_WARNING, "lkd's copy of the tunables '%s/%s' is damaged, ignoring",
               node->root, LK_TUNFILE_KEPT);
    } else if (r != -ENOENT) {
        lk_log(LK_LOG_WARNING, "%s, ignoring", err);
    }
    free(kept);
    /* No copy yet (the first start with tunables): the file, as it is, without a new
     * version: it is what this node had. */
    char *text = NULL;
    r = lk_tunfile_read(node->root, LK_TUNFILE_NAME, &text, &len, err, sizeof(err));
    char why[300];
    if (r == -ENOENT) {
        return;
    }
    char *last = NULL;
    if (r < 0) {
        refuse(node, &last, NULL, err);
    } else if (strlen(text) != len) {
        refuse(node, &last, NULL, "contains a NUL byte");
    } else if (lk_tunables_parse(text, len, &t, why, sizeof(why)) < 0) {
        refuse(node, &last, text, why);
    } else {
        lk_tunables_done(&t);
        memcpy(node->config.cluster.tunables, text, len + 1);
        if (lk_tunfile_write(node->root, LK_TUNFILE_KEPT, text, err, sizeof(err)) < 0) {
            lk_log(LK_LOG_WARNING, "%s, ignoring", err);
        }
    }
    free(last);
    free(text);
}

/* Whether the file (followed, as it is read) is the one st describes, unchanged. */
static bool unchanged(const char *path, const struct stat *st)
{
    struct stat now;
    return stat(path, &now) == 0 && now.st_ino == st->st_ino && now.st_dev == st->st_dev &&
           now.st_size == st->st_size && now.st_mtim.tv_sec == st->st_mtim.tv_sec &&
           now.st_mtim.tv_nsec == st->st_mtim.tv_nsec && now.st_ctim.tv_sec == st->st_ctim.tv_sec &&
           now.st_ctim.tv_nsec == st->st_ctim.tv_nsec;
}

/* Watches the directory when it is not watched yet (made first); 1734 once per loss. */
static void add_watch(struct lk_tunwatch *w)
{
    if (w->fd < 0 || w->wd >= 0) {
        return;
    }
    char dir[LK_PATH_MAX + 64], path[LK_PATH_MAX + 64];
    snprintf(dir, sizeof(dir), "%s/etc/default", w->node->root);
    (void) mkdir(dir, 0755);
    w->wd = inotify_add_watch(w->fd, dir, WATCH_EVENTS);
    if (w->wd < 0 && !w->unwatched) {
        w->unwatched = true;
        lk_eventlog_msg(w->node, NULL, LK_MSG_TUNABLES_UNWATCHED,
                        lk_tunfile_path(w->node->root, LK_TUNFILE_NAME, path, sizeof(path)),
                        strerror(errno));
    } else if (w->wd >= 0) {
        w->unwatched = false;
    }
}

static void on_timer(uv_timer_t *timer)
{
    struct lk_tunwatch *w = timer->data;
    if (w->wd < 0) {
        add_watch(w);
        if (w->wd < 0) {
            (void) uv_timer_start(&w->timer, on_timer, RETRY_WATCH_MS, 0);
        }
    }
    /* A writer that still holds the file open (written, not closed) is waited for: a file
     * truncated and written in two steps is never taken half (its first half, or nothing,
     * would be the cluster's tunables until the rest came). One that keeps it open for a
     * minute is read as it is then. */
    if (w->writing && ++w->waits < WRITING_WAITS) {
        (void) uv_timer_start(&w->timer, on_timer, DEBOUNCE_MS, 0);
        return;
    }
    char path[LK_PATH_MAX + 64];
    struct stat st;
    lk_tunfile_path(w->node->root, LK_TUNFILE_NAME, path, sizeof(path));
    bool have = stat(path, &st) == 0;
    if (have && w->rereads < SETTLE_TRIES) {
        /* Changed within the debounce (a writer that no notification told of: after an
         * overflow of the queue): read once it is quiet. */
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        int64_t changed_ms = (int64_t) st.st_ctim.tv_sec * 1000 + st.st_ctim.tv_nsec / 1000000;
        int64_t now_ms = (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
        if (now_ms - changed_ms < DEBOUNCE_MS && now_ms >= changed_ms - 1000) {
            w->rereads++;
            (void) uv_timer_start(&w->timer, on_timer, DEBOUNCE_MS, 0);
            return;
        }
    }
    w->writing = false;
    w->waits = 0;
    bool changed = take_file(w->node, &w->refused, "edit of");
    if (have && !unchanged(path, &st) && w->rereads < SETTLE_TRIES) {
        w->rereads++;
        (void) uv_timer_start(&w->timer, on_timer, DEBOUNCE_MS, 0);
    } else {
        w->rereads = 0;
    }
    if (changed && w->cb) {
        w->cb(w->userdata);
    }
}

static void on_readable(uv_poll_t *handle, int status, int events)
{
    (void) events;
    struct lk_tunwatch *w = handle->data;
    if (status < 0) {
        return;
    }
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    bool seen = false;
    for (;;) {
        ssize_t n = read(w->fd, buf, sizeof(buf));
        if (n <= 0) {
            break; /* EAGAIN: all read */
        }
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *) p;
            p += sizeof(*ev) + ev->len;
            if (ev->mask & IN_Q_OVERFLOW) {
                seen = true; /* events lost: the file is read again (once it is quiet) */
                continue;
            }
            if (ev->wd != w->wd) {
                continue;
            }
            if (ev->mask & IN_IGNORED) {
                /* The directory went: made and watched again, the file read again. */
                w->wd = -1;
                seen = true;
                continue;
            }
            if (ev->len == 0 || strcmp(ev->name, FILE_BASE) != 0) {
                continue;
            }
            /* A write (IN_MODIFY, a truncation too) waits for its writer's close; a link
             * made there (IN_CREATE) or a mode fixed (IN_ATTRIB) is read, and leaves a
             * writer's wait as it was. */
            if (ev->mask & IN_MODIFY) {
                w->writing = true;
            }
            if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE)) {
                w->writing = false;
            }
            seen = true;
        }
    }
    if (seen) {
        /* Each notification restarts the wait: the file is read once the writer paused. */
        w->rereads = 0;
        (void) uv_timer_start(&w->timer, on_timer, DEBOUNCE_MS, 0);
    }
}

struct lk_tunwatch *lk_tunwatch_start(struct lk_node *node, lk_tunwatch_changed_cb cb,
                                      void *userdata)
{
    struct lk_tunwatch *w = calloc(1, sizeof(*w));
    if (!w) {
        return NULL;
    }
    w->node = node;
    w->cb = cb;
    w->userdata = userdata;
    w->wd = -1;
    uv_timer_init(node->loop, &w->timer);
    w->timer.data = w;
    w->closing = 1;
    char path[LK_PATH_MAX + 64];
    lk_tunfile_path(node->root, LK_TUNFILE_NAME, path, sizeof(path));
    w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    int r = w->fd < 0 ? -errno : 0;
    if (r == 0) {
        add_watch(w);
        r = uv_poll_init(node->loop, &w->poll, w->fd);
        if (r == 0) {
            w->poll.data = w;
            w->poll_open = true;
            w->closing++;
            r = uv_poll_start(&w->poll, UV_READABLE, on_readable);
        }
    }
    if (r < 0) {
        lk_eventlog_msg(node, NULL, LK_MSG_TUNABLES_UNWATCHED, path, uv_strerror(r));
    } else if (w->wd < 0) {
        (void) uv_timer_start(&w->timer, on_timer, RETRY_WATCH_MS, 0);
    }
    return w;
}

static void on_close(uv_handle_t *handle)
{
    struct lk_tunwatch *w = handle->data;
    if (--w->closing == 0) {
        if (w->fd >= 0) {
            close(w->fd);
        }
        free(w->refused);
        free(w);
    }
}

void lk_tunwatch_stop(struct lk_tunwatch *w)
{
    if (!w) {
        return;
    }
    (void) uv_timer_stop(&w->timer);
    uv_close((uv_handle_t *) &w->timer, on_close);
    if (w->poll_open) {
        (void) uv_poll_stop(&w->poll);
        uv_close((uv_handle_t *) &w->poll, on_close);
    }
}
