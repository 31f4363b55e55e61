/* The file descriptor budget (fdbudget.h): the soft RLIMIT_NOFILE raised to the hard
 * limit at start, a reserve that local clients never get, and an estimate of what is in
 * use that costs nothing per question: the descriptors the command socket holds (counted
 * as it accepts and closes) plus the others, counted from /proc/self/fd by the socket's
 * timer, plus three for each script run started since that count (its output pipe while it
 * spawns, the pipe's read end, its pidfd).
 *
 * Events that enter: the raise and the counts from main.c and the socket; hold and release
 * from the socket. It must never close, open (beyond the count's directory) or refuse
 * anything itself: the socket decides what to do with its answer. */
#include "fdbudget.h"

#include <dirent.h>
#include <errno.h>
#include <sys/resource.h>

#define RESERVE_MIN 64
#define RESERVE_MAX 4096
#define FDS_PER_RUN 3

int lk_fdbudget_raise(uint64_t *ret_limit)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
        return -errno;
    }
    int r = 0;
    if (rl.rlim_cur != rl.rlim_max) {
        struct rlimit raised = {.rlim_cur = rl.rlim_max, .rlim_max = rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0) {
            rl = raised;
        } else {
            r = -errno;
        }
    }
    *ret_limit = rl.rlim_cur == RLIM_INFINITY ? UINT64_C(1) << 20 : (uint64_t) rl.rlim_cur;
    return r;
}

uint64_t lk_fdbudget_reserve_for(uint64_t limit)
{
    uint64_t r = limit / 4;
    if (r < RESERVE_MIN) {
        r = RESERVE_MIN;
    }
    if (r > RESERVE_MAX) {
        r = RESERVE_MAX;
    }
    return r;
}

void lk_fdbudget_init(struct lk_fdbudget *b, uint64_t limit)
{
    *b = (struct lk_fdbudget){.limit = limit, .reserve = lk_fdbudget_reserve_for(limit)};
}

void lk_fdbudget_counted(struct lk_fdbudget *b, uint64_t count, unsigned runs_now)
{
    b->others = count > b->clients ? count - b->clients : 0;
    b->runs = runs_now;
}

int lk_fdbudget_count(struct lk_fdbudget *b, unsigned runs_now)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) {
        return -errno;
    }
    uint64_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] != '.') {
            n++;
        }
    }
    (void) closedir(d);
    /* The directory's own descriptor was one of them. */
    n = n > 0 ? n - 1 : 0;
    lk_fdbudget_counted(b, n, runs_now);
    return (int) (n > INT32_MAX ? INT32_MAX : n);
}

uint64_t lk_fdbudget_in_use(const struct lk_fdbudget *b, unsigned runs_now)
{
    uint64_t runs = runs_now > b->runs ? (uint64_t) (runs_now - b->runs) : 0;
    return b->others + FDS_PER_RUN * runs + b->clients;
}

bool lk_fdbudget_allows(const struct lk_fdbudget *b, bool admin, unsigned runs_now)
{
    uint64_t keep = b->reserve + (admin ? 0 : LK_FDBUDGET_ADMIN_RESERVE);
    if (b->limit <= keep) {
        return false;
    }
    return lk_fdbudget_in_use(b, runs_now) + 1 <= b->limit - keep;
}

void lk_fdbudget_hold(struct lk_fdbudget *b)
{
    b->clients++;
}

void lk_fdbudget_release(struct lk_fdbudget *b)
{
    if (b->clients > 0) {
        b->clients--;
    }
}
