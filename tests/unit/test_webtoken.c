/* Unit tests for src/lib/webtoken.c (the web console's tokens: form, hash, file lines)
 * and src/lib/webconf.c (lk.conf's [web] section). */
#include <errno.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "webconf.h"
#include "webtoken.h"

/* A new token has the form, differs each time, and is found by its hash only. */
static void lk_webtoken_generate__form_and_find(void **state)
{
    (void) state;
    char a[LK_WEBTOKEN_LEN + 1], b[LK_WEBTOKEN_LEN + 1];
    struct lk_webtoken list[2] = {0};
    lk_webtoken_generate(a, list[0].id);
    lk_webtoken_generate(b, list[1].id);
    assert_int_equal(strlen(a), LK_WEBTOKEN_LEN);
    assert_memory_equal(a, "lk_", 3);
    assert_true(lk_webtoken_is_token(a));
    assert_true(lk_webtoken_is_token(b));
    assert_string_not_equal(a, b);
    assert_string_not_equal(list[0].id, list[1].id);
    assert_int_equal(strlen(list[0].id), LK_WEBTOKEN_ID_LEN);
    lk_webtoken_hash(a, list[0].hash);
    lk_webtoken_hash(b, list[1].hash);
    assert_int_equal(strlen(list[0].hash), LK_WEBTOKEN_HASH_LEN);
    assert_null(strstr(list[0].hash, a + 3));
    assert_ptr_equal(lk_webtoken_find(list, 2, a), &list[0]);
    assert_ptr_equal(lk_webtoken_find(list, 2, b), &list[1]);
    /* One character changed, or a hash given as the token: nothing. */
    a[10] = a[10] == 'A' ? 'B' : 'A';
    assert_null(lk_webtoken_find(list, 2, a));
    assert_null(lk_webtoken_find(list, 2, list[0].hash));
    assert_null(lk_webtoken_find(list, 2, ""));
}

/* The known BLAKE2b-256 of "abc" (RFC 7693's test vector is BLAKE2b-512; this one is
 * b2sum -l 256). */
static void lk_webtoken_hash__blake2b_256(void **state)
{
    (void) state;
    char hash[LK_WEBTOKEN_HASH_LEN + 1];
    lk_webtoken_hash("abc", hash);
    assert_string_equal(hash, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

static void lk_webtoken_is_token__refuses(void **state)
{
    (void) state;
    assert_false(lk_webtoken_is_token(NULL));
    assert_false(lk_webtoken_is_token("lk_"));
    assert_false(lk_webtoken_is_token("xx_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    assert_false(lk_webtoken_is_token("lk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
    assert_false(lk_webtoken_is_token("lk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    assert_true(lk_webtoken_is_token("lk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-_"));
}

/* A line formats and parses back to the same token. */
static void lk_webtoken_parse_line__round_trip(void **state)
{
    (void) state;
    struct lk_webtoken t = {.created = 1700000000}, u;
    char token[LK_WEBTOKEN_LEN + 1], line[LK_WEBTOKEN_LINE_MAX], err[256];
    lk_webtoken_generate(token, t.id);
    lk_webtoken_hash(token, t.hash);
    snprintf(t.role, sizeof(t.role), "operator");
    snprintf(t.name, sizeof(t.name), "ci-bot");
    int len = lk_webtoken_format_line(&t, line, sizeof(line));
    assert_true(len > 0);
    assert_int_equal(line[len - 1], '\n');
    line[len - 1] = '\0';
    assert_int_equal(lk_webtoken_parse_line(line, &u, err, sizeof(err)), 0);
    assert_memory_equal(&t, &u, sizeof(t));
    assert_int_equal(lk_webtoken_parse_line("# comment", &u, err, sizeof(err)), 1);
    assert_int_equal(lk_webtoken_parse_line("   ", &u, err, sizeof(err)), 1);
}

/* Every field is checked: a damaged line gives no token. */
static void lk_webtoken_parse_line__refuses(void **state)
{
    (void) state;
    struct lk_webtoken u;
    char err[256];
    const char *hash = "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319";
    char line[512];
    snprintf(line, sizeof(line), "0123456789abcdef root 1 %s n", hash);
    assert_int_equal(lk_webtoken_parse_line(line, &u, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "invalid role: guest, operator or admin expected");
    snprintf(line, sizeof(line), "0123456789abcdeX admin 1 %s n", hash);
    assert_int_equal(lk_webtoken_parse_line(line, &u, err, sizeof(err)), -EINVAL);
    snprintf(line, sizeof(line), "0123456789abcdef admin -1 %s n", hash);
    assert_int_equal(lk_webtoken_parse_line(line, &u, err, sizeof(err)), -EINVAL);
    snprintf(line, sizeof(line), "0123456789abcdef admin 1 %.63s n", hash);
    assert_int_equal(lk_webtoken_parse_line(line, &u, err, sizeof(err)), -EINVAL);
    snprintf(line, sizeof(line), "0123456789abcdef admin 1 %s", hash);
    assert_int_equal(lk_webtoken_parse_line(line, &u, err, sizeof(err)), -EINVAL);
    snprintf(line, sizeof(line), "0123456789abcdef admin 1 %s n extra", hash);
    assert_int_equal(lk_webtoken_parse_line(line, &u, err, sizeof(err)), -EINVAL);
    snprintf(line, sizeof(line), "0123456789abcdef admin 1 %s ../x", hash);
    assert_int_equal(lk_webtoken_parse_line(line, &u, err, sizeof(err)), -EINVAL);
    snprintf(line, sizeof(line), "0123456789abcdef admin 1 %s ok", hash);
    assert_int_equal(lk_webtoken_parse_line(line, &u, err, sizeof(err)), 0);
    assert_string_equal(u.role, "admin");
}

static void lk_webtoken_validate_name__bounds(void **state)
{
    (void) state;
    char err[256], name[LK_WEBTOKEN_NAME_MAX + 2];
    memset(name, 'a', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    assert_int_equal(lk_webtoken_validate_name(name, err, sizeof(err)), -EINVAL);
    name[LK_WEBTOKEN_NAME_MAX] = '\0';
    assert_int_equal(lk_webtoken_validate_name(name, err, sizeof(err)), 0);
    assert_int_equal(lk_webtoken_validate_name("a b", err, sizeof(err)), -EINVAL);
    assert_int_equal(lk_webtoken_validate_name("", err, sizeof(err)), -EINVAL);
}

/* lkweb reads [web] out of the whole file; other sections are not its business. */
static void lk_web_conf_parse__section(void **state)
{
    (void) state;
    struct lk_web_conf conf;
    char err[512];
    const char *text = "[node]\nname = a\nlisten = 0.0.0.0:7400\n"
                       "[web]\n"
                       "# the console\n"
                       "listen = 0.0.0.0:8443 ; all\n"
                       "tls-cert = /etc/ssl/c.pem\n"
                       "tls-key = /etc/ssl/k.pem\n"
                       "metrics-auth = off\n"
                       "enabled = yes\n"
                       "[peer b]\npath = 1.2.3.4:7400\n";
    assert_int_equal(lk_web_conf_parse(text, &conf, err, sizeof(err)), 0);
    assert_string_equal(conf.listen, "0.0.0.0:8443");
    assert_string_equal(conf.tls_cert, "/etc/ssl/c.pem");
    assert_false(conf.metrics_auth);
    assert_true(conf.enabled);
    assert_int_equal(lk_web_conf_parse("[node]\nname = a\n", &conf, err, sizeof(err)), 0);
    assert_false(lk_web_conf_any(&conf));
    assert_true(conf.metrics_auth);
    assert_false(conf.enabled);
}

static void lk_web_conf_parse__refuses(void **state)
{
    (void) state;
    struct lk_web_conf conf;
    char err[512];
    assert_int_equal(lk_web_conf_parse("[web]\nport = 1\n", &conf, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "line 2: unknown setting"));
    assert_int_equal(lk_web_conf_parse("[web]\nenabled = on\n", &conf, err, sizeof(err)), -EINVAL);
    assert_int_equal(lk_web_conf_parse("[web]\nlisten = nowhere\n", &conf, err, sizeof(err)),
                     -EINVAL);
    assert_int_equal(lk_web_conf_parse("[web]\ntls-cert = rel.pem\n", &conf, err, sizeof(err)),
                     -EINVAL);
    assert_int_equal(lk_web_conf_parse("[web]\ntls-cert = /c.pem\n", &conf, err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "[web] tls-cert and tls-key go together");
    assert_int_equal(lk_web_conf_parse("[web]\nlisten\n", &conf, err, sizeof(err)), -EINVAL);
}

int main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_webtoken_generate__form_and_find),
            cmocka_unit_test(lk_webtoken_hash__blake2b_256),
            cmocka_unit_test(lk_webtoken_is_token__refuses),
            cmocka_unit_test(lk_webtoken_parse_line__round_trip),
            cmocka_unit_test(lk_webtoken_parse_line__refuses),
            cmocka_unit_test(lk_webtoken_validate_name__bounds),
            cmocka_unit_test(lk_web_conf_parse__section),
            cmocka_unit_test(lk_web_conf_parse__refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
