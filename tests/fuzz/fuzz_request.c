/* libFuzzer target: the local request parser, what any user who can connect to lkd.sock
 * sends (src/daemon/api/request.c's lk_req_parse, src/lib/proto.c).
 *
 * Input: one byte for the caller's role (guest, operator, admin, none), then the bytes
 * the socket transport would hand over: everything up to the first newline, as a C
 * string. It goes through the checks lk_req_dispatch makes before a handler runs (JSON,
 * version, command, args, route, role); no handler runs, no daemon is needed. The args
 * of an accepted request also go through lk_proto_resource_parse, the resource parser
 * that replication and the commands share.
 * Invariants: every refusal is LK_EXIT_USAGE or LK_EXIT_DENIED with a one-line message
 * that a reply can carry (UTF-8);
 * an accepted request names its route's command and the caller has its role; a denied
 * one is accepted for an admin; the request as lkcli would send it again (lk_proto_request
 * and lk_proto_dump) gets the same answer; a parsed resource prints and parses back to
 * the same JSON. Never: a socket, a handler, the node. */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "api_internal.h"
#include "fuzz.h"
#include "proto.h"
#include "resource.h"

static const enum lk_role roles[] = {LK_ROLE_GUEST, LK_ROLE_OPERATOR, LK_ROLE_ADMIN, LK_ROLE_NONE};

static int parse(const char *line, enum lk_role role, json_t **ret_req,
                 const struct route **ret_route, char *err, size_t err_size)
{
    err[0] = '\0';
    int code = lk_req_parse(line, role, ret_req, ret_route, err, err_size);
    FUZZ_CHECK(code == LK_EXIT_OK || code == LK_EXIT_USAGE || code == LK_EXIT_DENIED, "code %d",
               code);
    if (code != LK_EXIT_OK) {
        FUZZ_CHECK(*ret_route == NULL, "a refused request has a route");
        FUZZ_CHECK(err[0] != '\0', "a refusal without a message");
        FUZZ_CHECK(fuzz_one_line(err), "a refusal of more than one line: '%s'", err);
        /* The reply can be built: a message jansson refuses (not UTF-8, a character cut
         * in two) would leave the client with a closed connection and no answer. */
        json_t *reply = lk_proto_error(code, err);
        FUZZ_CHECK(reply != NULL, "the refusal cannot be sent: '%s'", err);
        json_decref(reply);
    }
    return code;
}

/* A resource parsed from args prints, and parses back, to the same JSON. */
static void resource_round_trip(const json_t *args)
{
    static struct lk_resource a, b;
    if (lk_proto_resource_parse(args, &a) < 0) {
        return;
    }
    json_t *ja = lk_proto_resource_json(&a);
    FUZZ_CHECK(ja != NULL, "a parsed resource does not print");
    FUZZ_CHECK(lk_proto_resource_parse(ja, &b) == 0, "a printed resource does not parse");
    json_t *jb = lk_proto_resource_json(&b);
    FUZZ_CHECK(jb != NULL && json_equal(ja, jb), "a resource changes on its way back");
    char err[256];
    FUZZ_CHECK(lk_settings_check(&b.settings, err, sizeof(err)) == 0,
               "accepted settings fail their check: %s", err);
    json_decref(ja);
    json_decref(jb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    enum lk_role role = roles[data[0] % 4];
    const uint8_t *text = data + 1;
    size_t len = size - 1;
    const uint8_t *nl = memchr(text, '\n', len);
    char *line = fuzz_strndup(text, nl ? (size_t) (nl - text) : len);

    json_t *req = NULL;
    const struct route *route = NULL;
    char err[1024];
    int code = parse(line, role, &req, &route, err, sizeof(err));
    if (code == LK_EXIT_DENIED) {
        FUZZ_CHECK(role != LK_ROLE_ADMIN, "an admin denied: %s", err);
        json_t *again = NULL;
        const struct route *admin_route = NULL;
        FUZZ_CHECK(parse(line, LK_ROLE_ADMIN, &again, &admin_route, err, sizeof(err)) == LK_EXIT_OK,
                   "denied for a role, refused for an admin: %s", err);
        json_decref(again);
    }
    if (code == LK_EXIT_OK) {
        const char *cmd = json_string_value(json_object_get(req, LK_KEY_CMD));
        json_t *args = json_object_get(req, LK_KEY_ARGS);
        FUZZ_CHECK(route && cmd && strcmp(route->cmd, cmd) == 0, "route of another command");
        FUZZ_CHECK(role >= route->role, "'%s' accepted for a lower role", cmd);
        FUZZ_CHECK(route->handler != NULL, "route without a handler");
        FUZZ_CHECK(args == NULL || json_is_object(args), "args not an object");
        /* The same request as lkcli builds and sends it. */
        json_t *built = lk_proto_request(cmd, args ? json_deep_copy(args) : NULL);
        FUZZ_CHECK(built != NULL, "lk_proto_request");
        char *wire = lk_proto_dump(built);
        FUZZ_CHECK(wire != NULL, "lk_proto_dump");
        size_t wlen = strlen(wire);
        FUZZ_CHECK(wlen > 0 && wire[wlen - 1] == '\n' && memchr(wire, '\n', wlen - 1) == NULL,
                   "a dumped request is not one line");
        wire[wlen - 1] = '\0';
        json_t *req2 = NULL;
        const struct route *route2 = NULL;
        FUZZ_CHECK(parse(wire, role, &req2, &route2, err, sizeof(err)) == LK_EXIT_OK,
                   "the request sent again is refused: %s", err);
        FUZZ_CHECK(route2 == route, "the request sent again finds another route");
        json_t *args2 = json_object_get(req2, LK_KEY_ARGS);
        FUZZ_CHECK(args ? json_equal(args, args2) : json_object_size(args2) == 0,
                   "args changed on the way");
        json_decref(req2);
        free(wire);
        json_decref(built);
        if (args) {
            resource_round_trip(args);
        }
    }
    json_decref(req);
    free(line);
    return 0;
}
