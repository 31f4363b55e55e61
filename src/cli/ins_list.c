/* ins_list [-f C] [-t TAG]: one line per resource on this node, seventeen fields in the
 * seed system's order (SPEC §7), for administrators' existing scripts. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "inslist.h"
#include "proto.h"
#include "resource.h"

int main(int argc, char **argv)
{
    static const struct option opts[] = {
            {"root", required_argument, NULL, 'r'},
            {"help", no_argument, NULL, 'h'},
            {0},
    };
    const char *root_arg = NULL, *tag = NULL;
    char sep = LK_FIELD_SEPARATOR;
    int c;
    while ((c = getopt_long(argc, argv, "f:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (strlen(optarg) != 1 || optarg[0] == '\n') {
                return lk_fail("ins_list", 2, "-f takes exactly one character");
            }
            sep = optarg[0];
            break;
        case 't':
            tag = optarg;
            break;
        case 'r':
            root_arg = optarg;
            break;
        case 'h':
            printf("usage: ins_list [--root DIR] [-f C] [-t TAG]\n");
            return 0;
        default:
            return lk_fail("ins_list", 2, "usage: ins_list [--root DIR] [-f C] [-t TAG]");
        }
    }
    if (optind < argc) {
        return lk_fail("ins_list", 2, "unexpected argument '%s'", argv[optind]);
    }
    json_t *args = json_object();
    if (tag) {
        json_object_set_new(args, "tag", json_string(tag));
    }
    json_t *data = NULL;
    int r = lk_client_call("ins_list", lk_client_root(root_arg), LK_CMD_RES_LIST, args, NULL,
                           NULL, &data);
    if (r != 0) {
        return r;
    }
    const char *node = json_string_value(json_object_get(data, "node"));
    size_t i;
    json_t *obj;
    static char line[16384];
    json_array_foreach(json_object_get(data, "resources"), i, obj)
    {
        struct lk_resource res;
        int bad = 0;
        if (lk_proto_resource_parse(obj, &res) < 0) {
            json_decref(data);
            return lk_fail("ins_list", 1, "malformed resource record from lkd");
        }
        if (lk_inslist_format(&res, node ? node : "", sep, line, sizeof(line), &bad) < 0) {
            json_decref(data);
            return lk_fail("ins_list", 1,
                           "field %d of resource '%s' contains the separator; choose another "
                           "with -f",
                           bad, res.tag);
        }
        fputs(line, stdout);
        fputc('\n', stdout);
    }
    json_decref(data);
    return 0;
}
