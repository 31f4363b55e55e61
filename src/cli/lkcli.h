/* lkcli's subcommands: one file each (cmd_<noun>.c), all sharing this context. */
#pragma once

#include <stdbool.h>

struct lk_cli {
    const char *prog; /* "lkcli" */
    const char *root;
    bool json;
};

int lk_cmd_status(const struct lk_cli *cli, int argc, char **argv);
int lk_cmd_resource(const struct lk_cli *cli, int argc, char **argv);
int lk_cmd_dependency(const struct lk_cli *cli, int argc, char **argv);
int lk_cmd_log(const struct lk_cli *cli, int argc, char **argv);
