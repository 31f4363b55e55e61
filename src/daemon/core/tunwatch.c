/* The tunables of this node ($LKROOT/etc/default/LifeKeeper): what is in force at start,
 * the watch of the file for an administrator's edits, and the one path every local change
 * takes (lk_tunwatch_apply: `lkcli cluster tunables` and hand edits alike).
 * Events that enter: start (main.c), the file's directory changing (uv_fs_event, then a
 * debounce so that a writer that pauses is read once it is done), the command.
 * Never: write the file the administrator edited when it is refused (it stays as written
 * until fixed), put a refused text in force, or tell the peers itself (the caller does:
 * core never calls up). */
#include "tunwatch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <uv.h>

#include "catalog.h"
#include "define.h"
#include "eventlog.h"
#include "log.h"
#include "node.h"
#include "tunables.h"
#include "tunfile.h"

#define DEBOUNCE_MS 200
#define FILE_BASE   "LifeKeeper"

struct lk_tunwatch {
    struct lk_node *node;
    lk_tunwatch_changed_cb cb;
    void *userdata;
    uv_fs_event_t event;
    uv_timer_t timer;
    bool event_open;
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
        char path[LK_PATH_MAX + 64];
        struct stat st;
        if (lstat(lk_tunfile_path(node->root, LK_TUNFILE_NAME, path, sizeof(path)), &st) < 0 &&
            errno == ENOENT) {
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

static void on_timer(uv_timer_t *timer)
{
    struct lk_tunwatch *w = timer->data;
    if (take_file(w->node, &w->refused, "edit of") && w->cb) {
        w->cb(w->userdata);
    }
}

static void on_event(uv_fs_event_t *handle, const char *filename, int events, int status)
{
    (void) events;
    struct lk_tunwatch *w = handle->data;
    if (status < 0 || (filename && strcmp(filename, FILE_BASE) != 0)) {
        return;
    }
    /* Each event restarts the wait: the file is read once the writer paused. */
    (void) uv_timer_start(&w->timer, on_timer, DEBOUNCE_MS, 0);
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
    uv_timer_init(node->loop, &w->timer);
    w->timer.data = w;
    w->closing = 1;
    char dir[LK_PATH_MAX + 64], path[LK_PATH_MAX + 64];
    snprintf(dir, sizeof(dir), "%s/etc/default", node->root);
    lk_tunfile_path(node->root, LK_TUNFILE_NAME, path, sizeof(path));
    (void) mkdir(dir, 0755);
    int r = uv_fs_event_init(node->loop, &w->event);
    if (r == 0) {
        w->event.data = w;
        w->event_open = true;
        w->closing++;
        r = uv_fs_event_start(&w->event, on_event, dir, 0);
    }
    if (r < 0) {
        lk_eventlog_msg(node, NULL, LK_MSG_TUNABLES_UNWATCHED, path, uv_strerror(r));
    }
    return w;
}

static void on_close(uv_handle_t *handle)
{
    struct lk_tunwatch *w = handle->data;
    if (--w->closing == 0) {
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
    if (w->event_open) {
        (void) uv_fs_event_stop(&w->event);
        uv_close((uv_handle_t *) &w->event, on_close);
    }
}
