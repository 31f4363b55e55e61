/* Opening files a user can influence (safeopen.c): pidfiles, lk.conf, the cluster key, script
 * files, the fence hook. Each open is non-blocking (a FIFO or a device in the path's place
 * cannot hang the caller), does not follow a final symbolic link unless the rules allow it,
 * and is checked after fstat(): a regular file, of bounded size, owned and moded as the
 * rules say. Errors are one line that names the path and what is wrong with it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/* What a file must be. */
struct lk_safeopen_rules {
    size_t max_size;    /* a larger file is refused; 0 = no bound (read only what is asked) */
    bool follow;        /* the last component may be a symbolic link */
    bool trusted_owner; /* owned by root or by this process's euid, not writable by group or
                         * others: configuration, keys, scripts; not pidfiles, which the
                         * applications write */
};

/* Rules for the common kinds of file. */
/* Any owner, never a link; no size bound (only its start is read). */
extern const struct lk_safeopen_rules lk_safeopen_pidfile;
/* Trusted, at most 1 MiB; a link is followed (etc/ is root's) and its target checked. */
extern const struct lk_safeopen_rules lk_safeopen_config;
/* Trusted, at most 4 KiB; a link is followed as for the configuration. */
extern const struct lk_safeopen_rules lk_safeopen_key;

/* Opens path for reading as rules say (O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, plus
 * O_NOFOLLOW unless rules->follow) and checks it with fstat(). Returns the fd (the caller
 * closes it; reads from a regular file are not affected by O_NONBLOCK) and fills *ret_st if
 * given, or -errno with "'path' is a FIFO, not a regular file" (or the like) in err: the
 * open's own error, -EISDIR (a directory), -ELOOP (a symbolic link), -EINVAL (a FIFO, a
 * device, a socket), -EPERM (owner or mode), -EFBIG (size) or -EAGAIN (replaced between the
 * lstat() and the open). */
int lk_safeopen(const char *path, const struct lk_safeopen_rules *rules, struct stat *ret_st,
                char *err, size_t err_size);

/* Opens path as lk_safeopen does and reads it whole into a NUL-terminated malloc'ed buffer
 * (*ret_data, freed by the caller; *ret_len without the NUL). With rules->max_size 0 at most
 * limit bytes are read (a longer file is cut, not refused). Returns 0 or -errno with a
 * one-line message in err; nothing is returned on failure. */
int lk_safeopen_read(const char *path, const struct lk_safeopen_rules *rules, size_t limit,
                     char **ret_data, size_t *ret_len, struct stat *ret_st, char *err,
                     size_t err_size);

/* The check every script lkd runs passes (keepalived's enable_script_security): path, and
 * every directory from root down to path's own, are owned by root or by this process's euid
 * and not writable by group or others; path is a regular file and no component below root
 * is a symbolic link (root itself is followed: it is configuration). A directory writable by
 * others but sticky and owned by root or us (/tmp) is accepted: no one else can rename or
 * remove what it holds, and the next component's owner is checked anyway.
 * kind names the file in messages ("script", "fence script").
 * Returns 0 when safe, 1 when not (msg says why, naming the file), -errno when a component
 * cannot be examined (-ENOENT: it does not exist; msg then says so too). */
int lk_safeopen_check_tree(const char *root, const char *path, const char *kind, char *msg,
                           size_t size);

/* The fence hook's check on this node, at `cluster config` and before each run: path passes
 * lk_safeopen_check_tree from "/", has its owner's execute bit, and starts with "#!" or is an
 * ELF binary. Returns 0, or -errno with a one-line message naming the file in err. */
int lk_safeopen_check_hook(const char *path, char *err, size_t err_size);
