/* lkweb: the web console's HTTP server (docs/WEB.md), a process of its own beside lkd.
 * This file owns its start and stop: the options, lk.conf's [web] section, the TLS
 * certificate, detaching (run/lkweb.pid with the process's start time, log/lkweb.out),
 * libmicrohttpd with its limits (connections, per address, idle timeout, memory per
 * connection), and SIGTERM/SIGINT, which end every wait and stop the server cleanly.
 * Events enter as signals; the requests are web_http.c's, on MHD's threads.
 *
 * It never touches lkd's state except through lkd's socket, and never starts without
 * saying why it could not (one line, exit status 1; 2 for a usage error). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto.h"
#include "settings.h"
#include "validate.h"
#include "web.h"
#include "webconf.h"

#define PROG           "lkweb"
#define PIDFILE_NAME   "run/lkweb.pid"
#define OUT_NAME       "log/lkweb.out"
#define CONN_LIMIT     256
#define PER_IP_LIMIT   32
#define IDLE_TIMEOUT_S 30
#define CONN_MEMORY    (64 * 1024)
#define FILE_MAX       (1024 * 1024)

#ifndef LK_WEB_UI_DIR
#define LK_WEB_UI_DIR "/usr/local/share/openkeeper/web"
#endif

struct lk_web lk_web;

static int ready_fd = -1; /* the detached start's pipe to the waiting parent */

/* Says why lkweb cannot start (to the waiting parent when detached) and exits. */
__attribute__((format(printf, 2, 3), noreturn)) static void die(int status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s\n", PROG, msg);
    if (ready_fd >= 0) {
        char line[1100];
        int n = snprintf(line, sizeof(line), "\001%s", msg);
        (void) !write(ready_fd, line, (size_t) n);
    }
    exit(status);
}

/* Reads a small regular file whole (NUL-terminated, caller frees). NULL with errno. */
static char *read_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    struct stat st;
    if (fd < 0) {
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > FILE_MAX) {
        close(fd);
        errno = EINVAL;
        return NULL;
    }
    char *buf = malloc((size_t) st.st_size + 1);
    size_t len = 0;
    ssize_t n;
    while (buf && (n = read(fd, buf + len, (size_t) st.st_size - len)) > 0) {
        len += (size_t) n;
    }
    close(fd);
    if (buf) {
        buf[len] = '\0';
    }
    return buf;
}

/* The start time of this process (field 22 of /proc/self/stat), as lkstop checks it. */
static unsigned long long start_time(void)
{
    char stat[1024];
    FILE *f = fopen("/proc/self/stat", "re");
    size_t n = f ? fread(stat, 1, sizeof(stat) - 1, f) : 0;
    if (f) {
        fclose(f);
    }
    stat[n] = '\0';
    unsigned long long t = 0;
    const char *p = strrchr(stat, ')');
    for (int field = 2; p && *p; p++) {
        if (*p == ' ' && ++field == 22) {
            t = strtoull(p + 1, NULL, 10);
            break;
        }
    }
    return t;
}

/* Takes run/lkweb.pid (locked while lkweb runs) and writes "PID STARTTIME". */
static int take_pidfile(void)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", lk_web.root, PIDFILE_NAME);
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        die(1, "cannot open '%s': %s", path, strerror(errno));
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        char pid[64] = "";
        ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, " \n")] = '\0';
        die(1, "lkweb is already running on this root (pid %s)", pid[0] ? pid : "?");
    }
    char text[64];
    int n = snprintf(text, sizeof(text), "%d %llu\n", (int) getpid(), start_time());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, text, (size_t) n, 0) != n) {
        die(1, "cannot write '%s': %s", path, strerror(errno));
    }
    return fd;
}

/* Detaches: fork (the parent waits for the readiness byte or a message), setsid, fork
 * again, stdio to log/lkweb.out. */
static void detach(void)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        die(1, "cannot create a pipe: %s", strerror(errno));
    }
    pid_t pid = fork();
    if (pid < 0) {
        die(1, "cannot fork: %s", strerror(errno));
    }
    if (pid > 0) {
        close(fds[1]);
        char msg[1200];
        size_t len = 0;
        ssize_t n;
        while (len < sizeof(msg) - 1 && ((n = read(fds[0], msg + len, sizeof(msg) - 1 - len)) > 0 ||
                                         (n < 0 && errno == EINTR))) {
            len += n > 0 ? (size_t) n : 0;
        }
        msg[len] = '\0';
        if (len > 0 && msg[0] == '\0') {
            if (len > 1) {
                printf("%s\n", msg + 1); /* where it listens */
                fflush(stdout);
            }
            _exit(0);
        }
        fprintf(stderr, "%s: %s\n", PROG, len > 1 ? msg + 1 : "lkweb exited during start-up");
        _exit(1);
    }
    close(fds[0]);
    ready_fd = fds[1];
    if (setsid() < 0) {
        die(1, "cannot start a new session: %s", strerror(errno));
    }
    pid = fork();
    if (pid < 0) {
        die(1, "cannot fork: %s", strerror(errno));
    }
    if (pid > 0) {
        _exit(0);
    }
    char out[PATH_MAX];
    snprintf(out, sizeof(out), "%s/%s", lk_web.root, OUT_NAME);
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int log = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (null < 0 || log < 0) {
        die(1, "cannot open '%s': %s", out, strerror(errno));
    }
    dup2(null, STDIN_FILENO);
    dup2(log, STDOUT_FILENO);
    dup2(log, STDERR_FILENO);
    close(null);
    close(log);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: lkweb [--root DIR] [--listen ADDR:PORT] [--ui DIR] [--foreground]\n"
            "             [--lkd-timeout SECONDS] [--rate N]\n"
            "The web console's HTTP server: the HTTP API (/api/v1), the dashboard and /metrics,\n"
            "talking to the node's lkd over its socket (docs/WEB.md).\n"
            "  --root DIR          the node's root (default $LKROOT, else /opt/openkeeper)\n"
            "  --listen ADDR:PORT  where to listen (default: lk.conf [web] listen, else %s)\n"
            "  --ui DIR            the dashboard's files (default %s)\n"
            "  --foreground        do not detach; log on stderr\n"
            "  --lkd-timeout S     seconds to wait for lkd's reply to a read (default 10;\n"
            "                      actions wait up to 600)\n"
            "  --rate N            requests/s of a guest or operator token, bursts of 2N\n"
            "                      (default 20, as lkd's socket); all of them: 10N, bursts\n"
            "                      of 20N; bad or no token, logins: N/2 per client address,\n"
            "                      bursts of N; admin tokens: no rate (docs/WEB.md)\n"
            "  --version           print the version\n"
            "TLS, /metrics authentication and the rest: lk.conf's [web] section.\n",
            LK_WEB_DEFAULT_LISTEN, LK_WEB_UI_DIR);
}

/* libmicrohttpd's messages, on lkweb's log. */
__attribute__((format(printf, 2, 0))) static void log_mhd(void *cls, const char *fmt, va_list ap)
{
    (void) cls;
    fprintf(stderr, "%s: ", PROG);
    vfprintf(stderr, fmt, ap);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
            {"root", required_argument, NULL, 'r'},
            {"listen", required_argument, NULL, 'l'},
            {"ui", required_argument, NULL, 'u'},
            {"foreground", no_argument, NULL, 'f'},
            {"lkd-timeout", required_argument, NULL, 't'},
            {"help", no_argument, NULL, 'h'},
            {"version", no_argument, NULL, 'V'},
            {"rate", required_argument, NULL, 'R'},
            {0},
    };
    const char *root = NULL, *listen = NULL, *ui = NULL;
    bool foreground = false;
    uint64_t timeout_s = 10, rate = 20;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            root = optarg;
            break;
        case 'l':
            listen = optarg;
            break;
        case 'u':
            ui = optarg;
            break;
        case 'f':
            foreground = true;
            break;
        case 't':
            if (lk_parse_uint(optarg, 1, 3600, &timeout_s) < 0) {
                die(2, "invalid --lkd-timeout '%s': 1 to 3600 seconds expected", optarg);
            }
            break;
        case 'R':
            if (lk_parse_uint(optarg, 2, 100000, &rate) < 0) {
                die(2, "invalid --rate '%s': 2 to 100000 requests/s expected", optarg);
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("lkweb %s\n", LK_SOFTWARE_VERSION);
            return 0;
        case ':':
            die(2, "option '%s' needs a value", argv[optind - 1]);
        default:
            die(2, "unknown option '%s' (see lkweb --help)", argv[optind - 1]);
        }
    }
    if (optind < argc) {
        die(2, "unexpected argument '%s'", argv[optind]);
    }
    char err[1024], listen_canon[LK_ADDR_MAX] = "";
    if (listen &&
        lk_address_canonical(listen, "listen address", false, listen_canon, err, sizeof(err)) < 0) {
        die(2, "invalid --listen: %s", err);
    }
    if (!root) {
        root = getenv("LKROOT");
    }
    if (!root || !root[0]) {
        root = "/opt/openkeeper";
    }
    if (!realpath(root, lk_web.root)) {
        die(1, "the root '%s': %s", root, strerror(errno));
    }
    snprintf(lk_web.sock, sizeof(lk_web.sock), "%s/%s", lk_web.root, LK_SOCKET_NAME);
    snprintf(lk_web.ui, sizeof(lk_web.ui), "%s", ui ? ui : LK_WEB_UI_DIR);
    lk_web.lkd_timeout_ms = (int) timeout_s * 1000;
    lk_web.rate = (int) rate;
    if (sodium_init() < 0) {
        die(1, "cannot initialise libsodium");
    }
    json_object_seed(0); /* once, before any thread: jansson's hash seed */

    /* lk.conf's [web]: lkd has checked it too; a file lkd would refuse is refused here. */
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/etc/lk.conf", lk_web.root);
    char *conf_text = read_file(path);
    struct lk_web_conf conf;
    lk_web_conf_init(&conf);
    if (conf_text && lk_web_conf_parse(conf_text, &conf, err, sizeof(err)) < 0) {
        die(1, "%s: %s", path, err);
    }
    free(conf_text);
    if (listen) {
        snprintf(conf.listen, sizeof(conf.listen), "%s", listen_canon);
    }
    const char *where = conf.listen[0] ? conf.listen : LK_WEB_DEFAULT_LISTEN;
    struct sockaddr_storage addr;
    if (lk_address_parse(where, &addr, err, sizeof(err)) < 0) {
        die(1, "invalid listen address '%s': %s", where, err);
    }
    char *cert = NULL, *key = NULL;
    if (conf.tls_cert[0]) {
        cert = read_file(conf.tls_cert);
        key = cert ? read_file(conf.tls_key) : NULL;
        if (!cert || !key) {
            die(1, "cannot read the TLS %s '%s': %s", cert ? "key" : "certificate",
                cert ? conf.tls_key : conf.tls_cert, strerror(errno));
        }
        lk_web.tls = true;
    }
    lk_web.metrics_auth = conf.metrics_auth;

    if (!foreground) {
        detach();
    }
    int pidfd = take_pidfile();
    int quit[2];
    if (pipe2(quit, O_CLOEXEC) < 0) {
        die(1, "cannot create a pipe: %s", strerror(errno));
    }
    lk_web.quit_fd = quit[0];
    /* Every thread MHD starts inherits this mask: the signals come to sigwait below. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ERROR_LOG;
    if (addr.ss_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    if (lk_web.tls) {
        flags |= MHD_USE_TLS;
    }
    struct MHD_OptionItem options[16] = {
            {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t) log_mhd, NULL},
            {MHD_OPTION_SOCK_ADDR, 0, &addr},
            {MHD_OPTION_CONNECTION_LIMIT, CONN_LIMIT, NULL},
            {MHD_OPTION_PER_IP_CONNECTION_LIMIT, PER_IP_LIMIT, NULL},
            {MHD_OPTION_CONNECTION_TIMEOUT, IDLE_TIMEOUT_S, NULL},
            {MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONN_MEMORY, NULL},
            {MHD_OPTION_THREAD_STACK_SIZE, 256 * 1024, NULL},
            {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t) lk_web_completed, NULL},
            {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t) lk_web_conn_notify, NULL},
    };
    size_t n_options = 9;
    if (lk_web.tls) {
        options[n_options++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, cert};
        options[n_options++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, key};
    }
    options[n_options] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    struct MHD_Daemon *d = MHD_start_daemon(flags, 0, NULL, NULL, lk_web_handle, NULL,
                                            MHD_OPTION_ARRAY, options, MHD_OPTION_END);
    if (!d) {
        die(1, "cannot listen on %s: %s", where,
            errno ? strerror(errno) : "libmicrohttpd did not start");
    }
    if (lk_web_reaper_start() < 0) {
        die(1, "cannot start a thread: %s", strerror(errno));
    }
    fprintf(stderr, "%s: listening on %s%s (pid %d), lkd at %s\n", PROG, where,
            lk_web.tls ? " with TLS" : "", (int) getpid(), lk_web.sock);
    char url[256];
    int url_len = snprintf(url, sizeof(url), "%clkweb listening on %s://%s/", '\0',
                           lk_web.tls ? "https" : "http", where);
    printf("%s\n", url + 1);
    fflush(stdout);
    if (ready_fd >= 0) {
        (void) !write(ready_fd, url, (size_t) url_len);
        close(ready_fd);
        ready_fd = -1;
    }
    int sig = 0;
    while (sigwait(&set, &sig) == 0 && sig == SIGHUP) {
    }
    fprintf(stderr, "%s: signal %d: stopping\n", PROG, sig);
    (void) !write(quit[1], "q", 1); /* every wait on lkd or a stream ends */
    MHD_stop_daemon(d);
    lk_web_reaper_join();
    snprintf(path, sizeof(path), "%s/%s", lk_web.root, PIDFILE_NAME);
    (void) unlink(path);
    close(pidfd);
    if (cert) {
        sodium_memzero(key, strlen(key));
    }
    free(cert);
    free(key);
    fprintf(stderr, "%s: stopped\n", PROG);
    return 0;
}
