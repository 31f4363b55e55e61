/* The tunables' file, $LKROOT/etc/default/LifeKeeper (LifeKeeper's /etc/default/LifeKeeper,
 * which `lkcli lifekeeper-setup` links there): read at start and after a hand edit, written
 * atomically (temporary file, fsync, rename, fsync of the directory) mode 0644, its
 * directory 0755, whenever the "tunables" cluster setting changes. The text's format and
 * checks are src/lib/tunables.h; this file only moves it to and from the disk. */
#pragma once

#include <stddef.h>

#define LK_TUNFILE_NAME "etc/default/LifeKeeper"
/* lkd's own copy of the tunables in force, written with the file: at start, a file that
 * differs from it was edited while lkd was stopped, and a bad file leaves these in force. */
#define LK_TUNFILE_KEPT "var/tunables"

/* The path of name (LK_TUNFILE_NAME or LK_TUNFILE_KEPT) under root. Returns buf. */
char *lk_tunfile_path(const char *root, const char *name, char *buf, size_t size);

/* Reads the file name (LK_TUNFILE_NAME or LK_TUNFILE_KEPT) whole: owned by root (or lkd's user),
 * not writable by group or others, a regular file (a link is followed), at most
 * LK_TUNABLES_TEXT_MAX bytes. Returns 0 with a malloc'ed NUL-terminated text in *ret_text (*ret_len
 * bytes), -ENOENT when there is no file, or -errno with a one-line message naming the file in err.
 * The text is not checked. */
int lk_tunfile_read(const char *root, const char *name, char **ret_text, size_t *ret_len, char *err,
                    size_t err_size);

/* Writes text as the file name, atomically, mode 0644 (the directory made 0755 when
 * missing). Returns 0 or -errno with a one-line message naming the file in err. */
int lk_tunfile_write(const char *root, const char *name, const char *text, char *err,
                     size_t err_size);
