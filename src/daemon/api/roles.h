/* Who may do what on the local socket (SPEC §10): the caller's credentials come from
 * SO_PEERCRED; root and members of lkadmin may change anything, lkoper may bring
 * resources in and out of service, lkguest may only read. */
#pragma once

#include <sys/types.h>

enum lk_role {
    LK_ROLE_NONE,
    LK_ROLE_GUEST,
    LK_ROLE_OPERATOR,
    LK_ROLE_ADMIN,
};

#define LK_GROUP_ADMIN    "lkadmin"
#define LK_GROUP_OPERATOR "lkoper"
#define LK_GROUP_GUEST    "lkguest"

/* The highest role of the user uid whose primary group is gid. */
enum lk_role lk_role_of(uid_t uid, gid_t gid);

/* The role of the peer of a connected Unix socket; LK_ROLE_NONE if it cannot be told. */
enum lk_role lk_role_of_socket(int fd, pid_t *ret_pid, uid_t *ret_uid);

const char *lk_role_name(enum lk_role role);

/* Lets the members of every existing role group connect to the socket at path: mode 0660
 * owned by root, plus a POSIX ACL granting rw to lkadmin, lkoper and lkguest. Where the
 * file system has no ACLs, the group falls back to lkguest (then admins and operators
 * must also be in lkguest). Returns 0, or -errno when even that failed. */
int lk_roles_grant_socket(const char *path);
