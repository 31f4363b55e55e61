/* dep_list [-d DEST] [-f C] [-C TAG | -P TAG | -c TAG | -p TAG] [-r TYP] [-a APP]: the
 * dependencies, one record per dependency with two fields, the parent's tag and the
 * child's (the parent depends on the child), as LifeKeeper's dep_list. -c: the
 * dependencies of the parent TAG (its children), -p: those of the child TAG (its
 * parents), -C: every dependency below TAG, -P: every dependency above it. -r and -a keep
 * the dependencies whose parent has that type or application. It only reads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lcdi.h"
#include "proto.h"

/* Which tags a record must touch: every dependency (NONE), or those of one tag. */
enum which { NONE, CHILDREN, PARENTS, ALL_BELOW, ALL_ABOVE };

/* Marks in seen[] (indexed like deps) every dependency reached from tag going down
 * (parent → child) or up. */
static void reach(const json_t *deps, const char *tag, bool down, bool *seen, int depth)
{
    size_t i;
    json_t *d;
    if (depth > 1000) {
        return;
    }
    json_array_foreach(deps, i, d)
    {
        const char *parent = json_string_value(json_object_get(d, "parent"));
        const char *child = json_string_value(json_object_get(d, "child"));
        const char *from = down ? parent : child, *to = down ? child : parent;
        if (!seen[i] && from && to && strcmp(from, tag) == 0) {
            seen[i] = true;
            reach(deps, to, down, seen, depth + 1);
        }
    }
}

int main(int argc, char **argv)
{
    struct lcdi l;
    lcdi_init(&l, "dep_list",
              "usage: dep_list [-d DEST] [-f C] [-C TAG | -P TAG | -c TAG | -p TAG] [-r TYP] "
              "[-a APP] [--root DIR]",
              "\n"
              "One record per dependency: the parent's tag and the child's (the parent depends\n"
              "on the child), separated by C.\n"
              "\n"
              "  -d DEST       the node to ask; default: this node\n"
              "  -f C          the field separator; default: Ctrl-A, as LifeKeeper's\n"
              "  -c TAG        only the dependencies of parent TAG (its children)\n"
              "  -p TAG        only the dependencies of child TAG (its parents)\n"
              "  -C TAG        every dependency below TAG (its children's too)\n"
              "  -P TAG        every dependency above TAG (its parents' too)\n"
              "  -r TYP        only dependencies whose parent has this resource type\n"
              "  -a APP        only dependencies whose parent has this application\n"
              "  --root DIR    the node's root directory; default: $LKROOT, else the default\n"
              "  --version     the version\n"
              "  --help        this help\n"
              "\n"
              "Exit status (LCDI): 0 ok, 1 failed or lkd not reachable, 2 syntax error, 7 no\n"
              "such resource, 9 communication with DEST failed.\n");
    enum which which = NONE;
    const char *tag = NULL, *type = NULL, *app = NULL;
    int c;
    while ((c = lcdi_getopt(&l, argc, argv, "d:f:C:P:c:p:r:a:", false)) != -1) {
        enum which w = c == 'c' ? CHILDREN : c == 'p' ? PARENTS : c == 'C' ? ALL_BELOW : ALL_ABOVE;
        switch (c) {
        case 'c':
        case 'p':
        case 'C':
        case 'P':
            if (which != NONE) {
                return lcdi_syntax(&l, "-C, -P, -c and -p exclude each other");
            }
            which = w;
            tag = optarg;
            break;
        case 'r':
            type = optarg;
            break;
        case 'a':
            app = optarg;
            break;
        default:
            return l.exit;
        }
    }
    if (optind < argc) {
        return lcdi_syntax(&l, "unexpected argument");
    }
    json_t *data = NULL, *deps_data = NULL;
    int r = lcdi_resources(&l, &data);
    if (r == 0) {
        r = lcdi_ask(&l, LK_CMD_DEP_LIST, NULL, &deps_data);
    }
    if (r != 0) {
        json_decref(data);
        return r;
    }
    if (tag && !lcdi_find(data, "tag", tag)) {
        json_decref(data);
        json_decref(deps_data);
        return lcdi_fail(&l, LCDI_NOENT, "no resource with tag '%s'", tag);
    }
    json_t *deps = json_object_get(deps_data, "dependencies");
    size_t n = json_array_size(deps);
    bool *seen = calloc(n + 1, sizeof(bool));
    if (!seen) {
        json_decref(data);
        json_decref(deps_data);
        return lcdi_fail(&l, LCDI_SYSCALL, "out of memory");
    }
    if (which == ALL_BELOW || which == ALL_ABOVE) {
        reach(deps, tag, which == ALL_BELOW, seen, 0);
    }
    size_t i;
    json_t *d;
    json_array_foreach(deps, i, d)
    {
        const char *parent = json_string_value(json_object_get(d, "parent"));
        const char *child = json_string_value(json_object_get(d, "child"));
        if (!parent || !child) {
            continue;
        }
        bool keep = which == NONE || (which == CHILDREN && strcmp(parent, tag) == 0) ||
                    (which == PARENTS && strcmp(child, tag) == 0) ||
                    ((which == ALL_BELOW || which == ALL_ABOVE) && seen[i]);
        const json_t *pres = lcdi_find(data, "tag", parent);
        const char *ptype = json_string_value(json_object_get(pres, "type"));
        const char *papp = json_string_value(json_object_get(pres, "app"));
        keep = keep && (!type || (ptype && strcmp(ptype, type) == 0)) &&
               (!app || (papp && strcmp(papp, app) == 0));
        if (keep) {
            const char *fields[] = {parent, child};
            lcdi_put_record(&l, stdout, fields, 2);
        }
    }
    free(seen);
    json_decref(data);
    json_decref(deps_data);
    return fflush(stdout) == 0 ? 0 : lcdi_fail(&l, LCDI_SYSCALL, "cannot write the output");
}
