/* Tests of built-in check specifications (src/lib/checkspec.c) and of the settings that hold
 * them (quickchk-check, deepchk-check in src/lib/resource.c): every form accepted with its
 * fields, every refusal one line that names what is wrong, a refused SPEC leaving the
 * settings as they were, and lk_resource_has_check for the engine. Pure: no files, no loop. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "checkspec.h"
#include "resource.h"

static void assert_refused(const char *text, const char *words)
{
    struct lk_checkspec spec;
    char err[512] = "";
    if (lk_checkspec_parse(text, &spec, err, sizeof(err)) != -EINVAL) {
        fail_msg("'%s' was accepted", text);
    }
    if (!strstr(err, words)) {
        fail_msg("'%s': expected '%s' in '%s'", text, words, err);
    }
    assert_null(strchr(err, '\n'));
    assert_non_null(strstr(err, "invalid check"));
}

static void lk_checkspec_parse__bad_inputs_one_line(void **state)
{
    (void) state;
    assert_refused("tcp", "expected tcp:HOST:PORT");
    assert_refused("ftp://1.2.3.4/", "expected tcp:HOST:PORT");
    assert_refused("Process", "expected tcp:HOST:PORT");
    assert_refused("process ", "expected tcp:HOST:PORT");
    assert_refused("tcp:", "missing host");
    assert_refused("tcp::80", "missing host");
    assert_refused("tcp:127.0.0.1", "missing ':PORT'");
    assert_refused("tcp:127.0.0.1:", "port must be a number from 1 to 65535");
    assert_refused("tcp:127.0.0.1:0", "port must be a number from 1 to 65535");
    assert_refused("tcp:127.0.0.1:65536", "port must be a number from 1 to 65535");
    assert_refused("tcp:127.0.0.1:+80", "port must be a number");
    assert_refused("tcp:127.0.0.1:080000", "port must be a number");
    assert_refused("tcp:127.0.0.1:8o", "port must be a number");
    assert_refused("tcp:localhost:80", "no name lookup");
    assert_refused("tcp:db.example.com:5432", "no name lookup");
    assert_refused("tcp:256.1.1.1:80", "no name lookup");
    assert_refused("tcp:::1:80", "in brackets");
    assert_refused("tcp:[::1:80", "closing ']'");
    assert_refused("tcp:[::1]80", "expected ':PORT'");
    assert_refused("tcp:[::1]", "missing ':PORT'");
    assert_refused("tcp:[127.0.0.1]:80", "no name lookup");
    assert_refused("tcp:[fe80::1%eth0]:80", "no name lookup");
    assert_refused("http://127.0.0.1:80", "missing the path");
    assert_refused("http://:80/", "missing host");
    assert_refused("http://web:80/", "no name lookup");
    assert_refused("http://127.0.0.1:99999/", "port must be");
    assert_refused("http://127.0.0.1/a b", "printable ASCII without spaces");
    assert_refused("http://127.0.0.1/a#b", "without spaces or '#'");
    assert_refused("http://127.0.0.1/=099", "status must be from 100 to 599");
    assert_refused("http://127.0.0.1/=600", "status must be from 100 to 599");
    assert_refused("http://127.0.0.1/x~", "'~' must be followed");
    assert_refused("https://127.0.0.1/", "no TLS");
    /* Control bytes and bytes outside ASCII: refused, and the SPEC is not quoted. */
    struct lk_checkspec spec;
    char err[512];
    assert_int_equal(lk_checkspec_parse("http://127.0.0.1/\r\nX-Evil: 1", &spec, err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "invalid check: contains a control character or a byte outside ASCII");
    assert_int_equal(lk_checkspec_parse("tcp:127.0.0.1:80\t", &spec, err, sizeof(err)), -EINVAL);
    assert_null(strchr(err, '\t'));
    assert_int_equal(lk_checkspec_parse("http://127.0.0.1/\xc3\xa9", &spec, err, sizeof(err)),
                     -EINVAL);
    assert_int_equal(lk_checkspec_parse(NULL, &spec, err, sizeof(err)), -EINVAL);
    char longer[LK_CHECKSPEC_MAX + 8];
    snprintf(longer, sizeof(longer), "http://127.0.0.1/");
    memset(longer + strlen(longer), 'a', sizeof(longer) - strlen(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    assert_int_equal(lk_checkspec_parse(longer, &spec, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "longer than 255 bytes"));
}

static void lk_checkspec_parse__tcp_forms(void **state)
{
    (void) state;
    struct lk_checkspec spec;
    char err[256], buf[128];
    assert_int_equal(lk_checkspec_parse("tcp:127.0.0.1:8080", &spec, err, sizeof(err)), 0);
    assert_int_equal(spec.kind, LK_CHECK_TCP);
    assert_false(spec.ipv6);
    assert_string_equal(spec.host, "127.0.0.1");
    assert_int_equal(spec.port, 8080);
    assert_string_equal(lk_checkspec_target(&spec, buf, sizeof(buf)), "tcp 127.0.0.1:8080");
    assert_int_equal(lk_checkspec_parse("tcp:[::1]:65535", &spec, err, sizeof(err)), 0);
    assert_true(spec.ipv6);
    assert_string_equal(spec.host, "::1");
    assert_int_equal(spec.port, 65535);
    assert_string_equal(lk_checkspec_target(&spec, buf, sizeof(buf)), "tcp [::1]:65535");
    assert_int_equal(lk_checkspec_parse("tcp:10.0.0.1:1", &spec, err, sizeof(err)), 0);
    assert_int_equal(spec.port, 1);
    assert_int_equal(lk_checkspec_parse("", &spec, err, sizeof(err)), 0);
    assert_int_equal(spec.kind, LK_CHECK_NONE);
    assert_int_equal(lk_checkspec_parse("process", &spec, err, sizeof(err)), 0);
    assert_int_equal(spec.kind, LK_CHECK_PROCESS);
    assert_string_equal(lk_checkspec_target(&spec, buf, sizeof(buf)), "process");
}

static void lk_checkspec_parse__http_forms(void **state)
{
    (void) state;
    struct lk_checkspec spec;
    char err[256], buf[512];
    assert_int_equal(lk_checkspec_parse("http://127.0.0.1:8080/health", &spec, err, sizeof(err)),
                     0);
    assert_int_equal(spec.kind, LK_CHECK_HTTP);
    assert_int_equal(spec.port, 8080);
    assert_string_equal(spec.path, "/health");
    assert_int_equal(spec.status, 200);
    assert_string_equal(spec.body, "");
    assert_string_equal(lk_checkspec_target(&spec, buf, sizeof(buf)), "http 127.0.0.1:8080/health");
    /* The port defaults to 80. */
    assert_int_equal(lk_checkspec_parse("http://127.0.0.1/", &spec, err, sizeof(err)), 0);
    assert_int_equal(spec.port, 80);
    assert_string_equal(spec.path, "/");
    assert_int_equal(lk_checkspec_parse("http://[::1]:81/s=204", &spec, err, sizeof(err)), 0);
    assert_true(spec.ipv6);
    assert_string_equal(spec.path, "/s");
    assert_int_equal(spec.status, 204);
    /* The body runs from the first '~' to the end, '~' and '=' included. */
    assert_int_equal(lk_checkspec_parse("http://127.0.0.1:80/q?a=1=503~db: ok ~= yes", &spec, err,
                                        sizeof(err)),
                     0);
    assert_string_equal(spec.path, "/q?a=1");
    assert_int_equal(spec.status, 503);
    assert_string_equal(spec.body, "db: ok ~= yes");
    assert_int_equal(lk_checkspec_parse("http://127.0.0.1/x~ready", &spec, err, sizeof(err)), 0);
    assert_string_equal(spec.path, "/x");
    assert_int_equal(spec.status, 200);
    assert_string_equal(spec.body, "ready");
    /* "=DD" or "=DDDD" is part of the path, not a status. */
    assert_int_equal(lk_checkspec_parse("http://127.0.0.1/v?n=42", &spec, err, sizeof(err)), 0);
    assert_string_equal(spec.path, "/v?n=42");
    assert_int_equal(spec.status, 200);
    assert_int_equal(lk_checkspec_parse("http://127.0.0.1/v?n=4242", &spec, err, sizeof(err)), 0);
    assert_string_equal(spec.path, "/v?n=4242");
    /* A path that ends in "=DDD" gives the status after it. */
    assert_int_equal(lk_checkspec_parse("http://127.0.0.1/v?n=123=200", &spec, err, sizeof(err)),
                     0);
    assert_string_equal(spec.path, "/v?n=123");
    assert_int_equal(spec.status, 200);
}

static void lk_settings_set__checks_refused_unchanged(void **state)
{
    (void) state;
    struct lk_settings s, before;
    lk_settings_init(&s);
    char err[512], buf[LK_PIDFILE_MAX];
    assert_string_equal(lk_settings_get(&s, "quickchk-check", buf, sizeof(buf)), "");
    assert_true(lk_settings_is_default(&s, "quickchk-check"));
    assert_int_equal(lk_settings_set(&s, "quickchk-check", "tcp:127.0.0.1:80", err, sizeof(err)),
                     0);
    assert_int_equal(
            lk_settings_set(&s, "deepchk-check", "http://127.0.0.1/=204", err, sizeof(err)), 0);
    before = s;
    assert_int_equal(lk_settings_set(&s, "quickchk-check", "tcp:nowhere:80", err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "quickchk-check: invalid check 'tcp:nowhere:80'"));
    assert_int_equal(lk_settings_set(&s, "deepchk-check", "http://x/", err, sizeof(err)), -EINVAL);
    assert_memory_equal(&s, &before, sizeof(s));
    assert_string_equal(lk_settings_get(&s, "quickchk-check", buf, sizeof(buf)),
                        "tcp:127.0.0.1:80");
    assert_string_equal(lk_settings_get(&s, "deepchk-check", buf, sizeof(buf)),
                        "http://127.0.0.1/=204");
    assert_false(lk_settings_is_default(&s, "quickchk-check"));
    /* "" removes it. */
    assert_int_equal(lk_settings_set(&s, "quickchk-check", "", err, sizeof(err)), 0);
    assert_string_equal(s.quickchk_check, "");
}

static void lk_resource_has_check__script_or_builtin(void **state)
{
    (void) state;
    struct lk_resource res;
    memset(&res, 0, sizeof(res));
    lk_settings_init(&res.settings);
    res.has_script[LK_ACTION_RESTORE] = true;
    res.has_script[LK_ACTION_REMOVE] = true;
    assert_false(lk_resource_has_check(&res, LK_ACTION_QUICKCHK));
    assert_false(lk_resource_has_check(&res, LK_ACTION_DEEPCHK));
    assert_false(lk_resource_has_check(&res, LK_ACTION_NONE));
    assert_null(lk_resource_builtin_check(&res, LK_ACTION_QUICKCHK));
    char err[256];
    assert_int_equal(lk_settings_set(&res.settings, "quickchk-check", "process", err, sizeof(err)),
                     0);
    assert_true(lk_resource_has_check(&res, LK_ACTION_QUICKCHK));
    assert_false(lk_resource_has_check(&res, LK_ACTION_DEEPCHK));
    assert_string_equal(lk_resource_builtin_check(&res, LK_ACTION_QUICKCHK), "process");
    assert_null(lk_resource_builtin_check(&res, LK_ACTION_RESTORE));
    res.has_script[LK_ACTION_DEEPCHK] = true;
    assert_true(lk_resource_has_check(&res, LK_ACTION_DEEPCHK));
    assert_null(lk_resource_builtin_check(&res, LK_ACTION_DEEPCHK));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_checkspec_parse__bad_inputs_one_line),
            cmocka_unit_test(lk_checkspec_parse__tcp_forms),
            cmocka_unit_test(lk_checkspec_parse__http_forms),
            cmocka_unit_test(lk_settings_set__checks_refused_unchanged),
            cmocka_unit_test(lk_resource_has_check__script_or_builtin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
