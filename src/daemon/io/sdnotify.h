/* lkd's notifications to its service manager (systemd's sd_notify protocol): readiness,
 * status lines, stopping, and the watchdog's pings from the loop.
 *
 * Owned by main.c: one per lkd, started once the loop exists. Without NOTIFY_SOCKET in the
 * environment (lkstart, a terminal) every call does nothing. The watchdog's pings come
 * from a timer of lkd's own loop at half of WATCHDOG_USEC, so that a loop that stops
 * turning (frozen, stopped, stuck in a call) stops them and systemd acts. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct lk_sdnotify {
    uv_timer_t timer;
    uint64_t watchdog_usec; /* 0: no watchdog asked for */
    bool timer_ready;
    bool stopping_sent;
};

/* Reads WATCHDOG_USEC (and WATCHDOG_PID) and, when a watchdog is asked of this process,
 * starts the ping timer on loop (unreferenced: it never keeps the loop alive). Returns 0,
 * or a libuv error (then no pings are sent). */
int lk_sdnotify_start(struct lk_sdnotify *n, uv_loop_t *loop);

/* READY=1 with a STATUS= line: the socket serves and the comm paths listen. */
void lk_sdnotify_ready(const char *status);

/* A STATUS= line (what the node is doing, for systemctl status). */
void lk_sdnotify_status(const char *status);

/* STOPPING=1 with a STATUS= line, once: the stop order began (lkstop, a signal). */
void lk_sdnotify_stopping(struct lk_sdnotify *n, const char *status);

/* Stops the pings and closes the timer; the loop's next turn frees it. */
void lk_sdnotify_stop(struct lk_sdnotify *n);
