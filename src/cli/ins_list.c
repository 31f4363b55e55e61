/* ins_list [-f C] [-t TAG]: one line per resource on this node, seventeen fields in the
 * seed system's order (SPEC §7), for administrators' existing scripts. lkd formats the
 * lines (src/lib/inslist.c); this command only asks and prints. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "proto.h"
#include "validate.h"

#define USAGE "usage: ins_list [--root DIR] [-f C] [-t TAG]"

int main(int argc, char **argv)
{
    static const struct option opts[] = {
            {"root", required_argument, NULL, 'r'},
            {"help", no_argument, NULL, 'h'},
            {0},
    };
    const char *root_arg = NULL, *tag = NULL;
    char sep[2] = {LK_FIELD_SEPARATOR, '\0'};
    int c;
    opterr = 0; /* one line of our own instead of getopt's message */
    while ((c = getopt_long(argc, argv, ":f:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (strlen(optarg) != 1 || optarg[0] == '\n') {
                return lk_fail("ins_list", 2, "-f takes exactly one character");
            }
            sep[0] = optarg[0];
            break;
        case 't':
            tag = optarg;
            break;
        case 'r':
            root_arg = optarg;
            break;
        case 'h':
            printf("%s\n", USAGE);
            return 0;
        default:
            return lk_fail_getopt("ins_list", c, argv);
        }
    }
    if (optind < argc) {
        return lk_fail("ins_list", 2, "unexpected argument '%s'", argv[optind]);
    }
    json_t *args = json_pack("{s:s}", "separator", sep);
    if (tag) {
        json_object_set_new(args, "tag", json_string(tag));
    }
    json_t *data = NULL;
    int r = lk_client_call("ins_list", lk_client_root(root_arg), LK_CMD_RES_INSLIST, args, NULL,
                           NULL, &data);
    if (r != 0) {
        return r;
    }
    json_t *lines = json_object_get(data, "lines");
    fwrite(json_string_value(lines), 1, json_string_length(lines), stdout);
    json_decref(data);
    return 0;
}
