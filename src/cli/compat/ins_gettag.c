/* ins_gettag [-d DEST] -i ID: prints the tag of the resource whose id is ID, as
 * LifeKeeper's ins_gettag does (scripts that know a device or a path find their resource
 * this way). Several resources may share an id: each tag on a line, in lkd's order. It
 * only reads. */
#include <stdio.h>
#include <string.h>

#include "lcdi.h"

int main(int argc, char **argv)
{
    struct lcdi l;
    lcdi_init(&l, "ins_gettag", "usage: ins_gettag [-d DEST] -i ID [--root DIR]",
              "\n"
              "Prints the tag of the resource with id ID (one line per resource with that id).\n"
              "\n"
              "  -d DEST       the node to ask; default: this node\n"
              "  -i ID         the id (required)\n"
              "  --root DIR    the node's root directory; default: $LKROOT, else the default\n"
              "  --version     the version\n"
              "  --help        this help\n"
              "\n"
              "Exit status (LCDI): 0 ok, 1 failed or lkd not reachable, 2 syntax error, 7 no\n"
              "resource has that id, 9 communication with DEST failed.\n");
    const char *id = NULL;
    int c;
    while ((c = lcdi_getopt(&l, argc, argv, "d:i:", false)) != -1) {
        if (c != 'i') {
            return l.exit;
        }
        id = optarg;
    }
    if (optind < argc) {
        return lcdi_syntax(&l, "unexpected argument");
    }
    if (!id) {
        return lcdi_syntax(&l, "missing -i ID");
    }
    json_t *data = NULL;
    int r = lcdi_resources(&l, &data);
    if (r != 0) {
        return r;
    }
    size_t i, found = 0;
    json_t *res;
    json_array_foreach(json_object_get(data, "resources"), i, res)
    {
        const char *rid = json_string_value(json_object_get(res, "id"));
        const char *tag = json_string_value(json_object_get(res, "tag"));
        if (rid && tag && strcmp(rid, id) == 0) {
            printf("%s\n", tag);
            found++;
        }
    }
    json_decref(data);
    if (!found) {
        return lcdi_fail(&l, LCDI_NOENT, "no resource with id '%s'", id);
    }
    return 0;
}
