/* Unit tests for lib/params.c (a resource's parameters: names, values, secrets, the JSON
 * forms, the public forms, helper-file names, lk_validate_app_type) and io/paramfile.c (the
 * 0600 parameter file, helper files). The public forms must never carry a secret value;
 * every refusal is one line that names the problem. Files live in a temporary directory. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "paramfile.h"
#include "params.h"
#include "resource.h"
#include "validate.h"

static char err[512];

/* A message is one line, not empty, and contains needle. */
static void assert_message(const char *needle)
{
    assert_true(err[0] != '\0');
    assert_null(strchr(err, '\n'));
    if (!strstr(err, needle)) {
        fail_msg("message '%s' does not contain '%s'", err, needle);
    }
}

static int set(struct lk_params *p, const char *name, const char *value, bool secret)
{
    memset(err, 0, sizeof(err));
    return lk_params_set(p, name, value, secret, err, sizeof(err));
}

/* ---- names and values ---- */

static void lk_params_check_name__refuses_what_an_env_name_cannot_be(void **state)
{
    (void) state;
    const struct {
        const char *name, *why;
    } bad[] = {
            {"", "empty"},
            {"1ip", "digit"},
            {"ip-addr", "'-'"},
            {"ip addr", "' '"},
            {"ip.addr", "'.'"},
            {"a\nb", "0x0a"},
            {"a-\nb", "0x0a"}, /* not the '-' with the name quoted: one line (fuzz_ocf) */
            {"a-caf\xc3\xa9", "0xc3"},
            {"caf\xc3\xa9", "0xc3"},
            {"x123456789012345678901234567890123456789012345678901234567890123", "too long"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(err, 0, sizeof(err));
        assert_int_equal(lk_params_check_name(bad[i].name, err, sizeof(err)), -EINVAL);
        assert_message(bad[i].why);
    }
    assert_int_equal(lk_params_check_name(NULL, err, sizeof(err)), -EINVAL);
    const char *good[] = {"ip", "cidr_netmask", "_x", "A1",
                          "x12345678901234567890123456789012345678901234567890123456789012"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_int_equal(lk_params_check_name(good[i], err, sizeof(err)), 0);
    }
}

static void lk_params_check_value__bounds_and_nul(void **state)
{
    (void) state;
    char *big = malloc(LK_PARAM_VALUE_MAX + 2);
    assert_non_null(big);
    memset(big, 'v', LK_PARAM_VALUE_MAX + 1);
    big[LK_PARAM_VALUE_MAX + 1] = '\0';
    assert_int_equal(lk_params_check_value("ip", big, LK_PARAM_VALUE_MAX + 1, err, sizeof(err)),
                     -EINVAL);
    assert_message("too long");
    assert_int_equal(lk_params_check_value("ip", big, LK_PARAM_VALUE_MAX, err, sizeof(err)), 0);
    free(big);
    assert_int_equal(lk_params_check_value("ip", "a\0b", 3, err, sizeof(err)), -EINVAL);
    assert_message("NUL");
    assert_int_equal(lk_params_check_value("ip", "", 0, err, sizeof(err)), 0);
    assert_int_equal(lk_params_check_value("ip", NULL, 0, err, sizeof(err)), -EINVAL);
}

/* ---- set, unset, mark ---- */

static void lk_params_set__adds_replaces_and_keeps_the_secret_mark(void **state)
{
    (void) state;
    struct lk_params p = {0};
    assert_int_equal(set(&p, "ip", "10.0.0.1", false), 0);
    assert_int_equal(set(&p, "pw", "old", true), 0);
    assert_int_equal(p.count, 2);
    /* Replacing keeps the order and, once secret, the mark. */
    assert_int_equal(set(&p, "pw", "new", false), 0);
    assert_int_equal(p.count, 2);
    assert_string_equal(p.items[1].name, "pw");
    assert_string_equal(p.items[1].value, "new");
    assert_true(p.items[1].secret);
    assert_false(lk_params_find(&p, "ip")->secret);
    assert_int_equal(lk_params_mark_secret(&p, "ip"), 0);
    assert_true(lk_params_find(&p, "ip")->secret);
    assert_int_equal(lk_params_mark_secret(&p, "nope"), -ENOENT);
    assert_int_equal(lk_params_unset(&p, "ip"), 0);
    assert_int_equal(lk_params_unset(&p, "ip"), -ENOENT);
    assert_null(lk_params_find(&p, "ip"));
    assert_int_equal(p.count, 1);
    assert_string_equal(p.items[0].name, "pw");
    /* A refused set changes nothing. */
    assert_int_equal(set(&p, "bad-name", "x", false), -EINVAL);
    assert_message("'-'");
    assert_int_equal(p.count, 1);
    lk_params_free(&p);
    assert_int_equal(p.count, 0);
    assert_null(p.items);
    lk_params_free(&p); /* twice is fine */
}

static void lk_params_set__at_most_64(void **state)
{
    (void) state;
    struct lk_params p = {0};
    char name[16];
    for (int i = 0; i < LK_PARAMS_MAX; i++) {
        snprintf(name, sizeof(name), "p%d", i);
        assert_int_equal(set(&p, name, "v", false), 0);
    }
    assert_int_equal(set(&p, "one_more", "v", false), -E2BIG);
    assert_message("at most 64");
    assert_int_equal(p.count, LK_PARAMS_MAX);
    /* Replacing one is still fine at the bound. */
    assert_int_equal(set(&p, "p3", "w", false), 0);
    lk_params_free(&p);
}

static void lk_params_copy__deep_and_equal(void **state)
{
    (void) state;
    struct lk_params a = {0}, b = {0}, c = {0};
    assert_int_equal(set(&a, "x", "1", false), 0);
    assert_int_equal(set(&a, "y", "2", true), 0);
    assert_int_equal(lk_params_copy(&b, &a), 0);
    assert_true(lk_params_equal(&a, &b));
    assert_ptr_not_equal(a.items[0].value, b.items[0].value);
    /* Order does not matter; values and marks do. */
    assert_int_equal(set(&c, "y", "2", true), 0);
    assert_int_equal(set(&c, "x", "1", false), 0);
    assert_true(lk_params_equal(&a, &c));
    assert_int_equal(lk_params_mark_secret(&c, "x"), 0);
    assert_false(lk_params_equal(&a, &c));
    assert_int_equal(set(&b, "x", "other", false), 0);
    assert_false(lk_params_equal(&a, &b));
    lk_params_free(&a);
    lk_params_free(&b);
    lk_params_free(&c);
    struct lk_params empty = {0};
    assert_int_equal(lk_params_copy(&a, &empty), 0);
    assert_int_equal(a.count, 0);
}

/* ---- what users type ---- */

static void lk_params_parse_assignment__splits_at_the_first_equals(void **state)
{
    (void) state;
    char name[LK_PARAM_NAME_MAX + 1];
    const char *value = NULL;
    assert_int_equal(
            lk_params_parse_assignment("url=http://x/?a=b", name, &value, err, sizeof(err)), 0);
    assert_string_equal(name, "url");
    assert_string_equal(value, "http://x/?a=b");
    assert_int_equal(lk_params_parse_assignment("empty=", name, &value, err, sizeof(err)), 0);
    assert_string_equal(value, "");
    assert_int_equal(lk_params_parse_assignment("novalue", name, &value, err, sizeof(err)),
                     -EINVAL);
    assert_message("NAME=VALUE");
    assert_int_equal(lk_params_parse_assignment("=v", name, &value, err, sizeof(err)), -EINVAL);
    assert_message("empty");
    assert_int_equal(lk_params_parse_assignment("a-b=v", name, &value, err, sizeof(err)), -EINVAL);
    char longname[100];
    memset(longname, 'n', 70);
    snprintf(longname + 70, sizeof(longname) - 70, "=v");
    assert_int_equal(lk_params_parse_assignment(longname, name, &value, err, sizeof(err)), -EINVAL);
    assert_message("too long");
}

static void lk_params_parse_file__lines_comments_and_errors(void **state)
{
    (void) state;
    struct lk_params p = {0};
    const char *text = "# the agent's secrets\n\npasswd=s3cr3t\r\nuser=bob\nlast=no newline";
    assert_int_equal(lk_params_parse_file(&p, text, strlen(text), true, err, sizeof(err)), 0);
    assert_int_equal(p.count, 3);
    assert_string_equal(lk_params_find(&p, "passwd")->value, "s3cr3t");
    assert_true(lk_params_find(&p, "passwd")->secret);
    assert_string_equal(lk_params_find(&p, "last")->value, "no newline");
    lk_params_free(&p);

    const struct {
        const char *text, *why;
    } bad[] = {
            {"a=1\nnot a line\n", "line 2"},
            {"a=1\nb=2\na=3\n", "line 3: parameter 'a' is given twice"},
            {"1a=x\n", "line 1"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(err, 0, sizeof(err));
        assert_int_equal(
                lk_params_parse_file(&p, bad[i].text, strlen(bad[i].text), false, err, sizeof(err)),
                -EINVAL);
        assert_message(bad[i].why);
        lk_params_free(&p);
    }
    assert_int_equal(lk_params_parse_file(&p, "a=1\0b=2", 7, false, err, sizeof(err)), -EINVAL);
    assert_message("NUL");
    lk_params_free(&p);
}

/* ---- the JSON forms ---- */

static void lk_params_json__round_trip(void **state)
{
    (void) state;
    struct lk_params p = {0}, back = {0};
    assert_int_equal(set(&p, "ip", "10.0.0.1", false), 0);
    assert_int_equal(set(&p, "pw", "s3cr3t \"quoted\" \x01", true), 0);
    json_t *j = lk_params_json(&p);
    assert_non_null(j);
    assert_true(json_is_true(json_object_get(json_object_get(j, "pw"), "secret")));
    assert_null(json_object_get(json_object_get(j, "ip"), "secret"));
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    json_t *again = json_loads(text, 0, NULL);
    free(text);
    assert_int_equal(lk_params_from_json(again, &back, err, sizeof(err)), 0);
    json_decref(again);
    assert_true(lk_params_equal(&p, &back));
    lk_params_free(&p);
    lk_params_free(&back);
    /* NULL is no parameters. */
    assert_int_equal(lk_params_from_json(NULL, &back, err, sizeof(err)), 0);
    assert_int_equal(back.count, 0);
}

static void lk_params_from_json__refuses_every_bad_shape(void **state)
{
    (void) state;
    const struct {
        const char *json, *why;
    } bad[] = {
            {"[]", "object"},
            {"{\"a\": \"1\"}", "must be"},
            {"{\"a\": {}}", "must be"},
            {"{\"a\": {\"value\": 1}}", "must be"},
            {"{\"a\": {\"value\": \"1\", \"secret\": \"yes\"}}", "must be"},
            {"{\"a-b\": {\"value\": \"1\"}}", "'-'"},
            {"{\"a\": {\"value\": \"x\\u0000y\"}}", "NUL"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *j = json_loads(bad[i].json, JSON_ALLOW_NUL, NULL);
        assert_non_null(j);
        struct lk_params p = {0};
        memset(err, 0, sizeof(err));
        assert_int_equal(lk_params_from_json(j, &p, err, sizeof(err)), -EINVAL);
        assert_message(bad[i].why);
        assert_int_equal(p.count, 0);
        json_decref(j);
    }
    json_t *many = json_object();
    for (int i = 0; i <= LK_PARAMS_MAX; i++) {
        char name[16];
        snprintf(name, sizeof(name), "p%d", i);
        json_object_set_new(many, name, json_pack("{s:s}", "value", "v"));
    }
    struct lk_params p = {0};
    assert_int_equal(lk_params_from_json(many, &p, err, sizeof(err)), -EINVAL);
    assert_message("too many");
    json_decref(many);
}

static void lk_params_public__never_a_secret_value(void **state)
{
    (void) state;
    struct lk_params p = {0};
    assert_int_equal(set(&p, "ip", "10.0.0.1", false), 0);
    assert_int_equal(set(&p, "passwd", "hunter2", true), 0);
    assert_int_equal(set(&p, "note", "two\nlines", false), 0);
    json_t *j = lk_params_public_json(&p);
    assert_string_equal(json_string_value(json_object_get(j, "ip")), "10.0.0.1");
    assert_string_equal(json_string_value(json_object_get(j, "passwd")), "***");
    char *dump = json_dumps(j, 0);
    assert_null(strstr(dump, "hunter2"));
    free(dump);
    json_decref(j);
    char text[256];
    assert_string_equal(lk_params_public_text(&p, text, sizeof(text)),
                        "ip=10.0.0.1 passwd=*** note=two?lines");
    /* Cut to the room there is, marked. */
    char small[12];
    lk_params_public_text(&p, small, sizeof(small));
    assert_string_equal(small, "ip=10.0....");
    struct lk_params none = {0};
    assert_string_equal(lk_params_public_text(&none, text, sizeof(text)), "");
    lk_params_free(&p);
}

/* ---- names of helper files, app and type ---- */

static void lk_params_check_helper_name__plain_file_names_only(void **state)
{
    (void) state;
    const struct {
        const char *name, *why;
    } bad[] = {
            {"", "empty"},
            {".hidden", "start with '.'"},
            {"..", "start with '.'"},
            {"a/b", "'/'"},
            {"../x", "'/'"},
            {"a b", "' '"},
            {"a\tb", "0x09"},
            {"x1234567890123456789012345678901234567890123456789012345678901234", "too long"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(err, 0, sizeof(err));
        assert_int_equal(lk_params_check_helper_name(bad[i].name, err, sizeof(err)), -EINVAL);
        assert_message(bad[i].why);
    }
    assert_int_equal(lk_params_check_helper_name("lib.sh", err, sizeof(err)), 0);
    assert_int_equal(lk_params_check_helper_name("my_lib-2.py", err, sizeof(err)), 0);
    assert_int_equal(lk_params_check_helper_name(
                             "x123456789012345678901234567890123456789012345678901234567890123",
                             err, sizeof(err)),
                     0);
}

static void lk_validate_app_type__apps_and_type_strings(void **state)
{
    (void) state;
    assert_int_equal(lk_validate_app_type("gen", "app", err, sizeof(err)), 0);
    assert_int_equal(lk_validate_app_type("ocf", "heartbeat:IPaddr2", err, sizeof(err)), 0);
    assert_int_equal(lk_validate_app_type("systemd", "getty@tty1.service", err, sizeof(err)), 0);
    assert_int_equal(
            lk_validate_app_type("systemd", "dev-disk-by\\x2duuid.device", err, sizeof(err)), 0);
    char longest[LK_TYPE_MAX + 2];
    memset(longest, 'u', LK_TYPE_MAX);
    longest[LK_TYPE_MAX] = '\0';
    assert_int_equal(lk_validate_app_type("systemd", longest, err, sizeof(err)), 0);
    longest[LK_TYPE_MAX] = 'u';
    longest[LK_TYPE_MAX + 1] = '\0';
    assert_int_equal(lk_validate_app_type("systemd", longest, err, sizeof(err)), -EINVAL);
    assert_message("too long");
    const struct {
        const char *app, *type, *why;
    } bad[] = {
            {"nfs", "x", "unknown resource app"},
            {NULL, "x", "unknown resource app"},
            {"gen", "Dummy", "'app'"},
            {"ocf", "", "empty"},
            {"ocf", "heartbeat:Dummy x", "' '"},
            {"ocf", "a/b", "'/'"},
            {"ocf", "-x", "start with '-'"},
            {"ocf", "a\nb", "0x0a"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(err, 0, sizeof(err));
        assert_int_equal(lk_validate_app_type(bad[i].app, bad[i].type, err, sizeof(err)), -EINVAL);
        assert_message(bad[i].why);
    }
    /* The resource holds the longest type. */
    struct lk_resource res;
    assert_int_equal(sizeof(res.type), LK_TYPE_MAX + 1);
}

/* ---- io/paramfile.c ---- */

static int setup_dir(void **state)
{
    char *dir = strdup("/tmp/lk-test-params-XXXXXX");
    assert_non_null(mkdtemp(dir));
    *state = dir;
    return 0;
}

static int teardown_dir(void **state)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", (char *) *state);
    assert_int_equal(system(cmd), 0);
    free(*state);
    return 0;
}

static void lk_params_write__0600_atomic_and_read_back(void **state)
{
    const char *root = *state;
    struct lk_params p = {0}, back = {0};
    /* No file: no parameters. */
    assert_int_equal(lk_params_read(root, "r1", &back, err, sizeof(err)), 0);
    assert_int_equal(back.count, 0);
    assert_int_equal(set(&p, "ip", "10.0.0.1", false), 0);
    assert_int_equal(set(&p, "pw", "s3cr3t", true), 0);
    assert_int_equal(lk_params_write(root, "r1", &p, err, sizeof(err)), 0);
    char path[512];
    lk_params_path(root, "r1", path, sizeof(path));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/subsys/gen/resources/app/params", root);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_int_equal(lk_params_read(root, "r1", &back, err, sizeof(err)), 0);
    assert_true(lk_params_equal(&p, &back));
    lk_params_free(&back);
    /* No parameters left: no file. */
    struct lk_params none = {0};
    assert_int_equal(lk_params_write(root, "r1", &none, err, sizeof(err)), 0);
    assert_int_equal(access(path, F_OK), -1);
    /* A damaged file is refused with its path. */
    assert_int_equal(lk_params_write(root, "r1", &p, err, sizeof(err)), 0);
    FILE *f = fopen(path, "w");
    fputs("{\"a-b\": {\"value\": \"1\"}}", f);
    fclose(f);
    assert_int_equal(lk_params_read(root, "r1", &back, err, sizeof(err)), -EINVAL);
    assert_message(path);
    assert_int_equal(back.count, 0);
    lk_params_remove(root, "r1");
    assert_int_equal(access(path, F_OK), -1);
    lk_params_remove(root, "r1"); /* missing is fine */
    lk_params_free(&p);
}

static void lk_helpers__install_read_and_prune(void **state)
{
    const char *root = *state;
    assert_int_equal(lk_helpers_install(root, "r1", "lib.sh", "f() { :; }\n", 11, err, sizeof(err)),
                     0);
    assert_int_equal(lk_helpers_install(root, "r1", "b.py", "x = 1\n", 6, err, sizeof(err)), 0);
    assert_int_equal(lk_helpers_install(root, "r1", "../evil", "x", 1, err, sizeof(err)), -EINVAL);
    char dir[512], path[600];
    lk_helpers_dir(root, "r1", dir, sizeof(dir));
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    snprintf(path, sizeof(path), "%s/lib.sh", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    /* A stray temporary file is not a helper. */
    snprintf(path, sizeof(path), "%s/.lib.sh.new", dir);
    close(open(path, O_CREAT | O_WRONLY, 0600));
    json_t *names = lk_helpers_names(root, "r1");
    assert_int_equal(json_array_size(names), 2);
    assert_string_equal(json_string_value(json_array_get(names, 0)), "b.py");
    assert_string_equal(json_string_value(json_array_get(names, 1)), "lib.sh");
    json_decref(names);
    json_t *all = NULL;
    assert_int_equal(lk_helpers_read_all(root, "r1", &all, err, sizeof(err)), 0);
    assert_string_equal(json_string_value(json_object_get(all, "b.py")), "eCA9IDEK");
    json_decref(all);
    json_t *keep = json_pack("{s:b}", "lib.sh", 1);
    lk_helpers_prune(root, "r1", keep);
    json_decref(keep);
    names = lk_helpers_names(root, "r1");
    assert_int_equal(json_array_size(names), 1);
    json_decref(names);
    unlink(path);
    lk_helpers_prune(root, "r1", NULL);
    assert_int_equal(access(dir, F_OK), -1);
    /* None: an empty object. */
    assert_int_equal(lk_helpers_read_all(root, "r1", &all, err, sizeof(err)), 0);
    assert_int_equal(json_object_size(all), 0);
    json_decref(all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_params_check_name__refuses_what_an_env_name_cannot_be),
            cmocka_unit_test(lk_params_check_value__bounds_and_nul),
            cmocka_unit_test(lk_params_set__adds_replaces_and_keeps_the_secret_mark),
            cmocka_unit_test(lk_params_set__at_most_64),
            cmocka_unit_test(lk_params_copy__deep_and_equal),
            cmocka_unit_test(lk_params_parse_assignment__splits_at_the_first_equals),
            cmocka_unit_test(lk_params_parse_file__lines_comments_and_errors),
            cmocka_unit_test(lk_params_json__round_trip),
            cmocka_unit_test(lk_params_from_json__refuses_every_bad_shape),
            cmocka_unit_test(lk_params_public__never_a_secret_value),
            cmocka_unit_test(lk_params_check_helper_name__plain_file_names_only),
            cmocka_unit_test(lk_validate_app_type__apps_and_type_strings),
            cmocka_unit_test_setup_teardown(lk_params_write__0600_atomic_and_read_back, setup_dir,
                                            teardown_dir),
            cmocka_unit_test_setup_teardown(lk_helpers__install_read_and_prune, setup_dir,
                                            teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
