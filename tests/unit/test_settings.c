/* Tests of the pure cluster settings and addresses (src/lib/settings.c): every setting by
 * name with its bounds and its "" (unset) form, the names, comparison naming the first
 * differing key, the JSON form and all-or-nothing changes, and address parsing (IPv4,
 * bracketed IPv6, no host names, one-line errors). No files, no loop. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "settings.h"

/* lk_cluster_settings */

static void lk_settings_set__errors(void **state)
{
    (void) state;
    struct lk_cluster_settings s, before;
    char err[1200];
    lk_cluster_settings_init(&s);
    before = s;
    assert_int_equal(lk_cluster_settings_set(&s, "heartbeat", "1", err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "unknown cluster setting 'heartbeat'"));
    static const char *const bad[][2] = {
            {"heartbeat-interval-ms", ""},
            {"heartbeat-interval-ms", "49"},
            {"heartbeat-interval-ms", "-1"},
            {"heartbeat-misses", "1"},
            {"heartbeat-misses", " 3"},
            {"quorum", "auto"},
            {"quorum-loss-action", ""},
            {"witness", "127.0.0.1"},
            {"witness", "[::]:7409"},
            {"fence-script", "fence"},
            {"fence-script", "/a\nb"},
            {"fence-script", "/a "},
            {"fence-script", "/a ;b"},
            {"max-failovers", "0"},
            {"failover-window", ""},
            {"failover-window", "1e3"},
            /* Found by tests/fuzz/fuzz_validate: these quoted the newline. */
            {"quorum", "maj\nority"},
            {"quorum-loss-action", "osu\n"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        if (lk_cluster_settings_set(&s, bad[i][0], bad[i][1], err, sizeof(err)) != -EINVAL ||
            !strstr(err, bad[i][0]) || strchr(err, '\n')) {
            print_error("case %s='%s': err='%s'\n", bad[i][0], bad[i][1], err);
            fail();
        }
        assert_memory_equal(&s, &before, sizeof(s));
    }
}

/* Found by tests/fuzz/fuzz_validate: a long value of two-byte characters was quoted cut
 * in the middle of one, and a reply cannot carry such a message. */
static void lk_settings_set__quoted_value_stays_utf8(void **state)
{
    (void) state;
    char value[256] = "x", err[1200];
    for (int i = 0; i < 100; i++) {
        strcat(value, "\xc3\xa9");
    }
    static const char *const keys[] = {"quorum", "quorum-loss-action", "min-protocol", NULL};
    for (size_t k = 0; keys[k]; k++) {
        struct lk_cluster_settings s;
        lk_cluster_settings_init(&s);
        assert_int_equal(lk_cluster_settings_set(&s, keys[k], value, err, sizeof(err)), -EINVAL);
        json_t *j = json_string(err);
        if (!j) {
            fail_msg("%s: not UTF-8: '%s'", keys[k], err);
        }
        json_decref(j);
    }
    struct lk_cluster_settings s;
    lk_cluster_settings_init(&s);
    assert_int_equal(lk_cluster_settings_set(&s, value, "1", err, sizeof(err)), -ENOENT);
    json_t *j = json_string(err);
    assert_non_null(j);
    json_decref(j);
}

static void lk_settings_set__every_key(void **state)
{
    (void) state;
    static const char *const good[][2] = {
            {"heartbeat-interval-ms", "50"},
            {"heartbeat-interval-ms", "60000"},
            {"heartbeat-misses", "2"},
            {"heartbeat-misses", "100"},
            {"quorum", "majority"},
            {"quorum", "none"},
            {"quorum", ""},
            {"quorum-loss-action", "none"},
            {"quorum-loss-action", "osu"},
            {"witness", "10.1.2.3:7409"},
            {"witness", "[2001:db8::7]:1"},
            {"witness", ""},
            {"fence-script", "/sbin/fence"},
            {"fence-script", "/opt/a b;c"},
            {"fence-script", ""},
            {"max-failovers", "1"},
            {"max-failovers", "1000"},
            {"max-failovers", ""},
            {"failover-window", "1"},
            {"failover-window", "31536000"},
    };
    struct lk_cluster_settings s;
    char err[1200], buf[1024];
    lk_cluster_settings_init(&s);
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_int_equal(lk_cluster_settings_set(&s, good[i][0], good[i][1], err, sizeof(err)), 0);
        assert_string_equal(lk_cluster_settings_get(&s, good[i][0], buf, sizeof(buf)), good[i][1]);
    }
    /* Cleared with "": back to automatic, nodes - 1, none. */
    assert_int_equal(s.quorum, LK_QUORUM_AUTO);
    assert_int_equal(s.max_failovers, 0);
    assert_string_equal(s.witness, "");
    assert_string_equal(s.fence_script, "");
    assert_int_equal(s.heartbeat_interval_ms, 60000);
    assert_int_equal(s.failover_window_s, 31536000);
}

static void lk_settings_get__unknown_key_and_every_key(void **state)
{
    (void) state;
    struct lk_cluster_settings s;
    char buf[1024];
    lk_cluster_settings_init(&s);
    assert_null(lk_cluster_settings_get(&s, "nope", buf, sizeof(buf)));
    size_t n = 0;
    for (; lk_cluster_settings_keys[n]; n++) {
        assert_non_null(lk_cluster_settings_get(&s, lk_cluster_settings_keys[n], buf, sizeof(buf)));
    }
    assert_int_equal(n, 10);
    assert_string_equal(lk_cluster_settings_get(&s, "heartbeat-interval-ms", buf, sizeof(buf)),
                        "200");
    assert_string_equal(lk_cluster_settings_get(&s, "quorum", buf, sizeof(buf)), "");
    assert_string_equal(lk_cluster_settings_get(&s, "quorum-loss-action", buf, sizeof(buf)), "osu");
    assert_string_equal(lk_cluster_settings_get(&s, "max-failovers", buf, sizeof(buf)), "");
    assert_string_equal(lk_cluster_settings_get(&s, "failover-window", buf, sizeof(buf)), "21600");
}

static void lk_settings_equal__names_the_key(void **state)
{
    (void) state;
    static const char *const changes[][2] = {
            {"heartbeat-interval-ms", "500"}, {"heartbeat-misses", "4"},     {"quorum", "none"},
            {"quorum-loss-action", "none"},   {"witness", "127.0.0.1:7409"}, {"fence-script", "/f"},
            {"max-failovers", "3"},           {"failover-window", "60"},
    };
    char err[256], what[64];
    for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
        struct lk_cluster_settings a, b;
        lk_cluster_settings_init(&a);
        lk_cluster_settings_init(&b);
        assert_true(lk_cluster_settings_equal(&a, &b, what, sizeof(what)));
        assert_int_equal(
                lk_cluster_settings_set(&b, changes[i][0], changes[i][1], err, sizeof(err)), 0);
        snprintf(what, sizeof(what), "?");
        assert_false(lk_cluster_settings_equal(&a, &b, what, sizeof(what)));
        assert_string_equal(what, changes[i][0]);
        assert_false(lk_cluster_settings_equal(&b, &a, NULL, 0));
    }
}

/* lk_address_parse */

static void lk_address_parse__errors(void **state)
{
    (void) state;
    static const char *const bad[] = {
            "",
            "x",
            "1.2.3.4",
            "1.2.3.4:",
            ":7400",
            "[::1]7400",
            "[::1:7400",
            "host:1",
            "1.2.3.4:+1",
            "1.2.3.4:7400 ",
            "256.1.1.1:1",
            "[1.2.3.4]:5",
            "1.2.3.4:65536",
            "1.2.3.4:0",
            "::1:7400",
            "1.2.3.4:7a",
            "[::1]:",
            "01.2.3.4:5",
            "a\nb:1",
    };
    char err[256];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sockaddr_storage addr;
        memset(&addr, 0x5a, sizeof(addr));
        err[0] = '\0';
        if (lk_address_parse(bad[i], &addr, err, sizeof(err)) != -EINVAL ||
            !strstr(err, "invalid address") || strchr(err, '\n')) {
            print_error("case '%s': err='%s'\n", bad[i], err);
            fail();
        }
        assert_int_equal(((unsigned char *) &addr)[0], 0x5a);
    }
    assert_int_equal(lk_address_parse("x", NULL, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "invalid address 'x': no port; expected IPV4:PORT or [IPV6]:PORT");
    char long_text[300];
    memset(long_text, '1', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    assert_int_equal(lk_address_parse(long_text, NULL, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "too long"));
}

static void lk_address_parse__ipv4_and_ipv6(void **state)
{
    (void) state;
    struct sockaddr_storage addr;
    char err[256];
    assert_int_equal(lk_address_parse("127.0.0.1:7401", &addr, err, sizeof(err)), 0);
    assert_int_equal(addr.ss_family, AF_INET);
    assert_int_equal(ntohs(((struct sockaddr_in *) &addr)->sin_port), 7401);
    assert_int_equal(ntohl(((struct sockaddr_in *) &addr)->sin_addr.s_addr), 0x7f000001);
    assert_int_equal(lk_address_parse("[::1]:65535", &addr, err, sizeof(err)), 0);
    assert_int_equal(addr.ss_family, AF_INET6);
    assert_int_equal(ntohs(((struct sockaddr_in6 *) &addr)->sin6_port), 65535);
    assert_true(IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *) &addr)->sin6_addr));
    assert_int_equal(lk_address_parse("0.0.0.0:1", &addr, err, sizeof(err)), 0);
}

static void lk_cluster_settings_apply__all_or_nothing(void **state)
{
    (void) state;
    struct lk_cluster_settings s, before;
    char changed[256], err[256], buf[64];
    lk_cluster_settings_init(&s);
    before = s;
    /* One bad value among good ones: nothing changes. */
    json_t *bad = json_pack("{s:s,s:s}", "heartbeat-misses", "5", "quorum", "auto");
    assert_int_equal(lk_cluster_settings_apply(&s, bad, changed, sizeof(changed), err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "quorum"));
    assert_memory_equal(&s, &before, sizeof(s));
    json_decref(bad);
    json_t *unknown = json_pack("{s:s}", "nope", "1");
    assert_int_equal(
            lk_cluster_settings_apply(&s, unknown, changed, sizeof(changed), err, sizeof(err)),
            -EINVAL);
    assert_non_null(strstr(err, "unknown cluster setting 'nope'"));
    json_decref(unknown);
    json_t *not_text = json_pack("{s:i}", "heartbeat-misses", 5);
    assert_int_equal(
            lk_cluster_settings_apply(&s, not_text, changed, sizeof(changed), err, sizeof(err)),
            -EINVAL);
    json_decref(not_text);
    /* A value equal to the current one is not reported as changed. */
    json_t *good = json_pack("{s:s,s:s}", "heartbeat-misses", "5", "heartbeat-interval-ms", "200");
    assert_int_equal(
            lk_cluster_settings_apply(&s, good, changed, sizeof(changed), err, sizeof(err)), 0);
    assert_string_equal(changed, "heartbeat-misses=5");
    assert_int_equal(s.heartbeat_misses, 5);
    json_decref(good);
    /* The JSON form has every key, as text, and applies back unchanged. */
    json_t *all = lk_cluster_settings_json(&s);
    assert_non_null(all);
    assert_int_equal(json_object_size(all), LK_CLUSTER_SETTINGS_KEYS);
    for (size_t i = 0; lk_cluster_settings_keys[i]; i++) {
        const char *key = lk_cluster_settings_keys[i];
        assert_string_equal(json_string_value(json_object_get(all, key)),
                            lk_cluster_settings_get(&s, key, buf, sizeof(buf)));
    }
    before = s;
    assert_int_equal(lk_cluster_settings_apply(&s, all, changed, sizeof(changed), err, sizeof(err)),
                     0);
    assert_string_equal(changed, "");
    assert_memory_equal(&s, &before, sizeof(s));
    json_decref(all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_settings_set__errors),
            cmocka_unit_test(lk_settings_set__quoted_value_stays_utf8),
            cmocka_unit_test(lk_settings_set__every_key),
            cmocka_unit_test(lk_settings_get__unknown_key_and_every_key),
            cmocka_unit_test(lk_settings_equal__names_the_key),
            cmocka_unit_test(lk_cluster_settings_apply__all_or_nothing),
            cmocka_unit_test(lk_address_parse__errors),
            cmocka_unit_test(lk_address_parse__ipv4_and_ipv6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
