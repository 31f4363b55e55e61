/* lk.conf: parsed with inih, every value validated, unknown keys refused so that a typo
 * does not silently fall back to a default. */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <string.h>

struct parse_ctx {
    struct lk_config *config;
    char *err;
    size_t err_size;
    const char *path;
    int line;
};

static int handler(void *user, const char *section, const char *name, const char *value)
{
    struct parse_ctx *ctx = user;
    char verr[256];
    if (strcmp(section, "node") == 0 && strcmp(name, "name") == 0) {
        if (lk_validate_tag(value, "node name", verr, sizeof(verr)) < 0) {
            snprintf(ctx->err, ctx->err_size, "%s: %s", ctx->path, verr);
            return 0;
        }
        snprintf(ctx->config->node, sizeof(ctx->config->node), "%s", value);
        return 1;
    }
    if (strcmp(section, "node") == 0 && strcmp(name, "listen") == 0) {
        if (strlen(value) >= sizeof(ctx->config->listen)) {
            snprintf(ctx->err, ctx->err_size, "%s: listen address too long", ctx->path);
            return 0;
        }
        snprintf(ctx->config->listen, sizeof(ctx->config->listen), "%s", value);
        return 1;
    }
    snprintf(ctx->err, ctx->err_size, "%s: unknown setting '%s' in section [%s]", ctx->path, name,
             section);
    return 0;
}

int lk_config_load(const char *path, struct lk_config *config, char *err, size_t err_size)
{
    memset(config, 0, sizeof(*config));
    struct parse_ctx ctx = {.config = config, .err = err, .err_size = err_size, .path = path};
    err[0] = '\0';
    int r = ini_parse(path, handler, &ctx);
    if (r == -1) {
        snprintf(err, err_size, "cannot read '%s': %s", path, strerror(errno));
        return -ENOENT;
    }
    if (r != 0) {
        if (!err[0]) {
            snprintf(err, err_size, "%s: syntax error on line %d", path, r);
        }
        return -EINVAL;
    }
    if (!config->node[0]) {
        snprintf(err, err_size, "%s: [node] name is missing", path);
        return -EINVAL;
    }
    return 0;
}
