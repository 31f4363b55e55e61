/* lkstop [-f | --switchover]: without -f, lkd takes this node's resources out of service
 * (printing each step) and stops; with --switchover it moves its hierarchies to their
 * backup nodes first; with -f, lkd stops at once and the applications keep running. Returns
 * once the daemon process has exited. With --json, one JSON object at the end says what
 * happened (the steps in "progress"); an error is one JSON object on stderr. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "help.h"
#include "output.h"
#include "webproc.h"

#define PROG "lkstop"

/* Whether pid still runs. A zombie has finished: lkd's parent after detaching is init,
 * which may take its time to reap it (some container inits never do). */
static bool still_running(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
    FILE *f = fopen(path, "re");
    if (!f) {
        return kill(pid, 0) == 0;
    }
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    return !(p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'));
}

static void usage(FILE *out)
{
    fprintf(out, "usage: lkstop [-f | --switchover] [--root DIR] [--json]\n"
                 "\n"
                 "Stops this node's lkd and returns once its process has exited.\n"
                 "\n"
                 "  (no option)      take this node's hierarchies out of service (parents "
                 "first),\n"
                 "                   then stop\n"
                 "  -f, --force      stop lkd at once; the applications keep running; "
                 "default: off\n"
                 "  --switchover     move this node's hierarchies to their backup nodes "
                 "first;\n"
                 "                   default: off\n"
                 "  --root DIR       the node's root directory\n"
                 "                   default: $LKROOT, else " LK_DEFAULT_ROOT "\n"
                 "  --json           one JSON object at the end says what happened; an error is\n"
                 "                   {\"error\": ..., \"code\": ...} on stderr; default: off\n"
                 "  --version        the version\n"
                 "  --help           this help\n"
                 "\n"
                 "Exit status: 0 stopped, 1 failed, 2 usage, 3 lkd not running, 4 permission "
                 "denied.\n");
}

/* With --json: the progress lines, gathered for the final object. */
static void gather(const char *text, const json_t *msg, void *userdata)
{
    (void) msg;
    if (text) {
        json_array_append_new(userdata, json_string(text));
    }
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
            {"root", required_argument, NULL, 'r'},
            {"force", no_argument, NULL, 'f'},
            {"switchover", no_argument, NULL, 's'},
            {"json", no_argument, NULL, 'j'},
            {"version", no_argument, NULL, 'V'},
            {"help", no_argument, NULL, 'h'},
            {0},
    };
    const char *root_arg = NULL;
    bool force = false, switchover = false, json = lk_json_prescan(argc, argv);
    int c;
    opterr = 0; /* one line of our own instead of getopt's message */
    while ((c = getopt_long(argc, argv, ":fh", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            force = true;
            break;
        case 'r':
            root_arg = optarg;
            break;
        case 's':
            switchover = true;
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
    if (force && switchover) {
        return lk_fail(PROG, 2, "-f and --switchover exclude each other");
    }
    const char *root = lk_client_root(root_arg);
    json_t *data = NULL;
    int r = lk_client_call(PROG, root, LK_CMD_PING, NULL, NULL, NULL, &data);
    if (r != 0) {
        (void) lk_webproc_stop(PROG, root); /* its console goes with the node */
        return r;
    }
    pid_t pid = (pid_t) json_integer_value(json_object_get(data, "pid"));
    json_decref(data);
    data = NULL;
    json_t *args = json_pack("{s:s}", "mode", force ? "force" : switchover ? "switchover" : "stop");
    json_t *progress = json_array();
    r = lk_client_call(PROG, root, LK_CMD_SHUTDOWN, args, json ? gather : lk_print_progress,
                       progress, &data);
    json_decref(data);
    if (r != 0) {
        json_decref(progress);
        return r;
    }
    /* Wait for the process to be gone, so that lkstart right after cannot race it. */
    for (int i = 0; i < 600 && pid > 0 && still_running(pid); i++) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (pid > 0 && still_running(pid)) {
        json_decref(progress);
        return lk_fail(PROG, 1, "lkd (pid %d) did not exit within 30 s", (int) pid);
    }
    if (json) {
        json_t *out = json_pack("{s:b, s:s, s:i, s:s, s:b, s:o}", "stopped", 1, "mode",
                                force        ? "force"
                                : switchover ? "switchover"
                                             : "stop",
                                "pid", (int) pid, "root", root, "applications_left_running", force,
                                "progress", progress);
        lk_print_json(out);
        json_decref(out);
    } else {
        json_decref(progress);
        printf("lkd stopped%s\n", force ? " (applications left running)" : "");
    }
    return lk_webproc_stop(PROG, root);
}
