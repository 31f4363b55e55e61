/* The web console's token commands (docs/WEB.md), admin only: web.token.create (a new
 * token of a role, shown once), web.token.list, web.token.revoke, and web.token.check,
 * which lkweb asks at every HTTP request so that a revoked token stops at once. Each
 * command reads etc/web-tokens afresh (io/webtokens.c): the file is the only state, so
 * a token revoked on the command line or by an edit of the file takes effect at once.
 *
 * It never keeps, logs or returns a token except the new one in create's reply; a check
 * that fails says only that the token is not valid. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_internal.h"
#include "proto.h"
#include "webtokens.h"

static const char *root_of(struct conn *c)
{
    return c->api->node->root;
}

/* Loads the tokens into a malloc'ed list, or replies with the error and returns NULL. */
static struct lk_webtoken *load(struct conn *c, size_t *ret_n)
{
    struct lk_webtoken *list = calloc(LK_WEBTOKEN_MAX, sizeof(*list));
    if (!list) {
        api_reply_error(c, LK_EXIT_FAILED, "out of memory");
        return NULL;
    }
    char err[1024];
    if (lk_webtokens_load(root_of(c), list, ret_n, err, sizeof(err)) < 0) {
        free(list);
        api_reply_error(c, LK_EXIT_FAILED, "cannot read the web tokens: %s", err);
        return NULL;
    }
    return list;
}

static json_t *token_json(const struct lk_webtoken *t)
{
    return json_pack("{s:s, s:s, s:s, s:I}", "id", t->id, "name", t->name, "role", t->role,
                     "created", (json_int_t) t->created);
}

static void h_create(struct conn *c, const json_t *args)
{
    json_t *jrole = json_object_get(args, "role");
    json_t *jname = json_object_get(args, "name");
    const char *role = json_string_value(jrole);
    if (!lk_webtoken_role_ok(role)) {
        api_reply_error(c, LK_EXIT_USAGE, "invalid role: expected admin, operator or guest");
        return;
    }
    if (jname && !json_is_string(jname)) {
        api_reply_error(c, LK_EXIT_USAGE, "invalid token name: a string expected");
        return;
    }
    const char *name = jname ? json_string_value(jname) : role;
    char err[256];
    if (lk_webtoken_validate_name(name, err, sizeof(err)) < 0) {
        api_reply_error(c, LK_EXIT_USAGE, "%s", err);
        return;
    }
    size_t n = 0;
    struct lk_webtoken *list = load(c, &n);
    if (!list) {
        return;
    }
    if (n >= LK_WEBTOKEN_MAX) {
        free(list);
        api_reply_error(c, LK_EXIT_FAILED, "too many web tokens: at most %d; revoke one first",
                        LK_WEBTOKEN_MAX);
        return;
    }
    char token[LK_WEBTOKEN_LEN + 1];
    struct lk_webtoken *t = &list[n];
    memset(t, 0, sizeof(*t));
    lk_webtoken_generate(token, t->id);
    lk_webtoken_hash(token, t->hash);
    snprintf(t->role, sizeof(t->role), "%s", role);
    snprintf(t->name, sizeof(t->name), "%s", name);
    t->created = (int64_t) time(NULL);
    char werr[1024];
    if (lk_webtokens_save(root_of(c), list, n + 1, werr, sizeof(werr)) < 0) {
        free(list);
        api_reply_error(c, LK_EXIT_FAILED, "%s", werr);
        return;
    }
    json_t *data = token_json(t);
    json_object_set_new(data, "token", json_string(token));
    free(list);
    api_reply_ok(c, data);
}

static void h_list(struct conn *c, const json_t *args)
{
    (void) args;
    size_t n = 0;
    struct lk_webtoken *list = load(c, &n);
    if (!list) {
        return;
    }
    json_t *tokens = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(tokens, token_json(&list[i]));
    }
    free(list);
    api_reply_ok(c, json_pack("{s:o}", "tokens", tokens));
}

static void h_revoke(struct conn *c, const json_t *args)
{
    const char *id = json_string_value(json_object_get(args, "id"));
    if (!id || strlen(id) != LK_WEBTOKEN_ID_LEN ||
        strspn(id, "0123456789abcdef") != LK_WEBTOKEN_ID_LEN) {
        api_reply_error(c, LK_EXIT_USAGE, "invalid token id: %d hex digits expected",
                        LK_WEBTOKEN_ID_LEN);
        return;
    }
    size_t n = 0;
    struct lk_webtoken *list = load(c, &n);
    if (!list) {
        return;
    }
    size_t i = 0;
    while (i < n && strcmp(list[i].id, id) != 0) {
        i++;
    }
    if (i == n) {
        free(list);
        api_reply_error(c, LK_EXIT_FAILED, "no web token with id '%s'", id);
        return;
    }
    json_t *data = token_json(&list[i]);
    memmove(&list[i], &list[i + 1], (n - i - 1) * sizeof(list[0]));
    char werr[1024];
    int r = lk_webtokens_save(root_of(c), list, n - 1, werr, sizeof(werr));
    free(list);
    if (r < 0) {
        json_decref(data);
        api_reply_error(c, LK_EXIT_FAILED, "%s", werr);
        return;
    }
    api_reply_ok(c, data);
}

static void h_check(struct conn *c, const json_t *args)
{
    const char *token = json_string_value(json_object_get(args, "token"));
    size_t n = 0;
    struct lk_webtoken *list = load(c, &n);
    if (!list) {
        return;
    }
    const struct lk_webtoken *t = token ? lk_webtoken_find(list, n, token) : NULL;
    if (!t) {
        free(list);
        api_reply_error(c, LK_EXIT_DENIED, "invalid or revoked token");
        return;
    }
    json_t *data = json_pack("{s:s, s:s, s:s}", "id", t->id, "name", t->name, "role", t->role);
    free(list);
    api_reply_ok(c, data);
}

const struct route lk_api_web_routes[] = {
        {LK_CMD_WEB_TOKEN_CREATE, LK_ROLE_ADMIN, h_create},
        {LK_CMD_WEB_TOKEN_LIST, LK_ROLE_ADMIN, h_list},
        {LK_CMD_WEB_TOKEN_REVOKE, LK_ROLE_ADMIN, h_revoke},
        {LK_CMD_WEB_TOKEN_CHECK, LK_ROLE_ADMIN, h_check},
        {NULL, LK_ROLE_GUEST, NULL},
};
