/* lkcli status: this node, its resources with state and reason, and recent events. */
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "lkcli.h"
#include "output.h"
#include "resource.h"

int lk_cmd_status(const struct lk_cli *cli, int argc, char **argv)
{
    if (argc > 0) {
        return lk_fail(cli->prog, 2, "status: unexpected argument '%s'", argv[0]);
    }
    json_t *data = NULL;
    int r = lk_client_call(cli->prog, cli->root, LK_CMD_STATUS, NULL, NULL, NULL, &data);
    if (r != 0) {
        return r;
    }
    if (cli->json) {
        lk_print_json(data);
        json_decref(data);
        return 0;
    }
    printf("node %s  (pid %lld, up %lld s, root %s)%s\n",
           json_string_value(json_object_get(data, "node")),
           (long long) json_integer_value(json_object_get(data, "pid")),
           (long long) json_integer_value(json_object_get(data, "uptime_s")),
           json_string_value(json_object_get(data, "root")),
           json_is_true(json_object_get(data, "stopping")) ? "  STOPPING" : "");
    json_t *resources = json_object_get(data, "resources");
    printf("\nresources: %zu\n", json_array_size(resources));
    if (json_array_size(resources) > 0) {
        printf("  %-24s %-5s %4s %4s  %s\n", "TAG", "STATE", "FAIL", "REC", "REASON");
    }
    size_t i;
    json_t *res;
    json_array_foreach(resources, i, res)
    {
        const char *pending = json_string_value(json_object_get(res, "pending"));
        printf("  %-24s %-5s %4lld %4lld  %s%s%s%s\n",
               json_string_value(json_object_get(res, "tag")),
               json_string_value(json_object_get(res, "state")),
               (long long) json_integer_value(json_object_get(res, "check_failures_in_row")),
               (long long) json_integer_value(json_object_get(res, "local_recoveries")),
               json_string_value(json_object_get(res, "reason")), pending && pending[0] ? " [" : "",
               pending ? pending : "", pending && pending[0] ? " running]" : "");
    }
    json_t *events = json_object_get(data, "events");
    printf("\nrecent events:\n");
    json_t *e;
    json_array_foreach(events, i, e)
    {
        lk_print_event(e, "  ", 0);
    }
    json_decref(data);
    return 0;
}
