/* eqv_list [-d DEST] [-s SYS] [-t TAG] [-f C]: the shared equivalencies, as LifeKeeper's
 * eqv_list prints them: one record per resource and other node it is extended to, seven
 * fields: system, tag, other system, other tag, "SHARED", the system's priority for it,
 * the other system's priority. Tags are cluster-wide in OpenKeeper, so the two tags are
 * the same. Built from lkd's resource list (each resource's extends and priorities); it
 * only reads. */
#include <stdio.h>
#include <string.h>

#include "lcdi.h"

/* The priority of node in res's extends as text, or NULL when it is not extended there. */
static const char *priority_of(const json_t *res, const char *node, char *buf, size_t size)
{
    size_t i;
    json_t *n;
    json_array_foreach(json_object_get(res, "nodes"), i, n)
    {
        const char *name = json_string_value(json_object_get(n, "node"));
        if (name && strcmp(name, node) == 0) {
            snprintf(buf, size, "%lld",
                     (long long) json_integer_value(json_object_get(n, "priority")));
            return buf;
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    struct lcdi l;
    lcdi_init(&l, "eqv_list", "usage: eqv_list [-d DEST] [-s SYS] [-t TAG] [-f C] [--root DIR]",
              "\n"
              "One record per resource and other node it is extended to: SYS, tag, other node,\n"
              "tag, SHARED, SYS's priority, the other node's priority (1 is the highest), the\n"
              "fields separated by C.\n"
              "\n"
              "  -d DEST       the node to ask; default: this node\n"
              "  -s SYS        the system whose equivalencies are listed; default: the node asked\n"
              "  -t TAG        only this resource\n"
              "  -f C          the field separator; default: Ctrl-A, as LifeKeeper's\n"
              "  --root DIR    the node's root directory; default: $LKROOT, else the default\n"
              "  --version     the version\n"
              "  --help        this help\n"
              "\n"
              "Exit status (LCDI): 0 ok, 1 failed or lkd not reachable, 2 syntax error, 7 no\n"
              "such resource, 9 communication with DEST failed.\n");
    const char *sys = NULL, *tag = NULL;
    int c;
    while ((c = lcdi_getopt(&l, argc, argv, "d:f:s:t:", false)) != -1) {
        switch (c) {
        case 's':
            sys = optarg;
            break;
        case 't':
            tag = optarg;
            break;
        default:
            return l.exit;
        }
    }
    if (optind < argc) {
        return lcdi_syntax(&l, "unexpected argument");
    }
    json_t *data = NULL;
    int r = lcdi_resources(&l, &data);
    if (r != 0) {
        return r;
    }
    if (tag && !lcdi_find(data, "tag", tag)) {
        json_decref(data);
        return lcdi_fail(&l, LCDI_NOENT, "no resource with tag '%s'", tag);
    }
    if (!sys) {
        sys = json_string_value(json_object_get(data, "node"));
    }
    size_t i;
    json_t *res;
    json_array_foreach(json_object_get(data, "resources"), i, res)
    {
        const char *rtag = json_string_value(json_object_get(res, "tag"));
        char mine[24], theirs[24];
        if (!rtag || (tag && strcmp(rtag, tag) != 0) || !sys ||
            !priority_of(res, sys, mine, sizeof(mine))) {
            continue;
        }
        size_t j;
        json_t *n;
        json_array_foreach(json_object_get(res, "nodes"), j, n)
        {
            const char *other = json_string_value(json_object_get(n, "node"));
            if (!other || strcmp(other, sys) == 0) {
                continue;
            }
            priority_of(res, other, theirs, sizeof(theirs));
            const char *fields[] = {sys, rtag, other, rtag, "SHARED", mine, theirs};
            lcdi_put_record(&l, stdout, fields, 7);
        }
    }
    json_decref(data);
    return fflush(stdout) == 0 ? 0 : lcdi_fail(&l, LCDI_SYSCALL, "cannot write the output");
}
