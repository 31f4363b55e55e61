/* lkd's installation of LifeKeeper's files into $LKROOT at start (lkinstall.c): the
 * commands into $LKROOT/bin, the Perl API into $LKROOT/lib/perl and
 * $LKROOT/etc/default, and the directories gen/app scripts expect. */
#pragma once

#include <stddef.h>

/* Where lkd looks for what it installs: exe_dir (lkd's own directory: the build tree or
 * one directory), then exe_dir/src/cli/compat (the build tree), exe_dir/../bin and
 * exe_dir/../libexec/openkeeper for commands, and
 * exe_dir/perl then exe_dir/../share/openkeeper/perl for the Perl files. Each file found is
 * copied atomically (0755 commands, 0644 Perl files); the missing ones are named in
 * missing (comma-separated, cut to missing_size), the ones that could not be written in
 * failed. Returns the number of files installed. Never fails as a whole: a node without
 * LifeKeeper's commands still runs its own resources. */
int lk_lkinstall_run(const char *root, const char *exe_dir, char *missing, size_t missing_size,
                     char *failed, size_t failed_size);
