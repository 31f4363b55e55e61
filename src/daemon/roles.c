/* Roles from credentials: the peer's uid and groups, checked against the three role
 * groups by name at every connection, so group changes take effect without a restart. */
#include "roles.h"

#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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
