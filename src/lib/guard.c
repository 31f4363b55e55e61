/* The guard's contract as data (see guard.h): the plan lkd writes for lkguard, the fenced
 * payload and frame lkguard sends to the peers, and the hex form of an incarnation.
 * Everything that enters from a file or a socket is validated here field by field before
 * any of it is trusted: names are tags, paths absolute without "..", addresses
 * "host:port" as settings.h parses them, counts within the limits of guard.h, and no key
 * that this version does not know. Pure: no file, no socket, no clock, no log; a refusal
 * is -EINVAL with one line in err and the output left empty. */
#include "guard.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings.h"
#include "validate.h"
#include "wire.h"

/* The page is read by lkguard, by tests in other languages and across builds: its layout
 * is fixed (x86-64 and every ABI with natural alignment of 64-bit integers). */
_Static_assert(offsetof(struct lk_guard_page, seq) == 16, "page layout");
_Static_assert(offsetof(struct lk_guard_page, dead_ms) == 40, "page layout");
_Static_assert(offsetof(struct lk_guard_page, guard_pid) == 48, "page layout");
_Static_assert(offsetof(struct lk_guard_page, guard_mono_ns) == 56, "page layout");
_Static_assert(offsetof(struct lk_guard_page, fence_why) == 72, "page layout");
_Static_assert(sizeof(struct lk_guard_page) == 328, "page layout");

#define NAME_MAX_LEN 63 /* bytes of a node, peer or hierarchy name (char[64]) */
#define WHY_MAX_LEN  255

static const char *const plan_keys[] = {
        "v",     "node",  "incarnation", "dead_ms",           "authkey", "authkey_stamp",
        "peers", "fence", "watchdog",    "watchdog_timeout_s"};
static const char *const fenced_keys[] = {"node", "incarnation", "hierarchies", "why"};

void lk_guard_hex64(uint64_t x, char buf[17])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) {
        buf[i] = digits[x & 0xf];
        x >>= 4;
    }
    buf[16] = '\0';
}

int lk_guard_parse_hex64(const char *text, uint64_t *ret)
{
    if (!text || strlen(text) != 16) {
        return -EINVAL;
    }
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        char c = text[i];
        unsigned d;
        if (c >= '0' && c <= '9') {
            d = (unsigned) (c - '0');
        } else if (c >= 'a' && c <= 'f') {
            d = (unsigned) (c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            d = (unsigned) (c - 'A' + 10);
        } else {
            return -EINVAL;
        }
        v = v << 4 | d;
    }
    *ret = v;
    return 0;
}

/* Every key of obj is one of known (n of them). */
static int only_keys(const json_t *obj, const char *const *known, size_t n, const char *what,
                     char *err, size_t err_size)
{
    /* jansson's iterator takes a non-const object; it only reads it. */
    json_t *o = (json_t *) (uintptr_t) obj;
    for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it)) {
        const char *key = json_object_iter_key(it);
        bool found = false;
        for (size_t i = 0; i < n && !found; i++) {
            found = strcmp(key, known[i]) == 0;
        }
        if (!found) {
            return lk_fail_einval(err, err_size, "%s: unknown key '%.64s'", what, key);
        }
    }
    return 0;
}

/* A name: a tag (validate.h) that fits a char[64]. */
static int copy_name(const json_t *v, const char *what, char out[64], char *err, size_t err_size)
{
    const char *s = json_string_value(v);
    if (!s) {
        return lk_fail_einval(err, err_size, "%s: not a string", what);
    }
    char why[256];
    if (lk_validate_tag(s, what, why, sizeof(why)) < 0) {
        return lk_fail_einval(err, err_size, "%s", why);
    }
    if (strlen(s) > NAME_MAX_LEN) {
        return lk_fail_einval(err, err_size, "%s: longer than %d bytes", what, NAME_MAX_LEN);
    }
    memcpy(out, s, strlen(s) + 1);
    return 0;
}

/* An absolute path without a ".." component and without control characters, shorter than
 * LK_GUARD_PATH_MAX. */
static int check_path(const char *s, const char *what, char *err, size_t err_size)
{
    if (!s) {
        return lk_fail_einval(err, err_size, "%s: not a string", what);
    }
    size_t len = strlen(s);
    if (len == 0 || s[0] != '/') {
        return lk_fail_einval(err, err_size, "%s: not an absolute path", what);
    }
    if (len >= LK_GUARD_PATH_MAX) {
        return lk_fail_einval(err, err_size, "%s: longer than %d bytes", what,
                              LK_GUARD_PATH_MAX - 1);
    }
    for (const char *p = s; *p; p++) {
        if ((unsigned char) *p < 0x20 || *p == 0x7f) {
            return lk_fail_einval(err, err_size, "%s: contains a control character", what);
        }
    }
    for (const char *p = s; (p = strstr(p, "..")) != NULL; p += 2) {
        if (p[-1] == '/' && (p[2] == '/' || p[2] == '\0')) {
            return lk_fail_einval(err, err_size, "%s '%s': contains '..'", what, s);
        }
    }
    return 0;
}

static int parse_peer(const json_t *v, size_t idx, struct lk_guard_peer *peer, char *err,
                      size_t err_size)
{
    char what[64];
    snprintf(what, sizeof(what), "peers[%zu]", idx);
    if (!json_is_object(v)) {
        return lk_fail_einval(err, err_size, "%s: not an object", what);
    }
    static const char *const keys[] = {"name", "addresses"};
    int r = only_keys(v, keys, 2, what, err, err_size);
    if (r < 0) {
        return r;
    }
    snprintf(what, sizeof(what), "peers[%zu].name", idx);
    r = copy_name(json_object_get(v, "name"), what, peer->name, err, err_size);
    if (r < 0) {
        return r;
    }
    const json_t *addrs = json_object_get(v, "addresses");
    if (!json_is_array(addrs) || json_array_size(addrs) > LK_GUARD_ADDRS_MAX) {
        return lk_fail_einval(err, err_size, "peer '%s': addresses must be a list of at most %d",
                              peer->name, LK_GUARD_ADDRS_MAX);
    }
    for (size_t i = 0; i < json_array_size(addrs); i++) {
        const char *s = json_string_value(json_array_get(addrs, i));
        char why[256];
        if (!s) {
            return lk_fail_einval(err, err_size, "peer '%s': address %zu is not a string",
                                  peer->name, i);
        }
        if (strlen(s) >= sizeof(peer->addresses[0])) {
            return lk_fail_einval(err, err_size, "peer '%s': address %zu too long", peer->name, i);
        }
        if (lk_address_parse(s, NULL, why, sizeof(why)) < 0) {
            return lk_fail_einval(err, err_size, "peer '%s': %s", peer->name, why);
        }
        memcpy(peer->addresses[i], s, strlen(s) + 1);
    }
    peer->address_count = json_array_size(addrs);
    return 0;
}

static int parse_hier(const json_t *v, size_t idx, struct lk_guard_hier *h, char *err,
                      size_t err_size)
{
    char what[64];
    snprintf(what, sizeof(what), "fence[%zu]", idx);
    if (!json_is_object(v)) {
        return lk_fail_einval(err, err_size, "%s: not an object", what);
    }
    static const char *const keys[] = {"hierarchy", "cgroups"};
    int r = only_keys(v, keys, 2, what, err, err_size);
    if (r < 0) {
        return r;
    }
    snprintf(what, sizeof(what), "fence[%zu].hierarchy", idx);
    r = copy_name(json_object_get(v, "hierarchy"), what, h->name, err, err_size);
    if (r < 0) {
        return r;
    }
    const json_t *cgs = json_object_get(v, "cgroups");
    if (!json_is_array(cgs) || json_array_size(cgs) > LK_GUARD_CGROUPS_MAX) {
        return lk_fail_einval(err, err_size, "hierarchy '%s': cgroups must be a list of at most %d",
                              h->name, LK_GUARD_CGROUPS_MAX);
    }
    size_t n = json_array_size(cgs);
    if (n > 0) {
        h->cgroups = calloc(n, sizeof(*h->cgroups));
        if (!h->cgroups) {
            return -ENOMEM;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(cgs, i));
        snprintf(what, sizeof(what), "hierarchy '%s': cgroup", h->name);
        r = check_path(s, what, err, err_size);
        if (r < 0) {
            return r;
        }
        h->cgroups[i] = strdup(s);
        if (!h->cgroups[i]) {
            return -ENOMEM;
        }
        h->cgroup_count = i + 1;
    }
    return 0;
}

static int parse_plan(const json_t *json, struct lk_guard_plan *plan, char *err, size_t err_size)
{
    if (!json_is_object(json)) {
        return lk_fail_einval(err, err_size, "plan: not a JSON object");
    }
    int r = only_keys(json, plan_keys, sizeof(plan_keys) / sizeof(plan_keys[0]), "plan", err,
                      err_size);
    if (r < 0) {
        return r;
    }
    const json_t *v = json_object_get(json, "v");
    if (!json_is_integer(v) || json_integer_value(v) != 1) {
        return lk_fail_einval(err, err_size, "plan: version 'v' must be 1");
    }
    r = copy_name(json_object_get(json, "node"), "node", plan->node, err, err_size);
    if (r < 0) {
        return r;
    }
    if (lk_guard_parse_hex64(json_string_value(json_object_get(json, "incarnation")),
                             &plan->incarnation) < 0) {
        return lk_fail_einval(err, err_size, "plan: incarnation must be 16 hex digits");
    }
    v = json_object_get(json, "dead_ms");
    if (!json_is_integer(v) || json_integer_value(v) < LK_GUARD_DEAD_MS_MIN ||
        json_integer_value(v) > LK_GUARD_DEAD_MS_MAX) {
        return lk_fail_einval(err, err_size, "plan: dead_ms must be a number from %d to %d",
                              LK_GUARD_DEAD_MS_MIN, LK_GUARD_DEAD_MS_MAX);
    }
    plan->dead_ms = (uint64_t) json_integer_value(v);
    const char *s = json_string_value(json_object_get(json, "authkey"));
    r = check_path(s, "authkey", err, err_size);
    if (r < 0) {
        return r;
    }
    memcpy(plan->authkey, s, strlen(s) + 1);
    const json_t *stamp = json_object_get(json, "authkey_stamp");
    if (stamp &&
        (!json_is_string(stamp) || json_string_length(stamp) >= sizeof(plan->authkey_stamp))) {
        return lk_fail_einval(err, err_size, "plan: authkey_stamp must be a short string");
    }
    snprintf(plan->authkey_stamp, sizeof(plan->authkey_stamp), "%s",
             stamp ? json_string_value(stamp) : "");

    const json_t *peers = json_object_get(json, "peers");
    if (!json_is_array(peers) || json_array_size(peers) > LK_GUARD_PEERS_MAX) {
        return lk_fail_einval(err, err_size, "plan: peers must be a list of at most %d",
                              LK_GUARD_PEERS_MAX);
    }
    size_t n = json_array_size(peers);
    if (n > 0) {
        plan->peers = calloc(n, sizeof(*plan->peers));
        if (!plan->peers) {
            return -ENOMEM;
        }
    }
    for (size_t i = 0; i < n; i++) {
        r = parse_peer(json_array_get(peers, i), i, &plan->peers[i], err, err_size);
        if (r < 0) {
            return r;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(plan->peers[j].name, plan->peers[i].name) == 0) {
                return lk_fail_einval(err, err_size, "plan: peer '%s' listed twice",
                                      plan->peers[i].name);
            }
        }
        plan->peer_count = i + 1;
    }

    const json_t *fence = json_object_get(json, "fence");
    if (!json_is_array(fence) || json_array_size(fence) > LK_GUARD_FENCE_MAX) {
        return lk_fail_einval(err, err_size, "plan: fence must be a list of at most %d",
                              LK_GUARD_FENCE_MAX);
    }
    n = json_array_size(fence);
    if (n > 0) {
        plan->fence = calloc(n, sizeof(*plan->fence));
        if (!plan->fence) {
            return -ENOMEM;
        }
    }
    for (size_t i = 0; i < n; i++) {
        /* Counted before parsing, so that lk_guard_plan_free frees a half-parsed entry. */
        plan->fence_count = i + 1;
        r = parse_hier(json_array_get(fence, i), i, &plan->fence[i], err, err_size);
        if (r < 0) {
            return r;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(plan->fence[j].name, plan->fence[i].name) == 0) {
                return lk_fail_einval(err, err_size, "plan: hierarchy '%s' listed twice",
                                      plan->fence[i].name);
            }
        }
    }

    v = json_object_get(json, "watchdog");
    if (json_is_string(v)) {
        s = json_string_value(v);
        r = check_path(s, "watchdog", err, err_size);
        if (r < 0) {
            return r;
        }
        memcpy(plan->watchdog, s, strlen(s) + 1);
    } else if (v && !json_is_null(v)) {
        return lk_fail_einval(err, err_size, "plan: watchdog must be a path or null");
    }
    v = json_object_get(json, "watchdog_timeout_s");
    if (v && (!json_is_integer(v) || json_integer_value(v) < 0 ||
              json_integer_value(v) > LK_GUARD_WATCHDOG_TIMEOUT_MAX)) {
        return lk_fail_einval(err, err_size,
                              "plan: watchdog_timeout_s must be a number from 0 to %d",
                              LK_GUARD_WATCHDOG_TIMEOUT_MAX);
    }
    plan->watchdog_timeout_s = v ? (uint32_t) json_integer_value(v) : 0;
    return 0;
}

int lk_guard_plan_parse(const json_t *json, struct lk_guard_plan *plan, char *err, size_t err_size)
{
    memset(plan, 0, sizeof(*plan));
    int r = parse_plan(json, plan, err, err_size);
    if (r < 0) {
        lk_guard_plan_free(plan);
        if (r == -ENOMEM && err_size > 0) {
            snprintf(err, err_size, "out of memory");
        }
    }
    return r;
}

void lk_guard_plan_free(struct lk_guard_plan *plan)
{
    if (!plan) {
        return;
    }
    for (size_t i = 0; i < plan->fence_count; i++) {
        for (size_t j = 0; j < plan->fence[i].cgroup_count; j++) {
            free(plan->fence[i].cgroups[j]);
        }
        free(plan->fence[i].cgroups);
    }
    free(plan->fence);
    free(plan->peers);
    memset(plan, 0, sizeof(*plan));
}

/* Appends value to arr or object key, stealing the reference; false without memory. */
static bool set_new(json_t *obj, const char *key, json_t *value)
{
    return value && json_object_set_new(obj, key, value) == 0;
}

static bool push_new(json_t *arr, json_t *value)
{
    return value && json_array_append_new(arr, value) == 0;
}

json_t *lk_guard_plan_json(const struct lk_guard_plan *plan)
{
    char hex[17];
    lk_guard_hex64(plan->incarnation, hex);
    json_t *o = json_object();
    json_t *peers = json_array();
    json_t *fence = json_array();
    bool ok = o && peers && fence;
    for (size_t i = 0; ok && i < plan->peer_count; i++) {
        const struct lk_guard_peer *p = &plan->peers[i];
        json_t *addrs = json_array();
        for (size_t j = 0; addrs && ok && j < p->address_count; j++) {
            ok = push_new(addrs, json_string(p->addresses[j]));
        }
        json_t *po = json_object();
        ok = ok && addrs && po && set_new(po, "name", json_string(p->name)) &&
             set_new(po, "addresses", json_incref(addrs)) && push_new(peers, json_incref(po));
        json_decref(addrs);
        json_decref(po);
    }
    for (size_t i = 0; ok && i < plan->fence_count; i++) {
        const struct lk_guard_hier *h = &plan->fence[i];
        json_t *cgs = json_array();
        for (size_t j = 0; cgs && ok && j < h->cgroup_count; j++) {
            ok = push_new(cgs, json_string(h->cgroups[j]));
        }
        json_t *ho = json_object();
        ok = ok && cgs && ho && set_new(ho, "hierarchy", json_string(h->name)) &&
             set_new(ho, "cgroups", json_incref(cgs)) && push_new(fence, json_incref(ho));
        json_decref(cgs);
        json_decref(ho);
    }
    ok = ok && set_new(o, "v", json_integer(1)) && set_new(o, "node", json_string(plan->node)) &&
         set_new(o, "incarnation", json_string(hex)) &&
         set_new(o, "dead_ms", json_integer((json_int_t) plan->dead_ms)) &&
         set_new(o, "authkey", json_string(plan->authkey)) &&
         (!plan->authkey_stamp[0] ||
          set_new(o, "authkey_stamp", json_string(plan->authkey_stamp))) &&
         set_new(o, "peers", json_incref(peers)) && set_new(o, "fence", json_incref(fence)) &&
         set_new(o, "watchdog", plan->watchdog[0] ? json_string(plan->watchdog) : json_null()) &&
         set_new(o, "watchdog_timeout_s", json_integer(plan->watchdog_timeout_s));
    json_decref(peers);
    json_decref(fence);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *lk_guard_fenced_json(const char *node, uint64_t incarnation, const char *const *hiers,
                             size_t hier_count, const char *why)
{
    char hex[17];
    lk_guard_hex64(incarnation, hex);
    json_t *o = json_object();
    json_t *arr = json_array();
    bool ok = o && arr;
    for (size_t i = 0; ok && i < hier_count; i++) {
        ok = push_new(arr, json_string(hiers[i]));
    }
    ok = ok && set_new(o, "node", json_string(node)) &&
         set_new(o, "incarnation", json_string(hex)) &&
         set_new(o, "hierarchies", json_incref(arr)) &&
         set_new(o, "why", json_string(why ? why : ""));
    json_decref(arr);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int lk_guard_fenced_frame(const uint8_t key[32], const char *node, uint64_t incarnation,
                          const char *const *hiers, size_t hier_count, const char *why,
                          uint8_t **ret_buf, size_t *ret_len)
{
    json_t *o = lk_guard_fenced_json(node, incarnation, hiers, hier_count, why);
    if (!o) {
        return -ENOMEM;
    }
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!text) {
        return -ENOMEM;
    }
    if (strlen(text) > LK_GUARD_FENCED_MAX) {
        free(text);
        return -EMSGSIZE;
    }
    int r = lk_wire_encode(key, LK_WIRE_FENCED, incarnation, 1, text, strlen(text), ret_buf,
                           ret_len);
    free(text);
    return r;
}

static int parse_fenced(const json_t *o, uint64_t session, struct lk_guard_fenced *f, char *err,
                        size_t err_size)
{
    if (!json_is_object(o)) {
        return lk_fail_einval(err, err_size, "fenced payload: not a JSON object");
    }
    int r = only_keys(o, fenced_keys, sizeof(fenced_keys) / sizeof(fenced_keys[0]),
                      "fenced payload", err, err_size);
    if (r < 0) {
        return r;
    }
    r = copy_name(json_object_get(o, "node"), "node", f->node, err, err_size);
    if (r < 0) {
        return r;
    }
    if (lk_guard_parse_hex64(json_string_value(json_object_get(o, "incarnation")),
                             &f->incarnation) < 0) {
        return lk_fail_einval(err, err_size, "fenced payload: incarnation must be 16 hex digits");
    }
    if (f->incarnation != session) {
        return lk_fail_einval(err, err_size,
                              "fenced payload: incarnation does not match the frame's session");
    }
    const json_t *arr = json_object_get(o, "hierarchies");
    if (!json_is_array(arr) || json_array_size(arr) > LK_GUARD_FENCE_MAX) {
        return lk_fail_einval(err, err_size,
                              "fenced payload: hierarchies must be a list of at most %d",
                              LK_GUARD_FENCE_MAX);
    }
    size_t n = json_array_size(arr);
    if (n > 0) {
        f->hiers = calloc(n, sizeof(*f->hiers));
        if (!f->hiers) {
            return -ENOMEM;
        }
    }
    for (size_t i = 0; i < n; i++) {
        r = copy_name(json_array_get(arr, i), "hierarchy", f->hiers[i], err, err_size);
        if (r < 0) {
            return r;
        }
    }
    f->hier_count = n;
    const char *why = json_string_value(json_object_get(o, "why"));
    if (!why) {
        return lk_fail_einval(err, err_size, "fenced payload: why must be a string");
    }
    if (strlen(why) > WHY_MAX_LEN) {
        return lk_fail_einval(err, err_size, "fenced payload: why longer than %d bytes",
                              WHY_MAX_LEN);
    }
    for (const char *p = why; *p; p++) {
        if ((unsigned char) *p < 0x20 || *p == 0x7f) {
            return lk_fail_einval(err, err_size,
                                  "fenced payload: why contains a control character");
        }
    }
    memcpy(f->why, why, strlen(why) + 1);
    return 0;
}

int lk_guard_fenced_parse(const void *payload, size_t len, uint64_t session,
                          struct lk_guard_fenced *ret, char *err, size_t err_size)
{
    memset(ret, 0, sizeof(*ret));
    if (len > LK_GUARD_FENCED_MAX) {
        return lk_fail_einval(err, err_size, "fenced payload: %zu bytes, at most %d", len,
                              LK_GUARD_FENCED_MAX);
    }
    json_error_t jerr;
    json_t *o = json_loadb(payload, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!o) {
        return lk_fail_einval(err, err_size, "fenced payload: not JSON: %s", jerr.text);
    }
    int r = parse_fenced(o, session, ret, err, err_size);
    json_decref(o);
    if (r < 0) {
        lk_guard_fenced_free(ret);
        if (r == -ENOMEM && err_size > 0) {
            snprintf(err, err_size, "out of memory");
        }
    }
    return r;
}

void lk_guard_fenced_free(struct lk_guard_fenced *f)
{
    if (!f) {
        return;
    }
    free(f->hiers);
    memset(f, 0, sizeof(*f));
}

uint64_t lk_guard_period_ms(uint64_t dead_ms)
{
    uint64_t period = dead_ms / 8 < 250 ? dead_ms / 8 : 250;
    return period < 10 ? 10 : period;
}

enum lk_guard_verdict lk_guard_judge(const struct lk_guard_look *look, char *why, size_t why_size)
{
    const uint64_t ns_per_ms = 1000000;
    uint64_t dead_ms = look->dead_ms < LK_GUARD_DEAD_MS_MIN ? LK_GUARD_DEAD_MS_MIN : look->dead_ms;
    uint64_t half_ns = dead_ms * ns_per_ms / 2;
    if (look->lkd_gone) {
        if (look->lkd_state == LK_GUARD_LKD_STOPPED) {
            return LK_GUARD_LEAVE;
        }
        snprintf(why, why_size, "lkd (pid %d) %s", (int) look->lkd_pid,
                 look->at_start ? "was gone when the guard started"
                                : "exited without a clean stop");
        return LK_GUARD_FENCE;
    }
    /* Checked before the feed: after a pause of the whole node, lkd's last feed is old too,
     * and the gap is the truer reason. */
    if (look->now_ns > look->last_ns && look->now_ns - look->last_ns > half_ns) {
        snprintf(why, why_size,
                 "the guard's clock jumped %llu ms between two looks (the node was paused; half "
                 "the dead time is %llu ms)",
                 (unsigned long long) ((look->now_ns - look->last_ns) / ns_per_ms),
                 (unsigned long long) (dead_ms / 2));
        return LK_GUARD_FENCE_WAIT;
    }
    if (look->lkd_state == LK_GUARD_LKD_RUNNING && look->now_ns > look->fed_mono_ns &&
        look->now_ns - look->fed_mono_ns > half_ns) {
        snprintf(why, why_size,
                 "lkd (pid %d) did not feed the guard for %llu ms (half the dead time is %llu ms)",
                 (int) look->lkd_pid,
                 (unsigned long long) ((look->now_ns - look->fed_mono_ns) / ns_per_ms),
                 (unsigned long long) (dead_ms / 2));
        return LK_GUARD_FENCE_WAIT;
    }
    return LK_GUARD_WATCH;
}
