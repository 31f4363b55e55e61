/* ins_setstate [-d destsys] -t tag -S {ISP|ISU|OSU} [-R reason] [-A]: LifeKeeper's command
 * that sets a resource's state by hand, without running a script (lkd's resource.setstate,
 * docs/LIFEKEEPER.md "Setting a state by hand"). Prints nothing on success.
 *
 * It owns the command line and the mapping of lkd's answer to LifeKeeper's LCDI exit
 * statuses: 0 ok, 1 a system call failed (lkd not reachable), 2 syntax error, 5 illegal
 * argument (a state that cannot be set now: the answer names why), 7 no such resource,
 * 9 communication with destsys failed; the request and the mapping are lcdi.c's, with lkd's
 * refusals as 5. It must never decide anything about the state itself: lkd's engine and
 * placement do, and refuse with one line. */
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "lcdi.h"
#include "proto.h"
#include "validate.h"

#define PROG  "ins_setstate"
#define USAGE "usage: ins_setstate [-d destsys] -t tag -S {ISP|ISU|OSU} [-R reason] [-A]"

int main(int argc, char **argv)
{
    struct lcdi l;
    lcdi_init(&l, PROG, USAGE,
              "\n"
              "Sets the state of resource TAG on this node by hand: no restore or remove\n"
              "script runs. ISP: in service, monitored; ISU: in service, monitoring\n"
              "suspended; OSU: out of service, the application left as it is, unmonitored.\n"
              "OSF cannot be set: only a failed action sets it.\n"
              "\n"
              "  -d destsys    the node whose state is set (default: this node)\n"
              "  -t tag        the resource (required)\n"
              "  -S state      ISP, ISU or OSU (required)\n"
              "  -R reason     the reason shown with the state (ins_list field 8)\n"
              "  -A            accepted for LifeKeeper's scripts; no effect\n"
              "  --root DIR    the node's root directory\n"
              "                default: $LKROOT, else " LK_DEFAULT_ROOT "\n"
              "  --version     the version\n"
              "  --help        this help\n"
              "\n"
              "Exit status: 0 ok, 1 lkd not reachable, 2 syntax error, 5 the state cannot\n"
              "be set (the reason is printed), 7 no such resource, 9 destsys not reached.\n");
    /* lkd refusing the state (engine, placement) is LifeKeeper's "illegal argument". */
    l.refusal_is_illegal = true;
    const char *tag = NULL, *state = NULL, *reason = NULL;
    int c;
    while ((c = lcdi_getopt(&l, argc, argv, "d:t:S:R:A", false)) != -1) {
        switch (c) {
        case LCDI_OPT_EXIT:
            return l.exit;
        case 't':
            tag = optarg;
            break;
        case 'S':
            state = optarg;
            break;
        case 'R':
            reason = optarg;
            break;
        case 'A':
            break; /* accepted as LifeKeeper's synopsis has it; no effect (documented) */
        default:
            return lcdi_fail(&l, LCDI_SYNTAX, "unknown option; %s", USAGE);
        }
    }
    if (optind < argc) {
        return lcdi_fail(&l, LCDI_SYNTAX, "unexpected argument '%s'; %s", argv[optind], USAGE);
    }
    if (!tag || !state) {
        return lcdi_fail(&l, LCDI_SYNTAX, "missing -%c; %s", tag ? 'S' : 't', USAGE);
    }
    char err[256];
    if (lk_validate_tag(tag, "tag", err, sizeof(err)) < 0) {
        return lcdi_fail(&l, LCDI_ILLEGAL, "%s", err);
    }
    if (strcmp(state, "OSF") == 0) {
        return lcdi_fail(&l, LCDI_ILLEGAL,
                         "OSF cannot be set by hand: only a failed action sets it");
    }
    if (strcmp(state, "ISP") != 0 && strcmp(state, "ISU") != 0 && strcmp(state, "OSU") != 0) {
        return lcdi_fail(&l, LCDI_SYNTAX, "invalid -S '%.32s': ISP, ISU or OSU; %s", state, USAGE);
    }
    if (reason && lk_validate_hand_reason(reason, err, sizeof(err)) < 0) {
        return lcdi_fail(&l, LCDI_ILLEGAL, "%s", err);
    }
    if (l.dest && l.dest[0] && lk_validate_tag(l.dest, "destsys", err, sizeof(err)) < 0) {
        return lcdi_fail(&l, LCDI_ILLEGAL, "%s", err);
    }
    json_t *args = json_pack("{s:s, s:s}", "tag", tag, "state", state);
    if (args && reason && json_object_set_new(args, "reason", json_string(reason)) < 0) {
        /* Not UTF-8 (a script in a Latin-1 locale): never the state without its reason. */
        json_decref(args);
        return lcdi_fail(&l, LCDI_ILLEGAL, "the reason is not valid UTF-8");
    }
    if (!args) {
        return lcdi_fail(&l, LCDI_SYSCALL, "out of memory");
    }
    /* Progress lines are not printed by an LCDI command; the reply's data is not used. */
    json_t *data = NULL;
    int r = lcdi_ask(&l, LK_CMD_RES_SETSTATE, args, &data);
    json_decref(data);
    return r;
}
