/* A resource's parameters on disk and its helper files (io/paramfile.c; lib/params.h has the same
 * basename, hence the name).
 *
 * Parameters: one file per resource, $LKROOT/subsys/gen/resources/app/params/<TAG>, mode
 * 0600 (it holds secret values), the full JSON form of lib/params.h, written atomically.
 * Helper files: $LKROOT/subsys/gen/resources/app/helpers/<TAG>/<name> (directory 0700,
 * files 0600), the function libraries a resource's scripts share, found through
 * LK_HELPERS. Both are written only by the definitions writer (define.c) and read by the
 * types that run the resource and by replica.c. */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "params.h"

#define LK_HELPERS_TOTAL_MAX (1024 * 1024) /* bytes of one resource's helper files together */

/* $LKROOT/subsys/gen/resources/app/params/<tag>. Returns buf. */
char *lk_params_path(const char *root, const char *tag, char *buf, size_t size);

/* Reads tag's parameters into out (which lk_params_free frees): no file is no parameters.
 * Returns 0, or -errno with a one-line message in err (out empty). */
int lk_params_read(const char *root, const char *tag, struct lk_params *out, char *err,
                   size_t err_size);

/* Writes p as tag's parameters (0600, atomic); no parameters removes the file.
 * Returns 0 or -errno with a one-line message in err. */
int lk_params_write(const char *root, const char *tag, const struct lk_params *p, char *err,
                    size_t err_size);

/* Removes tag's parameter file; a missing one is fine. */
void lk_params_remove(const char *root, const char *tag);

/* $LKROOT/subsys/gen/resources/app/helpers/<tag> (the value of LK_HELPERS). Returns buf. */
char *lk_helpers_dir(const char *root, const char *tag, char *buf, size_t size);

/* Writes one helper file of tag (name checked by lk_params_check_helper_name), 0600,
 * atomically, creating the directory (0700). Returns 0 or -errno with err. */
int lk_helpers_install(const char *root, const char *tag, const char *name, const void *content,
                       size_t len, char *err, size_t err_size);

/* tag's helper files as {name: base64} (an empty object when there are none). Returns 0
 * with *ret (the caller's), or -errno with err. */
int lk_helpers_read_all(const char *root, const char *tag, json_t **ret, char *err,
                        size_t err_size);

/* The names of tag's helper files as a JSON array, sorted ([] when none). NULL on error. */
json_t *lk_helpers_names(const char *root, const char *tag);

/* Removes tag's helper files whose names keep (an object by name; NULL = keep none) does
 * not hold, and the directory when it is left empty. */
void lk_helpers_prune(const char *root, const char *tag, const json_t *keep);
