/* Tests of the tunables' text (src/lib/tunables.c): LifeKeeper's /etc/default/LifeKeeper
 * format (comments, export, quotes, '$' kept), each refusal naming its line, the limits,
 * the reserved keys, and the --set/--unset edits that keep every other line. No files. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tunables.h"

static int parse(const char *text, struct lk_tunables *t, char *err, size_t err_size)
{
    return lk_tunables_parse(text, strlen(text), t, err, err_size);
}

static void lk_tunables_parse__errors(void **state)
{
    (void) state;
    static const char *const bad[][2] = {
            {"A=1\nB C\n", "line 2: expected KEY=VALUE"},
            {"1A=x\n", "line 1: expected KEY=VALUE (KEY"},
            {"A = 1\n", "line 1: expected KEY=VALUE without spaces around '='"},
            {"A=x y\n", "line 1: a space in an unquoted value"},
            {"\n\nA='x\n", "line 3: unterminated single quote"},
            {"A=\"x\n", "line 1: unterminated double quote"},
            {"A=x;reboot\n", "line 1: unquoted ';'"},
            {"A=`id`\n", "line 1: unquoted '`'"},
            {"A=\"`id`\"\n", "line 1: a backquote"},
            {"A=1\r\n", "line 1: contains the control character 0x0d (a DOS line end?)"},
            {"A=\x01\n", "line 1: contains the control character 0x01"},
            {"A=\xff\n", "line 1: is not valid UTF-8"},
            {"A=x\\\n", "line 1: a backslash at the end of a line"},
            {"export\n", "line 1: expected KEY=VALUE"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct lk_tunables t = {0};
        char err[256] = "";
        assert_int_equal(parse(bad[i][0], &t, err, sizeof(err)), -EINVAL);
        if (!strstr(err, bad[i][1])) {
            fail_msg("'%s': got '%s', expected '%s'", bad[i][0], err, bad[i][1]);
        }
        assert_null(strchr(err, '\n'));
        assert_null(t.items);
    }
    /* A NUL inside the length. */
    struct lk_tunables t = {0};
    char err[256];
    assert_int_equal(lk_tunables_parse("A=1\nB=\0\n", 8, &t, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "line 2: contains a NUL byte");
}

static void lk_tunables_parse__limits(void **state)
{
    (void) state;
    char err[256];
    struct lk_tunables t;
    size_t size = LK_TUNABLES_TEXT_MAX + 2;
    char *big = malloc(size);
    assert_non_null(big);
    memset(big, '#', size - 1);
    big[size - 1] = '\0';
    assert_int_equal(parse(big, &t, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "too long"));
    big[LK_TUNABLES_TEXT_MAX] = '\0';
    assert_int_equal(parse(big, &t, err, sizeof(err)), 0);
    assert_int_equal(t.count, 0);
    free(big);
    /* 1025 assignments (of the same key: the count is of lines). */
    char *many = malloc(1025 * 4 + 1), *p = many;
    for (int i = 0; i < 1025; i++) {
        p += sprintf(p, "A=%d\n", i % 10);
    }
    assert_int_equal(parse(many, &t, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "line 1025: too many assignments (at most 1024)");
    many[1024 * 4] = '\0';
    assert_int_equal(parse(many, &t, err, sizeof(err)), 0);
    assert_int_equal(t.count, 1);
    lk_tunables_done(&t);
    free(many);
    char key[200];
    memset(key, 'K', 129);
    strcpy(key + 129, "=1");
    assert_int_equal(parse(key, &t, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "too long"));
}

static void lk_tunables_parse__lifekeeper_file(void **state)
{
    (void) state;
    const char *text = "# LifeKeeper tunables\n"
                       "\n"
                       "LKROOT=/opt/LifeKeeper\n"
                       "   export GLOBAL_NAS_APP_SKIP_REMOVE=0\n"
                       "LKCHECKINTERVAL=\"120\"   # seconds\n"
                       "LKSYSLOGSELECTOR='local6.*'\n"
                       "MIXED=a'b c'\"d\\\"e\"\\ f\n"
                       "LITERAL=\"$HOME/x\"\n"
                       "SQ='$y'\n"
                       "EMPTY=\n"
                       "export LKCHECKINTERVAL LKROOT\n"
                       "LK_TAG=x\n"
                       "URL=http://h/a#b\n"
                       "LKCHECKINTERVAL=60";
    struct lk_tunables t;
    char err[256] = "";
    assert_int_equal(parse(text, &t, err, sizeof(err)), 0);
    assert_int_equal(t.count, 10);
    assert_string_equal(t.items[0].key, "LKROOT");
    assert_true(t.items[0].reserved);
    assert_string_equal(lk_tunables_get(&t, "GLOBAL_NAS_APP_SKIP_REMOVE"), "0");
    /* The last assignment wins, in the place of the first. */
    assert_string_equal(t.items[2].key, "LKCHECKINTERVAL");
    assert_string_equal(t.items[2].value, "60");
    assert_int_equal(t.items[2].line, 14);
    assert_string_equal(lk_tunables_get(&t, "LKSYSLOGSELECTOR"), "local6.*");
    assert_string_equal(lk_tunables_get(&t, "MIXED"), "ab cd\"e f");
    assert_string_equal(lk_tunables_get(&t, "LITERAL"), "$HOME/x");
    assert_true(t.items[5].dollar);
    assert_true(t.items[6].dollar);
    assert_false(t.items[4].dollar);
    assert_string_equal(lk_tunables_get(&t, "EMPTY"), "");
    assert_true(t.items[8].reserved);
    assert_string_equal(lk_tunables_get(&t, "URL"), "http://h/a#b");
    assert_null(lk_tunables_get(&t, "NONE"));
    lk_tunables_done(&t);
    lk_tunables_done(&t);
    assert_int_equal(parse("", &t, err, sizeof(err)), 0);
    assert_int_equal(t.count, 0);
}

static void lk_tunables_reserved__keys(void **state)
{
    (void) state;
    assert_true(lk_tunables_reserved("LKROOT"));
    assert_true(lk_tunables_reserved("PATH"));
    assert_true(lk_tunables_reserved("LANG"));
    assert_true(lk_tunables_reserved("PERL5LIB"));
    assert_true(lk_tunables_reserved("LK_NODE"));
    assert_true(lk_tunables_reserved("LK_ANYTHING"));
    assert_false(lk_tunables_reserved("LKCHECKINTERVAL"));
    assert_false(lk_tunables_reserved("PATH2"));
    assert_false(lk_tunables_reserved("lk_x"));
}

static void lk_tunables_set__errors(void **state)
{
    (void) state;
    char err[256], *out = NULL;
    assert_int_equal(lk_tunables_set("", "1A", "x", &out, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "invalid tunable name"));
    assert_int_equal(lk_tunables_set("", "A", "x\ny", &out, err, sizeof(err)), -EINVAL);
    assert_int_equal(lk_tunables_set("", "A", "\x01", &out, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "invalid tunable value"));
    assert_int_equal(lk_tunables_set("B C\n", "A", "x", &out, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "line 1: expected KEY=VALUE");
    assert_int_equal(lk_tunables_unset("A=1\n", "B", &out, err, sizeof(err)), -ENOENT);
    assert_string_equal(err, "no tunable named 'B'");
    assert_null(out);
}

static void lk_tunables_set__keeps_other_lines(void **state)
{
    (void) state;
    const char *text = "# head\nA=1 # one\n  export B=\"2\"\nA=3\nC=4";
    char err[256], *out = NULL;
    assert_int_equal(lk_tunables_set(text, "B", "it's x", &out, err, sizeof(err)), 0);
    assert_string_equal(out, "# head\nA=1 # one\n  export B='it'\\''s x'\nA=3\nC=4");
    free(out);
    assert_int_equal(lk_tunables_set(text, "A", "/a:b", &out, err, sizeof(err)), 0);
    assert_string_equal(out, "# head\nA=1 # one\n  export B=\"2\"\nA=/a:b\nC=4");
    free(out);
    assert_int_equal(lk_tunables_set(text, "D", "$x", &out, err, sizeof(err)), 0);
    assert_string_equal(out, "# head\nA=1 # one\n  export B=\"2\"\nA=3\nC=4\nD='$x'\n");
    struct lk_tunables t;
    assert_int_equal(parse(out, &t, err, sizeof(err)), 0);
    assert_string_equal(lk_tunables_get(&t, "D"), "$x");
    lk_tunables_done(&t);
    free(out);
    assert_int_equal(lk_tunables_set(NULL, "E", "", &out, err, sizeof(err)), 0);
    assert_string_equal(out, "E=''\n");
    free(out);
    assert_int_equal(lk_tunables_unset(text, "A", &out, err, sizeof(err)), 0);
    assert_string_equal(out, "# head\n  export B=\"2\"\nC=4");
    free(out);
}

static void lk_tunables_diff__names(void **state)
{
    (void) state;
    char buf[128];
    assert_string_equal(lk_tunables_diff("A=1\n", "A=1\n", buf, sizeof(buf)), "");
    assert_string_equal(lk_tunables_diff("A=1\n", "# x\nA=1\n", buf, sizeof(buf)), "comments only");
    assert_string_equal(lk_tunables_diff("A=1\nB=2\nC=3\n", "A=2\nC=3\nD=\nE=1", buf, sizeof(buf)),
                        "set A, D, E; unset B");
    assert_string_equal(lk_tunables_diff(NULL, "A=1", buf, sizeof(buf)), "set A");
    assert_string_equal(lk_tunables_diff("A=1", "", buf, sizeof(buf)), "unset A");
    char small[12];
    assert_string_equal(lk_tunables_diff("", "AAAA=1\nBBBB=2\nCCCC=3", small, sizeof(small)),
                        "set AAAA...");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_tunables_parse__errors),
            cmocka_unit_test(lk_tunables_parse__limits),
            cmocka_unit_test(lk_tunables_parse__lifekeeper_file),
            cmocka_unit_test(lk_tunables_reserved__keys),
            cmocka_unit_test(lk_tunables_set__errors),
            cmocka_unit_test(lk_tunables_set__keeps_other_lines),
            cmocka_unit_test(lk_tunables_diff__names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
