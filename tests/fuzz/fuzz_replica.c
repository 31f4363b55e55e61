/* libFuzzer target: the replication object parser (src/daemon/cluster/replica.c's
 * lk_replica_parse), the checks of everything a peer sends about a resource definition
 * before a byte of it is written (replica.h shows the object).
 *
 * Input: the object's JSON text, received by node "node1" from peer "node2". It goes
 * through the same parse and validation as lk_replica_apply; nothing is read or written.
 * Invariants: a refusal is -EINVAL with a one-line reason; an accepted object has a valid
 * tag and version, a known app and type (gen with its required scripts, valid scripts;
 * ocf and systemd with none and every action), valid parameters and helper files, and
 * distinct valid children; "here" says whether its nodes name node1; the object rebuilt
 * from what was parsed (as lk_replica_object would send it on) parses to the same
 * definition; a version equals itself and orders the same both ways.
 * Never: the store, the script copies, the definitions writer. */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "node.h"
#include "paramfile.h"
#include "params.h"
#include "proto.h"
#include "replica.h"
#include "validate.h"

#define SELF "node1"
#define PEER "node2"

static json_t *base64(const unsigned char *data, size_t len)
{
    size_t b64_size = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64_size);
    FUZZ_CHECK(b64 != NULL, "malloc");
    sodium_bin2base64(b64, b64_size, data, len, sodium_base64_VARIANT_ORIGINAL);
    json_t *s = json_string(b64);
    free(b64);
    return s;
}

/* The object a node would send on for what p holds (replica.h's shape). */
static json_t *rebuild(const struct lk_definition *p)
{
    json_t *o = json_pack("{s:s, s:o, s:b, s:O}", "tag", p->tag, "version",
                          lk_version_json(&p->version), "deleted", p->deleted, "nodes", p->nodes);
    FUZZ_CHECK(o != NULL, "rebuilding the object");
    if (p->deleted) {
        return o;
    }
    json_t *res = lk_replica_definition_json(p->res);
    FUZZ_CHECK(res != NULL, "printing the parsed resource");
    const struct lk_define_files *f = &p->files;
    json_t *scripts = json_object();
    for (int a = 0; a < LK_ACTION_COUNT; a++) {
        if (f->content[a]) {
            json_object_set_new(scripts, lk_action_name((enum lk_action) a),
                                base64(f->content[a], f->len[a]));
        }
    }
    json_t *helpers = json_object();
    for (size_t i = 0; i < f->helper_count; i++) {
        json_object_set_new(helpers, f->helpers[i].name,
                            base64(f->helpers[i].data, f->helpers[i].len));
    }
    json_t *params = lk_params_json(&f->params);
    FUZZ_CHECK(params != NULL, "printing the parameters");
    json_object_set_new(o, "resource", res);
    json_object_set_new(o, "scripts", scripts);
    json_object_set_new(o, "params", params);
    json_object_set_new(o, "helpers", helpers);
    json_object_set(o, "children", p->children);
    return o;
}

static void check_accepted(const struct lk_definition *p, const char *err)
{
    char verr[256];
    FUZZ_CHECK(lk_validate_tag(p->tag, "tag", verr, sizeof(verr)) == 0, "tag: %s", verr);
    FUZZ_CHECK(p->version.counter >= 1 && p->version.counter <= LK_VERSION_MAX, "counter");
    FUZZ_CHECK(lk_validate_tag(p->version.node, "node", verr, sizeof(verr)) == 0, "node: %s", verr);
    FUZZ_CHECK(lk_version_cmp(&p->version, &p->version) == 0, "a version differs from itself");
    FUZZ_CHECK(json_is_object(p->nodes), "nodes");
    FUZZ_CHECK(p->here == (json_object_get(p->nodes, SELF) != NULL), "here is wrong");
    if (p->deleted) {
        return;
    }
    const struct lk_resource *res = p->res;
    FUZZ_CHECK(res != NULL, "a live object without its resource (%s)", err);
    FUZZ_CHECK(strcmp(res->tag, p->tag) == 0, "resource tag differs");
    FUZZ_CHECK(lk_validate_app_type(res->app, res->type, verr, sizeof(verr)) == 0, "type: %s",
               verr);
    bool gen = strcmp(res->app, "gen") == 0;
    const struct lk_define_files *f = &p->files;
    FUZZ_CHECK(f->params.count <= LK_PARAMS_MAX, "too many parameters");
    for (size_t i = 0; i < f->params.count; i++) {
        const struct lk_param *x = &f->params.items[i];
        FUZZ_CHECK(lk_params_check_name(x->name, verr, sizeof(verr)) == 0, "param: %s", verr);
        FUZZ_CHECK(lk_params_check_value(x->name, x->value, strlen(x->value), verr, sizeof(verr)) ==
                           0,
                   "param: %s", verr);
    }
    size_t total = 0;
    FUZZ_CHECK(f->helper_count <= LK_HELPERS_MAX, "too many helpers");
    for (size_t i = 0; i < f->helper_count; i++) {
        FUZZ_CHECK(lk_params_check_helper_name(f->helpers[i].name, verr, sizeof(verr)) == 0,
                   "helper: %s", verr);
        FUZZ_CHECK(f->helpers[i].len > 0 && f->helpers[i].len <= LK_SCRIPT_MAX_SIZE, "helper size");
        total += f->helpers[i].len;
    }
    FUZZ_CHECK(total <= LK_HELPERS_TOTAL_MAX, "helpers too large together");
    FUZZ_CHECK(lk_validate_tag(res->id, "id", verr, sizeof(verr)) == 0, "id: %s", verr);
    FUZZ_CHECK(lk_validate_info(res->info, verr, sizeof(verr)) == 0, "info: %s", verr);
    FUZZ_CHECK(res->state == LK_STATE_OSU && res->pending == LK_PENDING_NONE, "state");
    FUZZ_CHECK(lk_settings_check(&res->settings, verr, sizeof(verr)) == 0, "settings: %s", verr);
    for (int a = 0; a < LK_ACTION_COUNT; a++) {
        if (!gen) {
            FUZZ_CHECK(res->has_script[a] && !f->content[a], "%s action %d", res->app, a);
            continue;
        }
        FUZZ_CHECK(res->has_script[a] == (f->content[a] != NULL), "script %d", a);
        if (lk_action_required((enum lk_action) a)) {
            FUZZ_CHECK(res->has_script[a], "required script %d missing", a);
        }
        if (f->content[a]) {
            FUZZ_CHECK(lk_validate_script(f->content[a], f->len[a], verr, sizeof(verr)) == 0,
                       "script %d: %s", a, verr);
        }
    }
    FUZZ_CHECK(json_is_array(p->children), "children");
    size_t i;
    const json_t *v;
    json_array_foreach(p->children, i, v)
    {
        const char *child = json_string_value(v);
        FUZZ_CHECK(child && lk_validate_tag(child, "child", verr, sizeof(verr)) == 0, "child");
        FUZZ_CHECK(strcmp(child, p->tag) != 0, "a resource depends on itself");
    }
}

static bool same_definition(const struct lk_definition *a, const struct lk_definition *b)
{
    if (strcmp(a->tag, b->tag) != 0 || lk_version_cmp(&a->version, &b->version) != 0 ||
        a->deleted != b->deleted || a->here != b->here || !json_equal(a->nodes, b->nodes)) {
        return false;
    }
    if (a->deleted) {
        return true;
    }
    json_t *ra = lk_proto_resource_json(a->res);
    json_t *rb = lk_proto_resource_json(b->res);
    bool same = ra && rb && json_equal(ra, rb) && json_equal(a->children, b->children);
    json_decref(ra);
    json_decref(rb);
    const struct lk_define_files *fa = &a->files, *fb = &b->files;
    for (int x = 0; same && x < LK_ACTION_COUNT; x++) {
        same = fa->len[x] == fb->len[x] &&
               (fa->len[x] == 0 || memcmp(fa->content[x], fb->content[x], fa->len[x]) == 0);
    }
    same = same && lk_params_equal(&fa->params, &fb->params) &&
           fa->helper_count == fb->helper_count;
    for (size_t i = 0; same && i < fa->helper_count; i++) {
        const struct lk_helper_file *h = &fa->helpers[i];
        bool found = false;
        for (size_t k = 0; !found && k < fb->helper_count; k++) {
            found = strcmp(h->name, fb->helpers[k].name) == 0 && h->len == fb->helpers[k].len &&
                    memcmp(h->data, fb->helpers[k].data, h->len) == 0;
        }
        same = found;
    }
    return same;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct lk_node *node;
    if (!node) {
        FUZZ_CHECK(sodium_init() >= 0, "sodium_init");
        node = calloc(1, sizeof(*node));
        FUZZ_CHECK(node != NULL, "calloc");
        snprintf(node->name, sizeof(node->name), "%s", SELF);
    }
    json_error_t jerr;
    json_t *object = json_loadb((const char *) data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (!object) {
        return 0;
    }
    struct lk_definition p;
    char err[512];
    err[0] = '\0';
    int r = lk_replica_parse(node, PEER, object, &p, err, sizeof(err));
    FUZZ_CHECK(r == 0 || r == -EINVAL, "error %d: %s", r, err);
    if (r < 0) {
        FUZZ_CHECK(err[0] != '\0', "a refusal without a reason");
        FUZZ_CHECK(fuzz_one_line(err), "a reason of more than one line: '%s'", err);
        FUZZ_CHECK(fuzz_utf8(err), "a reason an event cannot carry: '%s'", err);
        /* A version alone, when there is one, orders the same both ways. */
        struct lk_version v, w = {.counter = 7, .node = "node1"};
        if (lk_version_parse(json_object_get(object, "version"), &v) == 0) {
            FUZZ_CHECK(lk_version_cmp(&v, &w) == -lk_version_cmp(&w, &v), "version order");
        }
        json_decref(object);
        return 0;
    }
    check_accepted(&p, err);
    json_t *again = rebuild(&p);
    struct lk_definition q;
    r = lk_replica_parse(node, PEER, again, &q, err, sizeof(err));
    FUZZ_CHECK(r == 0, "the object rebuilt from an accepted one is refused: %s", err);
    FUZZ_CHECK(same_definition(&p, &q), "the rebuilt object parses to another definition");
    lk_replica_parsed_free(&q);
    json_decref(again);
    lk_replica_parsed_free(&p);
    json_decref(object);
    return 0;
}
