/* Containment: the cgroup v2 directories of this node's resources (see cgroup.h).
 *
 * Owns the base directory <parent>/openkeeper/<node>-<hash>, a descriptor of it, the
 * resource cgroups <base>/<tag>.res it creates and their cached descriptors, and the uv
 * handles of kills and watches in flight. Events that enter: calls from the daemon, and
 * from the loop changes of cgroup.events (inotify through uv_fs_event; kernfs notifies a
 * modification of the file whenever "populated" or "frozen" changes) and timer ticks, the
 * fallback when inotify is missing or a notification is lost.
 *
 * Every file read here is the kernel's, but is still validated: reads are bounded, a line
 * that does not parse is skipped, a malformed file never crashes. It must never signal a
 * process that is not in the resource's cgroup at the moment of the signal (each pid is
 * pinned with a pidfd and its cgroup checked before the signal), never pid 1 or lkd itself,
 * never move a process (the runner spawns straight into a cgroup with CLONE_INTO_CGROUP),
 * and never decide what an empty cgroup means. */
#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "validate.h"

#define SUBTREE        "openkeeper"
#define RES_SUFFIX     ".res"
#define SMALL_FILE_MAX 4096
#define LINE_MAX_BYTES 8192
#define PROCS_MAX      100000 /* pids handled per read of cgroup.procs */
#define SIGNAL_ROUNDS  16     /* re-reads of cgroup.procs while signalling */
#define POLL_MS        50     /* fallback poll of cgroup.events */
#define WATCH_POLL_MS  10000  /* the same for a watch whose inotify works */
#define KILL_WAIT_MS   5000   /* after cgroup.kill, before giving up */
#define CMDLINE_MAX    256

struct res {
    struct res *next;
    char *tag;
    int fd; /* the cgroup's directory, for CLONE_INTO_CGROUP; -1 after it was found stale */
};

struct lk_cgroups {
    char base[PATH_MAX];
    char rel[PATH_MAX]; /* the base as /proc/<pid>/cgroup shows it ("0::" + rel) */
    int base_fd;
    bool has_memory;
    struct res *list;
};

const char *lk_cgroups_base(const struct lk_cgroups *cg)
{
    return cg->base;
}

bool lk_cgroups_has_memory(const struct lk_cgroups *cg)
{
    return cg->has_memory;
}

char *lk_cgroups_path(const struct lk_cgroups *cg, const char *tag, char *buf, size_t size)
{
    (void) snprintf(buf, size, "%s/%s" RES_SUFFIX, cg->base, tag);
    return buf;
}

__attribute__((format(printf, 3, 4))) static void say(char *why, size_t size, const char *fmt, ...)
{
    if (size == 0) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    (void) vsnprintf(why, size, fmt, ap);
    va_end(ap);
}

static bool tag_ok(const char *tag)
{
    char err[8];
    return tag && lk_validate_tag(tag, "tag", err, sizeof(err)) == 0;
}

/* The name of tag's cgroup relative to the base. */
static int res_name(const char *tag, char *buf, size_t size)
{
    if (!tag_ok(tag)) {
        return -EINVAL;
    }
    int n = snprintf(buf, size, "%s" RES_SUFFIX, tag);
    return n > 0 && (size_t) n < size ? 0 : -ENAMETOOLONG;
}

/* Reads at most size - 1 bytes of dirfd/name into buf, NUL-terminated; a NUL inside is
 * kept (callers parse lines and stop there). Returns the length or a negative errno. */
static ssize_t read_small(int dirfd, const char *name, char *buf, size_t size)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        return -errno;
    }
    size_t len = 0;
    while (len + 1 < size) {
        ssize_t n = read(fd, buf + len, size - 1 - len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            int r = -errno;
            (void) close(fd);
            return r;
        }
        if (n == 0) {
            break;
        }
        len += (size_t) n;
    }
    buf[len] = '\0';
    (void) close(fd);
    return (ssize_t) len;
}

static int write_str(int dirfd, const char *name, const char *text)
{
    int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        return -errno;
    }
    size_t len = strlen(text);
    ssize_t n;
    do {
        n = write(fd, text, len);
    } while (n < 0 && errno == EINTR);
    int r = n < 0 ? -errno : (size_t) n == len ? 0 : -EIO;
    (void) close(fd);
    return r;
}

/* The value of "key <number>" in a flat keyed file (cgroup.events, cpu.stat). Returns 0,
 * or -ENOENT when the key is missing or its value malformed. */
static int keyed_value(const char *text, const char *key, uint64_t *ret)
{
    size_t key_len = strlen(key);
    const char *p = text;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t line_len = eol ? (size_t) (eol - p) : strlen(p);
        if (line_len > key_len + 1 && strncmp(p, key, key_len) == 0 && p[key_len] == ' ') {
            const char *v = p + key_len + 1;
            uint64_t value = 0;
            size_t digits = 0;
            while (v < p + line_len && *v >= '0' && *v <= '9' && digits < 20) {
                uint64_t d = (uint64_t) (*v - '0');
                if (value > (UINT64_MAX - d) / 10) {
                    return -ENOENT;
                }
                value = value * 10 + d;
                v++;
                digits++;
            }
            if (digits > 0 && v == p + line_len) {
                *ret = value;
                return 0;
            }
            return -ENOENT;
        }
        if (!eol) {
            break;
        }
        p = eol + 1;
    }
    return -ENOENT;
}

/* "populated" of the cgroup at dirfd: 1, 0, or a negative errno (the file is gone or
 * malformed). */
static int read_populated(int dirfd)
{
    char buf[SMALL_FILE_MAX];
    ssize_t n = read_small(dirfd, "cgroup.events", buf, sizeof(buf));
    if (n < 0) {
        return (int) n;
    }
    uint64_t v;
    if (keyed_value(buf, "populated", &v) < 0 || v > 1) {
        return -EBADMSG;
    }
    return (int) v;
}

/* Calls fn for each valid pid in dirfd's cgroup.procs, streaming in chunks (the file can be
 * long), at most PROCS_MAX. fn returns false to stop. Returns the number of pids seen, or a
 * negative errno. */
typedef bool (*pid_fn)(pid_t pid, void *data);
static int for_each_pid(int dirfd, pid_fn fn, void *data)
{
    int fd = openat(dirfd, "cgroup.procs", O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        return -errno;
    }
    char buf[4096];
    char line[16];
    size_t line_len = 0;
    bool overlong = false;
    int count = 0;
    bool stop = false;
    while (!stop && count < PROCS_MAX) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        for (ssize_t i = 0; i < n && !stop; i++) {
            char c = buf[i];
            if (c != '\n') {
                if (line_len + 1 < sizeof(line)) {
                    line[line_len++] = c;
                } else {
                    overlong = true;
                }
                continue;
            }
            line[line_len] = '\0';
            char *end;
            errno = 0;
            long v = line_len > 0 && !overlong ? strtol(line, &end, 10) : 0;
            if (line_len > 0 && !overlong && errno == 0 && *end == '\0' && line[0] != '-' &&
                v > 0 && v <= INT_MAX) {
                count++;
                stop = !fn((pid_t) v, data) || count >= PROCS_MAX;
            }
            line_len = 0;
            overlong = false;
        }
    }
    (void) close(fd);
    return count;
}

static bool count_pid(pid_t pid, void *data)
{
    (void) pid;
    (void) data;
    return true;
}

/* Opens tag's cgroup directory without creating it. */
static int open_res(const struct lk_cgroups *cg, const char *tag)
{
    char name[LK_TAG_MAX + sizeof(RES_SUFFIX) + 1];
    int r = res_name(tag, name, sizeof(name));
    if (r < 0) {
        return r;
    }
    int fd = openat(cg->base_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

static struct res *find_res(const struct lk_cgroups *cg, const char *tag)
{
    for (struct res *r = cg->list; r; r = r->next) {
        if (strcmp(r->tag, tag) == 0) {
            return r;
        }
    }
    return NULL;
}

/* Replaces tag's empty cgroup with a new one of the same name. A cgroup that was killed
 * through cgroup.kill keeps killing what is cloned into it afterwards on some kernels (6.18
 * here: CLONE_INTO_CGROUP compares the kill count of the parent's cgroup with the target's),
 * so a killed cgroup is never used again: a kill that emptied it renews it, and so does the
 * first use by this lkd (the guard or an earlier lkd may have killed it). A cgroup that
 * cannot go (EBUSY: not empty after all) stays as it is. */
static void renew_res(struct lk_cgroups *cg, const char *name)
{
    if (unlinkat(cg->base_fd, name, AT_REMOVEDIR) == 0) {
        (void) mkdirat(cg->base_fd, name, 0755);
    }
}

int lk_cgroups_fd(struct lk_cgroups *cg, const char *tag)
{
    char name[LK_TAG_MAX + sizeof(RES_SUFFIX) + 1];
    int r = res_name(tag, name, sizeof(name));
    if (r < 0) {
        return r;
    }
    struct res *res = find_res(cg, tag);
    if (res) {
        /* Still the cgroup of that name? Someone may have removed it under us. */
        struct stat a, b;
        if (fstat(res->fd, &a) == 0 && fstatat(cg->base_fd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
            a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
            return res->fd;
        }
        (void) close(res->fd);
        res->fd = -1;
    }
    if (mkdirat(cg->base_fd, name, 0755) < 0) {
        if (errno != EEXIST) {
            return -errno;
        }
        if (!res) {
            /* Ours for the first time in this lkd, and there already: renewed if empty. */
            int old = openat(cg->base_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
            bool empty = old >= 0 && read_populated(old) == 0;
            if (old >= 0) {
                (void) close(old);
            }
            if (empty) {
                renew_res(cg, name);
            }
        }
    }
    int fd = openat(cg->base_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        return -errno;
    }
    if (res) {
        res->fd = fd;
        return fd;
    }
    res = calloc(1, sizeof(*res));
    char *copy = strdup(tag);
    if (!res || !copy) {
        free(res);
        free(copy);
        (void) close(fd);
        return -ENOMEM;
    }
    res->tag = copy;
    res->fd = fd;
    res->next = cg->list;
    cg->list = res;
    return fd;
}

bool lk_cgroups_populated(const struct lk_cgroups *cg, const char *tag)
{
    int fd = open_res(cg, tag);
    if (fd < 0) {
        return false;
    }
    int r = read_populated(fd);
    (void) close(fd);
    return r == 1;
}

int lk_cgroups_stats(const struct lk_cgroups *cg, const char *tag, struct lk_cgroup_stats *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->memory_bytes = -1;
    int fd = open_res(cg, tag);
    if (fd < 0) {
        return fd == -EINVAL ? -EINVAL : -ENOENT;
    }
    int n = for_each_pid(fd, count_pid, NULL);
    ret->procs = n > 0 ? (uint32_t) n : 0;
    char buf[SMALL_FILE_MAX];
    uint64_t v;
    if (read_small(fd, "cpu.stat", buf, sizeof(buf)) >= 0 &&
        keyed_value(buf, "usage_usec", &v) == 0) {
        ret->cpu_usec = v;
    }
    if (cg->has_memory && read_small(fd, "memory.current", buf, sizeof(buf)) > 0) {
        char *end;
        errno = 0;
        unsigned long long m = strtoull(buf, &end, 10);
        if (errno == 0 && end != buf && (*end == '\n' || *end == '\0') && buf[0] != '-' &&
            m <= INT64_MAX) {
            ret->memory_bytes = (int64_t) m;
        }
    }
    (void) close(fd);
    return 0;
}

/* One process as "1234 (sleep 100)": its command line with NULs as spaces, or "[comm]" when
 * it has none (a zombie, a kernel thread), printable characters only. */
static void describe_pid(pid_t pid, char *buf, size_t size)
{
    char path[64];
    char cmd[CMDLINE_MAX + 1];
    (void) snprintf(path, sizeof(path), "/proc/%d", (int) pid);
    int dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ssize_t n = -1;
    bool comm = false;
    if (dirfd >= 0) {
        n = read_small(dirfd, "cmdline", cmd, sizeof(cmd));
        if (n <= 0) {
            n = read_small(dirfd, "comm", cmd, sizeof(cmd));
            comm = true;
        }
        (void) close(dirfd);
    }
    if (n <= 0) {
        (void) snprintf(buf, size, "%d", (int) pid);
        return;
    }
    while (n > 0 && (cmd[n - 1] == '\0' || cmd[n - 1] == '\n')) {
        n--;
    }
    for (ssize_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) cmd[i];
        if (c == '\0') {
            cmd[i] = ' ';
        } else if (c < 0x20 || c == 0x7f) {
            cmd[i] = '?';
        }
    }
    cmd[n] = '\0';
    (void) snprintf(buf, size, comm ? "%d ([%s])" : "%d (%s)", (int) pid, cmd);
}

struct describe {
    char *buf;
    size_t size;
    size_t len;
    bool cut;
};

static bool describe_one(pid_t pid, void *data)
{
    struct describe *d = data;
    if (d->cut || d->size == 0) {
        return true; /* still counting */
    }
    char item[CMDLINE_MAX + 64];
    describe_pid(pid, item, sizeof(item));
    const char *sep = d->len > 0 ? ", " : "";
    size_t need = strlen(sep) + strlen(item);
    /* Room for "..." is kept so that a cut is always visible. */
    if (d->len + need + 4 > d->size) {
        d->cut = true;
        size_t room = d->size - 1 - d->len;
        const char *dots = "...";
        size_t dots_len = room < 3 ? room : 3;
        memcpy(d->buf + d->len, dots, dots_len);
        d->len += dots_len;
        d->buf[d->len] = '\0';
        return true;
    }
    d->len += (size_t) snprintf(d->buf + d->len, d->size - d->len, "%s%s", sep, item);
    return true;
}

int lk_cgroups_describe(const struct lk_cgroups *cg, const char *tag, char *buf, size_t size)
{
    if (size > 0) {
        buf[0] = '\0';
    }
    int fd = open_res(cg, tag);
    if (fd < 0) {
        return 0;
    }
    struct describe d = {.buf = buf, .size = size};
    int n = for_each_pid(fd, describe_one, &d);
    (void) close(fd);
    return n > 0 ? n : 0;
}

static void remove_res(struct lk_cgroups *cg, const char *tag)
{
    char name[LK_TAG_MAX + sizeof(RES_SUFFIX) + 1];
    if (res_name(tag, name, sizeof(name)) == 0) {
        (void) unlinkat(cg->base_fd, name, AT_REMOVEDIR); /* EBUSY when populated: stays */
    }
}

void lk_cgroups_forget(struct lk_cgroups *cg, const char *tag)
{
    for (struct res **p = &cg->list; *p; p = &(*p)->next) {
        struct res *res = *p;
        if (strcmp(res->tag, tag) == 0) {
            *p = res->next;
            if (res->fd >= 0) {
                (void) close(res->fd);
            }
            free(res->tag);
            free(res);
            break;
        }
    }
    remove_res(cg, tag);
}

void lk_cgroups_close(struct lk_cgroups *cg)
{
    if (!cg) {
        return;
    }
    while (cg->list) {
        struct res *res = cg->list;
        cg->list = res->next;
        if (res->fd >= 0) {
            (void) close(res->fd);
        }
        free(res->tag);
        free(res);
    }
    /* Every empty resource cgroup goes, known to this lkd or left by an earlier one. */
    int fd = dup(cg->base_fd);
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    if (!dir && fd >= 0) {
        (void) close(fd);
    }
    if (dir) {
        struct dirent *e;
        while ((e = readdir(dir))) {
            size_t len = strlen(e->d_name);
            if (e->d_type == DT_DIR && len > strlen(RES_SUFFIX) &&
                strcmp(e->d_name + len - strlen(RES_SUFFIX), RES_SUFFIX) == 0) {
                (void) unlinkat(cg->base_fd, e->d_name, AT_REMOVEDIR);
            }
        }
        (void) closedir(dir);
    }
    (void) close(cg->base_fd);
    /* openkeeper/ itself stays: another node of this machine may be creating its base in
     * it right now. */
    (void) rmdir(cg->base);
    free(cg);
}

/* --- opening ------------------------------------------------------------------------- */

/* Undoes mountinfo's octal escapes (\040 for a space...) in place. Returns false on a
 * malformed escape. */
static bool unescape(char *s)
{
    char *out = s;
    for (char *p = s; *p;) {
        if (*p == '\\') {
            if (p[1] < '0' || p[1] > '3' || p[2] < '0' || p[2] > '7' || p[3] < '0' || p[3] > '7') {
                return false;
            }
            *out++ = (char) ((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
            p += 4;
        } else {
            *out++ = *p++;
        }
    }
    *out = '\0';
    return true;
}

/* Fields of one mountinfo line: "36 35 98:0 /root /mnt opts [optional...] - fstype src
 * superopts". Returns false when the line does not parse. */
static bool parse_mountinfo_line(char *line, char **root, char **point, char **fstype)
{
    char *save = NULL;
    char *field[6];
    int i = 0;
    char *tok = strtok_r(line, " ", &save);
    while (tok && i < 6) {
        field[i++] = tok;
        tok = i < 6 ? strtok_r(NULL, " ", &save) : NULL;
    }
    if (i < 6) {
        return false;
    }
    while ((tok = strtok_r(NULL, " ", &save)) && strcmp(tok, "-") != 0) {
    }
    if (!tok) {
        return false;
    }
    *fstype = strtok_r(NULL, " ", &save);
    *root = field[3];
    *point = field[4];
    return *fstype && unescape(*root) && unescape(*point) && (*root)[0] == '/' &&
           (*point)[0] == '/';
}

/* Finds the cgroup v2 mount: with want NULL the first one, else the one under which want
 * (an absolute path) lies, the longest such. Writes its mount point and the root of the
 * mount inside the hierarchy. Returns 0 or -ENOENT. */
static int find_cgroup2_mount(const char *want, char *point_out, size_t point_size, char *root_out,
                              size_t root_size)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f) {
        return -ENOENT;
    }
    char line[LINE_MAX_BYTES];
    size_t best = 0;
    bool found = false;
    bool skipping = false;
    while (fgets(line, sizeof(line), f)) {
        size_t len = strlen(line);
        bool complete = len > 0 && line[len - 1] == '\n';
        bool was_skipping = skipping;
        skipping = !complete;
        if (was_skipping || !complete) {
            continue; /* an overlong line, or its rest */
        }
        line[len - 1] = '\0';
        char *root, *point, *fstype;
        if (!parse_mountinfo_line(line, &root, &point, &fstype) || strcmp(fstype, "cgroup2") != 0) {
            continue;
        }
        size_t plen = strlen(point);
        if (want) {
            bool under = strcmp(point, "/") == 0 || (strncmp(want, point, plen) == 0 &&
                                                     (want[plen] == '/' || want[plen] == '\0'));
            if (!under || (found && plen <= best)) {
                continue;
            }
        } else if (found) {
            continue;
        }
        if (plen >= point_size || strlen(root) >= root_size) {
            continue;
        }
        memcpy(point_out, point, plen + 1);
        (void) snprintf(root_out, root_size, "%s", root);
        best = plen;
        found = true;
    }
    (void) fclose(f);
    return found ? 0 : -ENOENT;
}

/* lkd's own cgroup, the "0::" line of /proc/self/cgroup. */
static int own_cgroup(char *buf, size_t size)
{
    char text[SMALL_FILE_MAX];
    ssize_t n = read_small(AT_FDCWD, "/proc/self/cgroup", text, sizeof(text));
    if (n < 0) {
        return (int) n;
    }
    for (char *p = text; *p;) {
        char *eol = strchr(p, '\n');
        if (eol) {
            *eol = '\0';
        }
        if (strncmp(p, "0::", 3) == 0) {
            const char *path = p + 3;
            if (path[0] != '/' || strstr(path, "/..") || strstr(path, " (deleted)") ||
                strlen(path) >= size) {
                return -EBADMSG;
            }
            (void) snprintf(buf, size, "%s", path);
            return 0;
        }
        if (!eol) {
            break;
        }
        p = eol + 1;
    }
    return -ENOENT;
}

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h ^= (unsigned char) *s;
        h *= 16777619u;
    }
    return h;
}

/* Joins a and b with one '/' between them ("/" + "/x" = "/x", "" + "x" = "/x"). */
static int join(char *buf, size_t size, const char *a, const char *b)
{
    size_t alen = strlen(a);
    while (alen > 0 && a[alen - 1] == '/') {
        alen--;
    }
    while (*b == '/') {
        b++;
    }
    int n;
    if (*b) {
        n = snprintf(buf, size, "%.*s/%s", (int) alen, a, b);
    } else if (alen > 0) {
        n = snprintf(buf, size, "%.*s", (int) alen, a);
    } else {
        n = snprintf(buf, size, "/");
    }
    return n > 0 && (size_t) n < size ? 0 : -ENAMETOOLONG;
}

/* Whether clone3 can spawn into a cgroup (Linux 5.7, and no seccomp filter denying it): the
 * call is made with a descriptor that is not a cgroup, which a kernel that knows
 * CLONE_INTO_CGROUP refuses with EBADF, before any process is created; an older one says
 * EINVAL (unknown flag), E2BIG (larger struct) or ENOSYS (no clone3). */
static int probe_clone3(void)
{
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    struct clone_args args;
    memset(&args, 0, sizeof(args));
    args.flags = CLONE_INTO_CGROUP;
    args.exit_signal = SIGCHLD;
    args.cgroup = (uint64_t) fd;
    long r = syscall(SYS_clone3, &args, sizeof(args));
    int errnum = errno;
    if (r == 0) {
        _exit(127); /* cannot happen: the kernel created a child anyway */
    }
    if (r > 0) {
        (void) waitpid((pid_t) r, NULL, 0);
        errnum = EBADF;
    }
    (void) close(fd);
    return errnum == EBADF ? 0 : -errnum;
}

/* The memory controller, where the parent offers it: enabled in openkeeper/ and in the
 * base, so that each resource cgroup has memory.current. */
static bool enable_memory(int sub_fd, int base_fd)
{
    char buf[SMALL_FILE_MAX];
    if (read_small(sub_fd, "cgroup.controllers", buf, sizeof(buf)) < 0) {
        return false;
    }
    bool offered = false;
    char *save = NULL;
    for (char *w = strtok_r(buf, " \n", &save); w; w = strtok_r(NULL, " \n", &save)) {
        offered = offered || strcmp(w, "memory") == 0;
    }
    return offered && write_str(sub_fd, "cgroup.subtree_control", "+memory") == 0 &&
           write_str(base_fd, "cgroup.subtree_control", "+memory") == 0;
}

int lk_cgroups_open(const char *root, const char *node_name, const char *setting,
                    struct lk_cgroups **ret, char *why, size_t why_size)
{
    *ret = NULL;
    say(why, why_size, "%s", "");
    if (!setting || strcmp(setting, "off") == 0) {
        say(why, why_size, "off in lk.conf");
        return 0;
    }
    char err[128];
    if (!node_name || lk_validate_tag(node_name, "node name", err, sizeof(err)) < 0) {
        say(why, why_size, "invalid node name for a cgroup: %s", node_name ? err : "none");
        return 0;
    }
    char point[PATH_MAX], mroot[PATH_MAX], parent[PATH_MAX], rel_parent[PATH_MAX];
    if (strcmp(setting, "auto") == 0) {
        char own[PATH_MAX];
        if (find_cgroup2_mount(NULL, point, sizeof(point), mroot, sizeof(mroot)) < 0) {
            say(why, why_size, "no cgroup v2 mount");
            return 0;
        }
        int r = own_cgroup(own, sizeof(own));
        if (r < 0) {
            say(why, why_size, "%s",
                r == -EBADMSG ? "lkd's own cgroup cannot be used (outside its cgroup namespace, "
                                "or removed)"
                              : "no cgroup v2 entry in /proc/self/cgroup");
            return 0;
        }
        /* own is relative to the hierarchy (as this process's namespace shows it), the
         * mount shows it from mroot down. */
        size_t mlen = strlen(mroot);
        if (strcmp(mroot, "/") != 0 &&
            (strncmp(own, mroot, mlen) != 0 || (own[mlen] != '/' && own[mlen] != '\0'))) {
            say(why, why_size, "lkd's cgroup %s is not visible under %s", own, point);
            return 0;
        }
        const char *below = strcmp(mroot, "/") == 0 ? own : own + mlen;
        if (join(parent, sizeof(parent), point, below) < 0 ||
            join(rel_parent, sizeof(rel_parent), own, "") < 0) {
            say(why, why_size, "cgroup path too long");
            return 0;
        }
    } else if (setting[0] == '/') {
        struct statfs sfs;
        if (statfs(setting, &sfs) < 0) {
            say(why, why_size, "cannot use %s: %s", setting, strerror(errno));
            return 0;
        }
        if (sfs.f_type != CGROUP2_SUPER_MAGIC ||
            find_cgroup2_mount(setting, point, sizeof(point), mroot, sizeof(mroot)) < 0) {
            say(why, why_size, "%s is not a cgroup v2 directory", setting);
            return 0;
        }
        if (strstr(setting, "/..") || strstr(setting, "/./") ||
            join(parent, sizeof(parent), setting, "") < 0 ||
            join(rel_parent, sizeof(rel_parent), mroot, setting + strlen(point)) < 0) {
            say(why, why_size, "invalid cgroup path %s", setting);
            return 0;
        }
    } else {
        say(why, why_size, "invalid containment setting '%s' (auto, off or a cgroup path)",
            setting);
        return 0;
    }

    struct lk_cgroups *cg = calloc(1, sizeof(*cg));
    if (!cg) {
        return -ENOMEM;
    }
    cg->base_fd = -1;
    char sub[PATH_MAX], leaf[LK_TAG_MAX + 16], rel_sub[PATH_MAX];
    (void) snprintf(leaf, sizeof(leaf), "%s-%08x", node_name, fnv1a(root ? root : ""));
    if (join(sub, sizeof(sub), parent, SUBTREE) < 0 ||
        join(cg->base, sizeof(cg->base), sub, leaf) < 0 ||
        join(rel_sub, sizeof(rel_sub), rel_parent, SUBTREE) < 0 ||
        join(cg->rel, sizeof(cg->rel), rel_sub, leaf) < 0) {
        say(why, why_size, "cgroup path too long");
        free(cg);
        return 0;
    }
    int r = probe_clone3();
    if (r < 0) {
        say(why, why_size,
            "kernel cannot spawn into a cgroup (clone3: %s; Linux 5.7 or later "
            "needed)",
            strerror(-r));
        free(cg);
        return 0;
    }
    if (mkdir(sub, 0755) < 0 && errno != EEXIST) {
        say(why, why_size, "cannot create %s: %s", sub, strerror(errno));
        free(cg);
        return 0;
    }
    bool created = mkdir(cg->base, 0755) == 0;
    if (!created && errno != EEXIST) {
        say(why, why_size, "cannot create %s: %s", cg->base, strerror(errno));
        free(cg);
        return 0;
    }
    cg->base_fd = open(cg->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (cg->base_fd < 0) {
        say(why, why_size, "cannot open %s: %s", cg->base, strerror(errno));
        free(cg);
        return 0;
    }
    if (faccessat(cg->base_fd, "cgroup.kill", W_OK, 0) < 0) {
        say(why, why_size, "kernel has no cgroup.kill (Linux 5.14 or later needed)");
        (void) close(cg->base_fd);
        if (created) {
            (void) rmdir(cg->base);
        }
        free(cg);
        return 0;
    }
    int sub_fd = open(sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sub_fd >= 0) {
        cg->has_memory = enable_memory(sub_fd, cg->base_fd);
        (void) close(sub_fd);
    }
    *ret = cg;
    return 0;
}

/* --- kill and watch ------------------------------------------------------------------ */

/* Whether pid's cgroup v2 is exactly rel (the form of /proc/<pid>/cgroup). */
static bool pid_in_cgroup(pid_t pid, const char *rel)
{
    char path[64];
    char text[SMALL_FILE_MAX];
    (void) snprintf(path, sizeof(path), "/proc/%d/cgroup", (int) pid);
    if (read_small(AT_FDCWD, path, text, sizeof(text)) < 0) {
        return false;
    }
    size_t rel_len = strlen(rel);
    for (char *p = text; *p;) {
        char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t) (eol - p) : strlen(p);
        if (len == 3 + rel_len && strncmp(p, "0::", 3) == 0 && strncmp(p + 3, rel, rel_len) == 0) {
            return true;
        }
        if (!eol) {
            break;
        }
        p = eol + 1;
    }
    return false;
}

/* Signals pid, a pid read from the cgroup's cgroup.procs, only if it is still the process
 * in that cgroup: a pidfd pins it (a pid reused after the read cannot be hit), then its
 * cgroup is checked. Never pid 1 or lkd. */
static void signal_member(pid_t pid, const char *rel, const int *sigs, int nsigs)
{
    if (pid <= 1 || pid == getpid()) {
        return;
    }
    int pfd = (int) syscall(SYS_pidfd_open, pid, 0);
    if (pfd < 0) {
        return;
    }
    if (pid_in_cgroup(pid, rel)) {
        for (int i = 0; i < nsigs; i++) {
            (void) syscall(SYS_pidfd_send_signal, pfd, sigs[i], NULL, 0);
        }
    }
    (void) close(pfd);
}

struct pid_set {
    pid_t *pids;
    size_t len;
    size_t cap;
    size_t added; /* in this round */
    const char *rel;
    bool oom;
};

static bool term_new(pid_t pid, void *data)
{
    struct pid_set *set = data;
    for (size_t i = 0; i < set->len; i++) {
        if (set->pids[i] == pid) {
            return true;
        }
    }
    if (set->len == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 64;
        pid_t *p = realloc(set->pids, cap * sizeof(*p));
        if (!p) {
            set->oom = true;
            return false;
        }
        set->pids = p;
        set->cap = cap;
    }
    set->pids[set->len++] = pid;
    set->added++;
    static const int sigs[] = {SIGTERM, SIGCONT};
    signal_member(pid, set->rel, sigs, 2);
    return true;
}

/* Starts a one-shot timer ms from now. A uv timer counts from the loop's cached time,
 * which is stale when we are called late in an iteration or from outside the loop: the lag
 * is added (as the runner does) rather than moving the loop's clock. */
static void timer_start_from_now(uv_timer_t *timer, uv_timer_cb cb, uint64_t ms)
{
    uint64_t now_ms = (uv_hrtime() + 999999) / 1000000;
    uint64_t loop_ms = uv_now(timer->loop);
    uint64_t lag_ms = now_ms > loop_ms ? now_ms - loop_ms : 0;
    (void) uv_timer_start(timer, cb, ms + lag_ms, 0);
}

struct kill_op {
    struct lk_cgroups *cg;
    char *tag;
    int fd; /* the cgroup's directory */
    lk_cgroup_killed_cb cb;
    void *userdata;
    uv_fs_event_t event;
    uv_timer_t poll;
    uv_timer_t deadline;
    bool event_inited;
    bool killed; /* cgroup.kill written */
    bool done;
    int pending_closes;
    char before[1024];
};

static void kill_op_closed(uv_handle_t *handle)
{
    struct kill_op *op = handle->data;
    if (--op->pending_closes > 0) {
        return;
    }
    if (op->fd >= 0) {
        (void) close(op->fd);
    }
    free(op->tag);
    free(op);
}

static void kill_op_finish(struct kill_op *op, bool empty)
{
    if (op->done) {
        return;
    }
    op->done = true;
    char name[LK_TAG_MAX + sizeof(RES_SUFFIX) + 1];
    if (empty && op->killed && res_name(op->tag, name, sizeof(name)) == 0) {
        renew_res(op->cg, name); /* killed: never cloned into again (renew_res) */
    }
    op->cb(op->userdata, op->tag, empty, op->before);
    op->pending_closes = 2;
    uv_close((uv_handle_t *) &op->poll, kill_op_closed);
    uv_close((uv_handle_t *) &op->deadline, kill_op_closed);
    if (op->event_inited) {
        op->pending_closes++;
        uv_close((uv_handle_t *) &op->event, kill_op_closed);
    }
}

static void kill_op_check(struct kill_op *op)
{
    if (op->done) {
        return;
    }
    /* Gone (removed by someone) counts as empty; a malformed file does not. */
    int p = op->fd >= 0 ? read_populated(op->fd) : 0;
    if (p == 0 || p == -ENOENT || p == -ENODEV) {
        kill_op_finish(op, true);
    }
}

static void on_kill_poll(uv_timer_t *timer)
{
    kill_op_check(timer->data);
}

static void on_kill_event(uv_fs_event_t *handle, const char *filename, int events, int status)
{
    (void) filename;
    (void) events;
    (void) status;
    kill_op_check(handle->data);
}

static void on_kill_deadline(uv_timer_t *timer)
{
    struct kill_op *op = timer->data;
    if (op->done) {
        return;
    }
    if (!op->killed) {
        op->killed = true;
        (void) write_str(op->fd, "cgroup.kill", "1");
        timer_start_from_now(&op->deadline, on_kill_deadline, KILL_WAIT_MS);
        kill_op_check(op);
        return;
    }
    kill_op_check(op);
    kill_op_finish(op, false);
}

int lk_cgroups_kill(struct lk_cgroups *cg, uv_loop_t *loop, const char *tag, uint64_t grace_usec,
                    lk_cgroup_killed_cb cb, void *userdata)
{
    if (!tag_ok(tag)) {
        return -EINVAL;
    }
    struct kill_op *op = calloc(1, sizeof(*op));
    if (!op) {
        return -ENOMEM;
    }
    op->tag = strdup(tag);
    if (!op->tag) {
        free(op);
        return -ENOMEM;
    }
    op->cb = cb;
    op->userdata = userdata;
    op->cg = cg;
    op->fd = open_res(cg, tag);
    if (op->fd < 0 && op->fd != -ENOENT) {
        int r = op->fd;
        free(op->tag);
        free(op);
        return r;
    }
    (void) uv_timer_init(loop, &op->poll);
    (void) uv_timer_init(loop, &op->deadline);
    op->poll.data = op;
    op->deadline.data = op;

    /* Anything but a clear "populated 0" (a malformed file included) goes the whole way:
     * the deadline bounds it. */
    if (op->fd >= 0 && read_populated(op->fd) != 0) {
        (void) lk_cgroups_describe(cg, tag, op->before, sizeof(op->before));
        struct pid_set set = {.rel = NULL};
        char rel[PATH_MAX];
        (void) snprintf(rel, sizeof(rel), "%s/%s" RES_SUFFIX, cg->rel, tag);
        set.rel = rel;
        for (int round = 0; round < SIGNAL_ROUNDS; round++) {
            set.added = 0;
            (void) for_each_pid(op->fd, term_new, &set);
            if (set.added == 0 || set.oom) {
                break;
            }
        }
        free(set.pids);

        char path[PATH_MAX + 32];
        (void) snprintf(path, sizeof(path), "%s/%s" RES_SUFFIX "/cgroup.events", cg->base, tag);
        if (uv_fs_event_init(loop, &op->event) == 0) {
            op->event.data = op;
            op->event_inited = true;
            (void) uv_fs_event_start(&op->event, on_kill_event, path, 0);
        }
        (void) uv_timer_start(&op->poll, on_kill_poll, POLL_MS, POLL_MS);
        uint64_t grace_ms = grace_usec / 1000 + (grace_usec % 1000 != 0);
        if (grace_ms == 0) {
            op->killed = true;
            (void) write_str(op->fd, "cgroup.kill", "1");
            grace_ms = KILL_WAIT_MS;
        }
        timer_start_from_now(&op->deadline, on_kill_deadline, grace_ms);
    } else {
        /* Empty or missing already: reported from the loop all the same. */
        (void) uv_timer_start(&op->poll, on_kill_poll, 0, POLL_MS);
    }
    return 0;
}

struct lk_cgroup_watch {
    char *tag;
    int fd;
    lk_cgroup_event_cb cb;
    void *userdata;
    uv_fs_event_t event;
    uv_timer_t poll;
    bool event_inited;
    bool stopped;
    int last; /* last populated value seen, -1 unknown */
    int pending_closes;
};

static void watch_check(struct lk_cgroup_watch *w)
{
    if (w->stopped) {
        return;
    }
    int p = read_populated(w->fd);
    if (p == -ENOENT || p == -ENODEV) {
        p = 0; /* removed: nothing is in it */
    }
    if (p < 0 || p == w->last) {
        return;
    }
    w->last = p;
    w->cb(w->userdata, w->tag, p == 1);
}

static void on_watch_poll(uv_timer_t *timer)
{
    watch_check(timer->data);
}

static void on_watch_event(uv_fs_event_t *handle, const char *filename, int events, int status)
{
    (void) filename;
    (void) events;
    (void) status;
    watch_check(handle->data);
}

int lk_cgroups_watch(struct lk_cgroups *cg, uv_loop_t *loop, const char *tag, lk_cgroup_event_cb cb,
                     void *userdata, struct lk_cgroup_watch **ret)
{
    int cfd = lk_cgroups_fd(cg, tag);
    if (cfd < 0) {
        return cfd;
    }
    struct lk_cgroup_watch *w = calloc(1, sizeof(*w));
    if (!w) {
        return -ENOMEM;
    }
    w->tag = strdup(tag);
    w->fd = fcntl(cfd, F_DUPFD_CLOEXEC, 3);
    if (!w->tag || w->fd < 0) {
        int r = w->fd < 0 && w->tag ? -errno : -ENOMEM;
        if (w->fd >= 0) {
            (void) close(w->fd);
        }
        free(w->tag);
        free(w);
        return r;
    }
    w->cb = cb;
    w->userdata = userdata;
    w->last = read_populated(w->fd);
    if (w->last < 0) {
        w->last = -1;
    }
    (void) uv_timer_init(loop, &w->poll);
    w->poll.data = w;
    char path[PATH_MAX + 32];
    (void) snprintf(path, sizeof(path), "%s/%s" RES_SUFFIX "/cgroup.events", cg->base, tag);
    uint64_t poll_ms = POLL_MS;
    if (uv_fs_event_init(loop, &w->event) == 0) {
        w->event.data = w;
        w->event_inited = true;
        if (uv_fs_event_start(&w->event, on_watch_event, path, 0) == 0) {
            poll_ms = WATCH_POLL_MS;
        }
    }
    (void) uv_timer_start(&w->poll, on_watch_poll, poll_ms, poll_ms);
    *ret = w;
    return 0;
}

static void watch_closed(uv_handle_t *handle)
{
    struct lk_cgroup_watch *w = handle->data;
    if (--w->pending_closes > 0) {
        return;
    }
    (void) close(w->fd);
    free(w->tag);
    free(w);
}

void lk_cgroup_watch_stop(struct lk_cgroup_watch *w)
{
    if (!w || w->stopped) {
        return;
    }
    w->stopped = true;
    w->pending_closes = 1;
    uv_close((uv_handle_t *) &w->poll, watch_closed);
    if (w->event_inited) {
        w->pending_closes++;
        uv_close((uv_handle_t *) &w->event, watch_closed);
    }
}
