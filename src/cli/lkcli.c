/* lkcli: the administrator's command. Takes the global options (--root, --json) from
 * anywhere on the line and hands the rest to the subcommand's file. Prints results on
 * stdout, errors as one line on stderr; exit statuses as SPEC §6 says. */
#include "lkcli.h"

#include <stdio.h>
#include <string.h>

#include "client.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: lkcli [--root DIR] [--json] COMMAND ...\n"
            "\n"
            "  status                                 nodes, resources, recent events\n"
            "  resource create gen --tag T --restore F --remove F [--quickchk F]\n"
            "           [--deepchk F] [--recover F] [--id ID] [--app-info S]\n"
            "           [--no-in-service] [SETTINGS]\n"
            "  resource restore --tag T [--node N]    bring in service (on N: a switchover)\n"
            "  resource extend --tag T --node N [--priority P]   define its hierarchy on N\n"
            "  resource unextend --tag T --node N     drop that definition\n"
            "  resource remove --tag T [--hierarchy]  take out of service (with its whole tree)\n"
            "  resource delete --tag T [--hierarchy]  delete the definition (or the tree)\n"
            "  resource update-script --tag T --action A --file F\n"
            "  resource config --tag T [SETTINGS]     change settings\n"
            "  resource test --tag T --action A       run one script once, change nothing\n"
            "  resource why --tag T                   the last incident on every node, cause "
            "first\n"
            "  resource reset --tag T                 clear failure and recovery counters\n"
            "  resource list [--tag T]                the definitions and states\n"
            "  dependency create|delete --parent P --child C   P depends on C\n"
            "  dependency list                        every dependency\n"
            "  log [-n N] [--follow] [--tag T] [--cluster]   the event log (of every node)\n"
            "  node list                              members, their state, quorum\n"
            "  commpath list                          comm paths with state and counters\n"
            "  commpath create|delete --node N --address ADDR:PORT\n"
            "  cluster config [--heartbeat-interval-ms N] [--heartbeat-misses N]\n"
            "           [--quorum majority|none] [--quorum-loss-action osu|none]\n"
            "           [--witness ADDR:PORT] [--fence-script FILE] [--max-failovers N]\n"
            "           [--failover-window S] [--min-protocol 1|2]   show or change, on every "
            "node\n"
            "  cluster rotate-key [--key-file FILE]   a new cluster key on every node, no "
            "downtime\n"
            "  web token create --role admin|operator|guest [--name N]   a web console token\n"
            "  web token list | web token revoke --id ID\n"
            "\n"
            "SETTINGS: --quickchk-interval S --deepchk-interval S --quickchk-timeout S\n"
            "  --deepchk-timeout S --check-failures N --local-recovery on|off\n"
            "  --max-recoveries N --recovery-window S --switchback intelligent|automatic\n"
            "  --monitor-timeout-action ignore|fail --action-timeout S --start-grace S\n"
            "  --pidfile PATH --monitor on|off --init AUTORES_ISP|INIT_ISP|INIT_OSU\n"
            "  --watch cgroup|pidfile|none --kill-mode control-group|process|none\n"
            "\n"
            "Exit status: 0 ok, 1 failed, 2 usage, 3 lkd not reachable, 4 permission denied.\n");
}

int main(int argc, char **argv)
{
    struct lk_cli cli = {.prog = "lkcli"};
    const char *root_arg = NULL;
    char *rest[256];
    int n = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            cli.json = true;
        } else if (strcmp(argv[i], "--root") == 0) {
            if (i + 1 >= argc) {
                return lk_fail(cli.prog, 2, "option '--root' needs a value");
            }
            root_arg = argv[++i];
        } else if (strncmp(argv[i], "--root=", 7) == 0) {
            root_arg = argv[i] + 7;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            if (n >= (int) (sizeof(rest) / sizeof(rest[0]))) {
                return lk_fail(cli.prog, 2, "too many arguments");
            }
            rest[n++] = argv[i];
        }
    }
    cli.root = lk_client_root(root_arg);
    if (n == 0) {
        usage(stderr);
        return 2;
    }
    if (strcmp(rest[0], "status") == 0) {
        return lk_cmd_status(&cli, n - 1, rest + 1);
    }
    if (strcmp(rest[0], "resource") == 0) {
        return lk_cmd_resource(&cli, n - 1, rest + 1);
    }
    if (strcmp(rest[0], "log") == 0) {
        return lk_cmd_log(&cli, n - 1, rest + 1);
    }
    if (strcmp(rest[0], "dependency") == 0) {
        return lk_cmd_dependency(&cli, n - 1, rest + 1);
    }
    if (strcmp(rest[0], "node") == 0 || strcmp(rest[0], "commpath") == 0 ||
        strcmp(rest[0], "cluster") == 0) {
        return lk_cmd_cluster(&cli, rest[0], n - 1, rest + 1);
    }
    if (strcmp(rest[0], "web") == 0) {
        return lk_cmd_web(&cli, n - 1, rest + 1);
    }
    return lk_fail(cli.prog, 2, "unknown command '%s' (see lkcli --help)", rest[0]);
}
