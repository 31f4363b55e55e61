/* ins_setinfo [-d DEST] -t TAG [-v INFO]: replaces a resource's info field (ins_list's
 * 6th), as LifeKeeper's ins_setinfo does; gen/app scripts keep their own data there. The
 * change is resource.config's --app-info: one definition, replicated to every node it is
 * extended to. It never touches the resource's state or scripts. */
#include <stdio.h>

#include "lcdi.h"
#include "proto.h"

int main(int argc, char **argv)
{
    struct lcdi l;
    lcdi_init(&l, "ins_setinfo", "usage: ins_setinfo [-d DEST] -t TAG [-v INFO] [--root DIR]",
              "\n"
              "Replaces the info field of resource TAG (ins_list's 6th field) with INFO; without\n"
              "-v the field becomes empty. The definition is the cluster's: every node the\n"
              "resource is extended to sees the new info.\n"
              "\n"
              "  -d DEST       the node to send the change to; default: this node\n"
              "  -t TAG        the resource (required)\n"
              "  -v INFO       the new info: printable text, no newline; default: empty\n"
              "  --root DIR    the node's root directory; default: $LKROOT, else the default\n"
              "  --version     the version\n"
              "  --help        this help\n"
              "\n"
              "Exit status (LCDI): 0 ok, 1 failed or lkd not reachable, 2 syntax error, 5 illegal\n"
              "info, 7 no such resource, 9 communication with DEST failed.\n");
    const char *tag = NULL, *info = "";
    int c;
    while ((c = lcdi_getopt(&l, argc, argv, "d:t:v:", false)) != -1) {
        switch (c) {
        case 't':
            tag = optarg;
            break;
        case 'v':
            info = optarg;
            break;
        default:
            return l.exit;
        }
    }
    if (optind < argc) {
        return lcdi_syntax(&l, "unexpected argument");
    }
    if (!tag) {
        return lcdi_syntax(&l, "missing -t TAG");
    }
    json_t *args = json_pack("{s:s, s:s, s:{}}", "tag", tag, "info", info, "settings");
    if (!args) {
        return lcdi_fail(&l, LCDI_ILLEGAL, "-v: not valid UTF-8 text");
    }
    json_t *data = NULL;
    int r = lcdi_ask(&l, LK_CMD_RES_CONFIG, args, &data);
    json_decref(data);
    return r;
}
