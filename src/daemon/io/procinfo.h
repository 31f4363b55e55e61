/* Facts about a process read from /proc (procinfo.c). */
#pragma once

/* The start time of pid in clock ticks since boot (field 22 of /proc/PID/stat), or 0 when
 * it cannot be read. Together with the pid it names one process: a pid reused later has
 * another start time. */
unsigned long long lk_proc_start_ticks(int pid);
