/* lkcli dependency create|delete --parent P --child C, and dependency list: the edges of
 * the hierarchies (SPEC §4). lkd checks existence, duplicates, cycles and states. */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "client.h"
#include "lkcli.h"

static int cmd_change(const struct lk_cli *cli, const char *verb, const char *cmd, int argc,
                      char **argv)
{
    struct lk_opt opts[] = {
            {.name = "parent",
             .has_value = true,
             .arg = "P",
             .help = "the resource that depends (starts after, stops before the child)",
             .required = true},
            {.name = "child",
             .has_value = true,
             .arg = "C",
             .help = "the resource it depends on",
             .required = true},
    };
    if (lk_args_parse(cli->prog, argc, argv, opts, 2, NULL, 0, NULL) != 0) {
        return 2;
    }
    for (int i = 0; i < 2; i++) {
        if (!opts[i].value) {
            return lk_fail(cli->prog, 2, "dependency %s: missing --%s", verb, opts[i].name);
        }
    }
    json_t *args = json_pack("{s:s, s:s}", "parent", opts[0].value, "child", opts[1].value);
    json_t *data = NULL;
    int r = lk_client_call(cli->prog, cli->root, cmd, args, NULL, NULL, &data);
    if (r != 0) {
        return r;
    }
    if (cli->json) {
        lk_print_json(data);
    } else {
        printf("dependency %s: '%s' %s '%s'\n", strcmp(verb, "create") == 0 ? "created" : "deleted",
               opts[0].value, strcmp(verb, "create") == 0 ? "depends on" : "no longer depends on",
               opts[1].value);
    }
    json_decref(data);
    return 0;
}

static int cmd_list(const struct lk_cli *cli, int argc, char **argv)
{
    if (lk_args_none(cli->prog, "dependency list", argc, argv) != 0) {
        return 2;
    }
    json_t *data = NULL;
    int r = lk_client_call(cli->prog, cli->root, LK_CMD_DEP_LIST, NULL, NULL, NULL, &data);
    if (r != 0) {
        return r;
    }
    json_t *deps = json_object_get(data, "dependencies");
    if (cli->json) {
        lk_print_json(deps);
    } else {
        size_t i;
        json_t *d;
        json_array_foreach(deps, i, d)
        {
            printf("%s -> %s\n", json_string_value(json_object_get(d, "parent")),
                   json_string_value(json_object_get(d, "child")));
        }
    }
    json_decref(data);
    return 0;
}

int lk_cmd_dependency(const struct lk_cli *cli, int argc, char **argv)
{
    if (argc < 1) {
        return lk_fail(cli->prog, 2, "dependency: missing verb (create, delete or list)");
    }
    if (strcmp(argv[0], "create") == 0) {
        return cmd_change(cli, "create", LK_CMD_DEP_CREATE, argc - 1, argv + 1);
    }
    if (strcmp(argv[0], "delete") == 0) {
        return cmd_change(cli, "delete", LK_CMD_DEP_DELETE, argc - 1, argv + 1);
    }
    if (strcmp(argv[0], "list") == 0) {
        return cmd_list(cli, argc - 1, argv + 1);
    }
    return lk_fail(cli->prog, 2, "dependency: unknown verb '%s' (create, delete or list)", argv[0]);
}
