/* lkcli metrics: this node's figures in the Prometheus text exposition format, printed as
 * lkd builds them (docs/METRICS.md), for an administrator or node_exporter's textfile
 * collector (`lkcli metrics > dir/openkeeper.prom.$$ && mv ... dir/openkeeper.prom`).
 * With --json: the reply's data, {"text": ...}. It takes no argument and changes nothing. */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "client.h"
#include "lkcli.h"
#include "proto.h"

int lk_cmd_metrics(const struct lk_cli *cli, int argc, char **argv)
{
    if (lk_args_none(cli->prog, "metrics", argc, argv) != 0) {
        return LK_EXIT_USAGE;
    }
    json_t *data = NULL;
    int r = lk_client_call(cli->prog, cli->root, LK_CMD_METRICS, NULL, NULL, NULL, &data);
    if (r != 0) {
        return r;
    }
    const char *text = json_string_value(json_object_get(data, "text"));
    if (!text) {
        json_decref(data);
        return lk_fail(cli->prog, LK_EXIT_FAILED, "metrics: lkd's reply has no text");
    }
    if (cli->json) {
        lk_print_json(data);
    } else {
        fputs(text, stdout);
    }
    json_decref(data);
    return fflush(stdout) == 0 ? 0 : lk_fail(cli->prog, LK_EXIT_FAILED, "cannot write the output");
}
