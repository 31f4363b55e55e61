/* lkstart: creates a node's root on first use (etc/lk.conf with the node's name and
 * listen address, and the cluster key in etc/authkey, new or copied), then starts lkd
 * and returns once it answers on its socket, and starts the node's guard (lkguard) beside
 * it unless --no-guard. Starting a node that runs is not an error; a guard that does not
 * start is said in one line, and lkd runs without it. Resources that were in service are
 * probed by lkd (SPEC §6), not here. Without --listen it never lets lkd listen on every
 * address: a node without peers takes 127.0.0.1 (and says so), a node with peers and no
 * listen address in lk.conf is refused. With --json, one JSON object at the end says what
 * happened (errors: one JSON object on stderr). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "help.h"
#include "output.h"
#include "settings.h"
#include "validate.h"
#include "webproc.h"
#include "wire.h"

#define PROG          "lkstart"
#define KEY_BYTES     LK_WIRE_KEY
#define STR_(x)       #x
#define STR(x)        STR_(x)
#define DEFAULT_PORT  STR(LK_DEFAULT_PORT)
/* Where a node without peers listens when not told: this machine only. */
#define SINGLE_LISTEN "127.0.0.1:" DEFAULT_PORT

/* With --json: what happened, printed at the end instead of the lines of text. */
static json_t *report;

static int mkdir_p(const char *path, mode_t mode)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int) sizeof(buf)) {
        return -ENAMETOOLONG;
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, mode) < 0 && errno != EEXIST) {
                return -errno;
            }
            *p = '/';
        }
    }
    if (mkdir(buf, mode) < 0 && errno != EEXIST) {
        return -errno;
    }
    return 0;
}

static int write_file(const char *path, const void *data, size_t len, mode_t mode)
{
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof(tmp), "%s.new", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, mode);
    if (fd < 0) {
        return -errno;
    }
    int r = 0;
    if (write(fd, data, len) != (ssize_t) len || fchmod(fd, mode) < 0 || fsync(fd) < 0) {
        r = -errno;
    }
    close(fd);
    if (r == 0 && rename(tmp, path) < 0) {
        r = -errno;
    }
    if (r < 0) {
        (void) unlink(tmp);
    }
    return r;
}

/* Reads the start of a small regular file into buf (NUL-terminated) without blocking: a
 * FIFO or a device at path is refused, never waited on. 0, or -errno with *ret_why set. */
static int read_small(const char *path, char *buf, size_t size, const char **ret_why)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        int r = -errno;
        if (fd >= 0) {
            close(fd);
        }
        *ret_why = strerror(-r);
        return r;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        *ret_why = S_ISFIFO(st.st_mode)  ? "it is a FIFO, not a regular file"
                   : S_ISDIR(st.st_mode) ? "it is a directory, not a regular file"
                                         : "it is not a regular file";
        return -EINVAL;
    }
    ssize_t n;
    do {
        n = read(fd, buf, size - 1);
    } while (n < 0 && errno == EINTR);
    int r = n < 0 ? -errno : 0;
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    if (r < 0) {
        *ret_why = strerror(-r);
    }
    return r;
}

/* Reads a cluster key file: 64 hex digits (optionally followed by a newline). */
static int read_key(const char *path, char *hex, size_t size)
{
    char buf[256] = "";
    const char *why = NULL;
    if (read_small(path, buf, sizeof(buf), &why) < 0) {
        return lk_fail(PROG, 1, "cannot read the cluster key '%s': %s", path, why);
    }
    uint8_t bin[LK_WIRE_KEY];
    int r = lk_wire_key_parse(buf, bin);
    sodium_memzero(buf, sizeof(buf));
    if (r < 0) {
        return lk_fail(PROG, 1, "'%s' is not a cluster key (expected %d hex digits)", path,
                       2 * LK_WIRE_KEY);
    }
    sodium_bin2hex(hex, size, bin, sizeof(bin));
    sodium_memzero(bin, sizeof(bin));
    return 0;
}

static int create_root(const char *root, const char *node, const char *listen, const char *authkey)
{
    char hex[2 * KEY_BYTES + 1];
    if (authkey) {
        int r = read_key(authkey, hex, sizeof(hex));
        if (r != 0) {
            return r;
        }
    } else {
        unsigned char key[KEY_BYTES];
        randombytes_buf(key, sizeof(key));
        sodium_bin2hex(hex, sizeof(hex), key, sizeof(key));
        sodium_memzero(key, sizeof(key));
    }
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/etc", root);
    int r = mkdir_p(path, 0755);
    if (r < 0) {
        return lk_fail(PROG, 1, "cannot create '%s': %s", path, strerror(-r));
    }
    (void) chmod(root, 0755);
    char keyline[2 * KEY_BYTES + 2];
    snprintf(keyline, sizeof(keyline), "%s\n", hex);
    snprintf(path, sizeof(path), "%s/etc/authkey", root);
    r = write_file(path, keyline, strlen(keyline), 0600);
    sodium_memzero(keyline, sizeof(keyline));
    if (r < 0) {
        return lk_fail(PROG, 1, "cannot write '%s': %s", path, strerror(-r));
    }
    char conf[1024];
    snprintf(conf, sizeof(conf),
             "# OpenKeeper node configuration, written by lkstart.\n"
             "[node]\n"
             "name = %s\n"
             "listen = %s\n",
             node, listen);
    snprintf(path, sizeof(path), "%s/etc/lk.conf", root);
    r = write_file(path, conf, strlen(conf), 0644);
    if (r < 0) {
        return lk_fail(PROG, 1, "cannot write '%s': %s", path, strerror(-r));
    }
    if (report) {
        json_object_set_new(report, "created", json_true());
    } else {
        printf("created node '%s' in %s\n", node, root);
    }
    return 0;
}

/* A daemon binary (lkd, lkguard) next to this one (build/ or an installed bin/ with sbin/
 * beside it). */
static int find_beside(const char *name, char *buf, size_t size)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0) {
        return -errno;
    }
    exe[n] = '\0';
    char *dir = dirname(exe);
    snprintf(buf, size, "%s/%s", dir, name);
    if (access(buf, X_OK) == 0) {
        return 0;
    }
    snprintf(buf, size, "%s/../sbin/%s", dir, name);
    return access(buf, X_OK) == 0 ? 0 : -ENOENT;
}

static int find_lkd(char *buf, size_t size)
{
    return find_beside("lkd", buf, size);
}

/* lkguard: $LK_GUARD (tests), else beside this binary as lkd. */
static int find_guard(char *buf, size_t size)
{
    const char *env = getenv("LK_GUARD");
    if (env && env[0]) {
        snprintf(buf, size, "%s", env);
        return access(buf, X_OK) == 0 ? 0 : -ENOENT;
    }
    return find_beside("lkguard", buf, size);
}

/* Whether root's guard runs: run/lkguard.pid names a live process. */
static bool guard_running(const char *root)
{
    char path[PATH_MAX + 32], buf[32] = "";
    snprintf(path, sizeof(path), "%s/run/lkguard.pid", root);
    const char *why = NULL;
    bool ok = read_small(path, buf, sizeof(buf), &why) == 0;
    char *end = NULL;
    long pid = ok ? strtol(buf, &end, 10) : 0;
    return pid > 1 && (kill((pid_t) pid, 0) == 0 || errno == EPERM);
}

/* Starts lkguard --root root, which returns once it watches lkd. Its error, if any, is
 * told in one line of ours: lkd runs on without a guard ("guard: not running" in status). */
static void guard_not_started(const char *why)
{
    if (report) {
        json_object_set_new(report, "guard", json_string("not started"));
        json_object_set_new(report, "guard_error", json_string(why));
    } else {
        fprintf(stderr, "%s: the guard did not start: %s; lkd runs without it\n", PROG, why);
    }
}

static void start_guard(const char *root)
{
    char guard[PATH_MAX], abs_root[PATH_MAX], why[PATH_MAX + 128];
    if (find_guard(guard, sizeof(guard)) < 0) {
        guard_not_started("cannot find lkguard");
        return;
    }
    if (!realpath(root, abs_root)) {
        snprintf(why, sizeof(why), "'%s': %s", root, strerror(errno));
        guard_not_started(why);
        return;
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        guard_not_started(strerror(errno));
        return;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, sizeof(why), "cannot fork: %s", strerror(errno));
        guard_not_started(why);
        close(fds[0]);
        close(fds[1]);
        return;
    }
    if (pid == 0) {
        dup2(fds[1], STDERR_FILENO);
        execl(guard, "lkguard", "--root", abs_root, (char *) NULL);
        fprintf(stderr, "cannot run '%s': %s\n", guard, strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    /* lkguard's own message (one line) until it detaches; its stderr then goes to its log. */
    char msg[512] = "";
    size_t len = 0;
    ssize_t n;
    while (len < sizeof(msg) - 1 && ((n = read(fds[0], msg + len, sizeof(msg) - 1 - len)) > 0 ||
                                     (n < 0 && errno == EINTR))) {
        len += n > 0 ? (size_t) n : 0;
    }
    close(fds[0]);
    msg[len] = '\0';
    msg[strcspn(msg, "\n")] = '\0';
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        if (report) {
            json_object_set_new(report, "guard", json_string("started"));
        }
        return;
    }
    const char *said = strncmp(msg, "lkguard: ", 9) == 0 ? msg + 9 : msg;
    guard_not_started(said[0] ? said : "lkguard failed");
}

/* Start-up restored nothing clustered because the node waits (quorum none, a peer not
 * heard yet): say so, so that the operator knows why nothing runs. */
static void print_waits(const char *root)
{
    json_t *status = NULL;
    if (lk_client_call(PROG, root, LK_CMD_STATUS, NULL, NULL, NULL, &status) != 0) {
        return;
    }
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(json_object_get(status, "cluster"), "warnings"), i, w)
    {
        const char *text = json_string_value(w);
        if (text && strncmp(text, "waiting for node ", 17) == 0) {
            if (report) {
                json_array_append_new(json_object_get(report, "waiting"), json_string(text));
            } else {
                printf("%s\n", text);
            }
        }
    }
    json_decref(status);
}

/* Progress lines of the start-up (lk_print_progress's text, or gathered with --json). */
static void on_progress(const char *text, const json_t *msg, void *userdata)
{
    if (!report) {
        lk_print_progress(text, msg, userdata);
    } else if (text) {
        json_array_append_new(json_object_get(report, "progress"), json_string(text));
    }
}

/* What an existing lk.conf says that lkstart needs: its [node] listen address (empty when
 * none) and whether it has a [peer] section. A file that cannot be read here is left to
 * lkd, which refuses it with the right message. Returns 0, or -1 when unknown. */
static int read_conf(const char *path, char *text, size_t size, char *listen, size_t listen_size,
                     bool *ret_peers)
{
    const char *why = NULL;
    if (read_small(path, text, size, &why) < 0 || strlen(text) >= size - 1) {
        return -1;
    }
    bool in_node = false;
    *ret_peers = false;
    listen[0] = '\0';
    for (const char *line = text; *line;) {
        size_t len = strcspn(line, "\n");
        if (line[0] == '[') {
            in_node = strncmp(line, "[node]", 6) == 0;
            *ret_peers = *ret_peers || strncmp(line, "[peer", 5) == 0;
        } else if (in_node && strncmp(line, "listen", 6) == 0) {
            const char *v = line + 6 + strspn(line + 6, " \t");
            if (*v == '=') {
                v++;
                v += strspn(v, " \t");
                size_t n = strcspn(v, " \t;\n");
                snprintf(listen, listen_size, "%.*s", (int) n, v);
            }
        }
        line += len + (line[len] == '\n');
    }
    return 0;
}

/* Writes "listen = address" into lk.conf's [node] section (which has none, or an empty
 * one), as lkd reads it. */
static int set_conf_listen(const char *path, const char *text, const char *address)
{
    size_t len = strlen(text);
    char *out = malloc(len + LK_ADDR_MAX + 32);
    if (!out) {
        return -ENOMEM;
    }
    size_t used = 0;
    bool in_node = false, done = false;
    for (const char *line = text; *line;) {
        size_t n = strcspn(line, "\n");
        bool newline = line[n] == '\n';
        bool is_listen = in_node && strncmp(line, "listen", 6) == 0 &&
                         line[6 + strspn(line + 6, " \t")] == '=';
        if (!is_listen) {
            memcpy(out + used, line, n + newline);
            used += n + newline;
        }
        if (line[0] == '[') {
            in_node = strncmp(line, "[node]", 6) == 0;
        }
        if ((is_listen || (in_node && line[0] == '[')) && !done) {
            if (line[0] == '[' && !newline) {
                out[used++] = '\n';
            }
            used += (size_t) sprintf(out + used, "listen = %s\n", address);
            done = true;
        }
        line += n + newline;
    }
    /* The file keeps its mode (lkd judges it: not writable by group or others). */
    struct stat st;
    mode_t mode = stat(path, &st) == 0 ? (st.st_mode & 07777) : 0644;
    int r = done ? write_file(path, out, used, mode) : -ENOENT;
    free(out);
    return r;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: lkstart [--root DIR] [--node NAME] [--listen ADDR:PORT] [--authkey FILE]\n"
            "               [--witness] [--no-wait] [--no-guard] [--web [ADDR:PORT]] [--json]\n"
            "\n"
            "Creates the node's root on first use, starts lkd and its guard, and returns once\n"
            "the start-up's probes and restores are done.\n"
            "\n"
            "  --root DIR           the node's root directory\n"
            "                       default: $LKROOT, else " LK_DEFAULT_ROOT "\n"
            "  --node NAME          the node's name, for a new root\n"
            "                       default: the host name up to its first dot\n"
            "  --listen ADDR:PORT   where lkd listens for its peers (IPV4:PORT or "
            "[IPV6]:PORT),\n"
            "                       for a new root or one whose lk.conf has none\n"
            "                       default: " SINGLE_LISTEN " for a node without peers; "
            "required\n"
            "                       for a node with peers\n"
            "  --authkey FILE       the cluster key to copy (64 hex digits), for a new root\n"
            "                       default: a new random key\n"
            "  --witness            run this node as the cluster's witness (votes, runs no\n"
            "                       resources); default: off\n"
            "  --no-wait            return once lkd answers, before its start-up is done;\n"
            "                       default: off\n"
            "  --no-guard           do not start lkguard, the guard that fences this node "
            "when\n"
            "                       lkd dies; default: off\n"
            "  --web [ADDR:PORT]    also start lkweb, the web console (default 127.0.0.1:7480),\n"
            "                       and write [web] enabled = yes to lk.conf; default: off\n"
            "  --json               one JSON object at the end says what happened; an error "
            "is\n"
            "                       {\"error\": ..., \"code\": ...} on stderr; default: off\n"
            "  --version            the version\n"
            "  --help               this help\n"
            "\n"
            "Exit status: 0 ok (also when lkd already runs), 1 failed, 2 usage, 3 lkd did not\n"
            "answer.\n");
}

static int finish(int code)
{
    if (report && code == 0) {
        lk_print_json(report);
    }
    json_decref(report);
    report = NULL;
    return code;
}

/* lkweb, the web console, when asked (--web, or [web] enabled = yes) and not running yet;
 * lkd runs on without it when it does not start. */
static void start_web(const char *root, bool web)
{
    char said[512];
    if (web && !lk_webproc_running(root) &&
        lk_webproc_start(PROG, root, NULL, said, sizeof(said)) == 0) {
        if (report) {
            json_object_set_new(report, "web", json_string(said));
        } else {
            printf("%s\n", said);
        }
    }
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
            {"root", required_argument, NULL, 'r'},
            {"node", required_argument, NULL, 'n'},
            {"listen", required_argument, NULL, 'l'},
            {"authkey", required_argument, NULL, 'k'},
            {"no-wait", no_argument, NULL, 'W'},
            {"witness", no_argument, NULL, 'w'},
            {"no-guard", no_argument, NULL, 'G'},
            {"web", optional_argument, NULL, 'E'}, /* lkweb too (docs/WEB.md) */
            {"json", no_argument, NULL, 'j'},
            {"version", no_argument, NULL, 'V'},
            {"help", no_argument, NULL, 'h'},
            {0},
    };
    const char *root_arg = NULL, *node = NULL, *listen = NULL, *authkey = NULL;
    bool wait = true, witness = false, guard = true, web = false;
    bool json = lk_json_prescan(argc, argv);
    const char *web_listen = NULL;
    int c;
    opterr = 0; /* one line of our own instead of getopt's message */
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            root_arg = optarg;
            break;
        case 'n':
            node = optarg;
            break;
        case 'l':
            listen = optarg;
            break;
        case 'k':
            authkey = optarg;
            break;
        case 'W':
            wait = false;
            break;
        case 'w':
            witness = true;
            break;
        case 'G':
            guard = false;
            break;
        case 'E': /* --web, --web=ADDR:PORT or --web ADDR:PORT */
            web = true;
            web_listen = optarg;
            if (!optarg && optind < argc && argv[optind][0] != '-') {
                web_listen = argv[optind++];
            }
            break;
        case 'j':
            break;
        case 'V':
            lk_print_version(PROG);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            return lk_fail_getopt(PROG, c, argv);
        }
    }
    if (optind < argc) {
        return lk_fail(PROG, 2, "unexpected argument '%s'", argv[optind]);
    }
    if (sodium_init() < 0) {
        return lk_fail(PROG, 1, "cannot initialise libsodium");
    }
    const char *root = lk_client_root(root_arg);
    char err[256];
    if (node && lk_validate_tag(node, "node name", err, sizeof(err)) < 0) {
        return lk_fail(PROG, 2, "%s", err);
    }
    if (listen && lk_address_parse(listen, NULL, err, sizeof(err)) < 0) {
        return lk_fail(PROG, 2, "invalid --listen: %s", err);
    }
    if (web_listen && lk_address_parse(web_listen, NULL, err, sizeof(err)) < 0) {
        return lk_fail(PROG, 2, "invalid --web: %s", err);
    }
    if (json) {
        report = json_pack("{s:s, s:b, s:b, s:b, s:[], s:[]}", "root", root, "created", 0,
                           "already_running", 0, "started", 0, "progress", "waiting");
        json_object_set_new(report, "guard", json_string(guard && !witness ? "started" : "off"));
    }
    /* The listen address lkd will use, and whether lkstart chose it. */
    const char *listen_used = listen;
    bool listen_chosen = false, created = false;
    char conf[PATH_MAX];
    snprintf(conf, sizeof(conf), "%s/etc/lk.conf", root);
    if (access(conf, F_OK) != 0) {
        char host[256] = "localhost";
        if (!node) {
            gethostname(host, sizeof(host) - 1);
            host[strcspn(host, ".")] = '\0';
            if (lk_validate_tag(host, "node name", err, sizeof(err)) < 0) {
                return finish(
                        lk_fail(PROG, 2, "the host name is not a valid node name; use --node"));
            }
        }
        /* A new root has no peers yet: without --listen, this machine only. */
        if (!listen) {
            listen_used = SINGLE_LISTEN;
            listen_chosen = true;
        }
        int r = create_root(root, node ? node : host, listen_used, authkey);
        if (r != 0) {
            return finish(r);
        }
        created = true;
    }

    if (web && lk_webproc_enable(PROG, root, web_listen) != 0) {
        return finish(1);
    }
    web = web || lk_webproc_enabled(root);

    /* Already running? */
    json_t *data = NULL;
    FILE *saved = stderr;
    stderr = fopen("/dev/null", "we");
    int r = stderr ? lk_client_call(PROG, root, LK_CMD_PING, NULL, NULL, NULL, &data) : 3;
    if (stderr) {
        fclose(stderr);
    }
    stderr = saved;
    if (r == 0) {
        if (report) {
            json_object_set_new(report, "already_running", json_true());
            json_object_set(report, "node", json_object_get(data, "node"));
            json_object_set(report, "pid", json_object_get(data, "pid"));
        } else {
            printf("lkd is already running on node '%s' (pid %lld)\n",
                   json_string_value(json_object_get(data, "node")),
                   (long long) json_integer_value(json_object_get(data, "pid")));
        }
        json_decref(data);
        /* A node whose guard is gone (killed, or started with --no-guard) gets it back. */
        if (guard && !witness && !guard_running(root)) {
            start_guard(root);
        } else if (report && guard && !witness) {
            json_object_set_new(report, "guard", json_string("running"));
        }
        start_web(root, web);
        return finish(0);
    }

    /* An lk.conf without a listen address would have lkd listen on every address. */
    static char text[64 * 1024];
    char configured[LK_ADDR_MAX] = "";
    if (!created) {
        bool peers = false;
        if (read_conf(conf, text, sizeof(text), configured, sizeof(configured), &peers) == 0) {
            if (configured[0]) {
                listen_used = configured;
            } else if (!listen && peers) {
                return finish(lk_fail(PROG, 2,
                                      "%s has peers and no listen address: give --listen "
                                      "ADDR:PORT (the address its peers reach it on)",
                                      conf));
            } else {
                if (!listen) {
                    listen_used = SINGLE_LISTEN;
                    listen_chosen = true;
                }
                /* No [node] section (-ENOENT): lkd says what is wrong with the file. */
                r = set_conf_listen(conf, text, listen_used);
                if (r < 0 && r != -ENOENT) {
                    return finish(lk_fail(PROG, 1, "cannot write '%s': %s", conf, strerror(-r)));
                }
            }
        }
    }
    if (report && listen_used) {
        json_object_set_new(report, "listen", json_string(listen_used));
        json_object_set_new(report, "listen_chosen", json_boolean(listen_chosen));
    }
    if (listen_chosen && !report) {
        printf("no --listen given: lkd listens on %s, this machine only (a single node); give "
               "--listen ADDR:PORT before adding peers\n",
               listen_used);
    }

    char lkd[PATH_MAX];
    if (find_lkd(lkd, sizeof(lkd)) < 0) {
        return finish(lk_fail(PROG, 1, "cannot find lkd next to lkstart"));
    }
    /* With --json, lkd's start-up error (one line on its stderr) becomes the JSON error. */
    int errfds[2] = {-1, -1};
    if (report && pipe2(errfds, O_CLOEXEC) < 0) {
        return finish(lk_fail(PROG, 1, "cannot create a pipe: %s", strerror(errno)));
    }
    pid_t pid = fork();
    if (pid < 0) {
        return finish(lk_fail(PROG, 1, "cannot fork: %s", strerror(errno)));
    }
    if (pid == 0) {
        if (errfds[1] >= 0) {
            dup2(errfds[1], STDERR_FILENO);
        }
        if (witness) {
            execl(lkd, "lkd", "--root", root, "--witness", (char *) NULL);
        } else {
            execl(lkd, "lkd", "--root", root, (char *) NULL);
        }
        fprintf(stderr, "%s: cannot run '%s': %s\n", PROG, lkd, strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    char said[1024] = "";
    if (errfds[0] >= 0) {
        /* Read once lkd's first process is gone: what it wrote is in the pipe (a daemon
         * that detached writes to its log, never here, and may hold the pipe open). */
        close(errfds[1]);
        (void) fcntl(errfds[0], F_SETFL, O_NONBLOCK);
        ssize_t n = read(errfds[0], said, sizeof(said) - 1);
        said[n > 0 ? n : 0] = '\0';
        said[strcspn(said, "\n")] = '\0';
        close(errfds[0]);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (report) {
            return finish(lk_fail(PROG, 1, "%s", said[0] ? said : "lkd did not start"));
        }
        return finish(1); /* lkd said why on stderr */
    }
    r = lk_client_call(PROG, root, LK_CMD_PING, NULL, NULL, NULL, &data);
    if (r != 0) {
        return finish(r);
    }
    /* The guard watches from now on, the start-up's probes and restores included. A
     * witness runs nothing: it has no guard. */
    if (guard && !witness) {
        start_guard(root);
    }
    /* Wait for the start-up probes and restores, printing each step, so that the node is
     * settled when lkstart returns. */
    json_t *idle = NULL;
    if (wait) {
        r = lk_client_call(PROG, root, LK_CMD_WAIT_IDLE, NULL, on_progress, NULL, &idle);
        json_decref(idle);
        if (r != 0) {
            json_decref(data);
            return finish(r);
        }
    }
    if (report) {
        json_object_set_new(report, "started", json_true());
        json_object_set(report, "node", json_object_get(data, "node"));
        json_object_set(report, "pid", json_object_get(data, "pid"));
    } else {
        printf("lkd started on node '%s' (pid %lld, root %s)\n",
               json_string_value(json_object_get(data, "node")),
               (long long) json_integer_value(json_object_get(data, "pid")), root);
    }
    json_decref(data);
    if (wait) {
        print_waits(root);
    }
    start_web(root, web);
    return finish(0);
}
