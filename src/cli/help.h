/* The commands' help and version (see help.c for how a command plugs in). */
#pragma once

#include <stddef.h>
#include <stdio.h>

#include "args.h"

/* One lkcli command: its words, what follows them in a synopsis, and one line about it. */
struct lk_help_cmd {
    const char *path;     /* "resource create" */
    const char *synopsis; /* "gen --tag T --restore F --remove F [OPTIONS]" */
    const char *summary;
};

/* Every lkcli command, in `lkcli --help`'s order; ends with a NULL path. */
extern const struct lk_help_cmd lk_help_commands[];

/* Makes the command named by the leading words of argv (up to the first option) the one
 * whose help --help prints: the longest entry of lk_help_commands that they start with,
 * else the words themselves. Returns how many words name a group of commands and no
 * command ("resource", "cluster"), else 0. */
size_t lk_help_set_command(int argc, char **argv);

/* The current command's help: usage, summary, every option of opts (name, value, what,
 * unit, default) and the global options. */
void lk_help_print_command(FILE *out, const struct lk_opt *opts, size_t n_opts);

/* The commands of the group lk_help_set_command found ("resource"), one line each. */
void lk_help_print_group(FILE *out);

/* `lkcli --help`: every command, from lk_help_commands. */
void lk_help_print_usage(FILE *out);

/* The option --key of a resource setting (`resource create`, `resource config`) or a
 * cluster setting (`cluster config`), with its help: value, unit and the default the
 * code applies (lk_settings_init, lk_cluster_settings_init), never a copy of it. */
struct lk_opt lk_help_setting_opt(const char *key);
struct lk_opt lk_help_cluster_opt(const char *key);

/* What a setting's value means when the text alone would mislead ("0" check timeout,
 * empty pidfile, empty quorum): " (the quickchk-interval)", " (none)", ""; key is a
 * resource or cluster setting. */
const char *lk_help_value_note(const char *key, const char *value);

/* "prog (OpenKeeper) VERSION" on stdout. */
void lk_print_version(const char *prog);
