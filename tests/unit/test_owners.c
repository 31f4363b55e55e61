/* owners.c: the in-memory ownership entries stay sorted and unique by tag, a fence run
 * is created once per node, and finding in an empty table finds nothing. The executor's
 * batch of records from a peer (lk_executor_begin_owners/commit_owners), with a real
 * store: the records reach the store and owners together, at the commit. */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "executor.h"
#include "owners.h"
#include "store.h"

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

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove(path);
}

static struct lk_owner_rec rec_of(uint64_t gen, const char *owner)
{
    struct lk_owner_rec rec = {.gen = gen, .active = true};
    snprintf(rec.owner, sizeof(rec.owner), "%s", owner);
    snprintf(rec.reason, sizeof(rec.reason), "switchover from n1");
    return rec;
}

/* How many records another reader of the store sees (what a restart would load). */
static size_t stored(struct lk_store *reader)
{
    struct lk_owners o = {0};
    assert_int_equal(lk_owners_load(&o, reader), 0);
    size_t n = o.count;
    clear(&o);
    return n;
}

static void lk_executor_commit_owners__records_reach_store_and_owners_together(void **state)
{
    (void) state;
    char dir[] = "/tmp/lk-test-owners-XXXXXX", path[64], err[512];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/lk.db", dir);
    struct lk_node node = {.log_fd = -1};
    snprintf(node.name, sizeof(node.name), "n2");
    snprintf(node.root, sizeof(node.root), "%s", dir);
    struct lk_store *reader = NULL;
    assert_int_equal(lk_store_open(path, &node.store, err, sizeof(err)), 0);
    assert_int_equal(lk_store_open(path, &reader, err, sizeof(err)), 0);
    struct lk_owners o = {0};

    /* Outside a batch: in the store and in owners at once. */
    struct lk_owner_rec a = rec_of(1, "n1");
    assert_int_equal(lk_executor_save_owner(&node, &o, "a", &a), 0);
    assert_int_equal(o.count, 1);
    assert_int_equal(stored(reader), 1);

    /* In a batch: neither until the commit, then both. */
    lk_executor_begin_owners(&o);
    const char *tags[] = {"b", "c", "a"};
    for (size_t i = 0; i < 3; i++) {
        struct lk_owner_rec r = rec_of(2, "n2");
        assert_int_equal(lk_executor_save_owner(&node, &o, tags[i], &r), 0);
    }
    assert_int_equal(o.count, 1);
    assert_int_equal(lk_owners_find(&o, "a")->rec.gen, 1);
    assert_int_equal(stored(reader), 1);
    lk_executor_commit_owners(&node, &o);
    assert_int_equal(o.count, 3);
    for (size_t i = 0; i < 3; i++) {
        const struct lk_owner_entry *e = lk_owners_find(&o, tags[i]);
        assert_non_null(e);
        assert_int_equal(e->rec.gen, 2);
        assert_string_equal(e->rec.owner, "n2");
        assert_false(e->acted);
    }
    assert_int_equal(stored(reader), 3);
    assert_null(o.pending);

    /* A batch that saves nothing and a commit without a batch do nothing; saves after
     * them are immediate again. */
    lk_executor_begin_owners(&o);
    lk_executor_commit_owners(&node, &o);
    lk_executor_commit_owners(&node, &o);
    struct lk_owner_rec d = rec_of(3, "n1");
    assert_int_equal(lk_executor_save_owner(&node, &o, "d", &d), 0);
    assert_int_equal(o.count, 4);
    assert_int_equal(stored(reader), 4);

    clear(&o);
    reader = lk_store_close(reader);
    node.store = lk_store_close(node.store);
    (void) nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_owners_add__sorted_and_unique),
            cmocka_unit_test(lk_owners_fence__one_per_node),
            cmocka_unit_test(lk_executor_commit_owners__records_reach_store_and_owners_together),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
