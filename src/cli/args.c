/* Long options for lkcli's subcommands (see args.h): parsing, and --help through help.c
 * from the same table, so that the help names exactly the options a command accepts. */
#include "args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "help.h"

/* Whether --help is among the options (before "--"). */
static bool wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            return false;
        }
        if (strcmp(argv[i], "--help") == 0) {
            return true;
        }
    }
    return false;
}

int lk_args_none(const char *prog, const char *what, int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        lk_help_print_command(stdout, NULL, 0);
        exit(0);
    }
    if (argc > 0) {
        return lk_fail(prog, LK_EXIT_USAGE, "%s: unexpected argument '%s'", what, argv[0]);
    }
    return 0;
}

struct lk_opt *lk_args_get(struct lk_opt *opts, size_t n_opts, const char *name)
{
    for (size_t i = 0; i < n_opts; i++) {
        if (strcmp(opts[i].name, name) == 0) {
            return &opts[i];
        }
    }
    return NULL;
}

int lk_args_parse(const char *prog, int argc, char **argv, struct lk_opt *opts, size_t n_opts,
                  const char **positional, size_t max_positional, size_t *ret_positional)
{
    if (wants_help(argc, argv) && !lk_args_get(opts, n_opts, "help")) {
        lk_help_print_command(stdout, opts, n_opts);
        exit(0);
    }
    size_t npos = 0;
    bool only_positional = false;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (only_positional || strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            if (!only_positional && strcmp(arg, "--") == 0) {
                only_positional = true;
                continue;
            }
            if (arg[0] == '-' && arg[1] != '\0' && !only_positional) {
                return lk_fail(prog, LK_EXIT_USAGE, "unknown option '%s'", arg);
            }
            if (npos >= max_positional) {
                return lk_fail(prog, LK_EXIT_USAGE, "unexpected argument '%s'", arg);
            }
            positional[npos++] = arg;
            continue;
        }
        char name[64];
        const char *eq = strchr(arg + 2, '=');
        size_t len = eq ? (size_t) (eq - (arg + 2)) : strlen(arg + 2);
        if (len >= sizeof(name)) {
            return lk_fail(prog, LK_EXIT_USAGE, "unknown option '%s'", arg);
        }
        memcpy(name, arg + 2, len);
        name[len] = '\0';
        struct lk_opt *opt = lk_args_get(opts, n_opts, name);
        if (!opt) {
            return lk_fail(prog, LK_EXIT_USAGE, "unknown option '--%s'", name);
        }
        if (opt->seen && !opt->values) {
            return lk_fail(prog, LK_EXIT_USAGE, "option '--%s' given twice", name);
        }
        opt->seen = true;
        if (!opt->has_value) {
            if (eq) {
                return lk_fail(prog, LK_EXIT_USAGE, "option '--%s' takes no value", name);
            }
            continue;
        }
        if (eq) {
            opt->value = eq + 1;
        } else if (i + 1 < argc) {
            opt->value = argv[++i];
        } else {
            return lk_fail(prog, LK_EXIT_USAGE, "option '--%s' needs a value", name);
        }
        if (opt->values) {
            if (opt->count >= opt->max_values) {
                return lk_fail(prog, LK_EXIT_USAGE, "option '--%s' given more than %zu times", name,
                               opt->max_values);
            }
            opt->values[opt->count++] = opt->value;
        }
    }
    if (ret_positional) {
        *ret_positional = npos;
    }
    return 0;
}
