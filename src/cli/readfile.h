/* Reading a small file a command was given (a parameter file, a helper, a LifeKeeper dump)
 * whole, without blocking on a FIFO. Shared by the commands; never writes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Reads the regular file path (at most max bytes) into a malloc'ed, NUL-terminated buffer
 * and its length into *ret_len. follow: a final symbolic link is followed (else refused);
 * empty_ok: an empty file is accepted (else refused). On failure prints
 * "prog: what 'path': why" on stderr and returns NULL. */
char *lk_read_small_file(const char *prog, const char *what, const char *path, size_t max,
                         bool follow, bool empty_ok, size_t *ret_len);
