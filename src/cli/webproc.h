/* lkweb beside lkd (docs/WEB.md): lkstart starts it, lkstop stops it; both find it by its
 * pidfile, run/lkweb.pid ("PID STARTTIME"), whose start time must match the process's,
 * so a pid reused by another program is never signalled. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* The pid of root's running lkweb, or 0. */
pid_t lk_webproc_running(const char *root);

/* Starts lkweb --root root (listening on listen, NULL: lk.conf's), which returns once it
 * listens. Prints one line and returns 1 when it did not start, else 0. */
int lk_webproc_start(const char *prog, const char *root, const char *listen);

/* Stops root's lkweb (SIGTERM, waits up to 10 s). 0 when none runs or it stopped, else 1
 * after one line on stderr. */
int lk_webproc_stop(const char *prog, const char *root);

/* Writes lk.conf's [web] section: enabled = yes, and listen when given (the other keys
 * kept). 0, or 1 after one line on stderr. */
int lk_webproc_enable(const char *prog, const char *root, const char *listen);

/* Whether lk.conf says [web] enabled = yes. */
bool lk_webproc_enabled(const char *root);
