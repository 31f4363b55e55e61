/* LifeKeeper's names that OpenKeeper provides (lifekeeper.c): the commands installed into
 * $LKROOT/bin, the Perl files and where they go, and the directories LifeKeeper's gen/app
 * scripts expect under $LKROOT. Pure tables; no I/O. */
#pragma once

#include <stddef.h>

/* LifeKeeper's commands (and lk_err), NULL-terminated: lkd installs each one it finds into
 * $LKROOT/bin at start; `lkcli lifekeeper-setup` links /opt/LifeKeeper/bin/<name> to it. */
extern const char *const lk_lifekeeper_commands[];

/* A file of the Perl API: its name as built and installed (datadir/openkeeper/perl/NAME)
 * and where lkd puts it under $LKROOT. */
struct lk_lifekeeper_file {
    const char *name;
    const char *dest; /* relative to $LKROOT */
};

/* The Perl files (LK.pm, LifeKeeper.pl), ended by {NULL, NULL}. */
extern const struct lk_lifekeeper_file lk_lifekeeper_perl_files[];

/* The directories lkd makes under $LKROOT (mode 0755, parents first), NULL-terminated. */
extern const char *const lk_lifekeeper_dirs[];

/* The Perl library path a gen/app script gets as PERL5LIB, for root: "$root/lib/perl:
 * $root/lkadm/subsys/gen/app/lib". Returns buf (cut to size). */
char *lk_lifekeeper_perl5lib(const char *root, char *buf, size_t size);
