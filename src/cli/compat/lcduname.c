/* lcduname: prints this node's name, as LifeKeeper's lcduname prints the name LifeKeeper
 * knows the system by (its scripts call it through LK::lcduname). It asks lkd, which knows
 * the name it was started with; it never guesses from uname(2), which may differ. */
#include <stdio.h>

#include "lcdi.h"

int main(int argc, char **argv)
{
    struct lcdi l;
    lcdi_init(&l, "lcduname", "usage: lcduname [-d DEST] [--root DIR]",
              "\n"
              "Prints this node's name (the name lkd was started with).\n"
              "\n"
              "  -d DEST       a node of the cluster: its name is printed once it is known to be\n"
              "                alive (9 if not); default: this node\n"
              "  --root DIR    the node's root directory; default: $LKROOT, else the default\n"
              "  --version     the version\n"
              "  --help        this help\n"
              "\n"
              "Exit status: 0 ok, 1 lkd not reachable or failed, 2 syntax error.\n");
    int c = lcdi_getopt(&l, argc, argv, "d:", false);
    if (c == LCDI_OPT_EXIT) {
        return l.exit;
    }
    if (c != -1 || optind < argc) {
        return lcdi_syntax(&l, "unexpected argument");
    }
    const char *name = NULL;
    int r = lcdi_node_name(&l, &name);
    if (r != 0) {
        return r;
    }
    printf("%s\n", name);
    return 0;
}
