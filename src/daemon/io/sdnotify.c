/* The sd_notify side of lkd (sdnotify.h): READY=1 once the node serves, STATUS= lines,
 * STOPPING=1 when the stop order begins, WATCHDOG=1 from a timer of the loop.
 *
 * Events that enter: calls from main.c, and the ping timer's ticks on the loop. Everything
 * goes through libsystemd's sd_notify(), which does nothing without NOTIFY_SOCKET (lkd
 * started by lkstart or by hand) and never blocks (a datagram to a local socket; its
 * failure is ignored: the service manager is told, not asked). The environment is left as
 * it is: scripts run with an environment of their own (runner.c), never lkd's. It must
 * never ping from anywhere but the loop (a thread of its own would keep a frozen loop
 * alive in systemd's eyes), and never decide anything. */
#include "sdnotify.h"

#include <stdio.h>
#include <systemd/sd-daemon.h>

static void ping(uv_timer_t *t)
{
    (void) t;
    (void) sd_notify(0, "WATCHDOG=1");
}

int lk_sdnotify_start(struct lk_sdnotify *n, uv_loop_t *loop)
{
    *n = (struct lk_sdnotify){0};
    uint64_t usec = 0;
    /* > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID, if set, names this process. */
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) {
        return 0;
    }
    int r = uv_timer_init(loop, &n->timer);
    if (r < 0) {
        return r;
    }
    n->timer_ready = true;
    n->watchdog_usec = usec;
    uv_unref((uv_handle_t *) &n->timer);
    uint64_t every_ms = usec / 2000;
    if (every_ms == 0) {
        every_ms = 1;
    }
    ping(&n->timer);
    return uv_timer_start(&n->timer, ping, every_ms, every_ms);
}

static void notify_with_status(const char *what, const char *status)
{
    char line[512];
    snprintf(line, sizeof(line), "%s%sSTATUS=%s", what, what[0] ? "\n" : "", status ? status : "");
    (void) sd_notify(0, line);
}

void lk_sdnotify_ready(const char *status)
{
    notify_with_status("READY=1", status);
}

void lk_sdnotify_status(const char *status)
{
    notify_with_status("", status);
}

void lk_sdnotify_stopping(struct lk_sdnotify *n, const char *status)
{
    if (n->stopping_sent) {
        return;
    }
    n->stopping_sent = true;
    notify_with_status("STOPPING=1", status);
}

void lk_sdnotify_stop(struct lk_sdnotify *n)
{
    if (n->timer_ready) {
        n->timer_ready = false;
        uv_timer_stop(&n->timer);
        uv_close((uv_handle_t *) &n->timer, NULL);
    }
}
