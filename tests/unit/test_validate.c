/* Unit tests for validate.c: tags and ids, the app-info string, script headers and sizes,
 * and the two number parsers. Every rejection must come with a one-line message that names
 * the problem, because the CLI prints it as is. Pure: no loop, no files. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "validate.h"

#define SEC 1000000ULL
#define DAY (86400 * SEC)

static char err[512];

/* A message is one line, not empty, without a final period, and contains needle. */
static void assert_message(const char *needle)
{
    assert_true(err[0] != '\0');
    assert_null(strchr(err, '\n'));
    assert_null(strchr(err, '\r'));
    assert_true(err[strlen(err) - 1] != '.');
    if (!strstr(err, needle)) {
        fail_msg("message '%s' does not contain '%s'", err, needle);
    }
}

static int tag(const char *text)
{
    memset(err, 0, sizeof(err));
    return lk_validate_tag(text, "tag", err, sizeof(err));
}

/* lk_validate_tag: rejections first. */

static void lk_validate_tag__null_and_empty(void **state)
{
    (void) state;
    assert_int_equal(tag(NULL), -EINVAL);
    assert_message("tag must not be empty");
    assert_int_equal(tag(""), -EINVAL);
    assert_message("tag must not be empty");
}

static void lk_validate_tag__129_bytes_too_long(void **state)
{
    (void) state;
    char text[LK_TAG_MAX + 2];
    memset(text, 'a', LK_TAG_MAX + 1);
    text[LK_TAG_MAX + 1] = '\0';
    assert_int_equal(tag(text), -EINVAL);
    assert_message("tag is too long: 129 bytes, at most 128");
}

static void lk_validate_tag__slash(void **state)
{
    (void) state;
    assert_int_equal(tag("a/b"), -EINVAL);
    assert_message("contains '/'");
    assert_int_equal(tag("/etc"), -EINVAL);
    assert_message("contains '/'");
}

static void lk_validate_tag__dot_and_dotdot(void **state)
{
    (void) state;
    assert_int_equal(tag("."), -EINVAL);
    assert_message("must not start with '.'");
    assert_int_equal(tag(".."), -EINVAL);
    assert_message("must not start with '.'");
}

static void lk_validate_tag__leading_dash_or_dot(void **state)
{
    (void) state;
    assert_int_equal(tag("-rf"), -EINVAL);
    assert_message("tag '-rf' must not start with '-'");
    assert_int_equal(tag(".hidden"), -EINVAL);
    assert_message("tag '.hidden' must not start with '.'");
}

static void lk_validate_tag__space(void **state)
{
    (void) state;
    assert_int_equal(tag("app 1"), -EINVAL);
    assert_message("contains ' '");
}

static void lk_validate_tag__control_characters(void **state)
{
    (void) state;
    assert_int_equal(tag("a\x1f"
                         "b"),
                     -EINVAL);
    assert_message("tag contains control character 0x1f");
    assert_int_equal(tag("a\tb"), -EINVAL);
    assert_message("tag contains control character 0x09");
    assert_int_equal(tag("a\nb"), -EINVAL);
    assert_message("tag contains control character 0x0a");
    assert_int_equal(tag("a\x7f"), -EINVAL);
    assert_message("tag contains control character 0x7f");
}

static void lk_validate_tag__non_ascii(void **state)
{
    (void) state;
    assert_int_equal(tag("caf\xc3\xa9"), -EINVAL);
    assert_message("tag contains a non-ASCII byte");
}

static void lk_validate_tag__message_stays_one_line_when_newline_follows(void **state)
{
    (void) state;
    /* The first bad character is '/', but a later newline must not leak into the message. */
    assert_int_equal(tag("a/b\nc"), -EINVAL);
    assert_message("tag");
    assert_int_equal(tag("a b\r\nc"), -EINVAL);
    assert_message("tag");
}

static void lk_validate_tag__names_the_field(void **state)
{
    (void) state;
    assert_int_equal(lk_validate_tag("", "id", err, sizeof(err)), -EINVAL);
    assert_message("id must not be empty");
}

static void lk_validate_tag__null_err_is_allowed(void **state)
{
    (void) state;
    assert_int_equal(lk_validate_tag("a/b", "tag", NULL, 0), -EINVAL);
}

static void lk_validate_tag__128_bytes_ok(void **state)
{
    (void) state;
    char text[LK_TAG_MAX + 1];
    memset(text, 'a', LK_TAG_MAX);
    text[LK_TAG_MAX] = '\0';
    assert_int_equal(tag(text), 0);
}

static void lk_validate_tag__good_tags(void **state)
{
    (void) state;
    static const char *const good[] = {
            "a",  "app1", "App_1", "my-app", "my.app", "a..b",
            "x-", "x.",   "1",     "0.5",    "_x",     "A-b.c_D-9",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (tag(good[i]) != 0) {
            fail_msg("tag '%s' rejected: %s", good[i], err);
        }
    }
}

/* lk_validate_info */

static void lk_validate_info__too_long(void **state)
{
    (void) state;
    char text[LK_INFO_MAX + 2];
    memset(text, 'i', LK_INFO_MAX + 1);
    text[LK_INFO_MAX + 1] = '\0';
    assert_int_equal(lk_validate_info(text, err, sizeof(err)), -EINVAL);
    assert_message("app-info is too long: 1025 bytes, at most 1024");
}

static void lk_validate_info__control_characters(void **state)
{
    (void) state;
    assert_int_equal(lk_validate_info("a\x1f"
                                      "b",
                                      err, sizeof(err)),
                     -EINVAL);
    assert_message("app-info contains control character 0x1f");
    assert_int_equal(lk_validate_info("line1\nline2", err, sizeof(err)), -EINVAL);
    assert_message("app-info contains control character 0x0a");
    assert_int_equal(lk_validate_info("a\tb", err, sizeof(err)), -EINVAL);
    assert_message("0x09");
    assert_int_equal(lk_validate_info("a\x7f", err, sizeof(err)), -EINVAL);
    assert_message("0x7f");
}

static void lk_validate_info__ok(void **state)
{
    (void) state;
    char text[LK_INFO_MAX + 1];
    memset(text, 'i', LK_INFO_MAX);
    text[LK_INFO_MAX] = '\0';
    assert_int_equal(lk_validate_info(text, err, sizeof(err)), 0);
    assert_int_equal(lk_validate_info("", err, sizeof(err)), 0);
    assert_int_equal(lk_validate_info(NULL, err, sizeof(err)), 0);
    assert_int_equal(
            lk_validate_info("port=8080 path=/srv/app 'quoted' caf\xc3\xa9", err, sizeof(err)), 0);
}

/* lk_script_header_ok and lk_validate_script */

static void lk_script_header_ok__rejects(void **state)
{
    (void) state;
    assert_false(lk_script_header_ok("", 0));
    assert_false(lk_script_header_ok("#", 1));
    assert_false(lk_script_header_ok("#!", 1));
    assert_false(lk_script_header_ok("echo hi\n", 8));
    assert_false(lk_script_header_ok(" #!/bin/sh", 10));
    assert_false(lk_script_header_ok("\x7f"
                                     "EL",
                                     3));
    assert_false(lk_script_header_ok("\x7f"
                                     "elf",
                                     4));
}

static void lk_script_header_ok__accepts(void **state)
{
    (void) state;
    assert_true(lk_script_header_ok("#!", 2));
    assert_true(lk_script_header_ok("#!/bin/sh\n", 10));
    assert_true(lk_script_header_ok("\x7f"
                                    "ELF",
                                    4));
    assert_true(lk_script_header_ok("\x7f"
                                    "ELF\x02\x01\x01",
                                    7));
}

static void lk_validate_script__empty(void **state)
{
    (void) state;
    assert_int_equal(lk_validate_script("", 0, err, sizeof(err)), -EINVAL);
    assert_message("script is empty");
}

static void lk_validate_script__plain_text(void **state)
{
    (void) state;
    assert_int_equal(lk_validate_script("echo hi\n", 8, err, sizeof(err)), -EINVAL);
    assert_message("it must start with '#!' or be an ELF binary");
}

static void lk_validate_script__one_mib_plus_one_too_large(void **state)
{
    (void) state;
    size_t len = LK_SCRIPT_MAX_SIZE + 1;
    char *buf = malloc(len);
    assert_non_null(buf);
    memset(buf, '\n', len);
    memcpy(buf, "#!/bin/sh\n", 10);
    assert_int_equal(lk_validate_script(buf, len, err, sizeof(err)), -EINVAL);
    assert_message("script is too large: 1048577 bytes, at most 1048576");
    free(buf);
}

static void lk_validate_script__one_mib_ok(void **state)
{
    (void) state;
    size_t len = LK_SCRIPT_MAX_SIZE;
    char *buf = malloc(len);
    assert_non_null(buf);
    memset(buf, '\n', len);
    memcpy(buf, "#!/bin/sh\n", 10);
    assert_int_equal(lk_validate_script(buf, len, err, sizeof(err)), 0);
    free(buf);
}

static void lk_validate_script__shebang_and_elf_ok(void **state)
{
    (void) state;
    assert_int_equal(lk_validate_script("#!", 2, err, sizeof(err)), 0);
    assert_int_equal(lk_validate_script("#!/bin/sh\nexit 0\n", 17, err, sizeof(err)), 0);
    assert_int_equal(lk_validate_script("\x7f"
                                        "ELF\x02\x01",
                                        6, err, sizeof(err)),
                     0);
}

/* lk_parse_seconds */

static int seconds(const char *text, bool allow_zero, uint64_t *ret)
{
    return lk_parse_seconds(text, SEC / 10, DAY, allow_zero, ret);
}

static void lk_parse_seconds__malformed(void **state)
{
    (void) state;
    static const char *const bad[] = {
            NULL,  "",     "abc",  "1.",   ".5",    "-1",        "+1",        " 1",  "1 ",
            "1e3", "1.5s", "0x10", "1..5", "1.2.3", "0.1000000", "0.0000001", "1,5",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = 42;
        int r = seconds(bad[i], true, &v);
        if (r != -EINVAL) {
            fail_msg("'%s': expected -EINVAL, got %d", bad[i] ? bad[i] : "(null)", r);
        }
        assert_int_equal(v, 42);
    }
}

static void lk_parse_seconds__zero_not_allowed(void **state)
{
    (void) state;
    uint64_t v = 42;
    assert_int_equal(seconds("0", false, &v), -ERANGE);
    assert_int_equal(seconds("0.0", false, &v), -ERANGE);
    assert_int_equal(v, 42);
}

static void lk_parse_seconds__below_min_and_above_max(void **state)
{
    (void) state;
    uint64_t v = 42;
    assert_int_equal(seconds("0.099999", true, &v), -ERANGE);
    assert_int_equal(seconds("0.05", false, &v), -ERANGE);
    assert_int_equal(seconds("86400.000001", true, &v), -ERANGE);
    assert_int_equal(seconds("86401", true, &v), -ERANGE);
    assert_int_equal(v, 42);
}

static void lk_parse_seconds__overflow(void **state)
{
    (void) state;
    uint64_t v = 42;
    assert_int_equal(lk_parse_seconds("99999999999999999999999", 0, UINT64_MAX, true, &v), -ERANGE);
    assert_int_equal(lk_parse_seconds("18446744073710", 0, UINT64_MAX, true, &v), -ERANGE);
    /* The whole part fits in microseconds but adding the fraction does not: it must not
     * wrap around to a small number (here it would wrap to 448383 µs, inside min..max). */
    assert_int_equal(lk_parse_seconds("18446744073709.999999", 0, UINT64_MAX, true, &v), -ERANGE);
    assert_int_equal(seconds("18446744073709.999999", true, &v), -ERANGE);
    assert_int_equal(v, 42);
}

static void lk_parse_seconds__largest_value(void **state)
{
    (void) state;
    uint64_t v = 0;
    assert_int_equal(lk_parse_seconds("18446744073709.551615", 0, UINT64_MAX, true, &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(lk_parse_seconds("18446744073709.551616", 0, UINT64_MAX, true, &v), -ERANGE);
}

static void lk_parse_seconds__exact_fractions(void **state)
{
    (void) state;
    uint64_t v = 0;
    assert_int_equal(seconds("0.1", false, &v), 0);
    assert_int_equal(v, 100000);
    assert_int_equal(seconds("1.5", false, &v), 0);
    assert_int_equal(v, 1500000);
    assert_int_equal(seconds("0.25", false, &v), 0);
    assert_int_equal(v, 250000);
    assert_int_equal(seconds("2.000001", false, &v), 0);
    assert_int_equal(v, 2000001);
    assert_int_equal(seconds("180", false, &v), 0);
    assert_int_equal(v, 180 * SEC);
    assert_int_equal(seconds("007", false, &v), 0);
    assert_int_equal(v, 7 * SEC);
}

static void lk_parse_seconds__zero_allowed(void **state)
{
    (void) state;
    uint64_t v = 42;
    assert_int_equal(seconds("0", true, &v), 0);
    assert_int_equal(v, 0);
    v = 42;
    assert_int_equal(seconds("0.000000", true, &v), 0);
    assert_int_equal(v, 0);
}

static void lk_parse_seconds__min_and_max_inclusive(void **state)
{
    (void) state;
    uint64_t v = 0;
    assert_int_equal(seconds("0.1", false, &v), 0);
    assert_int_equal(v, SEC / 10);
    assert_int_equal(seconds("86400", false, &v), 0);
    assert_int_equal(v, DAY);
    /* With min = 0 a zero is in range even when not "allowed" specially. */
    assert_int_equal(lk_parse_seconds("0", 0, DAY, false, &v), 0);
    assert_int_equal(v, 0);
}

/* lk_parse_uint */

static void lk_parse_uint__malformed(void **state)
{
    (void) state;
    static const char *const bad[] = {NULL, "",    "abc", "-1",   "+1",   " 1",
                                      "1 ", "1.0", "1e3", "0x10", "12abc"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = 42;
        int r = lk_parse_uint(bad[i], 0, 1000, &v);
        if (r != -EINVAL) {
            fail_msg("'%s': expected -EINVAL, got %d", bad[i] ? bad[i] : "(null)", r);
        }
        assert_int_equal(v, 42);
    }
}

static void lk_parse_uint__out_of_range(void **state)
{
    (void) state;
    uint64_t v = 42;
    assert_int_equal(lk_parse_uint("0", 1, 1000, &v), -ERANGE);
    assert_int_equal(lk_parse_uint("1001", 1, 1000, &v), -ERANGE);
    assert_int_equal(v, 42);
}

static void lk_parse_uint__overflow(void **state)
{
    (void) state;
    uint64_t v = 42;
    assert_int_equal(lk_parse_uint("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
    assert_int_equal(lk_parse_uint("99999999999999999999999", 0, UINT64_MAX, &v), -ERANGE);
    assert_int_equal(v, 42);
}

static void lk_parse_uint__ok(void **state)
{
    (void) state;
    uint64_t v = 42;
    assert_int_equal(lk_parse_uint("1", 1, 1000, &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(lk_parse_uint("1000", 1, 1000, &v), 0);
    assert_int_equal(v, 1000);
    assert_int_equal(lk_parse_uint("0", 0, 0, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(lk_parse_uint("0042", 0, 1000, &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(lk_parse_uint("18446744073709551615", 0, UINT64_MAX, &v), 0);
    assert_true(v == UINT64_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_validate_tag__null_and_empty),
            cmocka_unit_test(lk_validate_tag__129_bytes_too_long),
            cmocka_unit_test(lk_validate_tag__slash),
            cmocka_unit_test(lk_validate_tag__dot_and_dotdot),
            cmocka_unit_test(lk_validate_tag__leading_dash_or_dot),
            cmocka_unit_test(lk_validate_tag__space),
            cmocka_unit_test(lk_validate_tag__control_characters),
            cmocka_unit_test(lk_validate_tag__non_ascii),
            cmocka_unit_test(lk_validate_tag__message_stays_one_line_when_newline_follows),
            cmocka_unit_test(lk_validate_tag__names_the_field),
            cmocka_unit_test(lk_validate_tag__null_err_is_allowed),
            cmocka_unit_test(lk_validate_tag__128_bytes_ok),
            cmocka_unit_test(lk_validate_tag__good_tags),
            cmocka_unit_test(lk_validate_info__too_long),
            cmocka_unit_test(lk_validate_info__control_characters),
            cmocka_unit_test(lk_validate_info__ok),
            cmocka_unit_test(lk_script_header_ok__rejects),
            cmocka_unit_test(lk_script_header_ok__accepts),
            cmocka_unit_test(lk_validate_script__empty),
            cmocka_unit_test(lk_validate_script__plain_text),
            cmocka_unit_test(lk_validate_script__one_mib_plus_one_too_large),
            cmocka_unit_test(lk_validate_script__one_mib_ok),
            cmocka_unit_test(lk_validate_script__shebang_and_elf_ok),
            cmocka_unit_test(lk_parse_seconds__malformed),
            cmocka_unit_test(lk_parse_seconds__zero_not_allowed),
            cmocka_unit_test(lk_parse_seconds__below_min_and_above_max),
            cmocka_unit_test(lk_parse_seconds__overflow),
            cmocka_unit_test(lk_parse_seconds__largest_value),
            cmocka_unit_test(lk_parse_seconds__exact_fractions),
            cmocka_unit_test(lk_parse_seconds__zero_allowed),
            cmocka_unit_test(lk_parse_seconds__min_and_max_inclusive),
            cmocka_unit_test(lk_parse_uint__malformed),
            cmocka_unit_test(lk_parse_uint__out_of_range),
            cmocka_unit_test(lk_parse_uint__overflow),
            cmocka_unit_test(lk_parse_uint__ok),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
