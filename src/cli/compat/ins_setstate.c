/* ins_setstate [-d destsys] -t tag -S {ISP|ISU|OSU} [-R reason] [-A]: LifeKeeper's command
 * that sets a resource's state by hand, without running a script (lkd's resource.setstate,
 * docs/LIFEKEEPER.md "Setting a state by hand"). Prints nothing on success.
 *
 * It owns the command line and the mapping of lkd's answer to LifeKeeper's LCDI exit
 * statuses: 0 ok, 1 a system call failed (lkd not reachable), 2 syntax error, 5 illegal
 * argument (a state that cannot be set now: the answer names why), 7 no such resource,
 * 9 communication with destsys failed. It is self-contained (its own request, so that it
 * sees lkd's error before anything is printed). It must never decide anything about the
 * state itself: lkd's engine and placement do, and refuse with one line. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client.h"
#include "help.h"
#include "proto.h"
#include "validate.h"

#define PROG  "ins_setstate"
#define USAGE "usage: ins_setstate [-d destsys] -t tag -S {ISP|ISU|OSU} [-R reason] [-A]"

/* The request's envelope key that names the node a request is for (forwarded there by
 * lkd when it is another node). */
#define KEY_NODE "node"

enum {
    LCDI_OK = 0,
    LCDI_SYSTEM = 1,
    LCDI_SYNTAX = 2,
    LCDI_ILLEGAL = 5,
    LCDI_NO_OBJECT = 7,
    LCDI_COMM = 9,
};

__attribute__((format(printf, 2, 3))) static int fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, PROG ": ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return status;
}

/* Whether text starts with prefix. */
static bool starts(const char *text, const char *prefix)
{
    return strncmp(text, prefix, strlen(prefix)) == 0;
}

/* lkd's error (its SPEC §6 code and message) as an LCDI exit status. */
static int lcdi_status(int code, const char *error)
{
    if (code == LK_EXIT_USAGE) {
        return LCDI_ILLEGAL; /* the command line was checked here: lkd refused a value */
    }
    if (code == LK_EXIT_COMM) {
        return LCDI_COMM; /* the node named by -d is unknown or could not be reached */
    }
    if (code != LK_EXIT_FAILED) {
        return LCDI_SYSTEM; /* permission denied, lkd unreachable */
    }
    if (starts(error, "no resource with tag")) {
        return LCDI_NO_OBJECT;
    }
    if (starts(error, "no node ") || strstr(error, "communication with ")) {
        return LCDI_COMM;
    }
    if (starts(error, "lkd is stopping") || starts(error, "out of memory")) {
        return LCDI_SYSTEM;
    }
    return LCDI_ILLEGAL;
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

/* Sends req (stolen) to the lkd of root and reads lines until the final reply; returns
 * the LCDI exit status, after printing one line on failure. */
static int call(const char *root, json_t *req)
{
    char *line = req ? lk_proto_dump(req) : NULL;
    json_decref(req);
    if (!line) {
        return fail(LCDI_SYSTEM, "out of memory");
    }
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int n = snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%s", root, LK_SOCKET_NAME);
    if (n < 0 || (size_t) n >= sizeof(addr.sun_path)) {
        free(line);
        return fail(LCDI_SYSTEM, "root path '%s' is too long for a socket", root);
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *) &addr, sizeof(addr)) < 0) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
        }
        free(line);
        return fail(LCDI_SYSTEM, "lkd is not reachable on '%s' (%s)", root, strerror(e));
    }
    signal(SIGPIPE, SIG_IGN);
    int r = write_all(fd, line, strlen(line));
    free(line);
    FILE *in = r == 0 ? fdopen(fd, "r") : NULL;
    if (!in) {
        close(fd);
        return fail(LCDI_SYSTEM, "lost the connection to lkd");
    }
    char *buf = NULL;
    size_t cap = 0;
    int status = -1;
    while (status < 0) {
        if (getline(&buf, &cap, in) <= 0) {
            status = fail(LCDI_SYSTEM, "lkd closed the connection without a reply");
            break;
        }
        json_t *msg = json_loads(buf, 0, NULL);
        json_t *ok = json_object_get(msg, LK_KEY_OK);
        if (!json_is_object(msg)) {
            status = fail(LCDI_SYSTEM, "malformed reply from lkd");
        } else if (json_is_true(ok)) {
            status = LCDI_OK;
        } else if (ok) {
            json_int_t code = json_integer_value(json_object_get(msg, LK_KEY_CODE));
            const char *err = json_string_value(json_object_get(msg, LK_KEY_ERROR));
            status = fail(lcdi_status((int) code, err ? err : ""), "%s",
                          err ? err : "unknown error");
        }
        /* Anything else is a progress line: not printed by an LCDI command. */
        json_decref(msg);
    }
    free(buf);
    fclose(in);
    return status;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
            {"root", required_argument, NULL, 'r'},
            {"version", no_argument, NULL, 'V'},
            {"help", no_argument, NULL, 'h'},
            {0},
    };
    const char *dest = NULL, *tag = NULL, *state = NULL, *reason = NULL, *root_arg = NULL;
    int c;
    opterr = 0; /* one line of our own instead of getopt's message */
    while ((c = getopt_long(argc, argv, "+:d:t:S:R:Ah", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dest = optarg;
            break;
        case 't':
            tag = optarg;
            break;
        case 'S':
            state = optarg;
            break;
        case 'R':
            reason = optarg;
            break;
        case 'A':
            break; /* accepted as LifeKeeper's synopsis has it; no effect (documented) */
        case 'r':
            root_arg = optarg;
            break;
        case 'V':
            lk_print_version(PROG);
            return 0;
        case 'h':
            printf("%s\n"
                   "\n"
                   "Sets the state of resource TAG on this node by hand: no restore or remove\n"
                   "script runs. ISP: in service, monitored; ISU: in service, monitoring\n"
                   "suspended; OSU: out of service, the application left as it is, unmonitored.\n"
                   "OSF cannot be set: only a failed action sets it.\n"
                   "\n"
                   "  -d destsys    the node whose state is set (default: this node)\n"
                   "  -t tag        the resource (required)\n"
                   "  -S state      ISP, ISU or OSU (required)\n"
                   "  -R reason     the reason shown with the state (ins_list field 8)\n"
                   "  -A            accepted for LifeKeeper's scripts; no effect\n"
                   "  --root DIR    the node's root directory\n"
                   "                default: $LKROOT, else " LK_DEFAULT_ROOT "\n"
                   "  --version     the version\n"
                   "  --help        this help\n"
                   "\n"
                   "Exit status: 0 ok, 1 lkd not reachable, 2 syntax error, 5 the state cannot\n"
                   "be set (the reason is printed), 7 no such resource, 9 destsys not reached.\n",
                   USAGE);
            return 0;
        case ':':
            return fail(LCDI_SYNTAX, "option -%c needs a value; %s", optopt, USAGE);
        default:
            if (optopt) {
                return fail(LCDI_SYNTAX, "unknown option -%c; %s", optopt, USAGE);
            }
            return fail(LCDI_SYNTAX, "unknown option '%s'; %s", argv[optind - 1], USAGE);
        }
    }
    if (optind < argc) {
        return fail(LCDI_SYNTAX, "unexpected argument '%s'; %s", argv[optind], USAGE);
    }
    if (!tag || !state) {
        return fail(LCDI_SYNTAX, "missing -%c; %s", tag ? 'S' : 't', USAGE);
    }
    char err[256];
    if (lk_validate_tag(tag, "tag", err, sizeof(err)) < 0) {
        return fail(LCDI_ILLEGAL, "%s", err);
    }
    if (strcmp(state, "OSF") == 0) {
        return fail(LCDI_ILLEGAL, "OSF cannot be set by hand: only a failed action sets it");
    }
    if (strcmp(state, "ISP") != 0 && strcmp(state, "ISU") != 0 && strcmp(state, "OSU") != 0) {
        return fail(LCDI_SYNTAX, "invalid -S '%.32s': ISP, ISU or OSU; %s", state, USAGE);
    }
    if (reason && lk_validate_hand_reason(reason, err, sizeof(err)) < 0) {
        return fail(LCDI_ILLEGAL, "%s", err);
    }
    if (dest && dest[0] && lk_validate_tag(dest, "destsys", err, sizeof(err)) < 0) {
        return fail(LCDI_ILLEGAL, "%s", err);
    }
    json_t *args = json_pack("{s:s, s:s}", "tag", tag, "state", state);
    if (args && reason && json_object_set_new(args, "reason", json_string(reason)) < 0) {
        /* Not UTF-8 (a script in a Latin-1 locale): never the state without its reason. */
        json_decref(args);
        return fail(LCDI_ILLEGAL, "the reason is not valid UTF-8");
    }
    json_t *req = args ? lk_proto_request(LK_CMD_RES_SETSTATE, args) : NULL;
    if (req && dest && dest[0]) {
        /* lkd runs it on destsys (its own name: here). */
        json_object_set_new(req, KEY_NODE, json_string(dest));
    }
    return call(lk_client_root(root_arg), req);
}
