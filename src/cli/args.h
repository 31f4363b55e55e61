/* Long-option parsing for the commands: "--name value" or "--name=value", flags without
 * a value, positional arguments in order. Unknown options, missing values and repeated
 * options are usage errors. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct lk_opt {
    const char *name; /* without the dashes */
    bool has_value;
    const char *value; /* set when seen with a value */
    bool seen;
};

/* Parses argv[0..argc) into opts; positional arguments go into positional (at most
 * max_positional). Returns 0, or LK_EXIT_USAGE after printing "prog: …". */
int lk_args_parse(const char *prog, int argc, char **argv, struct lk_opt *opts, size_t n_opts,
                  const char **positional, size_t max_positional, size_t *ret_positional);

/* The option called name, which must be in opts. */
struct lk_opt *lk_args_get(struct lk_opt *opts, size_t n_opts, const char *name);
