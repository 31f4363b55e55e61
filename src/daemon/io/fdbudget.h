/* The file descriptor budget of lkd: how many descriptors the process may use (the soft
 * RLIMIT_NOFILE, raised to the hard limit at start), how many it keeps in reserve for what
 * must never fail for lack of one (script runs, the store, the comm paths, the event log),
 * and how many local clients hold now. The command socket asks it before it keeps a new
 * client; a client that would eat into the reserve is refused.
 *
 * Owner: main.c (one per process, node->fdbudget); the socket holds and releases, the
 * socket's timer recounts. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Descriptors kept beyond what non-admin clients may use, for admin clients (root and
 * lkadmin) only. */
#define LK_FDBUDGET_ADMIN_RESERVE 32

struct lk_fdbudget {
    uint64_t limit;   /* the soft RLIMIT_NOFILE */
    uint64_t reserve; /* never given to clients: lk_fdbudget_reserve_for(limit) */
    uint64_t others;  /* descriptors not held by clients, at the last count */
    uint64_t clients; /* descriptors the command socket holds now */
    unsigned runs;    /* script runs in flight at the last count */
};

/* Raises the soft RLIMIT_NOFILE to the hard limit. Returns 0 and sets *ret_limit (the soft
 * limit now in force, even when it could not be raised: then -errno is returned after
 * setting it). */
int lk_fdbudget_raise(uint64_t *ret_limit);

/* The reserve for a limit: a quarter of it, at least 64 and at most 4096. */
uint64_t lk_fdbudget_reserve_for(uint64_t limit);

/* Sets b up for limit (no clients, nothing counted yet). */
void lk_fdbudget_init(struct lk_fdbudget *b, uint64_t limit);

/* Counts the process's open descriptors (/proc/self/fd) and sets b->others from it, with
 * runs_now the script runs in flight (lk_run_count). Returns the count, or -errno (b
 * unchanged). About a microsecond per open descriptor. */
int lk_fdbudget_count(struct lk_fdbudget *b, unsigned runs_now);

/* Sets b->others from a count made elsewhere (count open descriptors, runs_now runs). */
void lk_fdbudget_counted(struct lk_fdbudget *b, uint64_t count, unsigned runs_now);

/* What b estimates is in use now: the others at the last count (plus three descriptors for
 * each script run started since), and the clients. */
uint64_t lk_fdbudget_in_use(const struct lk_fdbudget *b, unsigned runs_now);

/* Whether one more client descriptor fits: a non-admin client must leave the reserve and
 * the admins' reserve untouched, an admin client only the reserve. */
bool lk_fdbudget_allows(const struct lk_fdbudget *b, bool admin, unsigned runs_now);

/* The socket took (hold) or closed (release) a client descriptor. */
void lk_fdbudget_hold(struct lk_fdbudget *b);
void lk_fdbudget_release(struct lk_fdbudget *b);
