/* The guard's contract with lkd (issue 10), as data: the liveness page both map, the plan
 * lkd writes for the guard, and the "node N has fenced itself" frame the guard sends to
 * the peers. Pure: encoding, decoding and validation only; the mapping, the files and the
 * sockets belong to lkd (src/daemon/io/guardfeed.c) and to lkguard (src/guard/).
 *
 * The liveness page: $LKROOT/run/guard.feed, one page, created by each lkd at start and
 * mapped shared by lkd and lkguard. lkd stores a new seq and fed_mono_ns from its loop
 * (every LK_GUARD_FEED_MS at most, and at least every dead time / 8); the guard reads them.
 * Every field is read and written with __atomic builtins (each is a fact by itself; seq
 * is written after fed_mono_ns, magic last when the page is made, and fenced after
 * fence_why, with release stores and acquire loads). The layout is fixed (guard.c asserts
 * the offsets: tests in other languages map it): 0 magic, 4 version, 8 lkd_pid,
 * 12 lkd_state, 16 seq, 24 fed_mono_ns, 32 plan_gen, 40 dead_ms, 48 guard_pid, 52 fenced,
 * 56 guard_mono_ns, 64 watchdog_armed, 68 plan_loaded, 72 fence_why[256]; 328 bytes used.
 * The guard fences for the reasons lk_guard_judge (below) gives.
 *
 * The plan: $LKROOT/run/guard.plan, JSON, replaced atomically (rename) by lkd whenever it
 * changes, plan_gen bumped after the rename:
 *   {"v":1,"node":"node1","incarnation":"0123456789abcdef","dead_ms":3000,
 *    "authkey":"/root/etc/authkey", "authkey_stamp":"1234:1700000000123456789" (optional:
 *    the key file's inode and mtime; a new stamp makes the guard read the key again),
 *    "peers":[{"name":"node2","addresses":["127.0.0.1:7402"]}],
 *    "fence":[{"hierarchy":"web","cgroups":["/sys/fs/cgroup/unified/openkeeper/n-1/web.res"]}],
 *    "watchdog":"/dev/watchdog" | null, "watchdog_timeout_s":N}
 * "fence" lists the hierarchies that have a live backup node, with the cgroups of all their
 * resources: when lkd dies or stops feeding, the guard kills exactly those.
 *
 * The fenced frame: a comm-path frame (wire.h) of type LK_WIRE_FENCED, the only frame of
 * its own connection, session = the incarnation (the 64-bit number lkd sends as "inc" in
 * every HELLO, random at each lkd start), seq 1, payload
 *   {"node":"node1","incarnation":"0123456789abcdef","hierarchies":["web"],"why":"..."}
 * A peer accepts it only for the incarnation it last heard from that node: a recording
 * is worthless once that lkd is gone (and a fenced lkd exits: it never resumes). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LK_GUARD_MAGIC                0x4f4b4744u /* "OKGD" */
#define LK_GUARD_VERSION              1
#define LK_GUARD_FEED_MS              100 /* lkd feeds at most this often */
#define LK_GUARD_PEERS_MAX            64
#define LK_GUARD_ADDRS_MAX            8
#define LK_GUARD_FENCE_MAX            4096 /* hierarchies */
#define LK_GUARD_CGROUPS_MAX          256  /* resources of one hierarchy */
#define LK_GUARD_PATH_MAX             4096
#define LK_GUARD_DEAD_MS_MIN          100
#define LK_GUARD_DEAD_MS_MAX          6000000 /* LK_HB_INTERVAL_MAX * LK_HB_MISSES_MAX */
#define LK_GUARD_WATCHDOG_TIMEOUT_MAX 3600
/* A fenced frame arrives on a connection without a HELLO, where net.c reads at most
 * PRE_HELLO_MAX_PAYLOAD (64 KiB) from a stranger: the payload stays within that (about 980
 * hierarchies of 63-byte names; beyond, the peers are not told and wait the dead time). */
#define LK_GUARD_FENCED_MAX           (64 * 1024)

/* lkd's state as the page tells it. */
enum lk_guard_lkd_state {
    LK_GUARD_LKD_STARTING = 0, /* page made, not fed yet: the guard waits */
    LK_GUARD_LKD_RUNNING = 1,  /* fed from the loop */
    LK_GUARD_LKD_STOPPED = 2,  /* a clean stop (lkstop, lkstop -f): the guard leaves quietly */
};

/* The liveness page (4096 bytes in the file; the rest is zero). */
struct lk_guard_page {
    uint32_t magic;   /* LK_GUARD_MAGIC, written last by lkd when it made the page */
    uint32_t version; /* LK_GUARD_VERSION */
    int32_t lkd_pid;
    uint32_t lkd_state;      /* enum lk_guard_lkd_state */
    uint64_t seq;            /* lkd: one more at every feed */
    uint64_t fed_mono_ns;    /* lkd: CLOCK_MONOTONIC at the last feed */
    uint64_t plan_gen;       /* lkd: bumped after each new guard.plan */
    uint64_t dead_ms;        /* lkd: the cluster's dead time (the guard fences after half) */
    int32_t guard_pid;       /* guard: its pid once it watches */
    uint32_t fenced;         /* guard: 1 once it fenced; lkd exits at its next feed */
    uint64_t guard_mono_ns;  /* guard: CLOCK_MONOTONIC of its last look at the page */
    uint32_t watchdog_armed; /* guard: 1 while it feeds a watchdog device */
    uint32_t plan_loaded;    /* guard: the low 32 bits of the plan_gen whose plan it runs with */
    char fence_why[256];     /* guard: why it fenced (NUL-terminated), for lkd's log and status */
};

struct lk_guard_peer {
    char name[64];
    size_t address_count;
    char addresses[LK_GUARD_ADDRS_MAX][128]; /* "host:port" */
};

struct lk_guard_hier {
    char name[64];
    size_t cgroup_count;
    char **cgroups; /* owned, absolute paths */
};

struct lk_guard_plan {
    char node[64];
    uint64_t incarnation;
    uint64_t dead_ms;
    char authkey[LK_GUARD_PATH_MAX];
    char authkey_stamp[64]; /* changes when the key file is replaced (a key rotation); "" none */
    size_t peer_count;
    struct lk_guard_peer *peers; /* owned */
    size_t fence_count;
    struct lk_guard_hier *fence;      /* owned */
    char watchdog[LK_GUARD_PATH_MAX]; /* "" = none */
    uint32_t watchdog_timeout_s;
};

/* The plan as JSON (a new reference), or NULL without memory. */
json_t *lk_guard_plan_json(const struct lk_guard_plan *plan);

/* Parses and validates a plan (every field: names as tags, absolute paths without "..",
 * addresses host:port, counts within the limits). Returns 0, or -EINVAL with a one-line
 * reason in err (plan left empty), or -ENOMEM. Free with lk_guard_plan_free. */
int lk_guard_plan_parse(const json_t *json, struct lk_guard_plan *plan, char *err, size_t err_size);
void lk_guard_plan_free(struct lk_guard_plan *plan);

/* The fenced frame's payload, and the frame itself (wire.h, type LK_WIRE_FENCED). */
json_t *lk_guard_fenced_json(const char *node, uint64_t incarnation, const char *const *hiers,
                             size_t hier_count, const char *why);
/* lk_guard_fenced_frame returns 0, -ENOMEM, or -EMSGSIZE when the payload would exceed
 * LK_GUARD_FENCED_MAX. */
int lk_guard_fenced_frame(const uint8_t key[32], const char *node, uint64_t incarnation,
                          const char *const *hiers, size_t hier_count, const char *why,
                          uint8_t **ret_buf, size_t *ret_len);

/* A decoded fenced payload. */
struct lk_guard_fenced {
    char node[64];
    uint64_t incarnation;
    size_t hier_count;
    char (*hiers)[64]; /* owned */
    char why[256];
};

/* Validates a fenced payload (at most LK_GUARD_FENCED_MAX bytes, node a tag, incarnation
 * 16 hex digits equal to session, hierarchies tags, at most LK_GUARD_FENCE_MAX). Returns 0, -EINVAL
 * (err says why) or -ENOMEM. Free with lk_guard_fenced_free. */
int lk_guard_fenced_parse(const void *payload, size_t len, uint64_t session,
                          struct lk_guard_fenced *ret, char *err, size_t err_size);
void lk_guard_fenced_free(struct lk_guard_fenced *f);

/* 16 lower-case hex digits of x into buf (17 bytes); and back (-EINVAL unless exactly 16
 * hex digits). */
void lk_guard_hex64(uint64_t x, char buf[17]);
int lk_guard_parse_hex64(const char *text, uint64_t *ret);

/* The guard's judgement at each look, pure so that every reason to fence is unit-tested
 * (lkguard gathers the facts, acts on the verdict). */
struct lk_guard_look {
    bool at_start;        /* the first look, before the guard's loop */
    bool lkd_gone;        /* lkd's pidfd is readable (or, without pidfd, its pid is gone) */
    uint32_t lkd_state;   /* page.lkd_state, read after lkd_gone was known */
    int32_t lkd_pid;      /* for the reason's words */
    uint64_t fed_mono_ns; /* page.fed_mono_ns */
    uint64_t dead_ms;     /* page.dead_ms (below LK_GUARD_DEAD_MS_MIN counts as the minimum) */
    uint64_t now_ns;      /* CLOCK_MONOTONIC now */
    uint64_t last_ns;     /* CLOCK_MONOTONIC at the previous look (at_start: now_ns) */
};

enum lk_guard_verdict {
    LK_GUARD_WATCH,      /* all is well: look again after lk_guard_period_ms */
    LK_GUARD_LEAVE,      /* lkd stopped cleanly and exited: exit quietly */
    LK_GUARD_FENCE,      /* lkd is gone without a clean stop: fence, then exit */
    LK_GUARD_FENCE_WAIT, /* lkd is stuck or the node was paused: fence, wait for lkd to exit */
};

/* Judges one look: lkd gone (LEAVE when STOPPED, else FENCE), the guard's own clock jumped
 * by more than half the dead time since the last look (the whole node was paused), lkd
 * RUNNING without a feed for more than half the dead time. When fencing, a one-line reason
 * goes to why (at most why_size bytes, NUL-terminated). */
enum lk_guard_verdict lk_guard_judge(const struct lk_guard_look *look, char *why, size_t why_size);

/* How often the guard looks: min(dead time / 8, 250 ms), at least 10 ms. */
uint64_t lk_guard_period_ms(uint64_t dead_ms);
