/* ins_list [-f C] [-t TAG] [--json]: one line per resource on this node, seventeen fields
 * in the seed system's order (SPEC §7), for administrators' existing scripts. lkd formats
 * the lines (src/lib/inslist.c); this command only asks and prints. With --json: an array
 * of objects with the seventeen fields named (lk_inslist_field_names), built here from
 * the resource list with the same lk_inslist_fields. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "help.h"
#include "inslist.h"
#include "proto.h"
#include "validate.h"

#define PROG "ins_list"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: ins_list [--root DIR] [-f C] [-t TAG] [--json]\n"
            "\n"
            "One line per resource defined on this node, seventeen fields separated by C:\n"
            "node, app, type, tag, id, info, state, reason, init, (reserved), check failures\n"
            "in a row, local recoveries, (reserved), quickchk interval (seconds), deepchk\n"
            "interval (seconds), local recovery (1/0), switchback.\n"
            "\n"
            "  -f C          the field separator, one character; default: the ASCII unit\n"
            "                separator (0x1F)\n"
            "  -t TAG        only this resource; default: every resource\n"
            "  --root DIR    the node's root directory\n"
            "                default: $LKROOT, else " LK_DEFAULT_ROOT "\n"
            "  --json        a JSON array of objects with the fields named (-f is ignored); an\n"
            "                error is {\"error\": ..., \"code\": ...} on stderr; default: off\n"
            "  --version     the version\n"
            "  --help        this help\n"
            "\n"
            "Exit status: 0 ok, 1 failed, 2 usage, 3 lkd not reachable, 4 permission denied.\n");
}

/* --json: the resources of res.list as ins_list's fields, named. */
static int print_json(const char *root, const char *tag)
{
    json_t *args = json_object();
    if (tag) {
        json_object_set_new(args, "tag", json_string(tag));
    }
    json_t *data = NULL;
    int r = lk_client_call(PROG, root, LK_CMD_RES_LIST, args, NULL, NULL, &data);
    if (r != 0) {
        return r;
    }
    const char *node = json_string_value(json_object_get(data, "node"));
    json_t *out = json_array();
    size_t i;
    json_t *obj;
    json_array_foreach(json_object_get(data, "resources"), i, obj)
    {
        static struct lk_resource res;
        if (lk_proto_resource_parse(obj, &res) < 0) {
            json_decref(out);
            json_decref(data);
            return lk_fail(PROG, 1, "malformed resource in lkd's reply");
        }
        struct lk_inslist_numbers numbers;
        const char *fields[LK_INSLIST_FIELDS];
        lk_inslist_fields(&res, node ? node : "", &numbers, fields);
        json_t *line = json_object();
        for (int f = 0; f < LK_INSLIST_FIELDS; f++) {
            json_object_set_new(line, lk_inslist_field_names[f], json_string(fields[f]));
        }
        json_array_append_new(out, line);
    }
    lk_print_json(out);
    json_decref(out);
    json_decref(data);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
            {"root", required_argument, NULL, 'r'},
            {"json", no_argument, NULL, 'j'},
            {"version", no_argument, NULL, 'V'},
            {"help", no_argument, NULL, 'h'},
            {0},
    };
    const char *root_arg = NULL, *tag = NULL;
    bool json = lk_json_prescan(argc, argv);
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
        case 'j':
            break;
        case 'V':
            lk_print_version(PROG);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            return lk_fail_getopt("ins_list", c, argv);
        }
    }
    if (optind < argc) {
        return lk_fail("ins_list", 2, "unexpected argument '%s'", argv[optind]);
    }
    if (json) {
        return print_json(lk_client_root(root_arg), tag);
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
