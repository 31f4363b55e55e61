/* A resource's parameters (name/value pairs an OCF agent or a unit is given, issue 13) and
 * the names of its helper files. Pure: validation, the JSON forms, the text shown to
 * people; the file that holds them is io/params.c's.
 *
 * A parameter marked secret keeps its value out of everything shown — status, --json,
 * `resource list`, events, logs — which show `name=***` instead: only the full JSON form
 * (lk_params_json: the stored file, the replicated object, the type that runs the agent)
 * carries the value. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define LK_PARAM_NAME_MAX    63   /* bytes in a name: [A-Za-z0-9_], not starting with a digit */
#define LK_PARAM_VALUE_MAX   4096 /* bytes in a value: any byte but NUL */
#define LK_PARAMS_MAX        64   /* parameters of one resource */
#define LK_PARAM_SECRET_TEXT "***"

#define LK_HELPER_NAME_MAX 64 /* bytes in a helper file's name */
#define LK_HELPERS_MAX     32 /* helper files of one resource */

struct lk_param {
    char name[LK_PARAM_NAME_MAX + 1];
    char *value; /* heap, NUL-terminated */
    bool secret;
};

struct lk_params {
    size_t count;
    struct lk_param *items; /* heap, in the order they were first set */
};

/* Frees every value and the list; p is empty afterwards (safe on an empty one). */
void lk_params_free(struct lk_params *p);

/* A parameter's name: 1..63 bytes of [A-Za-z0-9_], not starting with a digit. */
int lk_params_check_name(const char *name, char *err, size_t err_size);

/* A value of len bytes: at most LK_PARAM_VALUE_MAX, no NUL. name is for the message. */
int lk_params_check_value(const char *name, const char *value, size_t len, char *err,
                          size_t err_size);

/* The parameter called name, or NULL. */
const struct lk_param *lk_params_find(const struct lk_params *p, const char *name);

/* Adds name=value or replaces its value (validated: name, value, at most LK_PARAMS_MAX).
 * A replaced parameter stays secret if it was (secret only adds the mark). Returns 0,
 * -EINVAL or -E2BIG with a one-line reason in err, or -ENOMEM; p unchanged on error. */
int lk_params_set(struct lk_params *p, const char *name, const char *value, bool secret, char *err,
                  size_t err_size);

/* Removes name: 0, or -ENOENT when there is none. */
int lk_params_unset(struct lk_params *p, const char *name);

/* Marks name secret (the user's --secret, or an OCF agent's meta-data that flags the
 * parameter): 0, or -ENOENT when p has no such parameter (nothing to hide). */
int lk_params_mark_secret(struct lk_params *p, const char *name);

/* A deep copy of src into dst (dst's old content is not freed). 0 or -ENOMEM. */
int lk_params_copy(struct lk_params *dst, const struct lk_params *src);

/* Whether a and b hold the same parameters (names, values, marks), in any order. */
bool lk_params_equal(const struct lk_params *a, const struct lk_params *b);

/* "NAME=VALUE" (one --param): splits and checks it; *ret_value points into text.
 * 0 or -EINVAL with err. */
int lk_params_parse_assignment(const char *text, char name[LK_PARAM_NAME_MAX + 1],
                               const char **ret_value, char *err, size_t err_size);

/* A parameter file (--param-file): lines NAME=VALUE; blank lines and lines starting with
 * '#' are skipped; a line's value is the rest of it (no quoting, no trailing newline).
 * Adds to p with secret as given; a name given twice is refused. 0, or -EINVAL / -E2BIG
 * with "line N: …" in err, -ENOMEM. */
int lk_params_parse_file(struct lk_params *p, const char *text, size_t len, bool secret, char *err,
                         size_t err_size);

/* The full form, {"name":{"value":"v","secret":true},…} (secret only when true), values
 * included: for the stored file and the replicated object only. NULL on ENOMEM. */
json_t *lk_params_json(const struct lk_params *p);

/* Parses the full form (every name, value and mark validated, at most LK_PARAMS_MAX) into
 * p, which must be empty. NULL json is no parameters. 0 or -EINVAL with err (p empty). */
int lk_params_from_json(json_t *json, struct lk_params *p, char *err, size_t err_size);

/* The form shown to people: {"name":"value" or "***"}. NULL on ENOMEM. */
json_t *lk_params_public_json(const struct lk_params *p);

/* The text shown in events and logs: "name=value other=***" (space-separated, in order;
 * "" without parameters), cut to size with "..." when longer; control bytes shown as ?. Returns
 * buf. */
char *lk_params_public_text(const struct lk_params *p, char *buf, size_t size);

/* A helper file's name: a plain file name of 1..64 bytes of [A-Za-z0-9._-], not starting
 * with '.' (no path, no hidden files). */
int lk_params_check_helper_name(const char *name, char *err, size_t err_size);
