/* libFuzzer target: the LifeKeeper dump reader and the import planner (src/lib/lkimport.c).
 *
 * Input: one byte of options (bit 0: intervals in minutes, bit 1: restore, bit 2: a
 * tunables file, bit 3: map lk1=node1), then the dump's text.
 * Invariants: a refusal is -EINVAL with a one-line message and leaves nothing allocated; an
 * accepted dump has at least one record, every record the fields its section needs, and
 * its plan: at least one create, only creates of tags it lists, every create before any
 * other step and with --no-in-service, a restore step only when asked, every step's text
 * one line starting with the prefix. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "lkimport.h"

static bool some_exist(const char *path, void *userdata)
{
    (void) userdata;
    return strstr(path, "!quickCheck") != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    uint8_t flags = data[0];
    const char *text = (const char *) data + 1;
    size_t len = size - 1;
    struct lk_import_dump dump;
    char err[1024] = "";
    int r = lk_import_parse(text, len, &dump, err, sizeof(err));
    if (r < 0) {
        FUZZ_CHECK(r == -EINVAL, "parse error %d", r);
        FUZZ_CHECK(err[0] && !strchr(err, '\n'), "a refusal of more than one line: '%s'", err);
        return 0;
    }
    FUZZ_CHECK(dump.n_res > 0, "an accepted dump without a record");
    for (size_t i = 0; i < dump.n_res; i++) {
        FUZZ_CHECK(dump.res[i].tag && dump.res[i].tag[0], "a record without a tag");
        FUZZ_CHECK(dump.res[i].switchback != NULL, "a record without its 17th field");
    }
    for (size_t i = 0; i < dump.n_eqvs; i++) {
        FUZZ_CHECK(dump.eqvs[i].prio >= 1 && dump.eqvs[i].prio <= LK_IMPORT_MAX_PRIORITY,
                   "priority %u", dump.eqvs[i].prio);
    }
    const char *from[] = {"lk1"}, *to[] = {"node1"};
    struct lk_import_options o = {.scripts_dir = "/lk/app",
                                  .local_node = "node1",
                                  .map_from = from,
                                  .map_to = to,
                                  .n_map = (flags & 8) ? 1 : 0,
                                  .intervals_minutes = flags & 1,
                                  .restore = flags & 2,
                                  .tunables_file = (flags & 4) ? "/etc/default/LifeKeeper" : NULL,
                                  .exists = some_exist};
    struct lk_import_plan plan;
    r = lk_import_plan(&dump, &o, &plan, err, sizeof(err));
    lk_import_dump_done(&dump);
    if (r < 0) {
        FUZZ_CHECK(r == -EINVAL, "plan error %d", r);
        FUZZ_CHECK(err[0] && !strchr(err, '\n'), "a refusal of more than one line: '%s'", err);
        return 0;
    }
    FUZZ_CHECK(plan.n_tags > 0, "a plan without a resource");
    bool creating = true;
    size_t creates = 0;
    for (size_t i = 0; i < plan.n_steps; i++) {
        const struct lk_import_step *s = &plan.steps[i];
        if (s->kind == LK_IMPORT_STEP_CREATE) {
            FUZZ_CHECK(creating, "a create after another kind of step (step %zu)", i + 1);
            creates++;
            bool listed = false, out = false;
            for (size_t t = 0; t < plan.n_tags; t++) {
                listed = listed || strcmp(plan.tags[t], s->tag) == 0;
            }
            for (size_t a = 0; a < s->argc; a++) {
                out = out || strcmp(s->argv[a], "--no-in-service") == 0;
            }
            FUZZ_CHECK(listed && out, "create of '%s': listed %d, --no-in-service %d", s->tag,
                       listed, out);
        } else {
            creating = false;
        }
        FUZZ_CHECK(s->kind != LK_IMPORT_STEP_RESTORE || (flags & 2), "a restore not asked for");
        char *line = lk_import_step_text(s, "lkcli");
        FUZZ_CHECK(line && strncmp(line, "lkcli ", 6) == 0 && !strchr(line, '\n'), "step text '%s'",
                   line ? line : "(null)");
        free(line);
    }
    FUZZ_CHECK(creates == plan.n_tags, "%zu creates for %zu tags", creates, plan.n_tags);
    lk_import_plan_done(&plan);
    return 0;
}
