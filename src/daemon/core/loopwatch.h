/* The loop-stall recorder: how long each turn of lkd's loop works outside the kernel's
 * wait (timers, I/O callbacks, checks, closes), the worst such turn and how many took more
 * than LK_LOOPWATCH_STALL_MS. A turn that works long delays everything else: heartbeats,
 * checks, requests. `lkcli status --json` shows it as "loop".
 *
 * Owner: main.c (node->loopwatch), started before the loop runs and stopped with it. */
#pragma once

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

#define LK_LOOPWATCH_STALL_MS 20

struct lk_loopwatch {
    uv_loop_t *loop;
    uv_prepare_t prepare;
    uint64_t last_ns;      /* uv_hrtime at the previous turn's prepare, 0 before the first */
    uint64_t last_idle_ns; /* uv_metrics_idle_time then */
    uint64_t turns;
    uint64_t max_ns; /* the worst turn since start */
    uint64_t stalls; /* turns over LK_LOOPWATCH_STALL_MS since start */
    uint64_t window_start_ns;
    uint64_t window_max_ns;      /* the worst turn of the current 10 s window */
    uint64_t prev_window_max_ns; /* and of the one before */
    /* The same for the CPU time lkd's thread used in a turn: the stall without the time
     * other processes had the CPU (on a busy machine the two differ). */
    uint64_t last_cpu_ns;
    uint64_t max_cpu_ns;
    uint64_t window_max_cpu_ns;
    uint64_t prev_window_max_cpu_ns;
};

/* Starts recording on loop (which gets UV_METRICS_IDLE_TIME). Returns 0 or a negative
 * errno (nothing recorded then). */
int lk_loopwatch_start(struct lk_loopwatch *w, uv_loop_t *loop);

/* Stops recording (the handle closes on the loop; w must live until then). */
void lk_loopwatch_stop(struct lk_loopwatch *w);

/* {"max_stall_ms", "recent_max_stall_ms" (the last 10 to 20 s), "stalls_over_20ms",
 * "max_cpu_ms", "recent_max_cpu_ms", "turns"}; NULL for ENOMEM. w may be NULL (zeros). */
json_t *lk_loopwatch_json(const struct lk_loopwatch *w);
