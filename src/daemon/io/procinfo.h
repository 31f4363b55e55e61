/* Facts about a process read from /proc (procinfo.c). */
#pragma once

#include <stdbool.h>
#include <time.h>

/* The start time of pid in clock ticks since boot (field 22 of /proc/PID/stat), or 0 when
 * it cannot be read. Together with the pid it names one process: a pid reused later has
 * another start time. */
unsigned long long lk_proc_start_ticks(int pid);

/* Whether pid started more than a second after when (seconds since the epoch), or its start
 * cannot be read: then it is not the process a file written at when names, but one that
 * reused its pid (the pidfile watch and the built-in process check). */
bool lk_proc_started_after(int pid, time_t when);
