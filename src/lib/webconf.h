/* The [web] section of lk.conf (docs/WEB.md): where lkweb listens, its TLS certificate and
 * key, whether /metrics needs a token, whether lkstart starts lkweb. lkd checks and keeps
 * it (io/config.c writes it back unchanged); lkweb reads it. Pure: strings only. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "settings.h"

#define LK_WEB_SECTION        "web"
#define LK_WEB_DEFAULT_LISTEN "127.0.0.1:7480"
#define LK_WEB_PATH_MAX       1024

struct lk_web_conf {
    char listen[LK_ADDR_MAX];       /* "" = LK_WEB_DEFAULT_LISTEN */
    char tls_cert[LK_WEB_PATH_MAX]; /* "" = no TLS */
    char tls_key[LK_WEB_PATH_MAX];
    bool metrics_auth; /* default true */
    bool metrics_auth_set;
    bool enabled; /* default false */
    bool enabled_set;
};

/* The defaults: nothing set. */
void lk_web_conf_init(struct lk_web_conf *conf);

/* Sets key (listen, tls-cert, tls-key, metrics-auth, enabled) from value. Returns 0, or
 * -EINVAL with a one-line message in err (an unknown key, a bad value). */
int lk_web_conf_set(struct lk_web_conf *conf, const char *key, const char *value, char *err,
                    size_t err_size);

/* The checks across keys: tls-cert and tls-key both or neither. 0 or -EINVAL. */
int lk_web_conf_check(const struct lk_web_conf *conf, char *err, size_t err_size);

/* Whether anything is set (the section is written back only then). */
bool lk_web_conf_any(const struct lk_web_conf *conf);

/* Reads the [web] section out of lk.conf's whole text (other sections are skipped: lkd
 * checks them). Returns 0, or -EINVAL with "line N: why" in err. */
int lk_web_conf_parse(const char *text, struct lk_web_conf *conf, char *err, size_t err_size);
