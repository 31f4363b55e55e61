/* The loop-stall recorder (loopwatch.h). libuv counts the time its loop spends waiting in
 * the kernel (UV_METRICS_IDLE_TIME); a prepare handle runs once a turn, just before that
 * wait, so the time between two prepares minus the wait between them is what one turn
 * worked: the timers, the I/O callbacks, the checks and the closes of that turn. That is
 * the delay any event arriving during the turn suffered before lkd could look at it. The
 * thread's CPU time is read too: a turn's CPU time is lkd's own work, the rest of its
 * stall is the time other processes had the CPU.
 *
 * Events that enter: the prepare callback, once a turn (three clock reads and a few
 * comparisons). It must never do more than that per turn, nor log: a stall is reported
 * through status, where whoever looks can see it. */
#include "loopwatch.h"

#include <stdbool.h>
#include <time.h>

#define NS_PER_MS UINT64_C(1000000)
#define WINDOW_NS (UINT64_C(10000) * NS_PER_MS)
#define STALL_NS  ((uint64_t) LK_LOOPWATCH_STALL_MS * NS_PER_MS)

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0) {
        return 0;
    }
    return (uint64_t) ts.tv_sec * UINT64_C(1000000000) + (uint64_t) ts.tv_nsec;
}

static void on_prepare(uv_prepare_t *h)
{
    struct lk_loopwatch *w = h->data;
    uint64_t now = uv_hrtime();
    uint64_t idle = uv_metrics_idle_time(w->loop);
    uint64_t cpu_now = thread_cpu_ns();
    if (w->last_ns == 0) {
        w->window_start_ns = now;
    } else {
        uint64_t span = now - w->last_ns;
        uint64_t waited = idle - w->last_idle_ns;
        uint64_t busy = span > waited ? span - waited : 0;
        uint64_t cpu = cpu_now > w->last_cpu_ns ? cpu_now - w->last_cpu_ns : 0;
        w->turns++;
        if (busy > STALL_NS) {
            w->stalls++;
        }
        if (busy > w->max_ns) {
            w->max_ns = busy;
        }
        if (cpu > w->max_cpu_ns) {
            w->max_cpu_ns = cpu;
        }
        if (now - w->window_start_ns >= WINDOW_NS) {
            bool stale = now - w->window_start_ns >= 2 * WINDOW_NS;
            w->prev_window_max_ns = stale ? 0 : w->window_max_ns;
            w->prev_window_max_cpu_ns = stale ? 0 : w->window_max_cpu_ns;
            w->window_max_ns = 0;
            w->window_max_cpu_ns = 0;
            w->window_start_ns = now;
        }
        if (busy > w->window_max_ns) {
            w->window_max_ns = busy;
        }
        if (cpu > w->window_max_cpu_ns) {
            w->window_max_cpu_ns = cpu;
        }
    }
    w->last_ns = now;
    w->last_idle_ns = idle;
    w->last_cpu_ns = cpu_now;
}

int lk_loopwatch_start(struct lk_loopwatch *w, uv_loop_t *loop)
{
    *w = (struct lk_loopwatch){.loop = loop};
    int r = uv_loop_configure(loop, UV_METRICS_IDLE_TIME);
    if (r < 0) {
        return r;
    }
    r = uv_prepare_init(loop, &w->prepare);
    if (r < 0) {
        return r;
    }
    w->prepare.data = w;
    r = uv_prepare_start(&w->prepare, on_prepare);
    if (r < 0) {
        uv_close((uv_handle_t *) &w->prepare, NULL);
        return r;
    }
    /* Recording alone must not keep the loop running. */
    uv_unref((uv_handle_t *) &w->prepare);
    return 0;
}

void lk_loopwatch_stop(struct lk_loopwatch *w)
{
    if (w->loop && !uv_is_closing((uv_handle_t *) &w->prepare)) {
        uv_close((uv_handle_t *) &w->prepare, NULL);
    }
}

static double ms(uint64_t ns)
{
    return (double) (ns / 10000) / 100.0;
}

static uint64_t max2(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

json_t *lk_loopwatch_json(const struct lk_loopwatch *w)
{
    struct lk_loopwatch zero = {0};
    if (!w) {
        w = &zero;
    }
    uint64_t recent = max2(w->window_max_ns, w->prev_window_max_ns);
    uint64_t recent_cpu = max2(w->window_max_cpu_ns, w->prev_window_max_cpu_ns);
    /* No turn for two windows (the loop waited all along): nothing recent. */
    if (w->last_ns != 0 && uv_hrtime() - w->window_start_ns >= 2 * WINDOW_NS) {
        recent = recent_cpu = 0;
    }
    return json_pack("{s:f, s:f, s:I, s:f, s:f, s:I}", "max_stall_ms", ms(w->max_ns),
                     "recent_max_stall_ms", ms(recent), "stalls_over_20ms", (json_int_t) w->stalls,
                     "max_cpu_ms", ms(w->max_cpu_ns), "recent_max_cpu_ms", ms(recent_cpu), "turns",
                     (json_int_t) w->turns);
}
