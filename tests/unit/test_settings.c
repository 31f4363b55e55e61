/* Tests of the pure cluster settings and addresses (src/lib/settings.c): every setting by
 * name with its bounds and its "" (unset) form, the names, comparison naming the first
 * differing key, the JSON form and all-or-nothing changes, and address parsing (IPv4,
 * bracketed IPv6, no host names, one-line errors); the alert hooks (event selections, each
 * field's check, the text form with its secrets, the displays without, the limits). No
 * files, no loop. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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
    assert_int_equal(n, LK_CLUSTER_SETTINGS_KEYS);
    assert_string_equal(lk_cluster_settings_get(&s, "heartbeat-interval-ms", buf, sizeof(buf)),
                        "200");
    /* remote-exec (issue 14): off by default, on|off only. */
    char err[256];
    assert_string_equal(lk_cluster_settings_get(&s, "remote-exec", buf, sizeof(buf)), "off");
    assert_int_equal(lk_cluster_settings_set(&s, "remote-exec", "yes", err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "expected on or off"));
    assert_false(s.remote_exec);
    assert_int_equal(lk_cluster_settings_set(&s, "remote-exec", "on", err, sizeof(err)), 0);
    assert_true(s.remote_exec);
    assert_string_equal(lk_cluster_settings_get(&s, "remote-exec", buf, sizeof(buf)), "on");
    assert_int_equal(lk_cluster_settings_set(&s, "remote-exec", "off", err, sizeof(err)), 0);
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

/* Alert hooks */

#define SECRET "0123456789abcdef-secret"

static struct lk_alert_hook make_hook(const char *name, bool webhook)
{
    struct lk_alert_hook h;
    memset(&h, 0, sizeof(h));
    snprintf(h.name, sizeof(h.name), "%s", name);
    h.kind = webhook ? LK_ALERT_WEBHOOK : LK_ALERT_EXEC;
    snprintf(h.target, sizeof(h.target), "%s",
             webhook ? "https://chat.example.com:8443/hooks/abc?x=1" : "/usr/local/sbin/alert");
    if (webhook) {
        snprintf(h.secret, sizeof(h.secret), "%s", SECRET);
    }
    char err[256];
    assert_int_equal(lk_alert_events_parse("warning,error", &h.events, err, sizeof(err)), 0);
    h.timeout_s = 10;
    return h;
}

static void lk_alert_events_parse__errors_then_canonical_form(void **state)
{
    (void) state;
    struct lk_alert_select sel, before;
    char err[512], text[512];
    memset(&sel, 0x5a, sizeof(sel));
    before = sel;
    static const char *const bad[] = {
            "",
            ",",
            "warning,",
            "bogus",
            "1700-1600",
            "0",
            "100000",
            "1-",
            "-5",
            "12a",
            "warning,error,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17",
            "a\nb",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(lk_alert_events_parse(bad[i], &sel, err, sizeof(err)), -EINVAL);
        assert_null(strchr(err, '\n'));
        assert_memory_equal(&sel, &before, sizeof(sel));
    }
    assert_int_equal(
            lk_alert_events_parse(" ERROR, 1621,1600-1699 ,warning,1621", &sel, err, sizeof(err)),
            0);
    lk_alert_events_format(&sel, text, sizeof(text));
    assert_string_equal(text, "warning,error,1600-1699,1621");
    assert_int_equal(lk_alert_events_parse("all", &sel, err, sizeof(err)), 0);
    lk_alert_events_format(&sel, text, sizeof(text));
    assert_string_equal(text, "info,warning,error");
}

static void lk_alert_events_match__severity_or_number(void **state)
{
    (void) state;
    struct lk_alert_select sel;
    char err[256];
    assert_int_equal(lk_alert_events_parse("error,1621,1600-1603", &sel, err, sizeof(err)), 0);
    assert_true(lk_alert_events_match(&sel, 2 /* error */, 1202));
    assert_false(lk_alert_events_match(&sel, 1 /* warning */, 1504));
    assert_true(lk_alert_events_match(&sel, 0, 1621));
    assert_true(lk_alert_events_match(&sel, 0, 1600));
    assert_true(lk_alert_events_match(&sel, 1, 1603));
    assert_false(lk_alert_events_match(&sel, 0, 1604));
}

static void lk_alert_hook_check__refuses_bad_fields(void **state)
{
    (void) state;
    char err[1200];
    struct lk_alert_hook h = make_hook("chat", true);
    assert_int_equal(lk_alert_hook_check(&h, err, sizeof(err)), 0);
    static const char *const bad_urls[] = {
            "ftp://x/y",
            "http://",
            "http:///x",
            "http://u:p@host/x",
            "http://host:0/",
            "http://host:65536/",
            "http://ho st/",
            "http://[::1/",
            "http://[zz::1]/",
            "https://-host/",
            "http://host/\xc3\xa9",
    };
    for (size_t i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++) {
        struct lk_alert_hook b = h;
        snprintf(b.target, sizeof(b.target), "%s", bad_urls[i]);
        assert_int_equal(lk_alert_hook_check(&b, err, sizeof(err)), -EINVAL);
        assert_null(strstr(err, SECRET));
    }
    struct lk_alert_hook b = h;
    snprintf(b.target, sizeof(b.target), "http://[::1]:8080/x");
    assert_int_equal(lk_alert_hook_check(&b, err, sizeof(err)), 0);
    b = h;
    snprintf(b.secret, sizeof(b.secret), "short");
    assert_int_equal(lk_alert_hook_check(&b, err, sizeof(err)), -EINVAL);
    assert_null(strstr(err, "short"));
    b = h;
    snprintf(b.secret, sizeof(b.secret), "with a space in it, long enough");
    assert_int_equal(lk_alert_hook_check(&b, err, sizeof(err)), -EINVAL);
    b = make_hook("mail", false);
    assert_int_equal(lk_alert_hook_check(&b, err, sizeof(err)), 0);
    static const char *const bad_paths[] = {"relative/x", "/x ;y", "/x ", ""};
    for (size_t i = 0; i < sizeof(bad_paths) / sizeof(bad_paths[0]); i++) {
        struct lk_alert_hook c = b;
        snprintf(c.target, sizeof(c.target), "%s", bad_paths[i]);
        assert_int_equal(lk_alert_hook_check(&c, err, sizeof(err)), -EINVAL);
    }
    struct lk_alert_hook c = b;
    snprintf(c.secret, sizeof(c.secret), "%s", SECRET); /* a secret is a webhook's */
    assert_int_equal(lk_alert_hook_check(&c, err, sizeof(err)), -EINVAL);
    c = b;
    snprintf(c.name, sizeof(c.name), "bad name");
    assert_int_equal(lk_alert_hook_check(&c, err, sizeof(err)), -EINVAL);
    c = b;
    c.timeout_s = 0;
    assert_int_equal(lk_alert_hook_check(&c, err, sizeof(err)), -EINVAL);
    c.timeout_s = LK_ALERT_TIMEOUT_MAX_S + 1;
    assert_int_equal(lk_alert_hook_check(&c, err, sizeof(err)), -EINVAL);
    c = b;
    memset(&c.events, 0, sizeof(c.events));
    assert_int_equal(lk_alert_hook_check(&c, err, sizeof(err)), -EINVAL);
}

static void lk_cluster_settings_alert_add__order_limit_and_text_round_trip(void **state)
{
    (void) state;
    static struct lk_cluster_settings s, again, before;
    static char text[LK_SETTING_VALUE_MAX];
    char err[1200];
    lk_cluster_settings_init(&s);
    struct lk_alert_hook chat = make_hook("chat", true), mail = make_hook("mail", false);
    snprintf(mail.recipient, sizeof(mail.recipient), "ops@example.com");
    assert_int_equal(lk_cluster_settings_alert_add(&s, &mail, err, sizeof(err)), 0);
    assert_int_equal(lk_cluster_settings_alert_add(&s, &chat, err, sizeof(err)), 0);
    before = s;
    assert_int_equal(lk_cluster_settings_alert_add(&s, &chat, err, sizeof(err)), -EEXIST);
    assert_memory_equal(&s, &before, sizeof(s));
    assert_int_equal((int) s.alert_count, 2);
    assert_string_equal(s.alerts[0].name, "chat"); /* by name */
    assert_non_null(lk_cluster_settings_alert(&s, "mail"));
    assert_null(lk_cluster_settings_alert(&s, "nope"));

    /* The text form carries the secret (for lk.conf and the peers) and reads back. */
    assert_non_null(lk_cluster_settings_get(&s, "alerts", text, sizeof(text)));
    assert_non_null(strstr(text, SECRET));
    lk_cluster_settings_init(&again);
    assert_int_equal(lk_cluster_settings_set(&again, "alerts", text, err, sizeof(err)), 0);
    assert_true(lk_cluster_settings_equal(&s, &again, err, sizeof(err)));
    /* ... and no display does. */
    json_t *pub = lk_cluster_settings_public_json(&s);
    char *dump = json_dumps(pub, 0);
    assert_null(strstr(dump, SECRET));
    assert_non_null(strstr(dump, "\\\"secret\\\":\\\"set\\\""));
    free(dump);
    json_decref(pub);
    json_t *hook = lk_alert_hook_json(&s.alerts[0], false);
    assert_string_equal(json_string_value(json_object_get(hook, "secret")), "set");
    json_decref(hook);
    /* A change by apply names the hooks, never their text. */
    json_t *all = lk_cluster_settings_json(&s);
    char changed[1024];
    lk_cluster_settings_init(&again);
    assert_int_equal(
            lk_cluster_settings_apply(&again, all, changed, sizeof(changed), err, sizeof(err)), 0);
    assert_non_null(strstr(changed, "alerts=chat mail"));
    assert_null(strstr(changed, SECRET));
    json_decref(all);

    static const char *const bad_text[] = {
            "x",
            "{}",
            "[1]",
            "[{\"name\":\"a\"}]",
            "[{\"events\":\"error\",\"kind\":\"exec\",\"name\":\"a\",\"target\":\"/x\","
            "\"timeout\":10,\"extra\":1}]",
            "[{\"events\":\"error\",\"kind\":\"webhook\",\"name\":\"a\",\"target\":\"http://x/\","
            "\"timeout\":10}]",
            "[{\"events\":\"error\",\"kind\":\"exec\",\"name\":\"a\",\"target\":\"/x\","
            "\"timeout\":10},{\"events\":\"error\",\"kind\":\"exec\",\"name\":\"a\","
            "\"target\":\"/y\",\"timeout\":10}]",
    };
    for (size_t i = 0; i < sizeof(bad_text) / sizeof(bad_text[0]); i++) {
        before = s;
        assert_int_equal(lk_cluster_settings_set(&s, "alerts", bad_text[i], err, sizeof(err)),
                         -EINVAL);
        assert_memory_equal(&s, &before, sizeof(s));
    }

    assert_int_equal(lk_cluster_settings_alert_delete(&s, "chat", err, sizeof(err)), 0);
    assert_int_equal(lk_cluster_settings_alert_delete(&s, "chat", err, sizeof(err)), -ENOENT);
    assert_int_equal((int) s.alert_count, 1);
    for (int i = 0; i < LK_ALERTS_MAX - 1; i++) {
        struct lk_alert_hook h = make_hook("x", i % 2);
        snprintf(h.name, sizeof(h.name), "hook%02d", i);
        assert_int_equal(lk_cluster_settings_alert_add(&s, &h, err, sizeof(err)), 0);
    }
    struct lk_alert_hook extra = make_hook("extra", false);
    assert_int_equal(lk_cluster_settings_alert_add(&s, &extra, err, sizeof(err)), -ENOSPC);
    assert_non_null(lk_cluster_settings_get(&s, "alerts", text, sizeof(text)));
    assert_true(strlen(text) <= LK_ALERTS_TEXT_MAX);
    /* Hooks with long targets: the text's bound refuses before the count does. */
    lk_cluster_settings_init(&s);
    int added = 0, r = 0;
    for (int i = 0; i < LK_ALERTS_MAX && r == 0; i++) {
        struct lk_alert_hook h = make_hook("x", true);
        snprintf(h.name, sizeof(h.name), "long%02d", i);
        memset(h.target + 8, 'a', LK_ALERT_TARGET_MAX - 20);
        h.target[LK_ALERT_TARGET_MAX - 12] = '\0';
        memset(h.secret, 'k', LK_ALERT_SECRET_MAX);
        h.secret[LK_ALERT_SECRET_MAX] = '\0';
        r = lk_cluster_settings_alert_add(&s, &h, err, sizeof(err));
        added += r == 0;
    }
    assert_int_equal(r, -ENOSPC);
    assert_true(added > 0 && added < LK_ALERTS_MAX);
}

/* The tunables: the whole text, checked as the file is, kept verbatim; a change is shown
 * as the keys it changes. */
static void lk_settings_set__tunables(void **state)
{
    (void) state;
    static struct lk_cluster_settings s, before;
    char err[512], buf[256];
    lk_cluster_settings_init(&s);
    before = s;
    assert_string_equal(lk_cluster_settings_get(&s, LK_CLUSTER_KEY_TUNABLES, buf, sizeof(buf)), "");
    assert_int_equal(lk_cluster_settings_set(&s, "tunables", "A=1\nB C\n", err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "invalid tunables: line 2: expected KEY=VALUE");
    assert_memory_equal(&s, &before, sizeof(s));
    const char *text = "# x\nexport A='1 2'\n";
    assert_int_equal(lk_cluster_settings_set(&s, "tunables", text, err, sizeof(err)), 0);
    assert_string_equal(s.tunables, text);
    assert_string_equal(lk_cluster_settings_get(&s, "tunables", buf, sizeof(buf)), text);
    char what[64];
    assert_false(lk_cluster_settings_equal(&s, &before, what, sizeof(what)));
    assert_string_equal(what, "tunables");
    json_t *changes = json_pack("{s:s}", "tunables", "A=2\nB=3\n");
    char changed[256];
    assert_int_equal(
            lk_cluster_settings_apply(&s, changes, changed, sizeof(changed), err, sizeof(err)), 0);
    assert_string_equal(changed, "tunables=set A, B");
    json_decref(changes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_settings_set__tunables),
            cmocka_unit_test(lk_settings_set__errors),
            cmocka_unit_test(lk_settings_set__quoted_value_stays_utf8),
            cmocka_unit_test(lk_settings_set__every_key),
            cmocka_unit_test(lk_settings_get__unknown_key_and_every_key),
            cmocka_unit_test(lk_settings_equal__names_the_key),
            cmocka_unit_test(lk_cluster_settings_apply__all_or_nothing),
            cmocka_unit_test(lk_address_parse__errors),
            cmocka_unit_test(lk_address_parse__ipv4_and_ipv6),
            cmocka_unit_test(lk_alert_events_parse__errors_then_canonical_form),
            cmocka_unit_test(lk_alert_events_match__severity_or_number),
            cmocka_unit_test(lk_alert_hook_check__refuses_bad_fields),
            cmocka_unit_test(lk_cluster_settings_alert_add__order_limit_and_text_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
