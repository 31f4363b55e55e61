/* Unit tests for inslist.c: the seventeen ins_list fields in the seed system's order,
 * seconds with and without a fraction, refusal of a field that contains the separator or
 * a newline, a buffer that is too small, and lk_format_seconds on its own; the LifeKeeper
 * commands' escaping of a field (lk_inslist_escape) and the separators it allows. Pure. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "inslist.h"

#define SEC 1000000ULL
#define SEP LK_FIELD_SEPARATOR

static void make_resource(struct lk_resource *res)
{
    memset(res, 0, sizeof(*res));
    snprintf(res->tag, sizeof(res->tag), "app1");
    snprintf(res->id, sizeof(res->id), "app1-id");
    snprintf(res->app, sizeof(res->app), "gen");
    snprintf(res->type, sizeof(res->type), "app");
    snprintf(res->info, sizeof(res->info), "port=8080");
    lk_settings_init(&res->settings);
    res->settings.quickchk_interval_usec = 180 * SEC;
    res->settings.deepchk_interval_usec = 600 * SEC;
    res->settings.local_recovery = true;
    res->settings.switchback = LK_SWITCHBACK_INTELLIGENT;
    res->settings.init = LK_INIT_AUTORES_ISP;
    res->state = LK_STATE_ISP;
    snprintf(res->reason, sizeof(res->reason), "restore action has succeeded");
    res->check_failures_in_row = 2;
    res->local_recoveries = 1;
}

/* Splits line at sep into fields (at most max); returns how many. */
static int split(char *line, char sep, char **fields, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        fields[n++] = p;
        char *next = strchr(p, sep);
        if (!next) {
            break;
        }
        *next = '\0';
        p = next + 1;
    }
    return n;
}

/* Error paths first. */

static void lk_inslist_format__separator_in_a_field(void **state)
{
    (void) state;
    struct lk_resource res;
    char buf[4096];

    make_resource(&res);
    snprintf(res.reason, sizeof(res.reason), "half%cway", SEP);
    int bad = 0;
    assert_int_equal(lk_inslist_format(&res, "node1", SEP, buf, sizeof(buf), &bad), -EINVAL);
    assert_int_equal(bad, 8);

    make_resource(&res);
    snprintf(res.info, sizeof(res.info), "a:b");
    bad = 0;
    assert_int_equal(lk_inslist_format(&res, "node1", ':', buf, sizeof(buf), &bad), -EINVAL);
    assert_int_equal(bad, 6);

    make_resource(&res);
    bad = 0;
    assert_int_equal(lk_inslist_format(&res,
                                       "no\x1f"
                                       "de",
                                       SEP, buf, sizeof(buf), &bad),
                     -EINVAL);
    assert_int_equal(bad, 1);

    /* A separator that occurs in a generated field: the seconds contain '.'. */
    make_resource(&res);
    res.settings.deepchk_interval_usec = SEC / 2;
    bad = 0;
    assert_int_equal(lk_inslist_format(&res, "node1", '.', buf, sizeof(buf), &bad), -EINVAL);
    assert_int_equal(bad, 15);
}

static void lk_inslist_format__newline_in_a_field(void **state)
{
    (void) state;
    struct lk_resource res;
    char buf[4096];
    make_resource(&res);
    snprintf(res.reason, sizeof(res.reason), "line1\nline2");
    int bad = 0;
    assert_int_equal(lk_inslist_format(&res, "node1", SEP, buf, sizeof(buf), &bad), -EINVAL);
    assert_int_equal(bad, 8);
}

static void lk_inslist_format__bad_field_pointer_optional(void **state)
{
    (void) state;
    struct lk_resource res;
    char buf[4096];
    make_resource(&res);
    snprintf(res.tag, sizeof(res.tag), "a%cb", SEP);
    assert_int_equal(lk_inslist_format(&res, "node1", SEP, buf, sizeof(buf), NULL), -EINVAL);
}

static void lk_inslist_format__buffer_too_small(void **state)
{
    (void) state;
    struct lk_resource res;
    char buf[4096];
    make_resource(&res);
    int n = lk_inslist_format(&res, "node1", SEP, buf, sizeof(buf), NULL);
    assert_true(n > 0);

    char small[4096];
    assert_int_equal(lk_inslist_format(&res, "node1", SEP, small, (size_t) n, NULL), -ENOSPC);
    assert_int_equal(lk_inslist_format(&res, "node1", SEP, small, 1, NULL), -ENOSPC);
    assert_int_equal(lk_inslist_format(&res, "node1", SEP, small, 0, NULL), -ENOSPC);

    /* Exactly the line and its NUL fits. */
    assert_int_equal(lk_inslist_format(&res, "node1", SEP, small, (size_t) n + 1, NULL), n);
    assert_string_equal(small, buf);
}

static void lk_inslist_format__seventeen_fields_in_order(void **state)
{
    (void) state;
    struct lk_resource res;
    char buf[4096];
    make_resource(&res);
    int n = lk_inslist_format(&res, "node1", SEP, buf, sizeof(buf), NULL);
    assert_int_equal(n, (int) strlen(buf));
    assert_null(strchr(buf, '\n'));

    char *f[LK_INSLIST_FIELDS + 1];
    assert_int_equal(split(buf, SEP, f, LK_INSLIST_FIELDS + 1), LK_INSLIST_FIELDS);
    assert_string_equal(f[0], "node1");
    assert_string_equal(f[1], "gen");
    assert_string_equal(f[2], "app");
    assert_string_equal(f[3], "app1");
    assert_string_equal(f[4], "app1-id");
    assert_string_equal(f[5], "port=8080");
    assert_string_equal(f[6], "ISP");
    assert_string_equal(f[7], "restore action has succeeded");
    assert_string_equal(f[8], "AUTORES_ISP");
    assert_string_equal(f[9], "");
    assert_string_equal(f[10], "2");
    assert_string_equal(f[11], "1");
    assert_string_equal(f[12], "");
    assert_string_equal(f[13], "180");
    assert_string_equal(f[14], "600");
    assert_string_equal(f[15], "1");
    assert_string_equal(f[16], "INTELLIGENT");
}

static void lk_inslist_format__whole_line(void **state)
{
    (void) state;
    struct lk_resource res;
    char buf[4096];
    make_resource(&res);
    res.state = LK_STATE_OSF;
    /* ':' as the separator, as scripts of the seed system sometimes ask for it. */
    snprintf(res.reason, sizeof(res.reason), "restore action failed, exit status 1");
    res.settings.init = LK_INIT_INIT_OSU;
    res.settings.local_recovery = false;
    res.settings.switchback = LK_SWITCHBACK_AUTOMATIC;
    res.settings.quickchk_interval_usec = SEC / 2;
    res.settings.deepchk_interval_usec = SEC / 4;
    res.check_failures_in_row = 0;
    res.local_recoveries = 0;
    int n = lk_inslist_format(&res, "node1", ':', buf, sizeof(buf), NULL);
    assert_string_equal(buf, "node1:gen:app:app1:app1-id:port=8080:OSF:"
                             "restore action failed, exit status 1:INIT_OSU:"
                             ":0:0::0.5:0.25:0:AUTOMATIC");
    assert_int_equal(n, (int) strlen(buf));
}

static void lk_inslist_format__fractional_and_zero_seconds(void **state)
{
    (void) state;
    struct lk_resource res;
    char buf[4096];
    char *f[LK_INSLIST_FIELDS + 1];
    make_resource(&res);
    res.settings.quickchk_interval_usec = SEC / 2;
    res.settings.deepchk_interval_usec = SEC / 4;
    lk_inslist_format(&res, "node1", SEP, buf, sizeof(buf), NULL);
    assert_int_equal(split(buf, SEP, f, LK_INSLIST_FIELDS + 1), LK_INSLIST_FIELDS);
    assert_string_equal(f[13], "0.5");
    assert_string_equal(f[14], "0.25");

    make_resource(&res);
    res.settings.quickchk_interval_usec = 0;
    res.settings.deepchk_interval_usec = 180 * SEC;
    lk_inslist_format(&res, "node1", SEP, buf, sizeof(buf), NULL);
    assert_int_equal(split(buf, SEP, f, LK_INSLIST_FIELDS + 1), LK_INSLIST_FIELDS);
    assert_string_equal(f[13], "0");
    assert_string_equal(f[14], "180");
}

static void lk_inslist_format__empty_fields_keep_their_place(void **state)
{
    (void) state;
    struct lk_resource res;
    char buf[4096];
    char *f[LK_INSLIST_FIELDS + 1];
    make_resource(&res);
    res.info[0] = '\0';
    res.reason[0] = '\0';
    lk_inslist_format(&res, "", SEP, buf, sizeof(buf), NULL);
    assert_int_equal(split(buf, SEP, f, LK_INSLIST_FIELDS + 1), LK_INSLIST_FIELDS);
    assert_string_equal(f[0], "");
    assert_string_equal(f[5], "");
    assert_string_equal(f[6], "ISP");
    assert_string_equal(f[7], "");
    assert_string_equal(f[8], "AUTORES_ISP");
}

static void lk_inslist_format__default_separator_is_0x1f(void **state)
{
    (void) state;
    assert_int_equal(LK_FIELD_SEPARATOR, 0x1f);
    struct lk_resource res;
    char buf[4096];
    make_resource(&res);
    lk_inslist_format(&res, "node1", LK_FIELD_SEPARATOR, buf, sizeof(buf), NULL);
    size_t seps = 0;
    for (const char *p = buf; *p; p++) {
        seps += *p == 0x1f;
    }
    assert_int_equal(seps, LK_INSLIST_FIELDS - 1);
    static const char start[] = "node1\x1fgen\x1f"
                                "app\x1f"
                                "app1\x1f";
    assert_memory_equal(buf, start, sizeof(start) - 1);
}

static void lk_inslist_format__every_state_and_init(void **state)
{
    (void) state;
    static const char *const states[] = {"ISP", "ISU", "OSU", "OSF"};
    static const char *const inits[] = {"AUTORES_ISP", "INIT_ISP", "INIT_OSU"};
    struct lk_resource res;
    char buf[4096];
    char *f[LK_INSLIST_FIELDS + 1];
    for (int s = 0; s < LK_STATE_COUNT; s++) {
        make_resource(&res);
        res.state = (enum lk_state) s;
        res.settings.init = (enum lk_init)(s % LK_INIT_COUNT);
        lk_inslist_format(&res, "node1", SEP, buf, sizeof(buf), NULL);
        assert_int_equal(split(buf, SEP, f, LK_INSLIST_FIELDS + 1), LK_INSLIST_FIELDS);
        assert_string_equal(f[6], states[s]);
        assert_string_equal(f[8], inits[s % LK_INIT_COUNT]);
    }
}

/* lk_format_seconds */

static void lk_format_seconds__small_buffer_truncates(void **state)
{
    (void) state;
    char buf[4];
    assert_ptr_equal(lk_format_seconds(123456 * SEC, buf, sizeof(buf)), buf);
    assert_string_equal(buf, "123");
    assert_ptr_equal(lk_format_seconds(SEC / 4, buf, sizeof(buf)), buf);
    assert_string_equal(buf, "0.2");
}

static void lk_format_seconds__values(void **state)
{
    (void) state;
    static const struct {
        unsigned long long usec;
        const char *text;
    } cases[] = {
            {0, "0"},
            {1, "0.000001"},
            {10, "0.00001"},
            {100000, "0.1"},
            {250000, "0.25"},
            {500000, "0.5"},
            {123456, "0.123456"},
            {1000000, "1"},
            {1500000, "1.5"},
            {10 * SEC, "10"},
            {180 * SEC, "180"},
            {86400 * SEC + 1, "86400.000001"},
            {ULLONG_MAX, "18446744073709.551615"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[32];
        lk_format_seconds(cases[i].usec, buf, sizeof(buf));
        if (strcmp(buf, cases[i].text) != 0) {
            fail_msg("%llu usec: expected '%s', got '%s'", cases[i].usec, cases[i].text, buf);
        }
    }
}

static void lk_inslist_escape__cut_buffer_keeps_whole_escapes(void **state)
{
    (void) state;
    char buf[6];
    /* "ab" + "\054" needs 6 bytes and the NUL a 7th: the escape is left out whole. */
    assert_int_equal(lk_inslist_escape("ab,c", ',', buf, sizeof(buf)), 7);
    assert_string_equal(buf, "ab");
    assert_int_equal(lk_inslist_escape("abc", ',', NULL, 0), 3);
    char one[1];
    assert_int_equal(lk_inslist_escape("x", ',', one, sizeof(one)), 1);
    assert_string_equal(one, "");
}

static void lk_inslist_escape__separator_backslash_and_controls(void **state)
{
    (void) state;
    char buf[128];
    assert_int_equal(lk_inslist_escape("x:y,z", ',', buf, sizeof(buf)), 8);
    assert_string_equal(buf, "x:y\\054z");
    assert_int_equal(lk_inslist_escape("a\\b", '|', buf, sizeof(buf)), 6);
    assert_string_equal(buf, "a\\134b");
    assert_int_equal(lk_inslist_escape("1\0012\n3\t4", '\001', buf, sizeof(buf)), 13);
    assert_string_equal(buf, "1\\0012\\0123\t4");
    /* Nothing to escape: copied as it is, the empty field too. */
    assert_int_equal(lk_inslist_escape("plain text", ',', buf, sizeof(buf)), 10);
    assert_string_equal(buf, "plain text");
    assert_int_equal(lk_inslist_escape("", ',', buf, sizeof(buf)), 0);
    assert_string_equal(buf, "");
    /* UTF-8 passes through untouched. */
    assert_int_equal(lk_inslist_escape("caf\xc3\xa9", ',', buf, sizeof(buf)), 5);
    assert_string_equal(buf, "caf\xc3\xa9");
}

static void lk_inslist_escape__round_trip_splits_into_the_fields(void **state)
{
    (void) state;
    /* Escaped fields joined by the separator split back into the same number of fields,
     * and each unescapes to the original. */
    const char *fields[] = {"a,b", "\\054", "", ",,", "end\\"};
    char line[256] = "";
    for (size_t i = 0; i < 5; i++) {
        char esc[64];
        lk_inslist_escape(fields[i], ',', esc, sizeof(esc));
        strcat(line, esc);
        if (i < 4) {
            strcat(line, ",");
        }
    }
    size_t commas = 0;
    for (const char *p = line; *p; p++) {
        commas += *p == ',';
    }
    assert_int_equal(commas, 4);
    char *save = NULL, *tok = strtok_r(line, ",", &save);
    for (size_t i = 0; i < 5; i++) {
        if (fields[i][0] == '\0') {
            continue; /* strtok skips empty fields; the count above covers them */
        }
        char out[64];
        size_t n = 0;
        for (const char *p = tok; *p; p++) {
            if (p[0] == '\\' && p[1] && p[2] && p[3]) {
                out[n++] = (char) ((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
                p += 3;
            } else {
                out[n++] = *p;
            }
        }
        out[n] = '\0';
        assert_string_equal(out, fields[i]);
        tok = strtok_r(NULL, ",", &save);
    }
}

static void lk_inslist_separator_ok__refuses_what_escapes_contain(void **state)
{
    (void) state;
    assert_false(lk_inslist_separator_ok('\0'));
    assert_false(lk_inslist_separator_ok('\n'));
    assert_false(lk_inslist_separator_ok('\\'));
    for (char c = '0'; c <= '7'; c++) {
        assert_false(lk_inslist_separator_ok(c));
    }
    assert_true(lk_inslist_separator_ok('8'));
    assert_true(lk_inslist_separator_ok(','));
    assert_true(lk_inslist_separator_ok('\001'));
    assert_true(lk_inslist_separator_ok('|'));
}

static void lk_inslist_format_escaped__separator_in_fields_keeps_seventeen(void **state)
{
    (void) state;
    struct lk_resource res;
    char buf[4096];
    make_resource(&res);
    snprintf(res.reason, sizeof(res.reason), "failed, again");
    snprintf(res.info, sizeof(res.info), "a\\b,c");
    int n = lk_inslist_format_escaped(&res, "node,1", ',', buf, sizeof(buf));
    assert_true(n > 0);
    assert_int_equal((size_t) n, strlen(buf));
    size_t commas = 0;
    for (const char *p = buf; *p; p++) {
        commas += *p == ',';
    }
    assert_int_equal(commas, LK_INSLIST_FIELDS - 1);
    assert_non_null(strstr(buf, "node\\0541,"));
    assert_non_null(strstr(buf, ",a\\134b\\054c,"));
    assert_non_null(strstr(buf, ",failed\\054 again,"));
    /* Too small: -ENOSPC, never a cut line. */
    assert_int_equal(lk_inslist_format_escaped(&res, "node1", ',', buf, 20), -ENOSPC);
    assert_int_equal(lk_inslist_format_escaped(&res, "node,1", ',', buf, (size_t) n), -ENOSPC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_inslist_format__separator_in_a_field),
            cmocka_unit_test(lk_inslist_format__newline_in_a_field),
            cmocka_unit_test(lk_inslist_format__bad_field_pointer_optional),
            cmocka_unit_test(lk_inslist_format__buffer_too_small),
            cmocka_unit_test(lk_inslist_format__seventeen_fields_in_order),
            cmocka_unit_test(lk_inslist_format__whole_line),
            cmocka_unit_test(lk_inslist_format__fractional_and_zero_seconds),
            cmocka_unit_test(lk_inslist_format__empty_fields_keep_their_place),
            cmocka_unit_test(lk_inslist_format__default_separator_is_0x1f),
            cmocka_unit_test(lk_inslist_format__every_state_and_init),
            cmocka_unit_test(lk_format_seconds__small_buffer_truncates),
            cmocka_unit_test(lk_format_seconds__values),
            cmocka_unit_test(lk_inslist_escape__cut_buffer_keeps_whole_escapes),
            cmocka_unit_test(lk_inslist_escape__separator_backslash_and_controls),
            cmocka_unit_test(lk_inslist_escape__round_trip_splits_into_the_fields),
            cmocka_unit_test(lk_inslist_separator_ok__refuses_what_escapes_contain),
            cmocka_unit_test(lk_inslist_format_escaped__separator_in_fields_keeps_seventeen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
