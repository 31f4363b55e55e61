/* The tunables' file on disk ($LKROOT/etc/default/LifeKeeper): reading it (safeopen's
 * rules for configuration: the values end up in root's scripts' environments) and writing
 * it atomically. Entered by core/define.c (a change of the cluster setting is written here
 * before it is applied) and core/tunwatch.c (start, hand edits).
 * Never: parse or judge the text (src/lib/tunables.c), log, or write anything else. */
#include "tunfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "safeopen.h"
#include "tunables.h"

char *lk_tunfile_path(const char *root, const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", root, name);
    return buf;
}

int lk_tunfile_read(const char *root, const char *name, char **ret_text, size_t *ret_len, char *err,
                    size_t err_size)
{
    char path[4096 + 64];
    lk_tunfile_path(root, name, path, sizeof(path));
    struct lk_safeopen_rules rules = lk_safeopen_config;
    rules.max_size = LK_TUNABLES_TEXT_MAX;
    return lk_safeopen_read(path, &rules, LK_TUNABLES_TEXT_MAX, ret_text, ret_len, NULL, err,
                            err_size);
}

int lk_tunfile_write(const char *root, const char *name, const char *text, char *err,
                     size_t err_size)
{
    char dir[4096 + 64], path[4096 + 64];
    lk_tunfile_path(root, name, path, sizeof(path));
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    *slash = '\0';
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        int r = -errno;
        snprintf(err, err_size, "cannot create '%s': %s", dir, strerror(-r));
        return r;
    }
    const char *step = NULL;
    int r = lk_atomicfile_write(dir, slash + 1, 0644, text, strlen(text), &step);
    if (r < 0) {
        snprintf(err, err_size, "cannot write '%s': %s failed: %s", path, step, strerror(-r));
        return r;
    }
    return 0;
}
