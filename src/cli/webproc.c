/* lkweb's process for lkstart and lkstop (webproc.h): its pidfile and start-time check,
 * starting it next to lkd, stopping it with SIGTERM, and lk.conf's [web] lines that
 * `lkstart --web` writes. lkd is not running when those lines are written, or keeps its
 * own copy of the section (it writes [web] back as it read it at its start).
 *
 * It never signals a process whose start time differs from the pidfile's. */
#include "webproc.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "webconf.h"

#define PIDFILE "run/lkweb.pid"

static char *read_text(const char *path, size_t max)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0) {
            close(fd);
        }
        return NULL;
    }
    char *buf = malloc(max + 1);
    size_t len = 0;
    ssize_t n;
    while (buf && len < max && (n = read(fd, buf + len, max - len)) > 0) {
        len += (size_t) n;
    }
    close(fd);
    if (buf) {
        buf[len] = '\0';
    }
    return buf;
}

/* Field 22 of /proc/PID/stat, or 0. */
static unsigned long long start_time_of(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
    FILE *f = fopen(path, "re");
    char stat[1024];
    size_t n = f ? fread(stat, 1, sizeof(stat) - 1, f) : 0;
    if (f) {
        fclose(f);
    }
    stat[n] = '\0';
    const char *p = strrchr(stat, ')');
    if (p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X')) {
        return 0; /* finished */
    }
    for (int field = 2; p && *p; p++) {
        if (*p == ' ' && ++field == 22) {
            return strtoull(p + 1, NULL, 10);
        }
    }
    return 0;
}

pid_t lk_webproc_running(const char *root)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", root, PIDFILE);
    char *text = read_text(path, 64);
    long long pid = 0;
    unsigned long long start = 0;
    if (!text || sscanf(text, "%lld %llu", &pid, &start) != 2 || pid <= 1 || pid > INT32_MAX) {
        free(text);
        return 0;
    }
    free(text);
    unsigned long long now = start_time_of((pid_t) pid);
    return now != 0 && now == start ? (pid_t) pid : 0;
}

int lk_webproc_start(const char *prog, const char *root, const char *listen)
{
    char exe[PATH_MAX], web[PATH_MAX + 16], ui[PATH_MAX + 16];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = '\0';
    char *dir = dirname(exe);
    snprintf(web, sizeof(web), "%s/lkweb", dir);
    if (access(web, X_OK) != 0) {
        snprintf(web, sizeof(web), "%s/../sbin/lkweb", dir);
    }
    /* In the build tree (build/lkstart), the repository's web/ is the dashboard. */
    snprintf(ui, sizeof(ui), "%s/../web/index.html", dir);
    bool build_tree = access(ui, R_OK) == 0;
    snprintf(ui, sizeof(ui), "%s/../web", dir);
    const char *argv[10] = {"lkweb", "--root", root};
    int argc = 3;
    if (listen) {
        argv[argc++] = "--listen";
        argv[argc++] = listen;
    }
    if (build_tree) {
        argv[argc++] = "--ui";
        argv[argc++] = ui;
    }
    argv[argc] = NULL;
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "%s: the web console did not start: cannot fork: %s\n", prog,
                strerror(errno));
        return 1;
    }
    if (pid == 0) {
        execv(web, (char *const *) (uintptr_t) argv);
        fprintf(stderr, "%s: the web console did not start: cannot run '%s': %s\n", prog, web,
                strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 127) {
            fprintf(stderr, "%s: the web console did not start (lkweb said why above)\n", prog);
        }
        return 1;
    }
    return 0;
}

int lk_webproc_stop(const char *prog, const char *root)
{
    pid_t pid = lk_webproc_running(root);
    if (pid == 0) {
        return 0;
    }
    if (kill(pid, SIGTERM) < 0 && errno != ESRCH) {
        fprintf(stderr, "%s: cannot stop lkweb (pid %d): %s\n", prog, (int) pid, strerror(errno));
        return 1;
    }
    for (int i = 0; i < 200 && start_time_of(pid) != 0; i++) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (start_time_of(pid) != 0) {
        fprintf(stderr, "%s: lkweb (pid %d) did not exit within 10 s\n", prog, (int) pid);
        return 1;
    }
    return 0;
}

bool lk_webproc_enabled(const char *root)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/etc/lk.conf", root);
    char *text = read_text(path, 1024 * 1024);
    struct lk_web_conf conf;
    char err[256];
    bool on = text && lk_web_conf_parse(text, &conf, err, sizeof(err)) == 0 && conf.enabled;
    free(text);
    return on;
}

int lk_webproc_enable(const char *prog, const char *root, const char *listen)
{
    char path[PATH_MAX], tmp[PATH_MAX + 8];
    snprintf(path, sizeof(path), "%s/etc/lk.conf", root);
    snprintf(tmp, sizeof(tmp), "%s.new", path);
    char *text = read_text(path, 1024 * 1024);
    if (!text) {
        fprintf(stderr, "%s: cannot read '%s': %s\n", prog, path, strerror(errno));
        return 1;
    }
    /* The file without its [web] section's enabled and listen lines, then those. */
    size_t cap = strlen(text) + 512;
    char *out = malloc(cap);
    size_t len = 0;
    bool in_web = false, had_web = false;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); out && line;
         line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '[') {
            in_web = strncmp(line, "[web]", 5) == 0;
            had_web = had_web || in_web;
        }
        if (in_web &&
            (strncmp(line, "enabled", 7) == 0 || (listen && strncmp(line, "listen", 6) == 0))) {
            continue;
        }
        len += (size_t) snprintf(out + len, cap - len, "%s\n", line);
        if (in_web && line[0] == '[') {
            len += (size_t) snprintf(out + len, cap - len, "enabled = yes\n");
            if (listen) {
                len += (size_t) snprintf(out + len, cap - len, "listen = %s\n", listen);
            }
        }
    }
    if (out && !had_web) {
        len += (size_t) snprintf(out + len, cap - len, "\n[web]\nenabled = yes\n");
        if (listen) {
            len += (size_t) snprintf(out + len, cap - len, "listen = %s\n", listen);
        }
    }
    free(text);
    int fd = out ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644) : -1;
    bool ok = fd >= 0 && write(fd, out, len) == (ssize_t) len && fchmod(fd, 0644) == 0 &&
              fsync(fd) == 0;
    if (fd >= 0) {
        ok = close(fd) == 0 && ok;
    }
    ok = ok && rename(tmp, path) == 0;
    free(out);
    if (!ok) {
        fprintf(stderr, "%s: cannot write '%s': %s\n", prog, path, strerror(errno));
        (void) unlink(tmp);
        return 1;
    }
    return 0;
}
