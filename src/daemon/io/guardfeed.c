/* The liveness page and the plan file, lkd's side (see guardfeed.h and lib/guard.h).
 * Events that enter: the loop's feed ticks, a new plan from the cluster's state, a status
 * request, and lkd's exit. The page is shared memory with lkguard: every field is read
 * and written with __atomic builtins, and lkd writes only its own fields (the guard's are
 * read here, never written). Owns run/guard.feed, run/guard.plan and the mapping. Never
 * signals, starts or waits for the guard, never blocks on it: a missing or stuck guard
 * costs lkd nothing but a "guard: not running" in status. */
#include "guardfeed.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PAGE_BYTES 4096
#define NS_PER_MS  1000000ull

_Static_assert(sizeof(struct lk_guard_page) <= PAGE_BYTES, "the page fits in 4096 bytes");

struct lk_guardfeed {
    struct lk_guard_page *page; /* the shared mapping */
    char root[PATH_MAX];
    char *plan_text; /* the last plan written, to skip unchanged ones */
};

#define LOAD(field)       __atomic_load_n(&(field), __ATOMIC_ACQUIRE)
#define STORE(field, val) __atomic_store_n(&(field), (val), __ATOMIC_RELEASE)

int lk_guardfeed_open(const char *root, uint64_t dead_ms, struct lk_guardfeed **ret)
{
    struct lk_guardfeed *f = calloc(1, sizeof(*f));
    if (!f) {
        return -ENOMEM;
    }
    if (snprintf(f->root, sizeof(f->root), "%s", root) >= (int) sizeof(f->root)) {
        free(f);
        return -ENAMETOOLONG;
    }
    char path[PATH_MAX + 64], tmp[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%s", root, LK_GUARDFEED_NAME);
    snprintf(tmp, sizeof(tmp), "%s.new", path);
    (void) unlink(tmp);
    int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        int r = -errno;
        free(f);
        return r;
    }
    void *map = MAP_FAILED;
    int r = 0;
    if (ftruncate(fd, PAGE_BYTES) < 0) {
        r = -errno;
    } else {
        map = mmap(NULL, PAGE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (map == MAP_FAILED) {
            r = -errno;
        }
    }
    close(fd);
    if (r < 0) {
        (void) unlink(tmp);
        free(f);
        return r;
    }
    f->page = map;
    STORE(f->page->version, LK_GUARD_VERSION);
    STORE(f->page->lkd_pid, (int32_t) getpid());
    STORE(f->page->lkd_state, LK_GUARD_LKD_STARTING);
    STORE(f->page->dead_ms, dead_ms);
    /* The magic last: a guard that sees it sees the rest. */
    STORE(f->page->magic, LK_GUARD_MAGIC);
    if (rename(tmp, path) < 0) {
        r = -errno;
        (void) unlink(tmp);
        munmap(map, PAGE_BYTES);
        free(f);
        return r;
    }
    *ret = f;
    return 0;
}

bool lk_guardfeed_feed(struct lk_guardfeed *f, uint64_t now_mono_ns, char *why, size_t why_size)
{
    struct lk_guard_page *p = f->page;
    STORE(p->fed_mono_ns, now_mono_ns);
    STORE(p->seq, LOAD(p->seq) + 1);
    if (LOAD(p->lkd_state) == LK_GUARD_LKD_STARTING) {
        STORE(p->lkd_state, LK_GUARD_LKD_RUNNING);
    }
    if (!LOAD(p->fenced)) {
        return false;
    }
    if (why_size > 0) {
        /* The guard wrote fence_why before it set fenced (acquire above); copy it byte by
         * byte out of the shared page and terminate it ourselves. */
        size_t i = 0;
        for (; i + 1 < why_size && i + 1 < sizeof(p->fence_why); i++) {
            char c = __atomic_load_n(&p->fence_why[i], __ATOMIC_RELAXED);
            if (!c) {
                break;
            }
            why[i] = c;
        }
        why[i] = '\0';
    }
    return true;
}

bool lk_guardfeed_fenced(const struct lk_guardfeed *f)
{
    return LOAD(f->page->fenced) != 0;
}

int lk_guardfeed_write_plan(struct lk_guardfeed *f, const struct lk_guard_plan *plan)
{
    json_t *j = lk_guard_plan_json(plan);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text) {
        return -ENOMEM;
    }
    if (f->plan_text && strcmp(f->plan_text, text) == 0) {
        free(text);
        return 0;
    }
    char path[PATH_MAX + 64], tmp[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%s", f->root, LK_GUARDPLAN_NAME);
    snprintf(tmp, sizeof(tmp), "%s.new", path);
    /* No fsync: run/ describes this boot only, and the guard reads it after the rename. */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    if (fd < 0) {
        int r = -errno;
        free(text);
        return r;
    }
    size_t len = strlen(text);
    int r = 0;
    for (size_t off = 0; off < len && r == 0;) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0 && errno != EINTR) {
            r = -errno;
        } else if (n > 0) {
            off += (size_t) n;
        }
    }
    if (close(fd) < 0 && r == 0) {
        r = -errno;
    }
    if (r == 0 && rename(tmp, path) < 0) {
        r = -errno;
    }
    if (r < 0) {
        (void) unlink(tmp);
        free(text);
        return r;
    }
    free(f->plan_text);
    f->plan_text = text;
    STORE(f->page->dead_ms, plan->dead_ms);
    STORE(f->page->plan_gen, LOAD(f->page->plan_gen) + 1);
    return 0;
}

json_t *lk_guardfeed_status(const struct lk_guardfeed *f)
{
    const struct lk_guard_page *p = f->page;
    int32_t pid = LOAD(p->guard_pid);
    uint64_t look = LOAD(p->guard_mono_ns);
    uint64_t dead_ms = LOAD(p->dead_ms);
    uint32_t fenced = LOAD(p->fenced);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now = (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
    /* The guard looks every min(dead/8, 250 ms); allow two of those, and 2 s at least. */
    uint64_t poll_ms = lk_guard_period_ms(dead_ms);
    uint64_t allowed_ms = 2 * poll_ms > 2000 ? 2 * poll_ms : 2000;
    bool alive = pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
    uint64_t since_ms = look && now > look ? (now - look) / NS_PER_MS : 0;
    bool running = alive && look != 0 && since_ms <= allowed_ms;

    char why[sizeof(p->fence_why)] = "";
    if (fenced) {
        for (size_t i = 0; i + 1 < sizeof(why); i++) {
            why[i] = __atomic_load_n(&p->fence_why[i], __ATOMIC_RELAXED);
            if (!why[i]) {
                break;
            }
        }
    }
    bool current = (uint32_t) LOAD(p->plan_gen) == LOAD(p->plan_loaded);
    return json_pack("{s:b,s:b,s:o,s:o,s:b,s:b,s:s}", "running", running, "plan_current", current,
                     "pid", pid > 0 ? json_integer(pid) : json_null(), "last_look_ms",
                     pid > 0 && look ? json_integer((json_int_t) since_ms) : json_null(),
                     "watchdog", LOAD(p->watchdog_armed) != 0, "fenced", fenced != 0, "why", why);
}

void lk_guardfeed_close(struct lk_guardfeed *f, bool clean)
{
    if (!f) {
        return;
    }
    if (clean) {
        STORE(f->page->lkd_state, LK_GUARD_LKD_STOPPED);
    }
    munmap(f->page, PAGE_BYTES);
    free(f->plan_text);
    free(f);
}
