/* Facts about a process from /proc: its start time, which tells a process from a later one
 * that reused its pid (the pidfile watch, runs cut short by lkd's death). Reads only; never
 * signals anything. */
#include "procinfo.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

unsigned long long lk_proc_start_ticks(int pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) {
        return 0;
    }
    buf[n] = '\0';
    /* The command name may hold spaces and parentheses: fields start after the last ')'. */
    char *p = strrchr(buf, ')');
    if (!p) {
        return 0;
    }
    unsigned long long start = 0;
    int field = 2;
    char *save = NULL;
    for (char *tok = strtok_r(p + 1, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (++field == 22) {
            start = strtoull(tok, NULL, 10);
            break;
        }
    }
    return start;
}

/* Boot time in seconds since the epoch, from /proc/stat's btime; 0 when it cannot be read. */
static long long boot_time(void)
{
    FILE *f = fopen("/proc/stat", "re");
    if (!f) {
        return 0;
    }
    char line[256];
    long long btime = 0;
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "btime %lld", &btime) == 1) {
            break;
        }
    }
    fclose(f);
    return btime;
}

bool lk_proc_started_after(int pid, time_t when)
{
    long ticks = sysconf(_SC_CLK_TCK);
    unsigned long long start = lk_proc_start_ticks(pid);
    if (start == 0 || ticks <= 0) {
        return true;
    }
    long long started = boot_time() + (long long) (start / (unsigned long long) ticks);
    return started > (long long) when + 1;
}
