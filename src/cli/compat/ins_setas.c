/* ins_setas [-d DEST] -t TAG -s INTELLIGENT|AUTOMATIC: sets a resource's switchback
 * strategy, as LifeKeeper's ins_setas does, through resource.config's --switchback (one
 * definition, replicated). It never moves the resource. */
#include <stdio.h>
#include <strings.h>

#include "lcdi.h"
#include "proto.h"

int main(int argc, char **argv)
{
    struct lcdi l;
    lcdi_init(&l, "ins_setas",
              "usage: ins_setas [-d DEST] -t TAG -s {INTELLIGENT|AUTOMATIC} [--root DIR]",
              "\n"
              "Sets the switchback strategy of resource TAG: INTELLIGENT (it stays where it is\n"
              "when a node of higher priority comes back) or AUTOMATIC (it moves back).\n"
              "\n"
              "  -d DEST       the node to send the change to; default: this node\n"
              "  -t TAG        the resource (required)\n"
              "  -s STRATEGY   INTELLIGENT or AUTOMATIC, in any case (required)\n"
              "  --root DIR    the node's root directory; default: $LKROOT, else the default\n"
              "  --version     the version\n"
              "  --help        this help\n"
              "\n"
              "Exit status (LCDI): 0 ok, 1 failed or lkd not reachable, 2 syntax error, 5 illegal\n"
              "strategy, 7 no such resource, 9 communication with DEST failed.\n");
    const char *tag = NULL, *strategy = NULL;
    int c;
    while ((c = lcdi_getopt(&l, argc, argv, "d:t:s:", false)) != -1) {
        switch (c) {
        case 't':
            tag = optarg;
            break;
        case 's':
            strategy = optarg;
            break;
        default:
            return l.exit;
        }
    }
    if (optind < argc) {
        return lcdi_syntax(&l, "unexpected argument");
    }
    if (!tag || !strategy) {
        return lcdi_syntax(&l, tag ? "missing -s STRATEGY" : "missing -t TAG");
    }
    const char *value = strcasecmp(strategy, "INTELLIGENT") == 0 ? "intelligent"
                        : strcasecmp(strategy, "AUTOMATIC") == 0 ? "automatic"
                                                                 : NULL;
    if (!value) {
        return lcdi_fail(&l, LCDI_ILLEGAL, "-s '%s': expected INTELLIGENT or AUTOMATIC", strategy);
    }
    json_t *args = json_pack("{s:s, s:{s:s}}", "tag", tag, "settings", "switchback", value);
    json_t *data = NULL;
    int r = lcdi_ask(&l, LK_CMD_RES_CONFIG, args, &data);
    json_decref(data);
    return r;
}
