/* lkcli resource describe-agent PROVIDER:AGENT: what an OCF agent takes (its parameters:
 * required, unique, default, secret) and the timeouts and intervals it advises, which a
 * create uses for the settings not given (docs/OCF.md).
 *
 * lkd runs the agent's meta-data (api/api_agent.c), so the answer is the one a create on
 * that node would get; this file only asks and prints, as text or --json. It must never
 * run an agent itself nor read the OCF root: lkd's root and checks are the ones that
 * count. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "client.h"
#include "lkcli.h"
#include "output.h"
#include "proto.h"

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static void print_agent(const json_t *data)
{
    printf("%s (version %s): %s\n", str(data, "agent"), str(data, "version"),
           str(data, "shortdesc"));
    const json_t *params = json_object_get(data, "parameters");
    printf("parameters (--param NAME=VALUE):\n");
    if (json_array_size(params) == 0) {
        printf("  none\n");
    }
    size_t width = 4;
    size_t i;
    const json_t *p;
    json_array_foreach(params, i, p)
    {
        size_t len = strlen(str(p, "name"));
        width = len > width ? len : width;
    }
    json_array_foreach(params, i, p)
    {
        char marks[64] = "";
        if (json_is_true(json_object_get(p, "required"))) {
            strcat(marks, " required");
        }
        if (json_is_true(json_object_get(p, "unique"))) {
            strcat(marks, " unique");
        }
        if (json_is_true(json_object_get(p, "secret"))) {
            strcat(marks, " secret");
        }
        const json_t *dflt = json_object_get(p, "default");
        bool more = marks[0] || json_is_string(dflt);
        printf("  %-*s  %-*s%s", (int) width, str(p, "name"), more ? 8 : 0, str(p, "type"), marks);
        if (json_is_string(dflt)) {
            printf(" default \"%s\"", json_string_value(dflt));
        }
        printf("\n");
        if (str(p, "shortdesc")[0]) {
            printf("  %-*s  %s\n", (int) width, "", str(p, "shortdesc"));
        }
    }
    json_t *advised = json_object_get(data, "advised");
    printf("advised settings (used when a create gives none):\n");
    if (json_object_size(advised) == 0) {
        printf("  none\n");
    }
    const char *key;
    json_t *v;
    json_object_foreach(advised, key, v)
    {
        printf("  %-18s %s s\n", key, json_string_value(v));
    }
    printf("actions:");
    const json_t *a;
    json_array_foreach(json_object_get(data, "actions"), i, a)
    {
        long long timeout = (long long) json_integer_value(json_object_get(a, "timeout_ms"));
        long long interval = (long long) json_integer_value(json_object_get(a, "interval_ms"));
        long long depth = (long long) json_integer_value(json_object_get(a, "depth"));
        printf("%s %s", i ? "," : "", str(a, "name"));
        if (timeout || interval || depth) {
            printf(" (");
            if (timeout) {
                printf("timeout %g s", (double) timeout / 1000.0);
            }
            if (interval) {
                printf("%severy %g s", timeout ? ", " : "", (double) interval / 1000.0);
            }
            if (depth) {
                printf("%sdepth %lld", timeout || interval ? ", " : "", depth);
            }
            printf(")");
        }
    }
    printf("\n");
}

int lk_cmd_describe_agent(const struct lk_cli *cli, int argc, char **argv)
{
    struct lk_opt opts[] = {
            {.name = "agent",
             .has_value = true,
             .arg = "PROVIDER:AGENT",
             .help = "the agent (or give it as the first argument): heartbeat:IPaddr2"},
    };
    const char *positional[1] = {NULL};
    size_t n_pos = 0;
    if (lk_args_parse(cli->prog, argc, argv, opts, 1, positional, 1, &n_pos) != 0) {
        return 2;
    }
    const char *agent = opts[0].value ? opts[0].value : positional[0];
    if (!agent || (opts[0].value && positional[0])) {
        return lk_fail(cli->prog, 2,
                       "resource describe-agent: give one agent, e.g. heartbeat:IPaddr2");
    }
    json_t *args = json_pack("{s:s}", "agent", agent);
    json_t *data = NULL;
    int r = lk_client_call(cli->prog, cli->root, LK_CMD_RES_AGENT, args, NULL, NULL, &data);
    if (r != 0) {
        return r;
    }
    if (cli->json) {
        lk_print_json(data);
    } else {
        print_agent(data);
    }
    json_decref(data);
    return 0;
}
