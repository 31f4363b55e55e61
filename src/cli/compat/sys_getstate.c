/* sys_getstate [-d DEST] [-s SYS]: prints the state of system SYS as the node asked sees
 * it: ALIVE, DEAD or UNKNOWN (a member never heard from), as LifeKeeper's scripts ask
 * (LK::sys_getstate compares it with $LK::ALIVE). From lkd's node list; it only reads. */
#include <stdio.h>
#include <string.h>

#include "lcdi.h"
#include "proto.h"

int main(int argc, char **argv)
{
    struct lcdi l;
    lcdi_init(&l, "sys_getstate", "usage: sys_getstate [-d DEST] [-s SYS] [--root DIR]",
              "\n"
              "Prints the state of system SYS as the node asked sees it: ALIVE, DEAD or UNKNOWN.\n"
              "\n"
              "  -d DEST       the node to ask; default: this node\n"
              "  -s SYS        the system; default: the node asked (ALIVE)\n"
              "  --root DIR    the node's root directory; default: $LKROOT, else the default\n"
              "  --version     the version\n"
              "  --help        this help\n"
              "\n"
              "Exit status (LCDI): 0 ok (whatever the state), 1 failed or lkd not reachable,\n"
              "2 syntax error, 7 no such system, 9 communication with DEST failed.\n");
    const char *sys = NULL;
    int c;
    while ((c = lcdi_getopt(&l, argc, argv, "d:s:", false)) != -1) {
        if (c != 's') {
            return l.exit;
        }
        sys = optarg;
    }
    if (optind < argc) {
        return lcdi_syntax(&l, "unexpected argument");
    }
    json_t *data = NULL;
    int r = lcdi_ask(&l, LK_CMD_NODE_LIST, NULL, &data);
    if (r != 0) {
        return r;
    }
    if (!sys) {
        sys = json_string_value(json_object_get(data, "node"));
    }
    const char *state = NULL;
    size_t i;
    json_t *n;
    json_array_foreach(json_object_get(data, "nodes"), i, n)
    {
        const char *name = json_string_value(json_object_get(n, "name"));
        if (sys && name && strcmp(name, sys) == 0) {
            const char *s = json_string_value(json_object_get(n, "state"));
            /* A member configured but never heard from is not known to be dead. */
            bool heard = json_is_true(json_object_get(n, "self")) ||
                         json_object_get(n, "protocol") == NULL ||
                         !json_is_null(json_object_get(n, "protocol"));
            state = s && (strcmp(s, "ALIVE") == 0 || (strcmp(s, "DEAD") == 0 && heard)) ? s
                                                                                        : "UNKNOWN";
        }
    }
    if (!state) {
        json_decref(data);
        return lcdi_fail(&l, LCDI_NOENT, "no system '%s' in the cluster", sys ? sys : "");
    }
    printf("%s\n", state);
    json_decref(data);
    return 0;
}
