/* Writing a file atomically (atomicfile.c): the caller creates the temporary file next to
 * the final one (its own flags, mode and messages), then lk_atomicfile_commit() fills it,
 * sets its mode, fsyncs, closes and renames it over the final path, so that a crash leaves
 * the old file or the new, never half; lk_atomicfile_sync_dir() makes the rename durable. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Writes len bytes of data to fd (open on tmp, in path's directory), sets its mode to mode
 * whatever the umask, fsyncs and closes it (always), then renames tmp to path. Returns 0,
 * or -errno with tmp removed and *ret_step naming what failed: "write" (the fchmod
 * included), "fsync", "close" or "rename". */
int lk_atomicfile_commit(int fd, const char *tmp, const char *path, mode_t mode, const void *data,
                         size_t len, const char **ret_step);

/* fsync of the directory that holds path: without it the rename may be lost in a crash,
 * bringing the old file back. Returns 0 or -errno. */
int lk_atomicfile_sync_dir(const char *path);

/* The whole write of dir/name with mode, through the temporary dir/.name.new (opened
 * O_NOFOLLOW and O_NONBLOCK: a link or FIFO left there fails the open instead of being
 * written through or hanging it): lk_atomicfile_commit, then lk_atomicfile_sync_dir.
 * Returns 0, or -errno with *ret_step naming what failed ("open", or commit's steps). */
int lk_atomicfile_write(const char *dir, const char *name, mode_t mode, const void *data,
                        size_t len, const char **ret_step);
