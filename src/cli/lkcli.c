/* lkcli: the administrator's command. Takes the global options (--root, --json) from
 * anywhere on the line and hands the rest to the subcommand's file. Prints results on
 * stdout, errors as one line on stderr (with --json: one JSON object there); exit
 * statuses as SPEC §6 says. --help before a command: every command (help.c); after one:
 * that command's help, printed by its option parser. */
#include "lkcli.h"

#include <stdio.h>
#include <string.h>

#include "client.h"
#include "help.h"

int main(int argc, char **argv)
{
    struct lk_cli cli = {.prog = "lkcli"};
    const char *root_arg = NULL;
    char *rest[256];
    int n = 0;
    cli.json = lk_json_prescan(argc, argv);
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
        } else if (n == 0 && (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)) {
            lk_help_print_usage(stdout);
            return 0;
        } else if (n == 0 && strcmp(argv[i], "--version") == 0) {
            lk_print_version(cli.prog);
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
        if (cli.json) {
            return lk_fail(cli.prog, 2, "missing command (see lkcli --help)");
        }
        lk_help_print_usage(stderr);
        return 2;
    }
    /* `lkcli resource --help`: the group's commands; `lkcli resource create --help`: the
     * parser of that command prints its help. */
    if (lk_help_set_command(n, rest) > 0) {
        for (int i = 0; i < n && strcmp(rest[i], "--") != 0; i++) {
            if (strcmp(rest[i], "--help") == 0) {
                lk_help_print_group(stdout);
                return 0;
            }
        }
    }
    if (strcmp(rest[0], "status") == 0) {
        return lk_cmd_status(&cli, n - 1, rest + 1);
    }
    if (strcmp(rest[0], "metrics") == 0) {
        return lk_cmd_metrics(&cli, n - 1, rest + 1);
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
    if (strcmp(rest[0], "import") == 0) {
        return lk_cmd_import(&cli, n - 1, rest + 1);
    }
    if (strcmp(rest[0], "lifekeeper-setup") == 0) {
        return lk_cmd_lifekeeper_setup(&cli, n - 1, rest + 1);
    }
    if (strcmp(rest[0], "web") == 0) {
        return lk_cmd_web(&cli, n - 1, rest + 1);
    }
    return lk_fail(cli.prog, 2, "unknown command '%s' (see lkcli --help)", rest[0]);
}
