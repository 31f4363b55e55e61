/* The files of a resource's definition besides its scripts (paramfile.h): its parameter file
 * (0600, the full JSON form, atomic) and its helper files (0600 in a 0700 directory).
 *
 * Calls enter from the definitions writer (define.c: create, config, update-script,
 * received objects, delete), from replica.c (what an object carries) and from the types
 * that run a resource (the parameters). File work only: it never decides, never logs a
 * value, and never writes a parameter file other than 0600 (it may hold secrets). */
#include "paramfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "resource.h"
#include "safeopen.h"
#include "scripts.h"

#define APP_DIR "subsys/gen/resources/app"

/* A parameter file holds at most 64 values of 4 KiB, each escaped at most 6 times. */
#define PARAMS_FILE_MAX (LK_PARAMS_MAX * (LK_PARAM_VALUE_MAX * 6 + 256))

static const struct lk_safeopen_rules params_rules = {
        .max_size = PARAMS_FILE_MAX, .follow = false, .trusted_owner = true};
static const struct lk_safeopen_rules helper_rules = {
        .max_size = LK_SCRIPT_MAX_SIZE, .follow = false, .trusted_owner = true};

char *lk_params_path(const char *root, const char *tag, char *buf, size_t size)
{
    snprintf(buf, size, "%s/" APP_DIR "/params/%s", root, tag);
    return buf;
}

char *lk_helpers_dir(const char *root, const char *tag, char *buf, size_t size)
{
    snprintf(buf, size, "%s/" APP_DIR "/helpers/%s", root, tag);
    return buf;
}

/* Creates $root/APP_DIR/<kind> (0755 above it, 0700 itself) and returns it in buf. */
static int make_dir(const char *root, const char *kind, char *buf, size_t size, char *err,
                    size_t err_size)
{
    snprintf(buf, size, "%s/" APP_DIR, root);
    int r = lk_scripts_mkdir(buf, 0755);
    if (r == 0) {
        snprintf(buf, size, "%s/" APP_DIR "/%s", root, kind);
        r = mkdir(buf, 0700) < 0 && errno != EEXIST ? -errno : 0;
    }
    if (r < 0) {
        snprintf(err, err_size, "cannot create '%s': %s", buf, strerror(-r));
    }
    return r;
}

/* Writes len bytes to dir/name atomically with mode 0600 (temporary ".name.new"). */
static int write_file(const char *dir, const char *name, const void *data, size_t len, char *err,
                      size_t err_size)
{
    const char *step = NULL;
    int r = lk_atomicfile_write(dir, name, 0600, data, len, &step);
    if (r < 0) {
        snprintf(err, err_size, "cannot write '%s/%s': %s failed: %s", dir, name, step,
                 strerror(-r));
    }
    return r;
}

int lk_params_read(const char *root, const char *tag, struct lk_params *out, char *err,
                   size_t err_size)
{
    out->count = 0;
    out->items = NULL;
    char path[LK_PATH_MAX + 256];
    lk_params_path(root, tag, path, sizeof(path));
    char *text = NULL;
    size_t len = 0;
    int r = lk_safeopen_read(path, &params_rules, 0, &text, &len, NULL, err, err_size);
    if (r == -ENOENT) {
        return 0;
    }
    if (r < 0) {
        return r;
    }
    json_error_t jerr;
    json_t *json = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    sodium_memzero(text, len);
    free(text);
    if (!json) {
        snprintf(err, err_size, "'%s' is not valid JSON: %s", path, jerr.text);
        return -EINVAL;
    }
    char why[256];
    r = lk_params_from_json(json, out, why, sizeof(why));
    json_decref(json);
    if (r < 0) {
        snprintf(err, err_size, "'%s': %s", path, why);
    }
    return r;
}

int lk_params_write(const char *root, const char *tag, const struct lk_params *p, char *err,
                    size_t err_size)
{
    if (p->count == 0) {
        lk_params_remove(root, tag);
        return 0;
    }
    char dir[LK_PATH_MAX + 256];
    int r = make_dir(root, "params", dir, sizeof(dir), err, err_size);
    if (r < 0) {
        return r;
    }
    json_t *json = lk_params_json(p);
    char *text = json ? json_dumps(json, JSON_COMPACT) : NULL;
    json_decref(json);
    if (!text) {
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    size_t len = strlen(text);
    r = write_file(dir, tag, text, len, err, err_size);
    sodium_memzero(text, len);
    free(text);
    return r;
}

void lk_params_remove(const char *root, const char *tag)
{
    char path[LK_PATH_MAX + 256];
    (void) unlink(lk_params_path(root, tag, path, sizeof(path)));
}

int lk_helpers_install(const char *root, const char *tag, const char *name, const void *content,
                       size_t len, char *err, size_t err_size)
{
    char dir[LK_PATH_MAX + 256];
    int r = lk_params_check_helper_name(name, err, err_size);
    if (r == 0) {
        r = make_dir(root, "helpers", dir, sizeof(dir), err, err_size);
    }
    if (r < 0) {
        return r;
    }
    lk_helpers_dir(root, tag, dir, sizeof(dir));
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        r = -errno;
        snprintf(err, err_size, "cannot create '%s': %s", dir, strerror(-r));
        return r;
    }
    return write_file(dir, name, content, len, err, err_size);
}

/* The names of the helper files in dir (valid names only, no temporary files), sorted. */
static json_t *list_names(const char *dir)
{
    json_t *names = json_array();
    DIR *d = opendir(dir);
    if (!d) {
        return names;
    }
    struct dirent *e;
    while (names && (e = readdir(d))) {
        if (lk_params_check_helper_name(e->d_name, NULL, 0) == 0 &&
            json_array_append_new(names, json_string(e->d_name)) < 0) {
            json_decref(names);
            names = NULL;
        }
    }
    closedir(d);
    size_t n = json_array_size(names);
    /* A small insertion sort: at most a few dozen names. */
    for (size_t i = 1; i < n; i++) {
        for (size_t j = i; j > 0 && strcmp(json_string_value(json_array_get(names, j - 1)),
                                           json_string_value(json_array_get(names, j))) > 0;
             j--) {
            json_t *a = json_incref(json_array_get(names, j - 1));
            json_array_set(names, j - 1, json_array_get(names, j));
            json_array_set_new(names, j, a);
        }
    }
    return names;
}

json_t *lk_helpers_names(const char *root, const char *tag)
{
    char dir[LK_PATH_MAX + 256];
    return list_names(lk_helpers_dir(root, tag, dir, sizeof(dir)));
}

int lk_helpers_read_all(const char *root, const char *tag, json_t **ret, char *err, size_t err_size)
{
    char dir[LK_PATH_MAX + 256];
    lk_helpers_dir(root, tag, dir, sizeof(dir));
    json_t *names = list_names(dir);
    json_t *out = json_object();
    int r = names && out ? 0 : -ENOMEM;
    size_t i;
    json_t *v;
    json_array_foreach(r == 0 ? names : NULL, i, v)
    {
        char path[LK_PATH_MAX + 512];
        snprintf(path, sizeof(path), "%s/%s", dir, json_string_value(v));
        char *data = NULL;
        size_t len = 0;
        r = lk_safeopen_read(path, &helper_rules, 0, &data, &len, NULL, err, err_size);
        if (r < 0) {
            break;
        }
        size_t b64_len = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
        char *b64 = malloc(b64_len);
        if (b64) {
            sodium_bin2base64(b64, b64_len, (const unsigned char *) data, len,
                              sodium_base64_VARIANT_ORIGINAL);
        }
        free(data);
        if (!b64 || json_object_set_new(out, json_string_value(v), json_string(b64)) < 0) {
            free(b64);
            r = -ENOMEM;
            break;
        }
        free(b64);
    }
    json_decref(names);
    if (r == -ENOMEM) {
        snprintf(err, err_size, "out of memory");
    }
    if (r < 0) {
        json_decref(out);
        return r;
    }
    *ret = out;
    return 0;
}

void lk_helpers_prune(const char *root, const char *tag, const json_t *keep)
{
    char dir[LK_PATH_MAX + 256];
    lk_helpers_dir(root, tag, dir, sizeof(dir));
    json_t *names = list_names(dir);
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v)
    {
        const char *name = json_string_value(v);
        if (!keep || !json_object_get(keep, name)) {
            char path[LK_PATH_MAX + 512];
            snprintf(path, sizeof(path), "%s/%s", dir, name);
            (void) unlink(path);
        }
    }
    json_decref(names);
    (void) rmdir(dir); /* fails, as it should, while it holds files */
}
