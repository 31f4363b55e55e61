/* Long-option parsing for the commands: "--name value" or "--name=value", flags without
 * a value, positional arguments in order. Unknown options, missing values and repeated
 * options (unless declared repeatable) are usage errors. The same table documents the options:
 * `--help` anywhere before "--" prints the command's help from it (help.c) and exits 0. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct lk_opt {
    const char *name; /* without the dashes */
    bool has_value;
    const char *value; /* set when seen with a value */
    bool seen;
    /* For --help (help.c): the value's placeholder ("N", "S", "FILE"; NULL for a flag),
     * one line saying what it does, the unit of its value ("seconds"), and its default
     * as text (NULL: none, or see help; a flag's default is "off"). */
    const char *arg;
    const char *help;
    const char *unit;
    const char *dflt;
    bool required;
    /* A repeatable option (--param K=V --param L=W): values, the caller's array of
     * max_values, receives every value in order, count how many; value is the last. Without
     * values an option given twice is a usage error. */
    const char **values;
    size_t max_values;
    size_t count;
};

/* Parses argv[0..argc) into opts; positional arguments go into positional (at most
 * max_positional). Returns 0, or LK_EXIT_USAGE after printing "prog: …". With --help
 * among the arguments it prints the help of the current command (lk_help_set_command)
 * with opts and exits 0. */
int lk_args_parse(const char *prog, int argc, char **argv, struct lk_opt *opts, size_t n_opts,
                  const char **positional, size_t max_positional, size_t *ret_positional);

/* For a command that takes no arguments: 0 when there are none; --help prints its help
 * and exits 0; anything else is "prog: what: unexpected argument 'x'" (LK_EXIT_USAGE). */
int lk_args_none(const char *prog, const char *what, int argc, char **argv);

/* The option called name, which must be in opts. */
struct lk_opt *lk_args_get(struct lk_opt *opts, size_t n_opts, const char *name);
