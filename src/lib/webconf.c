/* lk.conf's [web] section (webconf.h): each key's check and lkweb's own reading of the
 * section out of the file's text. lkd parses the whole file (io/config.c) and calls
 * lk_web_conf_set for each [web] line, so both read the same values the same way.
 *
 * Pure: strings only; it never opens the file nor starts anything. */
#include "webconf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

void lk_web_conf_init(struct lk_web_conf *conf)
{
    memset(conf, 0, sizeof(*conf));
    conf->metrics_auth = true;
}

static int path_value(char *dst, const char *key, const char *value, char *err, size_t err_size)
{
    if (value[0] != '/' || strlen(value) >= LK_WEB_PATH_MAX) {
        return lk_fail_einval(err, err_size, "'%s' must be an absolute path of at most %d bytes",
                              key, LK_WEB_PATH_MAX - 1);
    }
    for (const char *p = value; *p; p++) {
        if ((unsigned char) *p < 0x20 || *p == 0x7f) {
            return lk_fail_einval(err, err_size, "'%s' contains a control character", key);
        }
    }
    snprintf(dst, LK_WEB_PATH_MAX, "%s", value);
    return 0;
}

static int bool_value(bool *dst, bool *set, const char *key, const char *value, const char *yes,
                      const char *no, char *err, size_t err_size)
{
    if (strcmp(value, yes) == 0) {
        *dst = true;
    } else if (strcmp(value, no) == 0) {
        *dst = false;
    } else {
        return lk_fail_einval(err, err_size, "invalid %s '%s': expected %s or %s", key, value, yes,
                              no);
    }
    *set = true;
    return 0;
}

int lk_web_conf_set(struct lk_web_conf *conf, const char *key, const char *value, char *err,
                    size_t err_size)
{
    if (strcmp(key, "listen") == 0) {
        char verr[256];
        if (lk_address_canonical(value, "web listen address", false, conf->listen, verr,
                                 sizeof(verr)) < 0) {
            return lk_fail_einval(err, err_size, "%s", verr);
        }
        return 0;
    }
    if (strcmp(key, "tls-cert") == 0) {
        return path_value(conf->tls_cert, key, value, err, err_size);
    }
    if (strcmp(key, "tls-key") == 0) {
        return path_value(conf->tls_key, key, value, err, err_size);
    }
    if (strcmp(key, "metrics-auth") == 0) {
        return bool_value(&conf->metrics_auth, &conf->metrics_auth_set, key, value, "on", "off",
                          err, err_size);
    }
    if (strcmp(key, "enabled") == 0) {
        return bool_value(&conf->enabled, &conf->enabled_set, key, value, "yes", "no", err,
                          err_size);
    }
    return lk_fail_einval(err, err_size,
                          "unknown setting in section [web]: expected listen, tls-cert, tls-key, "
                          "metrics-auth or enabled");
}

int lk_web_conf_check(const struct lk_web_conf *conf, char *err, size_t err_size)
{
    if (!conf->tls_cert[0] != !conf->tls_key[0]) {
        return lk_fail_einval(err, err_size, "[web] tls-cert and tls-key go together");
    }
    return 0;
}

bool lk_web_conf_any(const struct lk_web_conf *conf)
{
    return conf->listen[0] || conf->tls_cert[0] || conf->tls_key[0] || conf->metrics_auth_set ||
           conf->enabled_set;
}

/* Trims spaces at both ends of s in place; returns its start. */
static char *trim(char *s)
{
    while (isspace((unsigned char) *s)) {
        s++;
    }
    size_t len = strlen(s);
    while (len > 0 && isspace((unsigned char) s[len - 1])) {
        s[--len] = '\0';
    }
    return s;
}

int lk_web_conf_parse(const char *text, struct lk_web_conf *conf, char *err, size_t err_size)
{
    lk_web_conf_init(conf);
    bool in_web = false;
    int lineno = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t) (nl - p) : strlen(p);
        lineno++;
        char line[LK_WEB_PATH_MAX + 64];
        bool too_long = len >= sizeof(line);
        snprintf(line, sizeof(line), "%.*s", (int) (too_long ? sizeof(line) - 1 : len), p);
        p += len + (nl ? 1 : 0);
        char *s = trim(line);
        if (*s == '[') {
            char *close = strchr(s, ']');
            in_web = close && (size_t) (close - s - 1) == strlen(LK_WEB_SECTION) &&
                     strncmp(s + 1, LK_WEB_SECTION, strlen(LK_WEB_SECTION)) == 0;
            continue;
        }
        if (!in_web || *s == '\0' || *s == '#' || *s == ';') {
            continue;
        }
        if (too_long) {
            return lk_fail_einval(err, err_size, "line %d: too long", lineno);
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            return lk_fail_einval(err, err_size, "line %d: expected 'key = value'", lineno);
        }
        *eq = '\0';
        char *value = eq + 1;
        /* An inline comment, as inih cuts it for lkd: ';' after whitespace. */
        for (char *q = value; *q; q++) {
            if (*q == ';' && q > value && isspace((unsigned char) q[-1])) {
                *q = '\0';
                break;
            }
        }
        char verr[512];
        if (lk_web_conf_set(conf, trim(s), trim(value), verr, sizeof(verr)) < 0) {
            return lk_fail_einval(err, err_size, "line %d: %s", lineno, verr);
        }
    }
    return lk_web_conf_check(conf, err, err_size);
}
