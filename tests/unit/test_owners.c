/* owners.c: the in-memory ownership entries stay sorted and unique by tag, a fence run
 * is created once per node, and finding in an empty table finds nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "owners.h"

static void clear(struct lk_owners *o)
{
    free(o->entries);
    free(o->fences);
    free(o->switches);
    free(o->removing);
}

static void lk_owners_add__sorted_and_unique(void **state)
{
    (void) state;
    struct lk_owners o = {0};
    assert_null(lk_owners_find(&o, "web"));
    const char *tags[] = {"web", "db", "ip", "db"};
    for (size_t i = 0; i < 4; i++) {
        struct lk_owner_entry *e = lk_owners_add(&o, tags[i]);
        assert_non_null(e);
        assert_string_equal(e->tag, tags[i]);
    }
    assert_int_equal(o.count, 3);
    assert_string_equal(o.entries[0].tag, "db");
    assert_string_equal(o.entries[1].tag, "ip");
    assert_string_equal(o.entries[2].tag, "web");
    lk_owners_find(&o, "ip")->acted = true;
    assert_true(lk_owners_add(&o, "ip")->acted); /* _add keeps an existing entry */
    assert_false(lk_owners_find(&o, "db")->acted);
    assert_null(lk_owners_find(&o, "mail"));
    clear(&o);
}

static void lk_owners_fence__one_per_node(void **state)
{
    (void) state;
    struct lk_owners o = {0};
    struct lk_fence_run *f = lk_owners_fence(&o, "n2");
    assert_non_null(f);
    assert_false(f->running);
    f->running = true;
    assert_non_null(lk_owners_fence(&o, "n3"));
    assert_true(lk_owners_fence(&o, "n2")->running);
    assert_int_equal(o.fence_count, 2);
    clear(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_owners_add__sorted_and_unique),
            cmocka_unit_test(lk_owners_fence__one_per_node),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
