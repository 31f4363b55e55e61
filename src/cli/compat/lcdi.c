/* The LCDI commands' call to lkd (lcdi.h): the client's SPEC §6 statuses mapped to LCDI's.
 * It prints only through the client's lk_fail (one line on stderr) and never exits. */
#include "lcdi.h"

#include "client.h"

int lcdi_call(const char *prog, const char *node, const char *cmd, json_t *args, json_t **ret_data)
{
    int r = lk_client_call_on(prog, lk_client_root(NULL), node, cmd, args, NULL, NULL, ret_data);
    switch (r) {
    case LK_EXIT_OK:
        return LCDI_OK;
    case LK_EXIT_USAGE:
        return LCDI_SYNTAX;
    case LK_EXIT_COMM:
        return LCDI_COMM;
    default:
        return LCDI_SYSCALL; /* failed, lkd unreachable, permission denied */
    }
}
