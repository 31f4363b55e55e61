/* lkcli web token create|list|revoke: the web console's access tokens of this node
 * (docs/WEB.md), kept by lkd in etc/web-tokens as hashes. create prints the new token
 * once: it cannot be shown again. Admin only (lkd checks). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "client.h"
#include "lkcli.h"

static void print_time(json_int_t t)
{
    time_t when = (time_t) t;
    struct tm tm;
    char buf[32] = "?";
    if (localtime_r(&when, &tm)) {
        strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
    }
    printf("%s", buf);
}

static int token_create(const struct lk_cli *cli, int argc, char **argv)
{
    struct lk_opt opts[] = {
            {.name = "role",
             .has_value = true,
             .arg = "admin|operator|guest",
             .help = "what the token may do (the roles of the command socket)",
             .required = true},
            {.name = "name",
             .has_value = true,
             .arg = "N",
             .help = "a name to recognise it by in web token list",
             .dflt = "the role"},
    };
    if (lk_args_parse(cli->prog, argc, argv, opts, 2, NULL, 0, NULL) != 0) {
        return 2;
    }
    if (!opts[0].value) {
        return lk_fail(cli->prog, 2, "web token create: --role admin|operator|guest is required");
    }
    json_t *args = json_pack("{s:s}", "role", opts[0].value);
    if (opts[1].value) {
        json_object_set_new(args, "name", json_string(opts[1].value));
    }
    json_t *data = NULL;
    int r = lk_client_call(cli->prog, cli->root, LK_CMD_WEB_TOKEN_CREATE, args, NULL, NULL, &data);
    if (r != 0) {
        return r;
    }
    if (cli->json) {
        lk_print_json(data);
    } else {
        printf("%s\n", json_string_value(json_object_get(data, "token")));
        fprintf(stderr, "token '%s' (id %s, role %s): shown once, keep it safe\n",
                json_string_value(json_object_get(data, "name")),
                json_string_value(json_object_get(data, "id")),
                json_string_value(json_object_get(data, "role")));
    }
    json_decref(data);
    return 0;
}

static int token_list(const struct lk_cli *cli, int argc, char **argv)
{
    if (lk_args_parse(cli->prog, argc, argv, NULL, 0, NULL, 0, NULL) != 0) {
        return 2;
    }
    json_t *data = NULL;
    int r = lk_client_call(cli->prog, cli->root, LK_CMD_WEB_TOKEN_LIST, NULL, NULL, NULL, &data);
    if (r != 0) {
        return r;
    }
    json_t *tokens = json_object_get(data, "tokens");
    if (cli->json) {
        lk_print_json(tokens);
    } else {
        printf("%-16s  %-8s  %-19s  %s\n", "ID", "ROLE", "CREATED", "NAME");
        size_t i;
        json_t *t;
        json_array_foreach(tokens, i, t)
        {
            printf("%-16s  %-8s  ", json_string_value(json_object_get(t, "id")),
                   json_string_value(json_object_get(t, "role")));
            print_time(json_integer_value(json_object_get(t, "created")));
            printf("  %s\n", json_string_value(json_object_get(t, "name")));
        }
    }
    json_decref(data);
    return 0;
}

static int token_revoke(const struct lk_cli *cli, int argc, char **argv)
{
    struct lk_opt opts[] = {{.name = "id",
                             .has_value = true,
                             .arg = "ID",
                             .help = "the token's id, as web token list shows it",
                             .required = true}};
    if (lk_args_parse(cli->prog, argc, argv, opts, 1, NULL, 0, NULL) != 0) {
        return 2;
    }
    if (!opts[0].value) {
        return lk_fail(cli->prog, 2, "web token revoke: --id ID is required");
    }
    json_t *data = NULL;
    int r = lk_client_call(cli->prog, cli->root, LK_CMD_WEB_TOKEN_REVOKE,
                           json_pack("{s:s}", "id", opts[0].value), NULL, NULL, &data);
    if (r != 0) {
        return r;
    }
    if (cli->json) {
        lk_print_json(data);
    } else {
        printf("revoked token '%s' (id %s)\n", json_string_value(json_object_get(data, "name")),
               json_string_value(json_object_get(data, "id")));
    }
    json_decref(data);
    return 0;
}

int lk_cmd_web(const struct lk_cli *cli, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[0], "token") != 0) {
        return lk_fail(cli->prog, 2, "usage: lkcli web token create|list|revoke ...");
    }
    if (strcmp(argv[1], "create") == 0) {
        return token_create(cli, argc - 2, argv + 2);
    }
    if (strcmp(argv[1], "list") == 0) {
        return token_list(cli, argc - 2, argv + 2);
    }
    if (strcmp(argv[1], "revoke") == 0) {
        return token_revoke(cli, argc - 2, argv + 2);
    }
    return lk_fail(cli->prog, 2, "unknown web token command '%s': expected create, list or revoke",
                   argv[1]);
}
