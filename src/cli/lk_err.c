/* lk_err -c CATEGORY -n NUMBER [-p PROCESS] MESSAGE: writes a message into the node's
 * event log, for scripts. The resource's tag comes from LK_TAG when the daemon runs the
 * script; the node's root from LKROOT (or --root). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "help.h"
#include "validate.h"

#define USAGE "usage: lk_err -c CATEGORY -n NUMBER [-p PROCESS] MESSAGE"

int main(int argc, char **argv)
{
    static const struct option opts[] = {
            {"root", required_argument, NULL, 'r'},
            {"version", no_argument, NULL, 'V'},
            {"help", no_argument, NULL, 'h'},
            {0},
    };
    const char *category = NULL, *number = NULL, *process = NULL, *root_arg = NULL;
    int c;
    opterr = 0; /* one line of our own instead of getopt's message */
    while ((c = getopt_long(argc, argv, "+:c:n:p:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            category = optarg;
            break;
        case 'n':
            number = optarg;
            break;
        case 'p':
            process = optarg;
            break;
        case 'r':
            root_arg = optarg;
            break;
        case 'V':
            lk_print_version("lk_err");
            return 0;
        case 'h':
            printf("%s\n"
                   "\n"
                   "Writes MESSAGE (the remaining words) into this node's event log, for\n"
                   "scripts; the resource's tag comes from $LK_TAG when lkd runs the script.\n"
                   "\n"
                   "  -c CATEGORY   the severity: INFO, WARNING or ERROR (required)\n"
                   "  -n NUMBER     the event's number, 0 to 999999999 (required)\n"
                   "  -p PROCESS    the process named in the event; default: lk_err\n"
                   "  --root DIR    the node's root directory\n"
                   "                default: $LKROOT, else " LK_DEFAULT_ROOT "\n"
                   "  --version     the version\n"
                   "  --help        this help\n"
                   "\n"
                   "Exit status: 0 ok, 1 failed, 2 usage, 3 lkd not reachable, 4 permission "
                   "denied.\n",
                   USAGE);
            return 0;
        default:
            return lk_fail_getopt("lk_err", c, argv);
        }
    }
    if (!category || !number || optind >= argc) {
        return lk_fail("lk_err", 2, USAGE);
    }
    uint64_t num;
    if (lk_parse_uint(number, 0, 999999999, &num) < 0) {
        return lk_fail("lk_err", 2, "invalid -n '%s': expected a number", number);
    }
    /* The message may come as several words, as from a shell without quotes. */
    size_t len = 0;
    for (int i = optind; i < argc; i++) {
        len += strlen(argv[i]) + 1;
    }
    char *message = calloc(1, len + 1);
    if (!message) {
        return lk_fail("lk_err", 1, "out of memory");
    }
    for (int i = optind; i < argc; i++) {
        if (i > optind) {
            strcat(message, " ");
        }
        strcat(message, argv[i]);
    }
    /* A multi-line message becomes one line. */
    for (char *p = message; *p; p++) {
        if (*p == '\n' || *p == '\r' || *p == '\t') {
            *p = ' ';
        }
    }
    json_t *args = json_pack("{s:s, s:I, s:s}", "category", category, "number", (json_int_t) num,
                             "message", message);
    free(message);
    if (!args) {
        return lk_fail("lk_err", 2, "invalid message");
    }
    if (process) {
        json_object_set_new(args, "process", json_string(process));
    }
    const char *tag = getenv("LK_TAG");
    if (tag && tag[0]) {
        json_object_set_new(args, "tag", json_string(tag));
    }
    json_t *data = NULL;
    int r = lk_client_call("lk_err", lk_client_root(root_arg), LK_CMD_LOG_WRITE, args, NULL, NULL,
                           &data);
    json_decref(data);
    return r;
}
