/* Unit tests of the guard's contract as data (src/lib/guard.c): the plan, the fenced
 * payload and frame, the hex form of an incarnation; round trips and every refusal. */
#include <errno.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "guard.h"
#include "wire.h"

static uint8_t key[LK_WIRE_KEY];

static int setup(void **state)
{
    (void) state;
    if (sodium_init() < 0) {
        return -1;
    }
    memset(key, 0x5a, sizeof(key));
    return 0;
}

static const char good_plan[] =
        "{\"v\":1,\"node\":\"node1\",\"incarnation\":\"0123456789abcdef\",\"dead_ms\":3000,"
        "\"authkey\":\"/root/etc/authkey\","
        "\"peers\":[{\"name\":\"node2\",\"addresses\":[\"127.0.0.1:7402\",\"[::1]:7402\"]},"
        "{\"name\":\"node3\",\"addresses\":[]}],"
        "\"fence\":[{\"hierarchy\":\"web\",\"cgroups\":[\"/sys/fs/cgroup/ok/n-1/web.res\","
        "\"/sys/fs/cgroup/ok/n-1/ip.res\"]},{\"hierarchy\":\"db\",\"cgroups\":[]}],"
        "\"watchdog\":\"/dev/watchdog\",\"watchdog_timeout_s\":10}";

static json_t *load(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &e);
    assert_non_null(j);
    return j;
}

/* Parses good_plan with key set to value (a JSON text; NULL deletes the key) and returns
 * the result; err receives the reason. */
static int parse_with(const char *jkey, const char *value, char *err, size_t err_size)
{
    json_t *j = load(good_plan);
    if (value) {
        json_object_set_new(j, jkey, load(value));
    } else {
        json_object_del(j, jkey);
    }
    struct lk_guard_plan plan;
    int r = lk_guard_plan_parse(j, &plan, err, err_size);
    json_decref(j);
    if (r < 0) {
        /* Refused: the plan is left empty. */
        assert_int_equal(plan.peer_count, 0);
        assert_null(plan.peers);
        assert_int_equal(plan.fence_count, 0);
        assert_null(plan.fence);
    }
    lk_guard_plan_free(&plan);
    return r;
}

static void refused(const char *jkey, const char *value, const char *words)
{
    char err[512] = "";
    int r = parse_with(jkey, value, err, sizeof(err));
    if (r != -EINVAL || !strstr(err, words) || strchr(err, '\n')) {
        fail_msg("%s=%s: r=%d err='%s', expected '%s'", jkey, value ? value : "(none)", r, err,
                 words);
    }
}

static void lk_guard_plan_parse__refuses_bad_fields(void **state)
{
    (void) state;
    char err[256];
    struct lk_guard_plan plan;
    json_t *arr = json_array();
    assert_int_equal(lk_guard_plan_parse(arr, &plan, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "not a JSON object"));
    json_decref(arr);

    refused("extra", "1", "unknown key 'extra'");
    refused("v", "2", "version");
    refused("v", NULL, "version");
    refused("node", "\"no de\"", "node");
    refused("node", "\"-x\"", "node");
    refused("node", "\"..\"", "node");
    refused("node", "7", "node: not a string");
    refused("node", "\"a234567890123456789012345678901234567890123456789012345678901234\"",
            "longer than 63");
    refused("incarnation", "\"0123\"", "16 hex digits");
    refused("incarnation", "\"0123456789abcdeg\"", "16 hex digits");
    refused("incarnation", "12", "16 hex digits");
    refused("dead_ms", "0", "dead_ms");
    refused("dead_ms", "99", "dead_ms");
    refused("dead_ms", "6000001", "dead_ms");
    refused("dead_ms", "\"3000\"", "dead_ms");
    refused("authkey", "\"etc/authkey\"", "authkey: not an absolute path");
    refused("authkey", "\"/root/../etc/authkey\"", "contains '..'");
    refused("authkey", "\"/root/..\"", "contains '..'");
    refused("authkey", "\"/root/a\\nb\"", "control character");
    refused("authkey", "\"\"", "not an absolute path");
    refused("authkey", NULL, "authkey: not a string");
    refused("peers", "{}", "peers must be a list");
    refused("peers", "[1]", "peers[0]: not an object");
    refused("peers", "[{\"name\":\"n2\",\"addresses\":[],\"x\":1}]", "unknown key 'x'");
    refused("peers", "[{\"name\":\"n 2\",\"addresses\":[]}]", "peers[0].name");
    refused("peers", "[{\"name\":\"n2\"}]", "addresses must be a list");
    refused("peers", "[{\"name\":\"n2\",\"addresses\":[\"localhost:7400\"]}]", "peer 'n2'");
    refused("peers", "[{\"name\":\"n2\",\"addresses\":[\"127.0.0.1\"]}]", "peer 'n2'");
    refused("peers", "[{\"name\":\"n2\",\"addresses\":[\"127.0.0.1:0\"]}]", "peer 'n2'");
    refused("peers", "[{\"name\":\"n2\",\"addresses\":[7]}]", "not a string");
    refused("peers",
            "[{\"name\":\"n2\",\"addresses\":[\"1.1.1.1:1\",\"1.1.1.1:2\",\"1.1.1.1:3\","
            "\"1.1.1.1:4\",\"1.1.1.1:5\",\"1.1.1.1:6\",\"1.1.1.1:7\",\"1.1.1.1:8\","
            "\"1.1.1.1:9\"]}]",
            "at most 8");
    refused("peers", "[{\"name\":\"n2\",\"addresses\":[]},{\"name\":\"n2\",\"addresses\":[]}]",
            "peer 'n2' listed twice");
    refused("fence", "null", "fence must be a list");
    refused("fence", "[\"web\"]", "fence[0]: not an object");
    refused("fence", "[{\"hierarchy\":\"web\"}]", "cgroups must be a list");
    refused("fence", "[{\"hierarchy\":\"w/b\",\"cgroups\":[]}]", "fence[0].hierarchy");
    refused("fence", "[{\"hierarchy\":\"web\",\"cgroups\":[\"rel/x\"]}]",
            "hierarchy 'web': cgroup: not an absolute path");
    refused("fence", "[{\"hierarchy\":\"web\",\"cgroups\":[\"/a/b\",\"/a/../../etc\"]}]",
            "contains '..'");
    refused("fence", "[{\"hierarchy\":\"web\",\"cgroups\":[3]}]", "not a string");
    refused("fence", "[{\"hierarchy\":\"web\",\"cgroups\":[],\"y\":2}]", "unknown key 'y'");
    refused("fence",
            "[{\"hierarchy\":\"web\",\"cgroups\":[\"/a\"]},{\"hierarchy\":\"web\","
            "\"cgroups\":[\"/b\"]}]",
            "hierarchy 'web' listed twice");
    refused("watchdog", "\"dev/watchdog\"", "watchdog: not an absolute path");
    refused("watchdog", "1", "watchdog must be a path or null");
    refused("watchdog_timeout_s", "-1", "watchdog_timeout_s");
    refused("watchdog_timeout_s", "3601", "watchdog_timeout_s");
    refused("watchdog_timeout_s", "\"5\"", "watchdog_timeout_s");
}

static void lk_guard_plan_parse__refuses_over_limits(void **state)
{
    (void) state;
    json_t *peers = json_array();
    for (int i = 0; i <= LK_GUARD_PEERS_MAX; i++) {
        char name[16];
        snprintf(name, sizeof(name), "n%d", i);
        json_array_append_new(peers, json_pack("{s:s,s:[]}", "name", name, "addresses"));
    }
    char *text = json_dumps(peers, 0);
    refused("peers", text, "at most 64");
    free(text);
    json_decref(peers);

    json_t *cgs = json_array();
    for (int i = 0; i <= LK_GUARD_CGROUPS_MAX; i++) {
        json_array_append_new(cgs, json_string("/sys/fs/cgroup/x"));
    }
    json_t *fence = json_pack("[{s:s,s:o}]", "hierarchy", "web", "cgroups", cgs);
    text = json_dumps(fence, 0);
    refused("fence", text, "at most 256");
    free(text);
    json_decref(fence);

    char *path = malloc(LK_GUARD_PATH_MAX + 8);
    path[0] = '"';
    path[1] = '/';
    memset(path + 2, 'a', LK_GUARD_PATH_MAX);
    strcpy(path + 2 + LK_GUARD_PATH_MAX - 1, "\"");
    refused("authkey", path, "longer than 4095");
    free(path);
}

static void lk_guard_plan_parse__round_trip(void **state)
{
    (void) state;
    json_t *j = load(good_plan);
    struct lk_guard_plan plan;
    char err[256] = "";
    assert_int_equal(lk_guard_plan_parse(j, &plan, err, sizeof(err)), 0);
    assert_string_equal(plan.node, "node1");
    assert_true(plan.incarnation == 0x0123456789abcdefull);
    assert_int_equal(plan.dead_ms, 3000);
    assert_string_equal(plan.authkey, "/root/etc/authkey");
    assert_int_equal(plan.peer_count, 2);
    assert_string_equal(plan.peers[0].name, "node2");
    assert_int_equal(plan.peers[0].address_count, 2);
    assert_string_equal(plan.peers[0].addresses[1], "[::1]:7402");
    assert_int_equal(plan.peers[1].address_count, 0);
    assert_int_equal(plan.fence_count, 2);
    assert_string_equal(plan.fence[0].name, "web");
    assert_int_equal(plan.fence[0].cgroup_count, 2);
    assert_string_equal(plan.fence[0].cgroups[1], "/sys/fs/cgroup/ok/n-1/ip.res");
    assert_int_equal(plan.fence[1].cgroup_count, 0);
    assert_string_equal(plan.watchdog, "/dev/watchdog");
    assert_int_equal(plan.watchdog_timeout_s, 10);

    /* Encoded again, it is the same JSON, and parses to the same plan. */
    json_t *again = lk_guard_plan_json(&plan);
    assert_non_null(again);
    assert_true(json_equal(j, again));
    struct lk_guard_plan plan2;
    assert_int_equal(lk_guard_plan_parse(again, &plan2, err, sizeof(err)), 0);
    assert_string_equal(plan2.fence[0].cgroups[0], plan.fence[0].cgroups[0]);
    lk_guard_plan_free(&plan2);
    json_decref(again);
    json_decref(j);
    lk_guard_plan_free(&plan);
    lk_guard_plan_free(&plan); /* twice: the first left it empty */
    lk_guard_plan_free(NULL);
}

static void lk_guard_plan_parse__no_watchdog(void **state)
{
    (void) state;
    char err[256];
    assert_int_equal(parse_with("watchdog", "null", err, sizeof(err)), 0);
    assert_int_equal(parse_with("watchdog", NULL, err, sizeof(err)), 0);
    assert_int_equal(parse_with("watchdog_timeout_s", NULL, err, sizeof(err)), 0);
    /* ".." inside a name is no ".." component. */
    assert_int_equal(parse_with("authkey", "\"/root/a..b/authkey\"", err, sizeof(err)), 0);

    json_t *j = load(good_plan);
    json_object_set_new(j, "watchdog", json_null());
    struct lk_guard_plan plan;
    assert_int_equal(lk_guard_plan_parse(j, &plan, err, sizeof(err)), 0);
    assert_string_equal(plan.watchdog, "");
    json_t *again = lk_guard_plan_json(&plan);
    assert_true(json_is_null(json_object_get(again, "watchdog")));
    json_decref(again);
    lk_guard_plan_free(&plan);
    json_decref(j);
}

static void lk_guard_hex64__round_trip(void **state)
{
    (void) state;
    char buf[17];
    lk_guard_hex64(0, buf);
    assert_string_equal(buf, "0000000000000000");
    lk_guard_hex64(0xfedcba9876543210ull, buf);
    assert_string_equal(buf, "fedcba9876543210");
    uint64_t v = 1;
    assert_int_equal(lk_guard_parse_hex64(buf, &v), 0);
    assert_true(v == 0xfedcba9876543210ull);
    assert_int_equal(lk_guard_parse_hex64("FEDCBA9876543210", &v), 0);
    assert_true(v == 0xfedcba9876543210ull);

    v = 7;
    assert_int_equal(lk_guard_parse_hex64("", &v), -EINVAL);
    assert_int_equal(lk_guard_parse_hex64("123", &v), -EINVAL);
    assert_int_equal(lk_guard_parse_hex64("0123456789abcdef0", &v), -EINVAL);
    assert_int_equal(lk_guard_parse_hex64("0123456789abcdeX", &v), -EINVAL);
    assert_int_equal(lk_guard_parse_hex64(" 123456789abcdef", &v), -EINVAL);
    assert_int_equal(lk_guard_parse_hex64(NULL, &v), -EINVAL);
    assert_int_equal(v, 7);
}

static void lk_guard_fenced_frame__round_trip(void **state)
{
    (void) state;
    const char *hiers[] = {"web", "db"};
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(lk_guard_fenced_frame(key, "node1", 0xabcdef0123456789ull, hiers, 2,
                                           "lkd died (killed by signal 9)", &buf, &len),
                     0);
    struct lk_wire_frame f;
    assert_int_equal(lk_wire_decode(key, buf, len, &f), (int) len);
    assert_int_equal(f.type, LK_WIRE_FENCED);
    assert_true(f.session == 0xabcdef0123456789ull);
    assert_int_equal(f.seq, 1);

    struct lk_guard_fenced fenced;
    char err[256] = "";
    assert_int_equal(
            lk_guard_fenced_parse(f.payload, f.payload_len, f.session, &fenced, err, sizeof(err)),
            0);
    assert_string_equal(fenced.node, "node1");
    assert_true(fenced.incarnation == 0xabcdef0123456789ull);
    assert_int_equal(fenced.hier_count, 2);
    assert_string_equal(fenced.hiers[0], "web");
    assert_string_equal(fenced.hiers[1], "db");
    assert_string_equal(fenced.why, "lkd died (killed by signal 9)");
    lk_guard_fenced_free(&fenced);
    lk_guard_fenced_free(&fenced);
    lk_guard_fenced_free(NULL);

    /* Another key: the frame is not authentic. */
    uint8_t other[LK_WIRE_KEY];
    memset(other, 0x33, sizeof(other));
    assert_int_equal(lk_wire_decode(other, buf, len, &f), -EACCES);
    free(buf);

    /* A payload over LK_GUARD_FENCED_MAX is not made; 950 long names fit. */
    static char names[1000][64];
    const char *many[1000];
    for (int i = 0; i < 1000; i++) {
        snprintf(names[i], sizeof(names[i]), "%063d", i);
        many[i] = names[i];
    }
    buf = NULL;
    assert_int_equal(lk_guard_fenced_frame(key, "node1", 1, many, 1000, "x", &buf, &len),
                     -EMSGSIZE);
    assert_null(buf);
    assert_int_equal(lk_guard_fenced_frame(key, "node1", 1, many, 950, "x", &buf, &len), 0);
    assert_int_equal(lk_wire_decode(key, buf, len, &f), (int) len);
    assert_int_equal(lk_guard_fenced_parse(f.payload, f.payload_len, 1, &fenced, err, sizeof(err)),
                     0);
    assert_int_equal(fenced.hier_count, 950);
    lk_guard_fenced_free(&fenced);
    free(buf);

    /* No hierarchies at all is a valid (if useless) payload. */
    json_t *j = lk_guard_fenced_json("n1", 5, NULL, 0, "x");
    char *text = json_dumps(j, JSON_COMPACT);
    assert_string_equal(text, "{\"node\":\"n1\",\"incarnation\":\"0000000000000005\","
                              "\"hierarchies\":[],\"why\":\"x\"}");
    assert_int_equal(lk_guard_fenced_parse(text, strlen(text), 5, &fenced, err, sizeof(err)), 0);
    assert_int_equal(fenced.hier_count, 0);
    lk_guard_fenced_free(&fenced);
    free(text);
    json_decref(j);
}

static void fenced_refused(const char *payload, uint64_t session, const char *words)
{
    struct lk_guard_fenced f;
    char err[256] = "";
    int r = lk_guard_fenced_parse(payload, strlen(payload), session, &f, err, sizeof(err));
    if (r != -EINVAL || !strstr(err, words) || strchr(err, '\n')) {
        fail_msg("%s: r=%d err='%s', expected '%s'", payload, r, err, words);
    }
    assert_null(f.hiers);
    assert_int_equal(f.hier_count, 0);
}

static void lk_guard_fenced_parse__refuses_bad_payloads(void **state)
{
    (void) state;
    const char *ok_tail = ",\"hierarchies\":[\"web\"],\"why\":\"x\"}";
    char buf[512];
    fenced_refused("not json", 1, "not JSON");
    fenced_refused("[]", 1, "not a JSON object");
    snprintf(buf, sizeof(buf), "{\"node\":\"n1\",\"incarnation\":\"0000000000000001\"%s", ok_tail);
    fenced_refused(buf, 2, "does not match the frame's session");
    snprintf(buf, sizeof(buf), "{\"node\":\"n 1\",\"incarnation\":\"0000000000000001\"%s", ok_tail);
    fenced_refused(buf, 1, "node");
    snprintf(buf, sizeof(buf), "{\"incarnation\":\"0000000000000001\"%s", ok_tail);
    fenced_refused(buf, 1, "node: not a string");
    snprintf(buf, sizeof(buf), "{\"node\":\"n1\",\"incarnation\":\"1\"%s", ok_tail);
    fenced_refused(buf, 1, "16 hex digits");
    snprintf(buf, sizeof(buf), "{\"node\":\"n1\",\"incarnation\":1%s", ok_tail);
    fenced_refused(buf, 1, "16 hex digits");
    fenced_refused("{\"node\":\"n1\",\"incarnation\":\"0000000000000001\",\"hierarchies\":\"web\","
                   "\"why\":\"x\"}",
                   1, "hierarchies must be a list");
    fenced_refused("{\"node\":\"n1\",\"incarnation\":\"0000000000000001\",\"hierarchies\":[\"\"],"
                   "\"why\":\"x\"}",
                   1, "hierarchy");
    fenced_refused("{\"node\":\"n1\",\"incarnation\":\"0000000000000001\",\"hierarchies\":[1],"
                   "\"why\":\"x\"}",
                   1, "hierarchy: not a string");
    fenced_refused("{\"node\":\"n1\",\"incarnation\":\"0000000000000001\",\"hierarchies\":[]}", 1,
                   "why must be a string");
    fenced_refused("{\"node\":\"n1\",\"incarnation\":\"0000000000000001\",\"hierarchies\":[],"
                   "\"why\":\"a\\nb\"}",
                   1, "control character");
    fenced_refused("{\"node\":\"n1\",\"incarnation\":\"0000000000000001\",\"hierarchies\":[],"
                   "\"why\":\"x\",\"more\":1}",
                   1, "unknown key 'more'");
    fenced_refused("{\"node\":\"n1\",\"node\":\"n2\",\"incarnation\":\"0000000000000001\","
                   "\"hierarchies\":[],\"why\":\"x\"}",
                   1, "not JSON");

    char why[300];
    memset(why, 'w', sizeof(why) - 1);
    why[sizeof(why) - 1] = '\0';
    json_t *j = lk_guard_fenced_json("n1", 1, NULL, 0, why);
    char *text = json_dumps(j, JSON_COMPACT);
    fenced_refused(text, 1, "why longer than 255");
    free(text);
    json_decref(j);

    /* Over the size a peer reads before a HELLO. */
    char *big = malloc(LK_GUARD_FENCED_MAX + 2);
    memset(big, ' ', LK_GUARD_FENCED_MAX + 1);
    big[LK_GUARD_FENCED_MAX + 1] = '\0';
    memcpy(big, "{}", 2);
    fenced_refused(big, 1, "at most 65536");
    free(big);

    json_t *many = json_array();
    for (int i = 0; i <= LK_GUARD_FENCE_MAX; i++) {
        json_array_append_new(many, json_string("h"));
    }
    j = json_pack("{s:s,s:s,s:o,s:s}", "node", "n1", "incarnation", "0000000000000001",
                  "hierarchies", many, "why", "x");
    text = json_dumps(j, JSON_COMPACT);
    fenced_refused(text, 1, "at most 4096");
    free(text);
    json_decref(j);
}

#define MS 1000000ull

/* A look at a RUNNING lkd fed just now, dead time 3000 ms, 100 ms after the last look. */
static struct lk_guard_look healthy(void)
{
    return (struct lk_guard_look){.lkd_state = LK_GUARD_LKD_RUNNING,
                                  .lkd_pid = 42,
                                  .fed_mono_ns = 10000 * MS,
                                  .dead_ms = 3000,
                                  .now_ns = 10050 * MS,
                                  .last_ns = 9950 * MS};
}

static void lk_guard_judge__watches_a_fed_lkd(void **state)
{
    (void) state;
    char why[256] = "";
    struct lk_guard_look l = healthy();
    assert_int_equal(lk_guard_judge(&l, why, sizeof(why)), LK_GUARD_WATCH);
    assert_string_equal(why, "");
    /* Exactly half the dead time without a feed, or between looks, is still fine. */
    l.fed_mono_ns = l.now_ns - 1500 * MS;
    l.last_ns = l.now_ns - 1500 * MS;
    assert_int_equal(lk_guard_judge(&l, why, sizeof(why)), LK_GUARD_WATCH);
    /* A feed stamped after now (lkd fed between the guard's clock read and its load). */
    l = healthy();
    l.fed_mono_ns = l.now_ns + MS;
    assert_int_equal(lk_guard_judge(&l, why, sizeof(why)), LK_GUARD_WATCH);
    /* STARTING: lkd has not fed yet; the guard waits, however long. */
    l = healthy();
    l.lkd_state = LK_GUARD_LKD_STARTING;
    l.fed_mono_ns = 0;
    assert_int_equal(lk_guard_judge(&l, why, sizeof(why)), LK_GUARD_WATCH);
    /* STOPPED and still alive (lkd is finishing its stop): no feed needed. */
    l.lkd_state = LK_GUARD_LKD_STOPPED;
    assert_int_equal(lk_guard_judge(&l, why, sizeof(why)), LK_GUARD_WATCH);
    assert_string_equal(why, "");
}

static void lk_guard_judge__stuck_liveness_channel(void **state)
{
    (void) state;
    char why[256] = "";
    struct lk_guard_look l = healthy();
    l.fed_mono_ns = l.now_ns - 1501 * MS;
    assert_int_equal(lk_guard_judge(&l, why, sizeof(why)), LK_GUARD_FENCE_WAIT);
    assert_string_equal(why,
                        "lkd (pid 42) did not feed the guard for 1501 ms (half the dead time is "
                        "1500 ms)");
    /* At the guard's first look too: lkd was already stuck when it started. */
    l.at_start = true;
    l.last_ns = l.now_ns;
    assert_int_equal(lk_guard_judge(&l, why, sizeof(why)), LK_GUARD_FENCE_WAIT);
}

static void lk_guard_judge__lkd_gone(void **state)
{
    (void) state;
    char why[256] = "";
    struct lk_guard_look l = healthy();
    l.lkd_gone = true;
    assert_int_equal(lk_guard_judge(&l, why, sizeof(why)), LK_GUARD_FENCE);
    assert_string_equal(why, "lkd (pid 42) exited without a clean stop");
    /* STARTING counts as unclean too: lkd died during its start. */
    l.lkd_state = LK_GUARD_LKD_STARTING;
    assert_int_equal(lk_guard_judge(&l, why, sizeof(why)), LK_GUARD_FENCE);
    /* The lost pidfd: lkd's pid was gone when the guard started. */
    l.at_start = true;
    l.lkd_state = LK_GUARD_LKD_RUNNING;
    assert_int_equal(lk_guard_judge(&l, why, sizeof(why)), LK_GUARD_FENCE);
    assert_string_equal(why, "lkd (pid 42) was gone when the guard started");
    /* A clean stop, at start or later: leave quietly, whatever the feed says. */
    char untouched[16] = "untouched";
    l.lkd_state = LK_GUARD_LKD_STOPPED;
    l.fed_mono_ns = 0;
    assert_int_equal(lk_guard_judge(&l, untouched, sizeof(untouched)), LK_GUARD_LEAVE);
    l.at_start = false;
    assert_int_equal(lk_guard_judge(&l, untouched, sizeof(untouched)), LK_GUARD_LEAVE);
    assert_string_equal(untouched, "untouched");
}

static void lk_guard_judge__clock_gap(void **state)
{
    (void) state;
    char why[256] = "";
    struct lk_guard_look l = healthy();
    /* The whole node paused for 4 s: the last feed is as old as the last look; the gap is
     * the reason given. */
    l.last_ns = l.now_ns - 4000 * MS;
    l.fed_mono_ns = l.last_ns;
    assert_int_equal(lk_guard_judge(&l, why, sizeof(why)), LK_GUARD_FENCE_WAIT);
    assert_string_equal(why, "the guard's clock jumped 4000 ms between two looks (the node was "
                             "paused; half the dead time is 1500 ms)");
    /* Truncated to why_size, still terminated. */
    char small[12];
    assert_int_equal(lk_guard_judge(&l, small, sizeof(small)), LK_GUARD_FENCE_WAIT);
    assert_string_equal(small, "the guard's");
    /* A zero dead time in the page counts as the minimum, not as "fence at once". */
    l = healthy();
    l.dead_ms = 0;
    l.last_ns = l.now_ns - 40 * MS;
    l.fed_mono_ns = l.now_ns - 40 * MS;
    assert_int_equal(lk_guard_judge(&l, why, sizeof(why)), LK_GUARD_WATCH);
    l.last_ns = l.now_ns - 51 * MS;
    assert_int_equal(lk_guard_judge(&l, why, sizeof(why)), LK_GUARD_FENCE_WAIT);
}

static void lk_guard_period_ms__bounds(void **state)
{
    (void) state;
    assert_int_equal(lk_guard_period_ms(3000), 250);
    assert_int_equal(lk_guard_period_ms(1000), 125);
    assert_int_equal(lk_guard_period_ms(100), 12);
    assert_int_equal(lk_guard_period_ms(0), 10);
    assert_int_equal(lk_guard_period_ms(6000000), 250);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_guard_plan_parse__refuses_bad_fields),
            cmocka_unit_test(lk_guard_plan_parse__refuses_over_limits),
            cmocka_unit_test(lk_guard_plan_parse__round_trip),
            cmocka_unit_test(lk_guard_plan_parse__no_watchdog),
            cmocka_unit_test(lk_guard_hex64__round_trip),
            cmocka_unit_test(lk_guard_fenced_frame__round_trip),
            cmocka_unit_test(lk_guard_fenced_parse__refuses_bad_payloads),
            cmocka_unit_test(lk_guard_judge__watches_a_fed_lkd),
            cmocka_unit_test(lk_guard_judge__stuck_liveness_channel),
            cmocka_unit_test(lk_guard_judge__lkd_gone),
            cmocka_unit_test(lk_guard_judge__clock_gap),
            cmocka_unit_test(lk_guard_period_ms__bounds),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
