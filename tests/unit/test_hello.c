/* Unit tests of the HELLO's parsing and validation (src/lib/hello.c): every field in its
 * good and bad forms, and the exact one-line reasons net.c reports when it drops a
 * connection for a malformed HELLO. */
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

#include "hello.h"
#include "validate.h"

#define NONCE "\"nonce\":\"0123456789abcdef\""
#define KX    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static char err[512];

static int parse(const char *text, struct lk_hello *h)
{
    memset(err, 0, sizeof(err));
    memset(h, 0xa5, sizeof(*h));
    return lk_hello_parse(text, strlen(text), h, err, sizeof(err));
}

/* text is refused with exactly the reason want, and *h holds nothing. */
static void refused(const char *text, const char *want)
{
    struct lk_hello h;
    assert_int_equal(parse(text, &h), -EINVAL);
    assert_string_equal(err, want);
    assert_null(strpbrk(err, "\r\n"));
    assert_null(h.root);
    assert_null(h.node);
    lk_hello_free(&h); /* safe on a refused one */
}

/* text parses; the caller frees *h. */
static void parsed(const char *text, struct lk_hello *h)
{
    int r = parse(text, h);
    if (r != 0) {
        fail_msg("'%s' refused: %s", text, err);
    }
}

static void lk_hello_parse__protocol2_hello(void **state)
{
    (void) state;
    struct lk_hello h;
    parsed("{\"node\":\"node1\",\"witness\":false,\"dead_ms\":3000," NONCE ",\"proto\":2,"
           "\"proto_min\":1,\"version\":\"0.9.0\",\"kx\":\"" KX "\"}",
           &h);
    assert_string_equal(h.node, "node1");
    assert_false(h.witness);
    assert_true(h.has_dead_ms);
    assert_int_equal(h.dead_ms, 3000);
    assert_true(h.nonce == 0x0123456789abcdefULL);
    assert_int_equal(h.proto_max, 2);
    assert_int_equal(h.proto_min, 1);
    assert_string_equal(h.version, "0.9.0");
    assert_null(h.info);
    assert_true(h.has_kx);
    static const uint8_t want[LK_WIRE_KX] = {
            0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa,
            0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
            0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
    };
    assert_memory_equal(h.kx, want, LK_WIRE_KX);
    lk_hello_free(&h);
    assert_null(h.root);
    assert_null(h.node);
}

static void lk_hello_parse__protocol1_defaults(void **state)
{
    (void) state;
    struct lk_hello h;
    /* The release before protocols were announced: no proto, proto_min, version, kx. */
    parsed("{\"node\":\"node2\",\"info\":{\"settings\":\"3f2a\"}," NONCE "}", &h);
    assert_string_equal(h.node, "node2");
    assert_int_equal(h.proto_max, 1);
    assert_int_equal(h.proto_min, 1);
    assert_string_equal(h.version, "unknown");
    assert_false(h.witness);
    assert_false(h.has_dead_ms);
    assert_false(h.has_kx);
    assert_non_null(h.info);
    assert_string_equal(json_string_value(json_object_get(h.info, "settings")), "3f2a");
    lk_hello_free(&h);
    /* Fields the parser does not know are ignored. */
    parsed("{\"node\":\"n\"," NONCE ",\"future\":[1,2]}", &h);
    lk_hello_free(&h);
}

static void lk_hello_parse__not_an_object(void **state)
{
    (void) state;
    static const char *const bad[] = {
            "",
            "{",
            "[]",
            "\"node\"",
            "42",
            "null",
            "{\"node\":\"a\",\"node\":\"b\"," NONCE "}",
            "{\"node\":\"a\"," NONCE "} trailing",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        refused(bad[i], "HELLO payload is not a JSON object");
    }
    struct lk_hello h;
    assert_int_equal(lk_hello_parse(NULL, 0, &h, err, sizeof(err)), -EINVAL);
    assert_null(h.root);
    /* The length counts, not a NUL: a valid object followed by bytes past len. */
    const char *text = "{\"node\":\"a\"," NONCE "}garbage";
    assert_int_equal(lk_hello_parse(text, strlen(text) - 7, &h, err, sizeof(err)), 0);
    lk_hello_free(&h);
    assert_int_equal(lk_hello_parse(text, strlen(text) - 8, &h, err, sizeof(err)), -EINVAL);
}

static void lk_hello_parse__node(void **state)
{
    (void) state;
    refused("{" NONCE "}", "HELLO without a node name");
    refused("{\"node\":42," NONCE "}", "HELLO without a node name");
    refused("{\"node\":null," NONCE "}", "HELLO without a node name");
    refused("{\"node\":\"\"," NONCE "}", "HELLO with a bad node name: node name must not be empty");
    refused("{\"node\":\"a b\"," NONCE "}",
            "HELLO with a bad node name: node name 'a b' contains ' '; use letters, digits, '.', "
            "'_', '-'");
    refused("{\"node\":\"-a\"," NONCE "}",
            "HELLO with a bad node name: node name '-a' must not start with '-'");
    refused("{\"node\":\"a\\nb\"," NONCE "}",
            "HELLO with a bad node name: node name contains control character 0x0a");
    refused("{\"node\":\"\\u00e9\"," NONCE "}",
            "HELLO with a bad node name: node name contains a non-ASCII byte; use letters, "
            "digits, '.', '_', '-'");
    char text[512], want[256];
    char long_name[LK_TAG_MAX + 2];
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    snprintf(text, sizeof(text), "{\"node\":\"%s\"," NONCE "}", long_name);
    snprintf(want, sizeof(want),
             "HELLO with a bad node name: node name is too long: %d bytes, at most %d",
             LK_TAG_MAX + 1, LK_TAG_MAX);
    refused(text, want);
    /* The longest name, and every character a tag allows. */
    long_name[LK_TAG_MAX] = '\0';
    snprintf(text, sizeof(text), "{\"node\":\"%s\"," NONCE "}", long_name);
    struct lk_hello h;
    parsed(text, &h);
    assert_string_equal(h.node, long_name);
    lk_hello_free(&h);
    parsed("{\"node\":\"aZ09._-\"," NONCE "}", &h);
    lk_hello_free(&h);
}

static void lk_hello_parse__info_witness_dead_ms(void **state)
{
    (void) state;
    static const char *const bad[] = {
            "{\"node\":\"n1\",\"info\":\"x\"," NONCE "}",
            "{\"node\":\"n1\",\"info\":[]," NONCE "}",
            "{\"node\":\"n1\",\"info\":null," NONCE "}",
            "{\"node\":\"n1\",\"witness\":1," NONCE "}",
            "{\"node\":\"n1\",\"witness\":\"true\"," NONCE "}",
            "{\"node\":\"n1\",\"witness\":null," NONCE "}",
            "{\"node\":\"n1\",\"dead_ms\":\"3000\"," NONCE "}",
            "{\"node\":\"n1\",\"dead_ms\":3000.5," NONCE "}",
            "{\"node\":\"n1\",\"dead_ms\":true," NONCE "}",
            /* Judged before the nonce: a HELLO with both wrong names this one. */
            "{\"node\":\"n1\",\"dead_ms\":\"x\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        refused(bad[i], "HELLO from 'n1' with a malformed info, witness or dead_ms");
    }
    struct lk_hello h;
    parsed("{\"node\":\"n1\",\"witness\":true,\"dead_ms\":0,\"info\":{}," NONCE "}", &h);
    assert_true(h.witness);
    assert_true(h.has_dead_ms);
    assert_int_equal(h.dead_ms, 0);
    assert_non_null(h.info);
    lk_hello_free(&h);
    /* Any integer: what a dead time means is the receiver's to judge. */
    parsed("{\"node\":\"n1\",\"dead_ms\":-5," NONCE "}", &h);
    assert_int_equal(h.dead_ms, -5);
    lk_hello_free(&h);
}

static void lk_hello_parse__nonce(void **state)
{
    (void) state;
    static const char *const bad[] = {
            "{\"node\":\"n1\"}",
            "{\"node\":\"n1\",\"nonce\":null}",
            "{\"node\":\"n1\",\"nonce\":81985529216486895}",
            "{\"node\":\"n1\",\"nonce\":\"\"}",
            "{\"node\":\"n1\",\"nonce\":\"0123456789abcde\"}",
            "{\"node\":\"n1\",\"nonce\":\"0123456789abcdef0\"}",
            "{\"node\":\"n1\",\"nonce\":\"0123456789ABCDEF\"}",
            "{\"node\":\"n1\",\"nonce\":\"0123456789abcdeg\"}",
            "{\"node\":\"n1\",\"nonce\":\" 123456789abcdef\"}",
            "{\"node\":\"n1\",\"nonce\":\"-123456789abcdef\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        refused(bad[i], "HELLO from 'n1' without a valid nonce");
    }
    struct lk_hello h;
    parsed("{\"node\":\"n1\",\"nonce\":\"ffffffffffffffff\"}", &h);
    assert_true(h.nonce == UINT64_MAX);
    lk_hello_free(&h);
    parsed("{\"node\":\"n1\",\"nonce\":\"0000000000000000\"}", &h);
    assert_true(h.nonce == 0);
    lk_hello_free(&h);
}

static void lk_hello_parse__proto(void **state)
{
    (void) state;
    static const char *const bad[] = {
            "{\"node\":\"n1\"," NONCE ",\"proto\":0}",
            "{\"node\":\"n1\"," NONCE ",\"proto\":-1}",
            "{\"node\":\"n1\"," NONCE ",\"proto\":1001}",
            "{\"node\":\"n1\"," NONCE ",\"proto\":\"2\"}",
            "{\"node\":\"n1\"," NONCE ",\"proto\":2.0}",
            "{\"node\":\"n1\"," NONCE ",\"proto\":null}",
            "{\"node\":\"n1\"," NONCE ",\"proto\":2,\"proto_min\":0}",
            "{\"node\":\"n1\"," NONCE ",\"proto\":2,\"proto_min\":3}",
            "{\"node\":\"n1\"," NONCE ",\"proto_min\":2}", /* above the absent proto's 1 */
            "{\"node\":\"n1\"," NONCE ",\"proto\":2,\"proto_min\":\"1\"}",
            "{\"node\":\"n1\"," NONCE ",\"proto\":9223372036854775807}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        refused(bad[i], "HELLO from 'n1' with a malformed proto, proto_min or version");
    }
    struct lk_hello h;
    parsed("{\"node\":\"n1\"," NONCE ",\"proto\":1000,\"proto_min\":1000}", &h);
    assert_int_equal(h.proto_max, 1000);
    assert_int_equal(h.proto_min, 1000);
    lk_hello_free(&h);
    parsed("{\"node\":\"n1\"," NONCE ",\"proto\":3}", &h);
    assert_int_equal(h.proto_max, 3);
    assert_int_equal(h.proto_min, 1);
    lk_hello_free(&h);
    parsed("{\"node\":\"n1\"," NONCE ",\"proto_min\":1}", &h);
    assert_int_equal(h.proto_max, 1);
    lk_hello_free(&h);
}

static void lk_hello_parse__version(void **state)
{
    (void) state;
    char longest[LK_HELLO_VERSION_MAX];
    memset(longest, '1', sizeof(longest) - 1);
    longest[sizeof(longest) - 1] = '\0';
    char text[256];
    static const char *const bad[] = {
            "\"\"",
            "\"1.0 beta\"",
            "\"1.0\\n\"",
            "\"1.0\\u00e9\"",
            "\"1.0\\u007f\"",
            "1",
            "null",
            "\"11111111111111111111111111111111\"", /* LK_HELLO_VERSION_MAX bytes */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), "{\"node\":\"n1\"," NONCE ",\"version\":%s}", bad[i]);
        refused(text, "HELLO from 'n1' with a malformed proto, proto_min or version");
    }
    struct lk_hello h;
    snprintf(text, sizeof(text), "{\"node\":\"n1\"," NONCE ",\"version\":\"%s\"}", longest);
    parsed(text, &h);
    assert_string_equal(h.version, longest);
    lk_hello_free(&h);
    parsed("{\"node\":\"n1\"," NONCE ",\"version\":\"0.9.0-12-g4dd745e~!\"}", &h);
    assert_string_equal(h.version, "0.9.0-12-g4dd745e~!");
    lk_hello_free(&h);
}

static void lk_hello_parse__kx(void **state)
{
    (void) state;
    /* A kx that is absent or malformed does not refuse the HELLO (only protocol 2 needs
     * one, and only the receiver knows the protocol): has_kx says. */
    static const char *const bad[] = {
            "null",
            "42",
            "\"\"",
            "\"" KX "0\"",
            "\"0" KX "\"",
            "\"" KX "00\"",
            "\"0011223344556677 8899aabbccddeeff00112233445566778899aabbccddeef\"",
            "\"g0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"",
    };
    char text[256];
    struct lk_hello h;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), "{\"node\":\"n1\"," NONCE ",\"proto\":2,\"kx\":%s}", bad[i]);
        parsed(text, &h);
        assert_false(h.has_kx);
        static const uint8_t zero[LK_WIRE_KX];
        assert_memory_equal(h.kx, zero, LK_WIRE_KX);
        lk_hello_free(&h);
    }
    /* Upper-case hex is hex. */
    parsed("{\"node\":\"n1\"," NONCE
           ",\"kx\":\"FFEEDDCCBBAA99887766554433221100FFEEDDCCBBAA99887766554433221100\"}",
           &h);
    assert_true(h.has_kx);
    assert_int_equal(h.kx[0], 0xff);
    assert_int_equal(h.kx[31], 0x00);
    lk_hello_free(&h);
}

static void lk_hello_parse__reason_fits(void **state)
{
    (void) state;
    /* A small err buffer gets a cut reason, never an overflow; none at all is allowed. */
    struct lk_hello h;
    char small[8];
    const char *text = "{\"node\":\"n1\"}";
    assert_int_equal(lk_hello_parse(text, strlen(text), &h, small, sizeof(small)), -EINVAL);
    assert_string_equal(small, "HELLO f");
    assert_int_equal(lk_hello_parse(text, strlen(text), &h, NULL, 0), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_hello_parse__protocol2_hello),
            cmocka_unit_test(lk_hello_parse__protocol1_defaults),
            cmocka_unit_test(lk_hello_parse__not_an_object),
            cmocka_unit_test(lk_hello_parse__node),
            cmocka_unit_test(lk_hello_parse__info_witness_dead_ms),
            cmocka_unit_test(lk_hello_parse__nonce),
            cmocka_unit_test(lk_hello_parse__proto),
            cmocka_unit_test(lk_hello_parse__version),
            cmocka_unit_test(lk_hello_parse__kx),
            cmocka_unit_test(lk_hello_parse__reason_fits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
