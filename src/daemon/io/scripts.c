/* Script copies and run environments (with LK_HELPERS, the resource's helper files). The copies are
 * the only scripts the daemon runs; the files users give are read once, by the command, and never
 * again. Each copy is also written at its LifeKeeper name (actions/!restore/TAG …,
 * recovery/!recover/TAG), a file of its own that nothing runs: LifeKeeper's scripts and
 * administrators read and write it there (core/scriptwatch.c takes their writes). The environment
 * is built from nothing, as SPEC §3 lists it, so that a script behaves the same under the daemon,
 * under `lkcli resource test` and after a reboot. */
#include "scripts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "lifekeeper.h"
#include "paramfile.h"
#include "safeopen.h"
#include "tunables.h"
#include "validate.h"

#define SYSTEM_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

char *lk_scripts_path(const char *root, enum lk_action action, const char *tag, char *buf,
                      size_t size)
{
    snprintf(buf, size, "%s/subsys/gen/resources/app/actions/%s/%s", root, lk_action_name(action),
             tag);
    return buf;
}

int lk_scripts_mkdir(const char *path, mode_t mode)
{
    char buf[LK_PATH_MAX + 256];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, mode) < 0 && errno != EEXIST) {
                return -errno;
            }
            *p = '/';
        }
    }
    if (mkdir(buf, mode) < 0 && errno != EEXIST) {
        return -errno;
    }
    return 0;
}

/* The LifeKeeper name of each action's copy, below $LKROOT/subsys/gen/resources/app. */
static const char *const lk_names[LK_ACTION_COUNT] = {
        [LK_ACTION_RESTORE] = "actions/!restore",     [LK_ACTION_REMOVE] = "actions/!remove",
        [LK_ACTION_QUICKCHK] = "actions/!quickCheck", [LK_ACTION_DEEPCHK] = "actions/!deepCheck",
        [LK_ACTION_RECOVER] = "recovery/!recover",
};

char *lk_scripts_lk_dir(const char *root, enum lk_action action, char *buf, size_t size)
{
    snprintf(buf, size, "%s/subsys/gen/resources/app/%s", root, lk_names[action]);
    return buf;
}

char *lk_scripts_lk_path(const char *root, enum lk_action action, const char *tag, char *buf,
                         size_t size)
{
    snprintf(buf, size, "%s/subsys/gen/resources/app/%s/%s", root, lk_names[action], tag);
    return buf;
}

/* Writes content as dir/tag (mode 0700) through dir/.tag.new: a temporary file, fsync,
 * rename, fsync of dir. 0 or -errno with err. */
static int write_copy(const char *dir, const char *tag, const void *content, size_t len, char *err,
                      size_t err_size)
{
    int r = lk_scripts_mkdir(dir, 0755);
    if (r < 0) {
        snprintf(err, err_size, "cannot create '%s': %s", dir, strerror(-r));
        return r;
    }
    const char *step = NULL;
    r = lk_atomicfile_write(dir, tag, 0700, content, len, &step);
    if (r < 0) {
        snprintf(err, err_size, "cannot write '%s/%s': %s failed: %s", dir, tag, step,
                 strerror(-r));
        return r;
    }
    return 0;
}

int lk_scripts_install(const char *root, const char *tag, enum lk_action action,
                       const void *content, size_t len, char *err, size_t err_size)
{
    /* A copy that already holds this content is left alone, and so is its LifeKeeper name
     * when it exists: a definition that arrives with unchanged scripts (a peer's info
     * change, say) must not put back a file an administrator has just written there and
     * the watcher has not taken yet (SIOS's update script writes it, then changes the
     * info at once). */
    unsigned char *old = NULL;
    size_t old_len = 0;
    char ignored[128];
    bool same = lk_scripts_read(root, action, tag, false, &old, &old_len, NULL, ignored,
                                sizeof(ignored)) == 0 &&
                old_len == len && (len == 0 || memcmp(old, content, len) == 0);
    free(old);
    if (same) {
        char path[LK_PATH_MAX + 256];
        struct stat st;
        if (lstat(lk_scripts_lk_path(root, action, tag, path, sizeof(path)), &st) == 0) {
            return 0;
        }
        return lk_scripts_install_lk(root, tag, action, content, len, err, err_size);
    }
    char dir[LK_PATH_MAX + 256];
    snprintf(dir, sizeof(dir), "%s/subsys/gen/resources/app/actions/%s", root,
             lk_action_name(action));
    int r = write_copy(dir, tag, content, len, err, err_size);
    if (r < 0) {
        return r;
    }
    /* The copy first, then its LifeKeeper name: the watcher (core/scriptwatch.c) compares
     * the second with the first, so a write of ours is never taken for an administrator's. */
    return lk_scripts_install_lk(root, tag, action, content, len, err, err_size);
}

int lk_scripts_install_lk(const char *root, const char *tag, enum lk_action action,
                          const void *content, size_t len, char *err, size_t err_size)
{
    char dir[LK_PATH_MAX + 256];
    lk_scripts_lk_dir(root, action, dir, sizeof(dir));
    return write_copy(dir, tag, content, len, err, err_size);
}

int lk_scripts_read(const char *root, enum lk_action action, const char *tag, bool lk_name,
                    unsigned char **ret, size_t *ret_len, struct stat *ret_st, char *err,
                    size_t err_size)
{
    static const struct lk_safeopen_rules rules = {
            .max_size = LK_SCRIPT_MAX_SIZE,
            .follow = false,
            .trusted_owner = true,
    };
    char path[LK_PATH_MAX + 256];
    if (lk_name) {
        lk_scripts_lk_path(root, action, tag, path, sizeof(path));
    } else {
        lk_scripts_path(root, action, tag, path, sizeof(path));
    }
    char *data = NULL;
    int r = lk_safeopen_read(path, &rules, 0, &data, ret_len, ret_st, err, err_size);
    if (r < 0) {
        return r;
    }
    *ret = (unsigned char *) data;
    return 0;
}

void lk_scripts_remove(const char *root, enum lk_action action, const char *tag)
{
    char path[LK_PATH_MAX + 256];
    (void) unlink(lk_scripts_path(root, action, tag, path, sizeof(path)));
    (void) unlink(lk_scripts_lk_path(root, action, tag, path, sizeof(path)));
}

void lk_scripts_remove_all(const char *root, const char *tag)
{
    for (int a = 0; a < LK_ACTION_COUNT; a++) {
        lk_scripts_remove(root, (enum lk_action) a, tag);
    }
}

uint64_t lk_scripts_timeout(const struct lk_resource *res, enum lk_action action)
{
    const struct lk_settings *s = &res->settings;
    uint64_t t = 0;
    switch (action) {
    case LK_ACTION_QUICKCHK:
        t = s->quickchk_timeout_usec ? s->quickchk_timeout_usec : s->quickchk_interval_usec;
        break;
    case LK_ACTION_DEEPCHK:
        t = s->deepchk_timeout_usec ? s->deepchk_timeout_usec : 2 * s->deepchk_interval_usec;
        break;
    default:
        return s->action_timeout_usec;
    }
    /* A check with monitoring off (interval 0) still needs a bound when it is run as a
     * probe or by `resource test`: the action timeout. */
    return t ? t : s->action_timeout_usec;
}

void lk_scripts_prepare(const char *root, const char *node_name, const struct lk_resource *res,
                        enum lk_action action, struct lk_script_run *run)
{
    memset(run, 0, sizeof(*run));
    lk_scripts_path(root, action, res->tag, run->path, sizeof(run->path));
    char helpers[LK_PATH_MAX + 256];
    lk_helpers_dir(root, res->tag, helpers, sizeof(helpers));
    char perl5lib[2 * LK_PATH_MAX + 64];
    lk_lifekeeper_perl5lib(root, perl5lib, sizeof(perl5lib));
    const char *fmt[LK_SCRIPT_ENV_COUNT][2] = {
            {"LKROOT", root},
            {"LK_TAG", res->tag},
            {"LK_ID", res->id},
            {"LK_APP_INFO", res->info},
            {"LK_ACTION", lk_action_name(action)},
            {"LK_NODE", node_name},
            {"PATH", NULL},
            {"LANG", "C"},
            {"LK_HELPERS", helpers},
            {"PERL5LIB", perl5lib},
    };
    for (int i = 0; i < LK_SCRIPT_ENV_COUNT; i++) {
        if (fmt[i][1]) {
            snprintf(run->storage[i], sizeof(run->storage[i]), "%s=%s", fmt[i][0], fmt[i][1]);
        } else {
            snprintf(run->storage[i], sizeof(run->storage[i]), "PATH=%s/bin:%s", root, SYSTEM_PATH);
        }
        run->env[i] = run->storage[i];
    }
    run->env[LK_SCRIPT_ENV_COUNT] = NULL;
    run->spec.path = run->path;
    run->spec.cwd = root;
    run->spec.env = run->env;
    run->spec.timeout_usec = lk_scripts_timeout(res, action);
    run->spec.kill_grace_usec = 0;
    run->spec.secure_root = root;
}

int lk_scripts_env_tunables(const char *text, lk_scripts_env_add_fn add, void *userdata)
{
    if (!text || !text[0]) {
        return 0;
    }
    struct lk_tunables t;
    int r = lk_tunables_parse(text, strlen(text), &t, NULL, 0);
    if (r < 0) {
        return r == -ENOMEM ? r : 0;
    }
    for (size_t i = 0; r == 0 && i < t.count; i++) {
        if (!t.items[i].reserved) {
            r = add(t.items[i].key, t.items[i].value, userdata);
        }
    }
    lk_tunables_done(&t);
    return r;
}
