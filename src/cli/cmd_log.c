/* lkcli log: the last events of this node, and with --follow every new one as it
 * happens (until interrupted); with --cluster, the last events of every live node merged
 * by time (the daemon asks its peers), the nodes that did not answer named. --severity and
 * --number are filters lkd applies (and checks) before counting the last N. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "client.h"
#include "lkcli.h"
#include "output.h"
#include "validate.h"

#define LOG_LINES_DEFAULT 20
#define LOG_LINES_MAX     10000
#define STR_(x)           #x
#define STR(x)            STR_(x)

struct follow {
    bool json;
};

static void on_progress(const char *text, const json_t *msg, void *userdata)
{
    (void) text;
    struct follow *f = userdata;
    const json_t *e = json_object_get(msg, "event");
    if (!e) {
        return;
    }
    if (f->json) {
        char *s = json_dumps(e, JSON_COMPACT);
        if (s) {
            puts(s);
            free(s);
            fflush(stdout);
        }
    } else {
        lk_print_event(e, "", LK_EVENT_NODE | LK_EVENT_DETAIL);
    }
}

int lk_cmd_log(const struct lk_cli *cli, int argc, char **argv)
{
    /* -n N is accepted as well as --n N, as tail and the spec spell it. */
    static char lines_opt[] = "--lines";
    char *args[64];
    int n = 0;
    if (argc > 64) {
        return lk_fail(cli->prog, 2, "log: too many arguments");
    }
    for (int i = 0; i < argc; i++) {
        args[n++] = strcmp(argv[i], "-n") == 0 ? lines_opt : argv[i];
    }
    struct lk_opt opts[] = {
            {.name = "lines",
             .has_value = true,
             .arg = "N",
             .help = "the last N events (also -n N), 0 to " STR(LOG_LINES_MAX),
             .unit = "events",
             .dflt = STR(LOG_LINES_DEFAULT)},
            {.name = "follow", .help = "then every new event as it happens, until interrupted"},
            {.name = "tag",
             .has_value = true,
             .arg = "T",
             .help = "only this resource's events",
             .dflt = "every event"},
            {.name = "cluster", .help = "the events of every live node, merged by time"},
            {.name = "severity",
             .has_value = true,
             .arg = "S",
             .help = "only the events of this severity: ERROR, WARNING or INFO",
             .dflt = "every severity"},
            {.name = "number",
             .has_value = true,
             .arg = "N",
             .help = "only the events with this message number, 0 to 999999999",
             .dflt = "every number"},
    };
    if (lk_args_parse(cli->prog, n, args, opts, 6, NULL, 0, NULL) != 0) {
        return 2;
    }
    uint64_t lines = LOG_LINES_DEFAULT;
    if (opts[0].value && lk_parse_uint(opts[0].value, 0, LOG_LINES_MAX, &lines) < 0) {
        return lk_fail(cli->prog, 2, "invalid -n '%s': expected 0 to %d", opts[0].value,
                       LOG_LINES_MAX);
    }
    json_t *req = json_pack("{s:I, s:b}", "n", (json_int_t) lines, "follow", opts[1].seen);
    if (opts[2].value) {
        json_object_set_new(req, "tag", json_string(opts[2].value));
    }
    if (opts[4].value) {
        json_object_set_new(req, "severity", json_string(opts[4].value));
    }
    uint64_t number = 0;
    if (opts[5].value) {
        if (lk_parse_uint(opts[5].value, 0, 999999999, &number) < 0) {
            json_decref(req);
            return lk_fail(cli->prog, 2, "invalid --number '%s': expected 0 to 999999999",
                           opts[5].value);
        }
        json_object_set_new(req, "number", json_integer((json_int_t) number));
    }
    if (opts[3].seen) {
        if (opts[1].seen) {
            json_decref(req);
            return lk_fail(cli->prog, 2, "log: --cluster cannot be combined with --follow");
        }
        json_object_set_new(req, "cluster", json_true());
    }
    struct follow f = {.json = cli->json};
    json_t *data = NULL;
    int r = lk_client_call(cli->prog, cli->root, LK_CMD_LOG, req, on_progress, &f, &data);
    if (r != 0) {
        return r;
    }
    json_t *events = json_object_get(data, "events");
    size_t i;
    json_t *e;
    /* The nodes whose events are missing: on stderr with --json, whose output stays the
     * list of events. */
    json_array_foreach(json_object_get(data, "missing"), i, e)
    {
        fprintf(cli->json ? stderr : stdout, "%s: %s\n",
                json_string_value(json_object_get(e, "node")),
                json_string_value(json_object_get(e, "why")));
    }
    if (cli->json) {
        lk_print_json(events ? events : data);
    } else {
        json_array_foreach(events, i, e)
        {
            lk_print_event(e, "", LK_EVENT_NODE | LK_EVENT_DETAIL);
        }
    }
    json_decref(data);
    return 0;
}
