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
/* metrics: the Prometheus text of this node (cmd_metrics.c). */
int lk_cmd_metrics(const struct lk_cli *cli, int argc, char **argv);
/* node list, commpath …, cluster config (noun: "node", "commpath" or "cluster"). */
int lk_cmd_cluster(const struct lk_cli *cli, const char *noun, int argc, char **argv);
/* web token create|list|revoke (cmd_web.c). */
int lk_cmd_web(const struct lk_cli *cli, int argc, char **argv);
/* resource describe-agent (cmd_agent.c). */
int lk_cmd_describe_agent(const struct lk_cli *cli, int argc, char **argv);
/* import lifekeeper FILE (cmd_import.c). */
int lk_cmd_import(const struct lk_cli *cli, int argc, char **argv);
/* lifekeeper-setup: LifeKeeper's paths linked to this node's root (cmd_setup.c). */
int lk_cmd_lifekeeper_setup(const struct lk_cli *cli, int argc, char **argv);
/* resource extend|unextend. */
int lk_cmd_extend(const struct lk_cli *cli, bool extend, int argc, char **argv);

#include <jansson.h>
/* The node list (quorum, warnings, members) and the comm paths, as status shows them. */
void lk_print_nodes(const json_t *data);
void lk_print_commpaths(const char *self, const json_t *peers);
