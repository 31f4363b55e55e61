/* Unit tests for lkimport.c: reading a LifeKeeper dump (separators, sections, escapes,
 * every refusal with its line number) and the plan made from it (children created first,
 * never in service, dependencies, extends with LifeKeeper's priorities renumbered around
 * this node, skipped types, tunables and restores, shell quoting). Pure. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lkimport.h"

/* One ins_list record with ^A between the fields. */
static void rec(char *buf, size_t size, const char *sys, const char *app, const char *typ,
                const char *tag, const char *info, const char *quick, const char *lr,
                const char *sb)
{
    snprintf(buf, size,
             "%s\001%s\001%s\001%s\001%s-id\001%s\001ISP\001restore action has "
             "succeeded\001AUTORES_ISP\001\0010\0010\001\001%s\001300\001%s\001%s\n",
             sys, app, typ, tag, tag, info, quick, lr, sb);
}

/* The dump of the scenario: db under web (web depends on db), an IP resource that is not
 * gen/app, two systems with priorities 1 (lk1) and 10 (lk2). */
static char *sample(void)
{
    static char text[4096];
    char a[512], b[512], c[512];
    rec(a, sizeof(a), "lk1", "gen", "app", "web", "port=80", "180", "1", "INTELLIGENT");
    rec(b, sizeof(b), "lk1", "gen", "app", "db", "", "60", "0", "AUTOMATIC");
    rec(c, sizeof(c), "lk1", "comm", "ip", "ip-10", "10.0.0.1", "180", "1", "INTELLIGENT");
    snprintf(text, sizeof(text),
             "%s%s%s#dep_list\nweb\001db\nweb\001ip-10\n#eqv_list\n"
             "lk1\001web\001lk2\001web\001SHARED\0011\00110\n"
             "lk1\001db\001lk2\001db\001SHARED\0011\00110\n"
             "lk1\001ip-10\001lk2\001ip-10\001SHARED\0011\00110\n",
             a, b, c);
    return text;
}

static int parse(const char *text, struct lk_import_dump *d, char *err)
{
    return lk_import_parse(text, strlen(text), d, err, 512);
}

static bool no_files(const char *path, void *userdata)
{
    (void) path;
    (void) userdata;
    return false;
}

static bool quick_only(const char *path, void *userdata)
{
    (void) userdata;
    return strstr(path, "!quickCheck") != NULL;
}

static int plan_of(const char *text, struct lk_import_options *o, struct lk_import_plan *p,
                   char *err)
{
    struct lk_import_dump d;
    int r = parse(text, &d, err);
    if (r < 0) {
        return r;
    }
    r = lk_import_plan(&d, o, p, err, 512);
    lk_import_dump_done(&d);
    return r;
}

static char *text_of(const struct lk_import_plan *p, size_t i)
{
    return lk_import_step_text(&p->steps[i], "lkcli");
}

static void lk_import_parse__refusals_name_the_line(void **state)
{
    (void) state;
    struct lk_import_dump d;
    char err[512];
    assert_int_equal(parse("", &d, err), -EINVAL);
    assert_non_null(strstr(err, "no ins_list record"));
    assert_int_equal(parse("# only a comment\n\n", &d, err), -EINVAL);
    assert_int_equal(parse("hello world\n", &d, err), -EINVAL);
    assert_non_null(strstr(err, "line 1"));
    char text[2048];
    snprintf(text, sizeof(text), "%s#dep_list\nweb\001db\001x\001y\n", sample());
    assert_int_equal(parse(text, &d, err), -EINVAL);
    assert_non_null(strstr(err, "line 12:"));
    snprintf(text, sizeof(text), "%s#eqv_list\nlk1\001web\001lk2\001web\001EXCLUSIVE\0011\0012\n",
             sample());
    assert_int_equal(parse(text, &d, err), -EINVAL);
    assert_non_null(strstr(err, "SHARED"));
    snprintf(text, sizeof(text), "%s#eqv_list\nlk1\001web\001lk2\001web\001SHARED\0011\0012000\n",
             sample());
    assert_int_equal(parse(text, &d, err), -EINVAL);
    assert_non_null(strstr(err, "priority"));
    assert_int_equal(parse("#dep_list\na\001b\n", &d, err), -EINVAL);
    assert_non_null(strstr(err, "before any ins_list"));
    char bad[600];
    rec(bad, sizeof(bad), "lk1", "gen", "app", "web", "a\001b", "180", "1", "INTELLIGENT");
    assert_int_equal(parse(bad, &d, err), -EINVAL);
    assert_non_null(strstr(err, "line 1"));
    assert_int_equal(lk_import_parse("a\0b", 3, &d, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "NUL"));
    assert_int_equal(parse("a\033b\n", &d, err), -EINVAL);
    assert_non_null(strstr(err, "control character"));
    /* What goes to lkd and into the printed commands is UTF-8 text: raw or escaped, a
     * byte that is not is one error naming the line and the field. */
    snprintf(text, sizeof(text), "%s#ins_list\n", sample());
    rec(bad, sizeof(bad), "lk\377", "gen", "app", "web2", "x", "180", "1", "INTELLIGENT");
    strcat(text, bad);
    assert_int_equal(parse(text, &d, err), -EINVAL);
    assert_non_null(strstr(err, "line 12: field 1 is not valid UTF-8"));
    rec(bad, sizeof(bad), "lk\\377", "gen", "app", "web2", "x", "180", "1", "INTELLIGENT");
    assert_int_equal(parse(bad, &d, err), -EINVAL);
    assert_non_null(strstr(err, "line 1: field 1 is not valid UTF-8"));
    rec(bad, sizeof(bad), "lk1", "gen", "app", "web2", "a\\012b", "180", "1", "INTELLIGENT");
    assert_int_equal(parse(bad, &d, err), -EINVAL);
    assert_non_null(strstr(err, "line 1: field 6 contains a control character"));
    snprintf(text, sizeof(text), "%s#eqv_list\nlk1\001web\001lk\300\001web\001SHARED\0011\0012\n",
             sample());
    assert_int_equal(parse(text, &d, err), -EINVAL);
    assert_non_null(strstr(err, "field 3 is not valid UTF-8"));
    rec(bad, sizeof(bad), "lk1", "gen", "app", "web2", "caf\303\251 \\303\\251", "180", "1",
        "INTELLIGENT");
    assert_int_equal(parse(bad, &d, err), 0);
    assert_string_equal(d.res[0].info, "caf\303\251 \303\251");
    lk_import_dump_done(&d);
}

static void lk_import_parse__sections_and_separators(void **state)
{
    (void) state;
    struct lk_import_dump d;
    char err[512];
    assert_int_equal(parse(sample(), &d, err), 0);
    assert_int_equal(d.sep, '\001');
    assert_int_equal(d.n_res, 3);
    assert_int_equal(d.n_deps, 2);
    assert_int_equal(d.n_eqvs, 3);
    assert_string_equal(d.res[0].tag, "web");
    assert_string_equal(d.res[0].info, "port=80");
    assert_string_equal(d.res[0].quick, "180");
    assert_string_equal(d.res[0].deep, "300");
    assert_string_equal(d.res[1].switchback, "AUTOMATIC");
    assert_string_equal(d.deps[0].parent, "web");
    assert_string_equal(d.deps[0].child, "db");
    assert_int_equal(d.eqvs[0].prio, 1);
    assert_int_equal(d.eqvs[0].other_prio, 10);
    lk_import_dump_done(&d);

    /* A comma-separated dump (ins_list -f ,) with CRLF line ends and an escaped comma. */
    const char *comma = "LK001,gen,app,Vol.E,E:,a\\054b,ISP,ok,AUTORES_ISP,,0,0,,180,300,0,"
                        "INTELLIGENT\r\n#dep_list\r\n#eqv_list\r\n";
    assert_int_equal(parse(comma, &d, err), 0);
    assert_int_equal(d.sep, ',');
    assert_string_equal(d.res[0].info, "a,b");
    assert_string_equal(d.res[0].switchback, "INTELLIGENT");
    lk_import_dump_done(&d);

    /* The system field of a three-field dep_list line is dropped. */
    char text[2048];
    snprintf(text, sizeof(text), "%s#dep_list\nlk1\001web\001db\n", sample());
    assert_int_equal(parse(text, &d, err), 0);
    assert_int_equal(d.n_deps, 3);
    assert_string_equal(d.deps[2].parent, "web");
    assert_string_equal(d.deps[2].child, "db");
    lk_import_dump_done(&d);
    lk_import_dump_done(NULL);
}

static void lk_import_plan__refusals(void **state)
{
    (void) state;
    struct lk_import_options o = {.scripts_dir = "/lk/app", .exists = no_files};
    struct lk_import_plan p;
    char err[512], text[4096];
    /* A dependency naming no resource. */
    snprintf(text, sizeof(text), "%s#dep_list\nweb\001nothere\n", sample());
    assert_int_equal(plan_of(text, &o, &p, err), -EINVAL);
    assert_non_null(strstr(err, "nothere"));
    /* A cycle. */
    snprintf(text, sizeof(text), "%s#dep_list\ndb\001web\n", sample());
    assert_int_equal(plan_of(text, &o, &p, err), -EINVAL);
    assert_non_null(strstr(err, "cycle"));
    /* Two priorities for one node, one priority for two nodes. */
    snprintf(text, sizeof(text), "%s#eqv_list\nlk1\001web\001lk2\001web\001SHARED\0011\0015\n",
             sample());
    assert_int_equal(plan_of(text, &o, &p, err), -EINVAL);
    assert_non_null(strstr(err, "priority"));
    snprintf(text, sizeof(text), "%s#eqv_list\nlk1\001web\001lk3\001web\001SHARED\0011\00110\n",
             sample());
    assert_int_equal(plan_of(text, &o, &p, err), -EINVAL);
    /* A bad tag, a bad switchback, an interval over a day once in minutes. */
    char r1[600];
    rec(r1, sizeof(r1), "lk1", "gen", "app", "bad tag", "", "180", "1", "INTELLIGENT");
    assert_int_equal(plan_of(r1, &o, &p, err), -EINVAL);
    assert_non_null(strstr(err, "line 1"));
    rec(r1, sizeof(r1), "lk1", "gen", "app", "web", "", "180", "1", "SOMETIMES");
    assert_int_equal(plan_of(r1, &o, &p, err), -EINVAL);
    assert_non_null(strstr(err, "switchback"));
    rec(r1, sizeof(r1), "lk1", "gen", "app", "web", "", "2000", "1", "INTELLIGENT");
    o.intervals_minutes = true;
    assert_int_equal(plan_of(r1, &o, &p, err), -EINVAL);
    assert_non_null(strstr(err, "over a day"));
    o.intervals_minutes = false;
    /* Nothing to import. */
    rec(r1, sizeof(r1), "lk1", "comm", "ip", "ip-1", "", "180", "1", "INTELLIGENT");
    assert_int_equal(plan_of(r1, &o, &p, err), -EINVAL);
    assert_non_null(strstr(err, "no gen/app"));
    /* The same tag twice from one system. */
    char two[1200];
    rec(r1, sizeof(r1), "lk1", "gen", "app", "web", "", "180", "1", "INTELLIGENT");
    snprintf(two, sizeof(two), "%s%s", r1, r1);
    assert_int_equal(plan_of(two, &o, &p, err), -EINVAL);
    assert_non_null(strstr(err, "again"));
}

static void lk_import_plan__steps_in_order(void **state)
{
    (void) state;
    struct lk_import_options o = {
            .scripts_dir = "/lk/app/", .local_node = "lk1", .exists = quick_only};
    struct lk_import_plan p;
    char err[512];
    assert_int_equal(plan_of(sample(), &o, &p, err), 0);
    assert_string_equal(p.source, "lk1");
    assert_int_equal(p.n_tags, 2);
    assert_int_equal(p.n_skipped, 1);
    assert_string_equal(p.skipped[0].tag, "ip-10");
    assert_non_null(strstr(p.skipped[0].why, "only gen/app"));
    /* db first (the child), then web, the dependency, one extend of the root. */
    assert_int_equal(p.n_steps, 4);
    assert_int_equal(p.steps[0].kind, LK_IMPORT_STEP_CREATE);
    assert_string_equal(p.steps[0].tag, "db");
    assert_string_equal(p.steps[1].tag, "web");
    assert_int_equal(p.steps[2].kind, LK_IMPORT_STEP_DEPENDENCY);
    assert_int_equal(p.steps[3].kind, LK_IMPORT_STEP_EXTEND);
    char *t = text_of(&p, 1);
    assert_string_equal(t, "lkcli resource create gen --tag web --id web-id --app-info port=80 "
                           "--no-in-service --restore '/lk/app/actions/!restore/web' --remove "
                           "'/lk/app/actions/!remove/web' --quickchk "
                           "'/lk/app/actions/!quickCheck/web' --init AUTORES_ISP --switchback "
                           "intelligent --local-recovery on --quickchk-interval 180 "
                           "--deepchk-interval 300 --script-args lifekeeper");
    free(t);
    t = text_of(&p, 0);
    assert_non_null(strstr(t, "--local-recovery off --quickchk-interval 60"));
    assert_non_null(strstr(t, "--switchback automatic"));
    free(t);
    t = text_of(&p, 2);
    assert_string_equal(t, "lkcli dependency create --parent web --child db");
    free(t);
    t = text_of(&p, 3);
    assert_string_equal(t, "lkcli resource extend --tag web --node lk2 --priority 10");
    free(t);
    assert_int_equal(p.n_nodes, 1);
    assert_string_equal(p.nodes[0], "lk2");
    /* The dependency on the skipped IP resource is said. */
    bool said = false;
    for (size_t i = 0; i < p.n_warnings; i++) {
        said = said || strstr(p.warnings[i], "ip-10") != NULL;
    }
    assert_true(said);
    lk_import_plan_done(&p);
    lk_import_plan_done(NULL);
}

static void lk_import_plan__map_minutes_tunables_restore(void **state)
{
    (void) state;
    const char *from[] = {"lk1", "lk2"}, *to[] = {"node1", "node2"};
    struct lk_import_options o = {.scripts_dir = "/lk/app",
                                  .local_node = "node1",
                                  .map_from = from,
                                  .map_to = to,
                                  .n_map = 2,
                                  .intervals_minutes = true,
                                  .tunables_file = "/tmp/Life Keeper",
                                  .restore = true,
                                  .exists = no_files};
    struct lk_import_plan p;
    char err[512];
    assert_int_equal(plan_of(sample(), &o, &p, err), 0);
    assert_int_equal(p.n_steps, 6);
    char *t = text_of(&p, 1);
    assert_non_null(strstr(t, "--quickchk-interval 10800 --deepchk-interval 18000"));
    assert_null(strstr(t, "--quickchk "));
    free(t);
    t = text_of(&p, 3);
    assert_string_equal(t, "lkcli resource extend --tag web --node node2 --priority 10");
    free(t);
    assert_int_equal(p.steps[4].kind, LK_IMPORT_STEP_TUNABLES);
    t = text_of(&p, 4);
    assert_string_equal(t, "lkcli cluster tunables --file '/tmp/Life Keeper'");
    free(t);
    assert_null(p.steps[4].tag);
    assert_int_equal(p.steps[5].kind, LK_IMPORT_STEP_RESTORE);
    assert_string_equal(p.steps[5].tag, "web");
    lk_import_plan_done(&p);
}

static void lk_import_plan__priorities_around_this_node(void **state)
{
    (void) state;
    /* LifeKeeper: lk2 first (1), lk1 (2), lk3 (3); imported on lk1, which has 1 here. */
    char text[2048], a[600];
    rec(a, sizeof(a), "lk1", "gen", "app", "web", "", "180", "1", "INTELLIGENT");
    snprintf(text, sizeof(text),
             "%s#eqv_list\nlk1\001web\001lk2\001web\001SHARED\0012\0011\n"
             "lk1\001web\001lk3\001web\001SHARED\0012\0013\n",
             a);
    struct lk_import_options o = {.scripts_dir = "/d", .local_node = "lk1", .exists = no_files};
    struct lk_import_plan p;
    char err[512];
    assert_int_equal(plan_of(text, &o, &p, err), 0);
    assert_int_equal(p.n_steps, 3);
    char *t = text_of(&p, 1);
    assert_string_equal(t, "lkcli resource extend --tag web --node lk2 --priority 2");
    free(t);
    t = text_of(&p, 2);
    assert_string_equal(t, "lkcli resource extend --tag web --node lk3 --priority 3");
    free(t);
    assert_true(p.n_warnings >= 1);
    assert_non_null(strstr(p.warnings[0], "priority 2"));
    lk_import_plan_done(&p);
    /* Imported on a node LifeKeeper did not have: every priority moves up by one. */
    o.local_node = "other";
    assert_int_equal(plan_of(text, &o, &p, err), 0);
    assert_int_equal(p.n_steps, 4);
    t = text_of(&p, 1);
    assert_string_equal(t, "lkcli resource extend --tag web --node lk2 --priority 2");
    free(t);
    t = text_of(&p, 2);
    assert_string_equal(t, "lkcli resource extend --tag web --node lk1 --priority 3");
    free(t);
    lk_import_plan_done(&p);
}

static void lk_import_step_text__quotes_what_a_shell_would_read(void **state)
{
    (void) state;
    char w0[] = "resource", w1[] = "create", w2[] = "it's", w3[] = "a b", w4[] = "", w5[] = "$x";
    char *argv[] = {w0, w1, w2, w3, w4, w5, NULL};
    struct lk_import_step s = {.argv = argv, .argc = 6};
    char *t = lk_import_step_text(&s, "lkcli");
    assert_string_equal(t, "lkcli resource create 'it'\\''s' 'a b' '' '$x'");
    free(t);
}

static void lk_import_script_path__names(void **state)
{
    (void) state;
    char buf[64];
    assert_true(lk_import_script_path("/a/", "recover", "t", buf, sizeof(buf)) > 0);
    assert_string_equal(buf, "/a/recovery/!recover/t");
    assert_true(lk_import_script_path("/a", "deepchk", "t", buf, sizeof(buf)) > 0);
    assert_string_equal(buf, "/a/actions/!deepCheck/t");
    assert_int_equal(lk_import_script_path("/a", "nope", "t", buf, sizeof(buf)), -EINVAL);
    assert_int_equal(lk_import_script_path("/a", "restore", "t", buf, 8), -ENOSPC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_import_parse__refusals_name_the_line),
            cmocka_unit_test(lk_import_parse__sections_and_separators),
            cmocka_unit_test(lk_import_plan__refusals),
            cmocka_unit_test(lk_import_plan__steps_in_order),
            cmocka_unit_test(lk_import_plan__map_minutes_tunables_restore),
            cmocka_unit_test(lk_import_plan__priorities_around_this_node),
            cmocka_unit_test(lk_import_step_text__quotes_what_a_shell_would_read),
            cmocka_unit_test(lk_import_script_path__names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
