/* Unit tests for src/lib/hier.c: the hierarchy index (adjacency by position, in the
 * dependency list's order; components; tags named only by dependencies), and the engine's
 * questions answered through it (connected, busy, cycles) against a walk by hand. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine.h"
#include "hier.h"

#define MAX 64

static struct lk_resource pool[MAX];
static struct lk_resource *list[MAX];
static struct lk_dep deps[MAX];

/* Resources named by tags (in that order) and dependencies "p>c". */
static size_t setup(const char *const *tags, size_t n, const char *const *edges, size_t e)
{
    memset(pool, 0, sizeof(pool));
    for (size_t i = 0; i < n; i++) {
        snprintf(pool[i].tag, sizeof(pool[i].tag), "%s", tags[i]);
        list[i] = &pool[i];
    }
    for (size_t i = 0; i < e; i++) {
        const char *gt = strchr(edges[i], '>');
        snprintf(deps[i].parent, sizeof(deps[i].parent), "%.*s", (int) (gt - edges[i]), edges[i]);
        snprintf(deps[i].child, sizeof(deps[i].child), "%s", gt + 1);
    }
    return n;
}

static size_t vertex(const struct lk_hier *h, const char *tag)
{
    size_t v = SIZE_MAX;
    assert_true(lk_hier_vertex(h, tag, &v));
    return v;
}

static void hier_build__empty_view(void **state)
{
    (void) state;
    struct lk_hier h = {0};
    assert_int_equal(lk_hier_build(&h, NULL, 0, true, NULL, 0), 0);
    size_t v;
    assert_false(lk_hier_vertex(&h, "a", &v));
    lk_hier_done(&h);
    lk_hier_done(NULL);
}

static void hier_build__children_parents_in_dependency_order(void **state)
{
    (void) state;
    const char *tags[] = {"a", "b", "c", "d"};
    const char *edges[] = {"a>d", "a>b", "c>b", "a>c"};
    size_t n = setup(tags, 4, edges, 4);
    struct lk_hier h = {0};
    assert_int_equal(lk_hier_build(&h, list, n, true, deps, 4), 0);
    size_t k = 0;
    const size_t *c = lk_hier_children(&h, vertex(&h, "a"), &k);
    assert_int_equal(k, 3);
    assert_string_equal(lk_hier_tag(&h, c[0]), "d");
    assert_string_equal(lk_hier_tag(&h, c[1]), "b");
    assert_string_equal(lk_hier_tag(&h, c[2]), "c");
    const size_t *p = lk_hier_parents(&h, vertex(&h, "b"), &k);
    assert_int_equal(k, 2);
    assert_string_equal(lk_hier_tag(&h, p[0]), "a");
    assert_string_equal(lk_hier_tag(&h, p[1]), "c");
    /* Neighbours of c: dependency 2 (c>b: b), then 3 (a>c: a). */
    const size_t *nb = lk_hier_neighbours(&h, vertex(&h, "c"), &k);
    assert_int_equal(k, 2);
    assert_string_equal(lk_hier_tag(&h, nb[0]), "b");
    assert_string_equal(lk_hier_tag(&h, nb[1]), "a");
    assert_true(lk_hier_matches(&h, list, n, deps, 4));
    assert_false(lk_hier_matches(&h, list, n, deps, 3));
    lk_hier_done(&h);
}

static void hier_build__components_and_tags_only_dependencies_name(void **state)
{
    (void) state;
    const char *tags[] = {"a", "b", "c", "x", "y"};
    /* "ghost" is not a resource: a and c are linked through it, as the walks by tag
     * always linked them. */
    const char *edges[] = {"a>ghost", "c>ghost", "x>y"};
    size_t n = setup(tags, 5, edges, 3);
    struct lk_hier h = {0};
    assert_int_equal(lk_hier_build(&h, list, n, true, deps, 3), 0);
    assert_int_equal(h.vcount, 6);
    size_t g = vertex(&h, "ghost");
    assert_true(g >= n);
    assert_int_equal(h.comp[vertex(&h, "a")], h.comp[vertex(&h, "c")]);
    assert_int_equal(h.comp[g], h.comp[vertex(&h, "a")]);
    assert_int_not_equal(h.comp[vertex(&h, "b")], h.comp[vertex(&h, "a")]);
    assert_int_equal(h.comp[vertex(&h, "x")], h.comp[vertex(&h, "y")]);
    size_t k = 0;
    const size_t *m = lk_hier_members(&h, vertex(&h, "c"), &k);
    assert_int_equal(k, 2); /* resources only, by position */
    assert_int_equal(m[0], 0);
    assert_int_equal(m[1], 2);
    assert_int_equal(h.comp_size[h.comp[g]], 3);
    size_t v;
    assert_false(lk_hier_vertex(&h, "nobody", &v));
    lk_hier_done(&h);
}

static void hier_build__unsorted_view_keeps_positions(void **state)
{
    (void) state;
    const char *tags[] = {"z", "m", "a"};
    const char *edges[] = {"z>a", "m>z"};
    size_t n = setup(tags, 3, edges, 2);
    struct lk_hier h = {0};
    assert_int_equal(lk_hier_build(&h, list, n, false, deps, 2), 0);
    assert_int_equal(vertex(&h, "z"), 0);
    assert_int_equal(vertex(&h, "m"), 1);
    assert_int_equal(vertex(&h, "a"), 2);
    size_t k = 0;
    const size_t *c = lk_hier_children(&h, 1, &k);
    assert_int_equal(k, 1);
    assert_int_equal(c[0], 0);
    lk_hier_done(&h);
}

/* The engine's answers through the index, on a chain of 40 and a lone resource. */
static void engine_questions__through_the_index(void **state)
{
    (void) state;
    static char names[MAX][8];
    const char *tags[41];
    const char *edges[39];
    static char edge_text[39][20];
    for (int i = 0; i < 41; i++) {
        snprintf(names[i], sizeof(names[i]), "r%02d", i);
        tags[i] = names[i];
    }
    for (int i = 0; i < 39; i++) {
        snprintf(edge_text[i], sizeof(edge_text[i]), "r%02d>r%02d", i, i + 1);
        edges[i] = edge_text[i];
    }
    size_t n = setup(tags, 41, edges, 39);
    struct lk_hier h = {0};
    assert_int_equal(lk_hier_build(&h, list, n, true, deps, 39), 0);
    struct lk_view with = {.resources = list,
                           .count = n,
                           .deps = deps,
                           .dep_count = 39,
                           .sorted = true,
                           .hier = &h};
    struct lk_view without = with;
    without.hier = NULL;
    for (int pass = 0; pass < 2; pass++) {
        const struct lk_view *v = pass ? &with : &without;
        assert_true(lk_engine_connected(v, "r00", "r39"));
        assert_false(lk_engine_connected(v, "r00", "r40"));
        assert_true(lk_engine_connected(v, "r40", "r40"));
        assert_null(lk_engine_hierarchy_busy(v, "r05"));
        pool[30].pending = LK_PENDING_RESTORE;
        assert_ptr_equal(lk_engine_hierarchy_busy(v, "r05"), &pool[30]);
        assert_null(lk_engine_hierarchy_busy(v, "r40"));
        pool[30].pending = LK_PENDING_NONE;
        char buf[512];
        assert_true(lk_engine_would_cycle(v, "r03", "r00", buf, sizeof(buf)));
        assert_string_equal(buf, "r03 -> r00 -> r01 -> r02 -> r03");
        assert_false(lk_engine_would_cycle(v, "r00", "r03", buf, sizeof(buf)));
        assert_string_equal(buf, "r00 -> r03");
        assert_false(lk_engine_would_cycle(v, "r40", "r00", buf, sizeof(buf)));
    }
    /* An index built from other arrays is not trusted: the engine builds its own. */
    struct lk_view other = with;
    other.dep_count = 2;
    assert_false(lk_engine_connected(&other, "r00", "r39"));
    lk_hier_done(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(hier_build__empty_view),
            cmocka_unit_test(hier_build__children_parents_in_dependency_order),
            cmocka_unit_test(hier_build__components_and_tags_only_dependencies_name),
            cmocka_unit_test(hier_build__unsorted_view_keeps_positions),
            cmocka_unit_test(engine_questions__through_the_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
