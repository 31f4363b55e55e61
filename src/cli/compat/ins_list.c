/* ins_list [-d DEST] [-f C] [-R TOP] [-a APP] [-r TYP] [-t TAG] [-i ID] [--json]: one line
 * per resource, seventeen fields in LifeKeeper's order (SPEC §7), for administrators'
 * and LifeKeeper scripts. Fields are separated by ^A (LifeKeeper's default) or C; a field
 * holding the separator, a backslash or a control character has it escaped as a backslash
 * and three octal digits (lk_inslist_escape), so every line has seventeen fields. The
 * records are built here from lkd's resource list with lk_inslist_fields (lkd's own
 * resource.inslist stays for older commands). With --json: an array of objects with the
 * seventeen fields named. It only asks and prints. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "help.h"
#include "inslist.h"
#include "lcdi.h"
#include "proto.h"
#include "validate.h"

#define PROG "ins_list"

#define USAGE                                                                                      \
    "usage: ins_list [-d DEST] [-f C] [-R TOP] [-a APP] [-r TYP] [-t TAG] [-i ID] [--json] "       \
    "[--root DIR]"

static const char HELP[] =
        "\n"
        "One line per resource, seventeen fields separated by C: node, app, type, tag, id,\n"
        "info, state, reason, init, (reserved), check failures in a row, local recoveries,\n"
        "(reserved), quickchk interval (seconds), deepchk interval (seconds), local\n"
        "recovery (1/0), switchback. A field holding C, a backslash or a control character\n"
        "has it written as a backslash and its three octal digits (\\054 for ',').\n"
        "\n"
        "  -d DEST       the node to ask (its name); default: this node\n"
        "  -f C          the field separator, one character; default: Ctrl-A (\\001), as\n"
        "                LifeKeeper's; not a backslash, newline or digit 0-7\n"
        "  -R TOP        only the hierarchies under TOP: TOP first, then the resources it\n"
        "                depends on, depth first; several roots separated by Ctrl-A\n"
        "  -a APP        only resources of this application (gen, ocf, systemd)\n"
        "  -r TYP        only resources of this type (app, ...)\n"
        "  -t TAG        only this resource\n"
        "  -i ID         only resources with this id\n"
        "  --json        a JSON array of objects with the fields named (-f is ignored); an\n"
        "                error is {\"error\": ..., \"code\": ...} on stderr; default: off\n"
        "  --root DIR    the node's root directory\n"
        "                default: $LKROOT, else " LK_DEFAULT_ROOT "\n"
        "  --version     the version\n"
        "  --help        this help\n"
        "\n"
        "Exit status: 0 ok, 1 failed (also: an unknown tag or root), 2 usage, 3 lkd not\n"
        "reachable, 4 permission denied, 9 communication with DEST failed.\n";

struct filter {
    const char *app, *type, *tag, *id;
};

static bool wanted(const json_t *res, const struct filter *f)
{
    static const char *const keys[] = {"app", "type", "tag", "id"};
    const char *values[] = {f->app, f->type, f->tag, f->id};
    for (size_t i = 0; i < 4; i++) {
        const char *v = json_string_value(json_object_get(res, keys[i]));
        if (values[i] && (!v || strcmp(v, values[i]) != 0)) {
            return false;
        }
    }
    return true;
}

/* Appends res to order unless it is there already (a resource two roots share, or one
 * reached twice in a diamond, is listed once). */
static void add_once(json_t *order, json_t *res)
{
    size_t i;
    json_t *r;
    json_array_foreach(order, i, r)
    {
        if (r == res) {
            return;
        }
    }
    json_array_append(order, res);
}

/* Top first, then each child's hierarchy, depth first (the order of dependency.list). */
static void walk(const json_t *data, const json_t *deps, json_t *res, json_t *order, int depth)
{
    add_once(order, res);
    if (depth > 1000) {
        return; /* lkd refuses cycles; a bound all the same */
    }
    const char *tag = json_string_value(json_object_get(res, "tag"));
    size_t i;
    json_t *d;
    json_array_foreach(deps, i, d)
    {
        const char *parent = json_string_value(json_object_get(d, "parent"));
        const char *child = json_string_value(json_object_get(d, "child"));
        json_t *c = child ? lcdi_find(data, "tag", child) : NULL;
        if (parent && tag && strcmp(parent, tag) == 0 && c) {
            walk(data, deps, c, order, depth + 1);
        }
    }
}

/* The resources to print, in order: every resource, or the hierarchies under the roots. */
static int select_order(struct lcdi *l, const json_t *data, const char *roots, json_t **ret)
{
    json_t *order = json_array();
    if (!roots) {
        size_t i;
        json_t *res;
        json_array_foreach(json_object_get(data, "resources"), i, res)
        {
            json_array_append(order, res);
        }
        *ret = order;
        return 0;
    }
    json_t *deps = NULL;
    int r = lcdi_call(l, LK_CMD_DEP_LIST, NULL, &deps);
    if (r != 0) {
        json_decref(order);
        return r;
    }
    char buf[4096];
    snprintf(buf, sizeof(buf), "%s", roots);
    char *save = NULL;
    for (char *top = strtok_r(buf, "\001", &save); top; top = strtok_r(NULL, "\001", &save)) {
        json_t *res = lcdi_find(data, "tag", top);
        if (!res) {
            json_decref(deps);
            json_decref(order);
            return lcdi_fail(l, LK_EXIT_FAILED, "no resource with tag '%s'", top);
        }
        walk(data, json_object_get(deps, "dependencies"), res, order, 0);
    }
    json_decref(deps);
    *ret = order;
    return 0;
}

int main(int argc, char **argv)
{
    struct lcdi l;
    lcdi_init(&l, PROG, USAGE, HELP);
    l.spec_statuses = true;
    bool json = lk_json_prescan(argc, argv);
    struct filter f = {0};
    const char *roots = NULL;
    int c;
    while ((c = lcdi_getopt(&l, argc, argv, "d:f:R:a:r:t:i:", true)) != -1) {
        switch (c) {
        case 'R':
            roots = optarg;
            break;
        case 'a':
            f.app = optarg;
            break;
        case 'r':
            f.type = optarg;
            break;
        case 't':
            f.tag = optarg;
            break;
        case 'i':
            f.id = optarg;
            break;
        case 'j':
            break;
        case LCDI_OPT_EXIT:
            return l.exit;
        default:
            return lk_fail(PROG, LK_EXIT_USAGE, "unknown option '-%c' (see --help)", c);
        }
    }
    if (optind < argc) {
        return lk_fail(PROG, LK_EXIT_USAGE, "unexpected argument '%s'", argv[optind]);
    }
    if (roots && strlen(roots) >= 4096) {
        return lk_fail(PROG, LK_EXIT_USAGE, "-R: too long");
    }
    json_t *data = NULL;
    int r = lcdi_resources(&l, &data);
    if (r != 0) {
        return r;
    }
    /* An unknown tag is an error, as it always was (a script asking about its own
     * resource learns that it is gone); -a, -r and -i only filter. */
    if (f.tag && !lcdi_find(data, "tag", f.tag)) {
        json_decref(data);
        return lk_fail(PROG, LK_EXIT_FAILED, "no resource with tag '%s'", f.tag);
    }
    json_t *order = NULL;
    r = select_order(&l, data, roots, &order);
    if (r != 0) {
        json_decref(data);
        return r;
    }
    const char *node = json_string_value(json_object_get(data, "node"));
    json_t *out = json ? json_array() : NULL;
    size_t i;
    json_t *obj;
    json_array_foreach(order, i, obj)
    {
        if (!wanted(obj, &f)) {
            continue;
        }
        static struct lk_resource res;
        if (lk_proto_resource_parse(obj, &res) < 0) {
            json_decref(out);
            json_decref(order);
            json_decref(data);
            return lk_fail(PROG, LK_EXIT_FAILED, "malformed resource in lkd's reply");
        }
        struct lk_inslist_numbers numbers;
        const char *fields[LK_INSLIST_FIELDS];
        lk_inslist_fields(&res, node ? node : "", &numbers, fields);
        if (json) {
            json_t *line = json_object();
            for (int k = 0; k < LK_INSLIST_FIELDS; k++) {
                json_object_set_new(line, lk_inslist_field_names[k], json_string(fields[k]));
            }
            json_array_append_new(out, line);
        } else {
            lcdi_put_record(&l, stdout, fields, LK_INSLIST_FIELDS);
        }
    }
    if (json) {
        lk_print_json(out);
        json_decref(out);
    }
    json_decref(order);
    json_decref(data);
    return fflush(stdout) == 0 ? 0 : lk_fail(PROG, LK_EXIT_FAILED, "cannot write the output");
}
