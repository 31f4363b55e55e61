/* lcdremexec: LifeKeeper's remote command (LCD(1M)): `lcdremexec [-e] -d NODE [-t TIMEOUT] --
 * CMD [ARG...]` runs the words, joined with spaces, as a /bin/sh command on NODE (remote.exec
 * through this node's lkd, forwarded over the comm paths), prints its output and exits with
 * its status: 124 when it timed out, 9 when NODE cannot be reached, 1 when refused (the
 * reason on stderr), 2 for a syntax error. Called from a resource's script (LK_TAG set), NODE
 * must be one the resource is extended to.
 *
 * It never runs anything itself, and never reads stdin. */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "lcdi.h"
#include "validate.h"

#define PROG "lcdremexec"

int main(int argc, char **argv)
{
    struct lcdi l;
    lcdi_init(&l, PROG,
              "usage: " PROG " [-e] -d NODE [-t SECONDS] [--root DIR] -- COMMAND [ARG...]",
              "\n"
              "Runs COMMAND (its words joined with spaces, as a /bin/sh command) on NODE, prints\n"
              "its output and exits with its status. Needs `remote-exec = on` in the cluster\n"
              "settings and the admin role; every use is logged on both nodes.\n"
              "\n"
              "  -d NODE       the node to run it on (this node's own name runs it here)\n"
              "  -t SECONDS    the timeout, 1 to 3600; default: 60\n"
              "  -e            accepted: stdout and stderr come back as one stream\n"
              "  --root DIR    the node's root directory; default: $LKROOT, else the default\n"
              "  --version     the version\n"
              "  --help        this help\n"
              "\n"
              "Exit status: the command's; 124 it timed out, 9 NODE not reachable, 1 refused,\n"
              "2 syntax error.\n");
    l.own_d = true;
    const char *node = NULL;
    long timeout = 0;
    int c;
    while ((c = lcdi_getopt(&l, argc, argv, "ed:t:", false)) != -1) {
        switch (c) {
        case LCDI_OPT_EXIT:
            return l.exit;
        case 'e':
            break; /* stdout and stderr come back as one stream (docs/LIFEKEEPER.md) */
        case 'd':
            node = optarg;
            break;
        case 't': {
            char *end = NULL;
            timeout = strtol(optarg, &end, 10);
            if (!*optarg || *end || timeout < 1 || timeout > 3600) {
                return lcdi_fail(&l, LCDI_SYNTAX,
                                 "invalid timeout '%s': expected 1 to 3600 seconds", optarg);
            }
            break;
        }
        default:
            return lcdi_syntax(&l, "unknown option");
        }
    }
    if (!node || !node[0]) {
        return lcdi_syntax(&l, "-d NODE is required");
    }
    if (optind >= argc) {
        return lcdi_syntax(&l, "no command");
    }
    char err[256];
    if (lk_validate_tag(node, "node name", err, sizeof(err)) < 0) {
        return lk_fail(PROG, LCDI_ILLEGAL, "%s", err);
    }
    size_t len = 0;
    for (int i = optind; i < argc; i++) {
        len += strlen(argv[i]) + 1;
    }
    char *command = malloc(len + 1);
    if (!command) {
        return lk_fail(PROG, LCDI_SYSCALL, "out of memory");
    }
    command[0] = '\0';
    for (int i = optind; i < argc; i++) {
        strcat(command, argv[i]);
        if (i + 1 < argc) {
            strcat(command, " ");
        }
    }
    json_t *args = json_pack("{s:s%}", "command", command, strlen(command));
    free(command);
    if (!args) {
        return lk_fail(PROG, LCDI_ILLEGAL, "the command is not valid UTF-8");
    }
    if (timeout > 0) {
        json_object_set_new(args, "timeout", json_integer(timeout));
    }
    const char *tag = getenv("LK_TAG");
    if (tag && tag[0]) {
        json_object_set_new(args, "tag", json_string(tag));
    }
    json_t *data = NULL;
    l.dest = node;
    l.usage_is_syntax = true;
    int r = lcdi_ask(&l, LK_CMD_REMOTE_EXEC, args, &data);
    if (r != LCDI_OK) {
        return r;
    }
    const char *b64 = json_string_value(json_object_get(data, "output"));
    json_int_t status = json_integer_value(json_object_get(data, "status"));
    if (b64) {
        size_t cap = strlen(b64) / 4 * 3 + 3, out_len = 0;
        unsigned char *out = malloc(cap);
        if (out && sodium_base642bin(out, cap, b64, strlen(b64), NULL, &out_len, NULL,
                                     sodium_base64_VARIANT_ORIGINAL) == 0) {
            (void) fwrite(out, 1, out_len, stdout);
        }
        free(out);
    }
    (void) fflush(stdout);
    if (json_is_true(json_object_get(data, "timed_out"))) {
        fprintf(stderr, PROG ": the command timed out on %s\n", node);
    }
    json_decref(data);
    return status >= 0 && status <= 255 ? (int) status : LCDI_SYSCALL;
}
