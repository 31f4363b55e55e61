/* A resource's parameters and helper-file names (params.h): validation, the full JSON form
 * (stored and replicated, values included) and the public forms (secret values replaced by
 * "***") that status, --json, events and logs show.
 *
 * Input comes from users (--param, --param-file, the API's "params") and from peers (the
 * replicated object); everything is checked here before it is kept. Pure: no file, no
 * clock. It must never put a secret value into the public forms. */
#include "params.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

void lk_params_free(struct lk_params *p)
{
    for (size_t i = 0; i < p->count; i++) {
        free(p->items[i].value);
    }
    free(p->items);
    p->items = NULL;
    p->count = 0;
}

static bool name_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

int lk_params_check_name(const char *name, char *err, size_t err_size)
{
    if (!name || !name[0]) {
        return lk_fail_einval(err, err_size, "a parameter name must not be empty");
    }
    size_t len = strlen(name);
    if (len > LK_PARAM_NAME_MAX) {
        return lk_fail_einval(err, err_size, "parameter name is too long: %zu bytes, at most %d",
                              len, LK_PARAM_NAME_MAX);
    }
    /* Any byte outside printable ASCII first: the name is quoted below, and the message
     * must stay one line of UTF-8. */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) name[i];
        if (c < 0x20 || c >= 0x7f) {
            return lk_fail_einval(err, err_size, "parameter name contains byte 0x%02x", c);
        }
    }
    for (size_t i = 0; i < len; i++) {
        if (!name_char_ok(name[i])) {
            unsigned char c = (unsigned char) name[i];
            return lk_fail_einval(err, err_size,
                                  "parameter name '%s' contains '%c'; use letters, digits, '_'",
                                  name, c);
        }
    }
    if (name[0] >= '0' && name[0] <= '9') {
        return lk_fail_einval(err, err_size, "parameter name '%s' must not start with a digit",
                              name);
    }
    return 0;
}

int lk_params_check_value(const char *name, const char *value, size_t len, char *err,
                          size_t err_size)
{
    if (!value) {
        return lk_fail_einval(err, err_size, "parameter '%s' has no value", name);
    }
    if (len > LK_PARAM_VALUE_MAX) {
        return lk_fail_einval(err, err_size, "parameter '%s' is too long: %zu bytes, at most %d",
                              name, len, LK_PARAM_VALUE_MAX);
    }
    if (memchr(value, '\0', len)) {
        return lk_fail_einval(err, err_size, "parameter '%s' contains a NUL byte", name);
    }
    return 0;
}

static struct lk_param *find(const struct lk_params *p, const char *name)
{
    for (size_t i = 0; i < p->count; i++) {
        if (strcmp(p->items[i].name, name) == 0) {
            return &p->items[i];
        }
    }
    return NULL;
}

const struct lk_param *lk_params_find(const struct lk_params *p, const char *name)
{
    return find(p, name);
}

int lk_params_set(struct lk_params *p, const char *name, const char *value, bool secret, char *err,
                  size_t err_size)
{
    int r = lk_params_check_name(name, err, err_size);
    if (r == 0) {
        r = lk_params_check_value(name, value, value ? strlen(value) : 0, err, err_size);
    }
    if (r < 0) {
        return r;
    }
    char *copy = strdup(value);
    if (!copy) {
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    struct lk_param *old = find(p, name);
    if (old) {
        free(old->value);
        old->value = copy;
        old->secret |= secret;
        return 0;
    }
    if (p->count >= LK_PARAMS_MAX) {
        free(copy);
        snprintf(err, err_size, "too many parameters: at most %d", LK_PARAMS_MAX);
        return -E2BIG;
    }
    struct lk_param *bigger = realloc(p->items, (p->count + 1) * sizeof(*bigger));
    if (!bigger) {
        free(copy);
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    p->items = bigger;
    struct lk_param *x = &p->items[p->count++];
    memset(x, 0, sizeof(*x));
    snprintf(x->name, sizeof(x->name), "%s", name);
    x->value = copy;
    x->secret = secret;
    return 0;
}

int lk_params_unset(struct lk_params *p, const char *name)
{
    struct lk_param *x = find(p, name);
    if (!x) {
        return -ENOENT;
    }
    free(x->value);
    size_t i = (size_t) (x - p->items);
    memmove(x, x + 1, (p->count - i - 1) * sizeof(*x));
    p->count--;
    return 0;
}

int lk_params_mark_secret(struct lk_params *p, const char *name)
{
    struct lk_param *x = find(p, name);
    if (!x) {
        return -ENOENT;
    }
    x->secret = true;
    return 0;
}

int lk_params_copy(struct lk_params *dst, const struct lk_params *src)
{
    dst->count = 0;
    dst->items = NULL;
    if (src->count == 0) {
        return 0;
    }
    dst->items = calloc(src->count, sizeof(*dst->items));
    if (!dst->items) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < src->count; i++) {
        dst->items[i] = src->items[i];
        dst->items[i].value = strdup(src->items[i].value);
        if (!dst->items[i].value) {
            dst->count = i;
            lk_params_free(dst);
            return -ENOMEM;
        }
    }
    dst->count = src->count;
    return 0;
}

bool lk_params_equal(const struct lk_params *a, const struct lk_params *b)
{
    if (a->count != b->count) {
        return false;
    }
    for (size_t i = 0; i < a->count; i++) {
        const struct lk_param *x = find(b, a->items[i].name);
        if (!x || x->secret != a->items[i].secret || strcmp(x->value, a->items[i].value) != 0) {
            return false;
        }
    }
    return true;
}

int lk_params_parse_assignment(const char *text, char name[LK_PARAM_NAME_MAX + 1],
                               const char **ret_value, char *err, size_t err_size)
{
    const char *eq = text ? strchr(text, '=') : NULL;
    if (!eq) {
        return lk_fail_einval(err, err_size, "a parameter is given as NAME=VALUE");
    }
    size_t len = (size_t) (eq - text);
    if (len > LK_PARAM_NAME_MAX) {
        return lk_fail_einval(err, err_size, "parameter name is too long: %zu bytes, at most %d",
                              len, LK_PARAM_NAME_MAX);
    }
    memcpy(name, text, len);
    name[len] = '\0';
    int r = lk_params_check_name(name, err, err_size);
    if (r == 0) {
        r = lk_params_check_value(name, eq + 1, strlen(eq + 1), err, err_size);
    }
    if (r == 0) {
        *ret_value = eq + 1;
    }
    return r;
}

int lk_params_parse_file(struct lk_params *p, const char *text, size_t len, bool secret, char *err,
                         size_t err_size)
{
    if (memchr(text, '\0', len)) {
        return lk_fail_einval(err, err_size, "the file contains a NUL byte");
    }
    size_t line_no = 0;
    const char *end = text + len;
    for (const char *at = text; at < end;) {
        const char *nl = memchr(at, '\n', (size_t) (end - at));
        size_t n = (size_t) ((nl ? nl : end) - at);
        line_no++;
        char *line = malloc(n + 1);
        if (!line) {
            snprintf(err, err_size, "out of memory");
            return -ENOMEM;
        }
        memcpy(line, at, n);
        line[n] = '\0';
        if (n > 0 && line[n - 1] == '\r') {
            line[n - 1] = '\0';
        }
        at = nl ? nl + 1 : end;
        if (!line[0] || line[0] == '#') {
            free(line);
            continue;
        }
        char name[LK_PARAM_NAME_MAX + 1], why[256];
        const char *value = NULL;
        int r = lk_params_parse_assignment(line, name, &value, why, sizeof(why));
        if (r == 0 && find(p, name)) {
            snprintf(why, sizeof(why), "parameter '%s' is given twice", name);
            r = -EINVAL;
        }
        if (r == 0) {
            r = lk_params_set(p, name, value, secret, why, sizeof(why));
        }
        free(line);
        if (r < 0) {
            snprintf(err, err_size, "line %zu: %s", line_no, why);
            return r;
        }
    }
    return 0;
}

json_t *lk_params_json(const struct lk_params *p)
{
    json_t *out = json_object();
    for (size_t i = 0; out && i < p->count; i++) {
        const struct lk_param *x = &p->items[i];
        json_t *one = x->secret ? json_pack("{s:s, s:b}", "value", x->value, "secret", 1)
                                : json_pack("{s:s}", "value", x->value);
        if (!one || json_object_set_new(out, x->name, one) < 0) {
            json_decref(out);
            out = NULL;
        }
    }
    return out;
}

int lk_params_from_json(json_t *json, struct lk_params *p, char *err, size_t err_size)
{
    p->count = 0;
    p->items = NULL;
    if (!json) {
        return 0;
    }
    if (!json_is_object(json)) {
        return lk_fail_einval(err, err_size, "params must be an object");
    }
    if (json_object_size(json) > LK_PARAMS_MAX) {
        return lk_fail_einval(err, err_size, "too many parameters: %zu, at most %d",
                              json_object_size(json), LK_PARAMS_MAX);
    }
    const char *name;
    json_t *one;
    json_object_foreach(json, name, one)
    {
        char why[256];
        int r = lk_params_check_name(name, why, sizeof(why));
        const json_t *value = json_object_get(one, "value");
        const json_t *secret = json_object_get(one, "secret");
        if (r == 0 && (!json_is_object(one) || !json_is_string(value) ||
                       (secret && !json_is_boolean(secret)))) {
            r = lk_fail_einval(why, sizeof(why),
                               "parameter '%s' must be {\"value\": text, \"secret\": true|false}",
                               name);
        }
        if (r == 0) {
            r = lk_params_check_value(name, json_string_value(value), json_string_length(value),
                                      why, sizeof(why));
        }
        if (r == 0) {
            /* Unique names: a JSON object holds each key once. */
            r = lk_params_set(p, name, json_string_value(value), json_is_true(secret), why,
                              sizeof(why));
        }
        if (r < 0) {
            lk_params_free(p);
            snprintf(err, err_size, "%s", why);
            return r == -ENOMEM ? r : -EINVAL;
        }
    }
    return 0;
}

json_t *lk_params_public_json(const struct lk_params *p)
{
    json_t *out = json_object();
    for (size_t i = 0; out && i < p->count; i++) {
        const struct lk_param *x = &p->items[i];
        if (json_object_set_new(out, x->name,
                                json_string(x->secret ? LK_PARAM_SECRET_TEXT : x->value)) < 0) {
            json_decref(out);
            out = NULL;
        }
    }
    return out;
}

/* Appends one shown byte to buf (used of size), replacing control bytes by '?' (a value
 * on one line of a log). Returns false when full. */
static bool put(char *buf, size_t size, size_t *used, char c)
{
    if (*used + 1 >= size) {
        return false;
    }
    unsigned char u = (unsigned char) c;
    buf[(*used)++] = u < 0x20 || u == 0x7f ? '?' : c;
    buf[*used] = '\0';
    return true;
}

char *lk_params_public_text(const struct lk_params *p, char *buf, size_t size)
{
    if (size == 0) {
        return buf;
    }
    buf[0] = '\0';
    size_t used = 0;
    bool room = true;
    for (size_t i = 0; room && i < p->count; i++) {
        const struct lk_param *x = &p->items[i];
        if (i > 0) {
            room = put(buf, size, &used, ' ');
        }
        for (const char *s = x->name; room && *s; s++) {
            room = put(buf, size, &used, *s);
        }
        room = room && put(buf, size, &used, '=');
        const char *v = x->secret ? LK_PARAM_SECRET_TEXT : x->value;
        for (const char *s = v; room && *s; s++) {
            room = put(buf, size, &used, *s);
        }
    }
    if (!room && size >= 4) {
        /* Cut: end with "..." (never the middle of a secret: those are never here). */
        memcpy(buf + (used > size - 4 ? size - 4 : used), "...", 4);
    }
    return buf;
}

int lk_params_check_helper_name(const char *name, char *err, size_t err_size)
{
    if (!name || !name[0]) {
        return lk_fail_einval(err, err_size, "a helper file name must not be empty");
    }
    size_t len = strlen(name);
    if (len > LK_HELPER_NAME_MAX) {
        return lk_fail_einval(err, err_size, "helper file name is too long: %zu bytes, at most %d",
                              len, LK_HELPER_NAME_MAX);
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok) {
            if (c < 0x20 || c >= 0x7f) {
                return lk_fail_einval(err, err_size, "helper file name contains byte 0x%02x", c);
            }
            return lk_fail_einval(err, err_size,
                                  "helper file name '%s' contains '%c'; use letters, digits, "
                                  "'.', '_', '-'",
                                  name, c);
        }
    }
    if (name[0] == '.') {
        return lk_fail_einval(err, err_size, "helper file name '%s' must not start with '.'", name);
    }
    return 0;
}
