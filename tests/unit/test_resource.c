/* Tests of the resource model's settings (src/lib/resource.c) that no other module's tests
 * reach: the watch and kill-mode tables, every refusal of lk_settings_set for a setting
 * with a fixed set of values (one line, the settings unchanged), and lk_settings_check,
 * which judges the settings as a whole. Pure: no files, no loop. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "resource.h"

static void lk_watch_from_name__every_name_and_no_other(void **state)
{
    (void) state;
    for (int i = 0; i < LK_WATCH_COUNT; i++) {
        enum lk_watch w = LK_WATCH_COUNT;
        assert_int_equal(lk_watch_from_name(lk_watch_name((enum lk_watch) i), &w), 0);
        assert_int_equal(w, i);
    }
    assert_string_equal(lk_watch_name(LK_WATCH_CGROUP), "cgroup");
    assert_string_equal(lk_watch_name(LK_WATCH_PIDFILE), "pidfile");
    assert_string_equal(lk_watch_name(LK_WATCH_NONE), "none");
    assert_string_equal(lk_watch_name(LK_WATCH_COUNT), "");
    static const char *const bad[] = {"", "CGROUP", "cgroup ", "inotify", "pid"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        enum lk_watch w = LK_WATCH_NONE;
        assert_int_equal(lk_watch_from_name(bad[i], &w), -EINVAL);
        assert_int_equal(w, LK_WATCH_NONE); /* untouched */
    }
    enum lk_watch w = LK_WATCH_NONE;
    assert_int_equal(lk_watch_from_name(NULL, &w), -EINVAL);
}

static void lk_kill_mode_from_name__every_name_and_no_other(void **state)
{
    (void) state;
    for (int i = 0; i < LK_KILL_MODE_COUNT; i++) {
        enum lk_kill_mode m = LK_KILL_MODE_COUNT;
        assert_int_equal(lk_kill_mode_from_name(lk_kill_mode_name((enum lk_kill_mode) i), &m), 0);
        assert_int_equal(m, i);
    }
    assert_string_equal(lk_kill_mode_name(LK_KILL_CONTROL_GROUP), "control-group");
    assert_string_equal(lk_kill_mode_name(LK_KILL_PROCESS), "process");
    assert_string_equal(lk_kill_mode_name(LK_KILL_NONE), "none");
    assert_string_equal(lk_kill_mode_name(LK_KILL_MODE_COUNT), "");
    static const char *const bad[] = {"", "control_group", "mixed", "Process", "cgroup"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        enum lk_kill_mode m = LK_KILL_NONE;
        assert_int_equal(lk_kill_mode_from_name(bad[i], &m), -EINVAL);
        assert_int_equal(m, LK_KILL_NONE);
    }
}

/* script-args (issue 14): none by default, lifekeeper, nothing else; a setting create and
 * config offer; a default a peer from before it leaves out. */
static void lk_script_args_from_name__every_name_and_no_other(void **state)
{
    (void) state;
    for (int i = 0; i < LK_SCRIPT_ARGS_COUNT; i++) {
        enum lk_script_args a = LK_SCRIPT_ARGS_COUNT;
        assert_int_equal(lk_script_args_from_name(lk_script_args_name((enum lk_script_args) i), &a),
                         0);
        assert_int_equal(a, i);
    }
    assert_string_equal(lk_script_args_name(LK_SCRIPT_ARGS_NONE), "none");
    assert_string_equal(lk_script_args_name(LK_SCRIPT_ARGS_LIFEKEEPER), "lifekeeper");
    assert_string_equal(lk_script_args_name(LK_SCRIPT_ARGS_COUNT), "");
    static const char *const bad[] = {"", "LifeKeeper", "lk", "none ", "perl"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        enum lk_script_args a = LK_SCRIPT_ARGS_LIFEKEEPER;
        assert_int_equal(lk_script_args_from_name(bad[i], &a), -EINVAL);
        assert_int_equal(a, LK_SCRIPT_ARGS_LIFEKEEPER);
    }
    assert_int_equal(lk_script_args_from_name(NULL, NULL), -EINVAL);

    struct lk_settings s;
    lk_settings_init(&s);
    assert_int_equal(s.script_args, LK_SCRIPT_ARGS_NONE);
    assert_true(lk_settings_is_default(&s, "script-args"));
    char err[256] = "", buf[64];
    assert_int_equal(lk_settings_set(&s, "script-args", "lifekeeper", err, sizeof(err)), 0);
    assert_int_equal(s.script_args, LK_SCRIPT_ARGS_LIFEKEEPER);
    assert_false(lk_settings_is_default(&s, "script-args"));
    assert_string_equal(lk_settings_get(&s, "script-args", buf, sizeof(buf)), "lifekeeper");
    bool listed = false;
    for (size_t i = 0; lk_settings_keys[i]; i++) {
        listed = listed || strcmp(lk_settings_keys[i], "script-args") == 0;
    }
    assert_true(listed);
}

static void lk_settings_init__watch_cgroup_kill_control_group(void **state)
{
    (void) state;
    struct lk_settings s;
    lk_settings_init(&s);
    assert_int_equal(s.watch, LK_WATCH_CGROUP);
    assert_int_equal(s.kill_mode, LK_KILL_CONTROL_GROUP);
    char err[256] = "";
    assert_int_equal(lk_settings_check(&s, err, sizeof(err)), 0);
    /* Both are names lk_settings_set takes, so create and config offer them. */
    bool watch = false, kill = false;
    for (size_t i = 0; lk_settings_keys[i]; i++) {
        watch = watch || strcmp(lk_settings_keys[i], "watch") == 0;
        kill = kill || strcmp(lk_settings_keys[i], "kill-mode") == 0;
    }
    assert_true(watch && kill);
}

static void lk_settings_set__refused_choices_one_line_unchanged(void **state)
{
    (void) state;
    static const struct {
        const char *key, *value, *want;
    } bad[] = {
            {"watch", "inotify", "invalid watch 'inotify': expected cgroup, pidfile or none"},
            {"watch", "", "invalid watch '': expected cgroup, pidfile or none"},
            {"watch", "cgroup\nnone",
             "invalid watch: contains a control character; expected cgroup, pidfile or none"},
            {"kill-mode", "mixed",
             "invalid kill-mode 'mixed': expected control-group, process or none"},
            {"kill-mode", "none\x7f",
             "invalid kill-mode: contains a control character; expected control-group, "
             "process or none"},
            {"script-args", "perl", "invalid script-args 'perl': expected none or lifekeeper"},
            {"script-args", "life\nkeeper",
             "invalid script-args: contains a control character; expected none or lifekeeper"},
            {"switchback", "never",
             "invalid switchback 'never': expected intelligent or automatic"},
            {"switchback", "a\tb", "invalid switchback: contains a control character"},
            {"monitor-timeout-action", "panic",
             "invalid monitor-timeout-action 'panic': expected ignore or fail"},
            {"init", "x\ny", "invalid init: contains a control character"},
            {"monitor", "maybe", "invalid monitor 'maybe': expected on or off"},
            {"local-recovery", "\r", "invalid local-recovery: contains a control character"},
            /* Found by tests/fuzz/fuzz_validate: these quoted the control character. */
            {"quickchk-interval", "1\n2", "invalid quickchk-interval: contains a control"},
            {"check-failures", "\n", "invalid check-failures: contains a control character"},
            {"pidfile", "x\ny", "invalid pidfile: contains a control character"},
            {"nope\nx", "1", "unknown setting: its name contains a control character"},
            {"pidfile", "/run/\xff.pid", "invalid pidfile: not UTF-8 text"},
            {"pidfile", "/run/\xc0\xaf.pid", "invalid pidfile: not UTF-8 text"},
            {"pidfile", "/run/\xed\xa0\x80.pid", "invalid pidfile: not UTF-8 text"},
            {"quickchk-interval", "fast",
             "invalid quickchk-interval 'fast': expected seconds from 0.1 to 86400, or 0"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct lk_settings s, before;
        lk_settings_init(&s);
        before = s;
        char err[512] = "";
        int r = lk_settings_set(&s, bad[i].key, bad[i].value, err, sizeof(err));
        if (r != (strcmp(bad[i].key, "nope\nx") == 0 ? -ENOENT : -EINVAL) ||
            strncmp(err, bad[i].want, strlen(bad[i].want)) != 0 || strpbrk(err, "\n\r\t\x7f")) {
            fail_msg("%s: got %d '%s', want '%s'", bad[i].key, r, err, bad[i].want);
        }
        assert_memory_equal(&s, &before, sizeof(s));
    }
}

static void lk_settings_check__watch_pidfile_needs_a_pidfile(void **state)
{
    (void) state;
    struct lk_settings s;
    char err[256] = "";
    lk_settings_init(&s);
    /* Set in either order: lk_settings_set takes each value alone; the whole is judged
     * after. */
    assert_int_equal(lk_settings_set(&s, "watch", "pidfile", err, sizeof(err)), 0);
    assert_int_equal(lk_settings_check(&s, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "watch pidfile needs --pidfile");
    assert_int_equal(lk_settings_set(&s, "pidfile", "/run/app.pid", err, sizeof(err)), 0);
    assert_int_equal(lk_settings_check(&s, err, sizeof(err)), 0);
    assert_int_equal(lk_settings_set(&s, "pidfile", "", err, sizeof(err)), 0);
    assert_int_equal(lk_settings_check(&s, err, sizeof(err)), -EINVAL);
    /* The other watches need none; every kill mode goes with every watch. */
    static const char *const watches[] = {"cgroup", "none"};
    static const char *const kills[] = {"control-group", "process", "none"};
    for (size_t w = 0; w < 2; w++) {
        for (size_t k = 0; k < 3; k++) {
            assert_int_equal(lk_settings_set(&s, "watch", watches[w], err, sizeof(err)), 0);
            assert_int_equal(lk_settings_set(&s, "kill-mode", kills[k], err, sizeof(err)), 0);
            assert_int_equal(lk_settings_check(&s, err, sizeof(err)), 0);
            assert_int_equal(s.kill_mode, (enum lk_kill_mode) k);
        }
    }
}

/* lk_settings_get gives back what lk_settings_set takes, for every key: a value read and
 * set again changes nothing (the help's defaults and `effective` rely on it). */
static void lk_settings_get__round_trips_every_key(void **state)
{
    (void) state;
    struct lk_settings s, again;
    lk_settings_init(&s);
    char err[256], buf[LK_PIDFILE_MAX];
    assert_int_equal(lk_settings_set(&s, "quickchk-interval", "0.25", err, sizeof(err)), 0);
    assert_int_equal(lk_settings_set(&s, "pidfile", "/run/a.pid", err, sizeof(err)), 0);
    assert_int_equal(lk_settings_set(&s, "switchback", "automatic", err, sizeof(err)), 0);
    assert_int_equal(lk_settings_set(&s, "script-args", "lifekeeper", err, sizeof(err)), 0);
    again = s;
    lk_settings_init(&again);
    for (size_t i = 0; lk_settings_keys[i]; i++) {
        const char *v = lk_settings_get(&s, lk_settings_keys[i], buf, sizeof(buf));
        assert_non_null(v);
        assert_int_equal(lk_settings_set(&again, lk_settings_keys[i], v, err, sizeof(err)), 0);
    }
    assert_memory_equal(&s, &again, sizeof(s));
    assert_string_equal(lk_settings_get(&s, "quickchk-interval", buf, sizeof(buf)), "0.25");
    assert_string_equal(lk_settings_get(&s, "local-recovery", buf, sizeof(buf)), "on");
    assert_string_equal(lk_settings_get(&s, "switchback", buf, sizeof(buf)), "automatic");
    assert_null(lk_settings_get(&s, "no-such-setting", buf, sizeof(buf)));
}

/* A check timeout of 0 is the one the runner applies: the interval (quick), twice it
 * (deep), the action timeout when the interval is 0 too. */
static void lk_settings_effective__derived_timeouts(void **state)
{
    (void) state;
    struct lk_settings s;
    lk_settings_init(&s);
    char err[256], buf[64];
    assert_string_equal(lk_settings_effective(&s, "quickchk-timeout", buf, sizeof(buf)), "10");
    assert_string_equal(lk_settings_effective(&s, "deepchk-timeout", buf, sizeof(buf)), "120");
    assert_string_equal(lk_settings_get(&s, "quickchk-timeout", buf, sizeof(buf)), "0");
    assert_true(lk_settings_is_default(&s, "quickchk-timeout"));
    assert_int_equal(lk_settings_set(&s, "quickchk-interval", "0", err, sizeof(err)), 0);
    assert_string_equal(lk_settings_effective(&s, "quickchk-timeout", buf, sizeof(buf)), "300");
    assert_false(lk_settings_is_default(&s, "quickchk-interval"));
    assert_int_equal(lk_settings_set(&s, "deepchk-timeout", "7.5", err, sizeof(err)), 0);
    assert_string_equal(lk_settings_effective(&s, "deepchk-timeout", buf, sizeof(buf)), "7.5");
    assert_string_equal(lk_settings_effective(&s, "init", buf, sizeof(buf)), "AUTORES_ISP");
    assert_true(lk_settings_is_default(&s, "init"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_watch_from_name__every_name_and_no_other),
            cmocka_unit_test(lk_kill_mode_from_name__every_name_and_no_other),
            cmocka_unit_test(lk_script_args_from_name__every_name_and_no_other),
            cmocka_unit_test(lk_settings_init__watch_cgroup_kill_control_group),
            cmocka_unit_test(lk_settings_set__refused_choices_one_line_unchanged),
            cmocka_unit_test(lk_settings_check__watch_pidfile_needs_a_pidfile),
            cmocka_unit_test(lk_settings_get__round_trips_every_key),
            cmocka_unit_test(lk_settings_effective__derived_timeouts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
