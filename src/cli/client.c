/* The client half of the local protocol, shared by every command. Connection errors map
 * to SPEC §6's exit statuses: no socket or nobody listening = 3, not allowed = 4. */
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "validate.h"

const char *lk_client_root(const char *root_arg)
{
    if (root_arg && root_arg[0]) {
        return root_arg;
    }
    const char *env = getenv("LKROOT");
    return env && env[0] ? env : LK_DEFAULT_ROOT;
}

bool lk_json_errors;

bool lk_json_prescan(int argc, char **argv)
{
    bool json = false;
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        json = json || strcmp(argv[i], "--json") == 0;
    }
    lk_json_errors = json;
    return json;
}

int lk_fail(const char *prog, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (!lk_json_errors) {
        fprintf(stderr, "%s: ", prog);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        return code;
    }
    char msg[2048];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* A message cut inside a UTF-8 character would be refused by jansson: fall back to
     * its bytes up to the last complete character. */
    json_t *err = json_pack("{s:s%, s:i}", "error", msg, strlen(msg), "code", code);
    size_t len = strlen(msg);
    while (!err && len > 0) {
        len--;
        err = json_pack("{s:s%, s:i}", "error", msg, len, "code", code);
    }
    char *line = err ? json_dumps(err, JSON_COMPACT) : NULL;
    fprintf(stderr, "%s\n", line ? line : "{\"error\":\"(unprintable)\",\"code\":1}");
    free(line);
    json_decref(err);
    return code;
}

int lk_fail_getopt(const char *prog, int c, char **argv)
{
    if (c == ':') {
        return lk_fail(prog, LK_EXIT_USAGE, "option '%s' needs a value", argv[optind - 1]);
    }
    if (optopt) {
        return lk_fail(prog, LK_EXIT_USAGE, "unknown option '-%c' (see --help)", optopt);
    }
    return lk_fail(prog, LK_EXIT_USAGE, "unknown option '%s' (see --help)", argv[optind - 1]);
}

/* lk_print_json's output, gathered in blocks: a status of a thousand resources is more
 * than a megabyte, which is not built whole in memory first. */
struct out_block {
    char data[64 * 1024];
    size_t len;
};

static int out_flush(struct out_block *b)
{
    size_t len = b->len;
    b->len = 0;
    return fwrite(b->data, 1, len, stdout) == len ? 0 : -1;
}

static int out_add(const char *text, size_t size, void *userdata)
{
    struct out_block *b = userdata;
    if (size > sizeof(b->data) - b->len) {
        if (out_flush(b) < 0) {
            return -1;
        }
        if (size > sizeof(b->data)) {
            return fwrite(text, 1, size, stdout) == size ? 0 : -1;
        }
    }
    memcpy(b->data + b->len, text, size);
    b->len += size;
    return 0;
}

void lk_print_json(const json_t *json)
{
    static struct out_block block;
    block.len = 0;
    if (json_dump_callback(json, out_add, &block, JSON_INDENT(2) | JSON_SORT_KEYS) == 0 &&
        out_add("\n", 1, &block) == 0) {
        (void) out_flush(&block);
    }
}

static int connect_root(const char *prog, const char *root, int *ret_fd)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int n = snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%s", root, LK_SOCKET_NAME);
    if (n < 0 || (size_t) n >= sizeof(addr.sun_path)) {
        return lk_fail(prog, LK_EXIT_USAGE, "root path '%s' is too long for a socket", root);
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return lk_fail(prog, LK_EXIT_FAILED, "cannot create a socket: %s", strerror(errno));
    }
    if (connect(fd, (struct sockaddr *) &addr, sizeof(addr)) < 0) {
        int e = errno;
        close(fd);
        if (e == EACCES || e == EPERM) {
            return lk_fail(prog, LK_EXIT_DENIED, "permission denied: cannot connect to '%s'",
                           addr.sun_path);
        }
        return lk_fail(prog, LK_EXIT_UNREACHABLE, "lkd is not running on '%s': not reachable (%s)",
                       root, strerror(e));
    }
    *ret_fd = fd;
    return 0;
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, data, len);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        data += w;
        len -= (size_t) w;
    }
    return 0;
}

static int client_call(const char *prog, const char *root, const char *node, const char *cmd,
                       json_t *args, lk_progress_cb progress, void *userdata, json_t **ret_data);

bool lk_client_quiet;

static char last_error[2048];

const char *lk_client_error(void)
{
    return last_error;
}

int lk_client_call(const char *prog, const char *root, const char *cmd, json_t *args,
                   lk_progress_cb progress, void *userdata, json_t **ret_data)
{
    return client_call(prog, root, NULL, cmd, args, progress, userdata, ret_data);
}

int lk_client_call_on(const char *prog, const char *root, const char *node, const char *cmd,
                      json_t *args, lk_progress_cb progress, void *userdata, json_t **ret_data)
{
    return client_call(prog, root, node && node[0] ? node : "", cmd, args, progress, userdata,
                       ret_data);
}

/* node NULL: lk_client_call (codes outside SPEC §6's are 1); else lk_client_call_on (the
 * request's envelope names node when not "", and LK_EXIT_COMM stays 9). */
static int client_call(const char *prog, const char *root, const char *node, const char *cmd,
                       json_t *args, lk_progress_cb progress, void *userdata, json_t **ret_data)
{
    last_error[0] = '\0';
    json_t *req = lk_proto_request_on(cmd, args, node);
    char *line = req ? lk_proto_dump(req) : NULL;
    json_decref(req);
    if (!line) {
        return lk_fail(prog, LK_EXIT_FAILED, "out of memory");
    }
    int fd = -1;
    int r = connect_root(prog, root, &fd);
    if (r != 0) {
        free(line);
        return r;
    }
    signal(SIGPIPE, SIG_IGN);
    r = write_all(fd, line, strlen(line));
    free(line);
    if (r < 0) {
        close(fd);
        return lk_fail(prog, LK_EXIT_UNREACHABLE, "lost the connection to lkd: %s", strerror(-r));
    }
    FILE *in = fdopen(fd, "r");
    if (!in) {
        close(fd);
        return lk_fail(prog, LK_EXIT_FAILED, "out of memory");
    }
    /* Replies can be large (a status of a thousand resources): fewer, larger reads. */
    (void) setvbuf(in, NULL, _IOFBF, 64 * 1024);
    char *buf = NULL;
    size_t cap = 0;
    int code = -1;
    while (code < 0) {
        ssize_t n = getline(&buf, &cap, in);
        if (n <= 0) {
            code = lk_fail(prog, LK_EXIT_UNREACHABLE, "lkd closed the connection without a reply");
            break;
        }
        json_error_t jerr;
        json_t *msg = json_loads(buf, 0, &jerr);
        if (!json_is_object(msg)) {
            json_decref(msg);
            code = lk_fail(prog, LK_EXIT_FAILED, "malformed reply from lkd: %s", jerr.text);
            break;
        }
        json_t *ok = json_object_get(msg, LK_KEY_OK);
        if (!ok) {
            const char *text = json_string_value(json_object_get(msg, LK_KEY_PROGRESS));
            if (progress) {
                progress(text, msg, userdata);
            }
            json_decref(msg);
            continue;
        }
        if (json_is_true(ok)) {
            if (ret_data) {
                *ret_data = json_incref(json_object_get(msg, LK_KEY_DATA));
            }
            code = 0;
        } else {
            json_int_t c = json_integer_value(json_object_get(msg, LK_KEY_CODE));
            const char *err = json_string_value(json_object_get(msg, LK_KEY_ERROR));
            int mapped = c >= 1 && c <= 4 ? (int) c : LK_EXIT_FAILED;
            if (node && c == LK_EXIT_COMM) {
                mapped = LK_EXIT_COMM;
            }
            code = mapped;
            snprintf(last_error, sizeof(last_error), "%s", err && err[0] ? err : "unknown error");
            if (!lk_client_quiet) {
                (void) lk_fail(prog, code, "%s", last_error);
            }
        }
        json_decref(msg);
    }
    free(buf);
    fclose(in);
    return code;
}

/* What a file that is not regular is, as the end of "script 'x': <why>". */
static const char *not_regular(mode_t mode)
{
    if (S_ISDIR(mode)) {
        return "is a directory";
    }
    if (S_ISFIFO(mode)) {
        return "is a FIFO, not a regular file";
    }
    if (S_ISCHR(mode) || S_ISBLK(mode)) {
        return "is a device, not a regular file";
    }
    if (S_ISSOCK(mode)) {
        return "is a socket, not a regular file";
    }
    return "is not a regular file";
}

char *lk_read_script(const char *prog, const char *what, const char *path)
{
    struct stat st;
    const char *why = NULL;
    char reason[PATH_MAX + 64];
    int fd = -1;
    unsigned char *content = NULL;
    char *b64 = NULL;
    /* lstat, then an open that neither blocks nor follows a link, then fstat of what was
     * opened: a FIFO or a device named here (or swapped in) cannot hang the command, and a
     * link is refused with the file it points to, which the user can give instead. */
    if (lstat(path, &st) < 0) {
        why = errno == ENOENT ? "no such file" : strerror(errno);
    } else if (S_ISLNK(st.st_mode)) {
        char target[PATH_MAX];
        if (realpath(path, target)) {
            snprintf(reason, sizeof(reason),
                     "is a symbolic link; give the file it points to ('%s')", target);
            why = reason;
        } else {
            why = "is a symbolic link";
        }
    } else if (!S_ISREG(st.st_mode)) {
        why = not_regular(st.st_mode);
    } else if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY)) < 0) {
        why = errno == EACCES ? "is not readable" : strerror(errno);
    } else if (fstat(fd, &st) < 0) {
        why = strerror(errno);
    } else if (!S_ISREG(st.st_mode)) {
        why = not_regular(st.st_mode);
    } else if (st.st_size == 0) {
        why = "is empty";
    } else if (st.st_size > LK_SCRIPT_MAX_SIZE) {
        snprintf(reason, sizeof(reason), "is too large: %lld bytes, at most %d",
                 (long long) st.st_size, LK_SCRIPT_MAX_SIZE);
        why = reason;
    }
    size_t len = why ? 0 : (size_t) st.st_size;
    if (!why && !(content = malloc(len))) {
        why = "out of memory";
    }
    if (!why) {
        size_t got = 0;
        while (got < len) {
            ssize_t n = read(fd, content + got, len - got);
            if (n <= 0) {
                break;
            }
            got += (size_t) n;
        }
        if (got != len) {
            why = "changed while being read";
        } else if (lk_validate_script(content, len, reason, sizeof(reason)) < 0) {
            why = reason;
        }
    }
    if (fd >= 0) {
        close(fd);
    }
    if (!why) {
        size_t b64_len = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
        b64 = malloc(b64_len);
        if (b64) {
            sodium_bin2base64(b64, b64_len, content, len, sodium_base64_VARIANT_ORIGINAL);
        } else {
            why = "out of memory";
        }
    }
    free(content);
    if (why) {
        lk_fail(prog, LK_EXIT_USAGE, "%s script '%s': %s", what, path, why);
        return NULL;
    }
    return b64;
}
