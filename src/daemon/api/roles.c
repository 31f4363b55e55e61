/* Roles from credentials: the peer's uid and groups, checked against the three role
 * groups by name at every connection, so group changes take effect without a restart. */
#include "roles.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/acl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static bool in_group(const char *group, uid_t uid, gid_t gid)
{
    struct group grbuf, *gr = NULL;
    char buf[8192];
    if (getgrnam_r(group, &grbuf, buf, sizeof(buf), &gr) != 0 || !gr) {
        return false;
    }
    if (gr->gr_gid == gid) {
        return true;
    }
    struct passwd pwbuf, *pw = NULL;
    char pbuf[4096];
    if (getpwuid_r(uid, &pwbuf, pbuf, sizeof(pbuf), &pw) != 0 || !pw) {
        return false;
    }
    for (char **m = gr->gr_mem; *m; m++) {
        if (strcmp(*m, pw->pw_name) == 0) {
            return true;
        }
    }
    return false;
}

enum lk_role lk_role_of(uid_t uid, gid_t gid)
{
    if (uid == 0) {
        return LK_ROLE_ADMIN;
    }
    if (in_group(LK_GROUP_ADMIN, uid, gid)) {
        return LK_ROLE_ADMIN;
    }
    if (in_group(LK_GROUP_OPERATOR, uid, gid)) {
        return LK_ROLE_OPERATOR;
    }
    if (in_group(LK_GROUP_GUEST, uid, gid)) {
        return LK_ROLE_GUEST;
    }
    return LK_ROLE_NONE;
}

enum lk_role lk_role_of_socket(int fd, pid_t *ret_pid, uid_t *ret_uid)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
        return LK_ROLE_NONE;
    }
    if (ret_pid) {
        *ret_pid = cred.pid;
    }
    if (ret_uid) {
        *ret_uid = cred.uid;
    }
    return lk_role_of(cred.uid, cred.gid);
}

int lk_roles_grant_socket(const char *path)
{
    if (chmod(path, 0660) < 0) {
        return -errno;
    }
    char text[256] = "u::rw-,g::rw-,o::---";
    const char *groups[] = {LK_GROUP_ADMIN, LK_GROUP_OPERATOR, LK_GROUP_GUEST};
    gid_t guest_gid = 0;
    bool any = false;
    for (size_t i = 0; i < 3; i++) {
        struct group grbuf, *gr = NULL;
        char buf[4096];
        if (getgrnam_r(groups[i], &grbuf, buf, sizeof(buf), &gr) == 0 && gr) {
            size_t len = strlen(text);
            snprintf(text + len, sizeof(text) - len, ",g:%s:rw-", groups[i]);
            any = true;
            if (i == 2) {
                guest_gid = gr->gr_gid;
            }
        }
    }
    if (!any) {
        return 0; /* no role groups: root only */
    }
    size_t len = strlen(text);
    snprintf(text + len, sizeof(text) - len, ",m::rw-");
    acl_t acl = acl_from_text(text);
    int r = acl ? acl_set_file(path, ACL_TYPE_ACCESS, acl) : -1;
    int e = errno;
    if (acl) {
        acl_free(acl);
    }
    if (r == 0) {
        return 0;
    }
    /* No ACL support here: the lkguest group owns the socket instead. */
    if (guest_gid && chown(path, 0, guest_gid) < 0) {
        return -errno;
    }
    return e == ENOTSUP || e == EOPNOTSUPP ? 0 : -e;
}

const char *lk_role_name(enum lk_role role)
{
    switch (role) {
    case LK_ROLE_ADMIN:
        return "admin";
    case LK_ROLE_OPERATOR:
        return "operator";
    case LK_ROLE_GUEST:
        return "guest";
    case LK_ROLE_NONE:
        break;
    }
    return "none";
}
