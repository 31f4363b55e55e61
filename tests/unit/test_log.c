/* Tests of lkd's stderr log levels (src/daemon/io/log.c): every level's name parses and
 * prints back, anything else is refused with the accepted values, and a level lets
 * through itself and the more severe ones only. LKD_DEBUG is unset for these cases. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"

static void lk_log_level_parse__every_name_and_errors(void **state)
{
    (void) state;
    static const char *const names[] = {"err", "warning", "notice", "info", "debug"};
    for (int l = LK_LOG_ERR; l <= LK_LOG_DEBUG; l++) {
        enum lk_log_level level = LK_LOG_ERR;
        char err[128] = "";
        assert_int_equal(lk_log_level_parse(names[l - LK_LOG_ERR], &level, err, sizeof(err)), 0);
        assert_int_equal(level, l);
        assert_string_equal(lk_log_level_name(level), names[l - LK_LOG_ERR]);
    }
    static const char *const bad[] = {"", "Debug", "error", "warn", "debug ", "7", "info\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        enum lk_log_level level = LK_LOG_NOTICE;
        char err[128] = "";
        assert_int_equal(lk_log_level_parse(bad[i], &level, err, sizeof(err)), -EINVAL);
        assert_int_equal(level, LK_LOG_NOTICE);
        assert_non_null(strstr(err, "expected err, warning, notice, info or debug"));
        assert_null(strchr(err, '\n'));
    }
    assert_string_equal(lk_log_level_name((enum lk_log_level) 0), "?");
}

static void lk_log_enabled__level_and_more_severe(void **state)
{
    (void) state;
    assert_true(lk_log_enabled(LK_LOG_INFO)); /* the default */
    assert_false(lk_log_enabled(LK_LOG_DEBUG));
    lk_log_set_level(LK_LOG_WARNING);
    assert_true(lk_log_enabled(LK_LOG_ERR));
    assert_true(lk_log_enabled(LK_LOG_WARNING));
    assert_false(lk_log_enabled(LK_LOG_NOTICE));
    assert_false(lk_log_enabled(LK_LOG_DEBUG));
    lk_log_set_level(LK_LOG_DEBUG);
    assert_true(lk_log_enabled(LK_LOG_DEBUG));
    lk_log_set_level(LK_LOG_DEFAULT);
}

int main(void)
{
    unsetenv("LKD_DEBUG");
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_log_level_parse__every_name_and_errors),
            cmocka_unit_test(lk_log_enabled__level_and_more_severe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
