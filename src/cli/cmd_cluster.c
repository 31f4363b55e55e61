/* lkcli node list, commpath list|create|delete, cluster config|rotate-key|alert, resource
 * extend|unextend:
 * the cluster's members, links and settings (SPEC §5, §6). Comm paths are shown like the
 * seed system's lcdstatus: machine, addresses, state, priority. lkd validates
 * everything again. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "client.h"
#include "help.h"
#include "lkcli.h"
#include "output.h"
#include "settings.h"
#include "wire.h"

#define STR_(x) #x
#define STR(x)  STR_(x)

static const char *str(const json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));
    return v ? v : "";
}

static int call(const struct lk_cli *cli, const char *cmd, json_t *args, json_t **ret_data)
{
    return lk_client_call(cli->prog, cli->root, cmd, args, cli->json ? NULL : lk_print_progress,
                          NULL, ret_data);
}

static int no_args(const struct lk_cli *cli, const char *what, int argc, char **argv)
{
    return lk_args_none(cli->prog, what, argc, argv);
}

/* ---------------------------------------------------------------- node list */

static void print_quorum(const json_t *data)
{
    json_t *q = json_object_get(data, "quorum");
    printf("quorum: %s, %lld of %lld votes, %s\n", str(q, "mode"),
           json_integer_value(json_object_get(q, "votes")),
           json_integer_value(json_object_get(q, "voters")),
           json_is_true(json_object_get(q, "quorate")) ? "quorate" : "NOT QUORATE");
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(data, "warnings"), i, w)
    {
        printf("WARNING: %s\n", json_string_value(w));
    }
}

void lk_print_nodes(const json_t *data)
{
    print_quorum(data);
    printf("%-20s %-6s %-14s %-12s %s\n", "NODE", "STATE", "PROTOCOL", "VERSION", "ROLE");
    size_t i;
    json_t *n;
    bool at_witness = json_is_true(json_object_get(data, "witness"));
    json_array_foreach(json_object_get(data, "nodes"), i, n)
    {
        bool self = json_is_true(json_object_get(n, "self"));
        const char *role = self         ? (at_witness ? "this node (witness)" : "this node")
                           : at_witness ? "member"
                           : json_is_true(json_object_get(n, "witness"))     ? "witness"
                           : json_is_false(json_object_get(n, "configured")) ? "not configured here"
                                                                             : "peer";
        bool pending = !self && !at_witness && !json_is_true(json_object_get(n, "witness")) &&
                       json_is_false(json_object_get(n, "synced")) &&
                       strcmp(str(n, "state"), "ALIVE") == 0;
        /* The protocol of its last session: 1 is a node of the previous release, in clear. */
        char proto[32] = "-";
        json_t *pv = json_object_get(n, "protocol");
        if (json_is_integer(pv)) {
            snprintf(proto, sizeof(proto), "%lld%s", json_integer_value(pv),
                     self                         ? ""
                     : json_integer_value(pv) < 2 ? " (in clear)"
                                                  : " (encrypted)");
        }
        const char *version = json_string_value(json_object_get(n, "version"));
        printf("%-20s %-6s %-14s %-12s %s%s\n", str(n, "name"), str(n, "state"), proto,
               version ? version : "-", role, pending ? " (data exchange pending)" : "");
    }
}

static int cmd_node(const struct lk_cli *cli, int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "list") != 0) {
        return lk_fail(cli->prog, 2, "node: unknown verb (list)");
    }
    int r = no_args(cli, "node list", argc - 1, argv + 1);
    json_t *data = NULL;
    if (r == 0) {
        r = call(cli, LK_CMD_NODE_LIST, NULL, &data);
    }
    if (r == 0) {
        if (cli->json) {
            lk_print_json(data);
        } else {
            lk_print_nodes(data);
        }
    }
    json_decref(data);
    return r;
}

/* ---------------------------------------------------------------- comm paths */

void lk_print_commpaths(const char *self, const json_t *peers)
{
    printf("%-16s %-22s %-6s %-4s %-5s %-7s %s\n", "MACHINE", "NETWORK ADDRESSES", "STATE", "PRIO",
           "DIR", "DROPPED", "PROTOCOL");
    size_t i, j;
    json_t *p, *path;
    json_array_foreach(peers, i, p)
    {
        json_t *d = json_object_get(p, "dropped");
        long long dropped = 0;
        const char *k;
        json_t *v;
        json_object_foreach(d, k, v)
        {
            dropped += json_integer_value(v);
        }
        const char *name = json_string_value(json_object_get(p, "name"));
        json_array_foreach(json_object_get(p, "paths"), j, path)
        {
            char prio[16] = "-";
            if (json_is_integer(json_object_get(path, "priority"))) {
                snprintf(prio, sizeof(prio), "%lld",
                         json_integer_value(json_object_get(path, "priority")));
            }
            /* The protocol of an ALIVE path: 2 encrypted, 1 in clear (a peer of the
             * previous release). */
            char proto[32] = "-";
            if (json_is_integer(json_object_get(path, "protocol"))) {
                snprintf(proto, sizeof(proto), "%lld (%s)",
                         json_integer_value(json_object_get(path, "protocol")),
                         json_is_true(json_object_get(path, "encrypted")) ? "encrypted"
                                                                          : "in clear");
            }
            printf("%-16s %-22s %-6s %-4s %-5s %-7lld %s\n", name ? name : "?",
                   str(path, "address"), str(path, "state"), prio, str(path, "direction"), dropped,
                   proto);
        }
        if (json_array_size(json_object_get(p, "paths")) == 0) {
            printf("%-16s %-22s %-6s %-4s %-5s %-7lld -\n", name ? name : "(unidentified)", "-",
                   str(p, "state"), "-", "-", dropped);
        }
    }
    (void) self;
}

static int cmd_commpath(const struct lk_cli *cli, int argc, char **argv)
{
    if (argc < 1) {
        return lk_fail(cli->prog, 2, "commpath: missing verb (list, create or delete)");
    }
    json_t *data = NULL;
    int r;
    if (strcmp(argv[0], "list") == 0) {
        r = no_args(cli, "commpath list", argc - 1, argv + 1);
        if (r == 0) {
            r = call(cli, LK_CMD_COMMPATH_LIST, NULL, &data);
        }
        if (r == 0) {
            if (cli->json) {
                lk_print_json(json_object_get(data, "peers"));
            } else {
                lk_print_commpaths(str(data, "node"), json_object_get(data, "peers"));
            }
        }
        json_decref(data);
        return r;
    }
    bool create = strcmp(argv[0], "create") == 0;
    if (!create && strcmp(argv[0], "delete") != 0) {
        return lk_fail(cli->prog, 2, "commpath: unknown verb '%s' (list, create or delete)",
                       argv[0]);
    }
    struct lk_opt opts[] = {
            {.name = "node",
             .has_value = true,
             .arg = "N",
             .help = "the peer's node name",
             .required = true},
            {.name = "address",
             .has_value = true,
             .arg = "ADDR:PORT",
             .help = "the peer's listen address (IPV4:PORT or [IPV6]:PORT)",
             .required = true},
    };
    if (lk_args_parse(cli->prog, argc - 1, argv + 1, opts, 2, NULL, 0, NULL) != 0) {
        return 2;
    }
    if (!opts[0].value || !opts[1].value) {
        return lk_fail(cli->prog, 2, "commpath %s: needs --node NAME --address ADDR:PORT", argv[0]);
    }
    r = call(cli, create ? LK_CMD_COMMPATH_CREATE : LK_CMD_COMMPATH_DELETE,
             json_pack("{s:s,s:s}", "node", opts[0].value, "address", opts[1].value), &data);
    if (r == 0) {
        if (cli->json) {
            lk_print_json(data);
        } else {
            printf("comm path to %s via %s %s\n", opts[0].value, opts[1].value,
                   create ? "created" : "deleted");
        }
    }
    json_decref(data);
    return r;
}

/* ---------------------------------------------------------------- cluster config */

/* lkcli cluster rotate-key [--key-file FILE]: the key is read here (the file may be
 * readable by this user only), checked, and sent to lkd over the local socket. */
static int cmd_rotate_key(const struct lk_cli *cli, int argc, char **argv)
{
    struct lk_opt opts[] = {{.name = "key-file",
                             .has_value = true,
                             .arg = "FILE",
                             .help = "the new key: 64 hex digits",
                             .dflt = "a new random key"}};
    if (lk_args_parse(cli->prog, argc, argv, opts, 1, NULL, 0, NULL) != 0) {
        return 2;
    }
    json_t *args = json_object();
    if (opts[0].value) {
        FILE *f = fopen(opts[0].value, "re");
        if (!f) {
            json_decref(args);
            return lk_fail(cli->prog, 1, "cannot read '%s': %s", opts[0].value, strerror(errno));
        }
        char buf[256] = "";
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        uint8_t key[LK_WIRE_KEY];
        int bad = lk_wire_key_parse(buf, key);
        sodium_memzero(key, sizeof(key));
        if (bad < 0) {
            sodium_memzero(buf, sizeof(buf));
            json_decref(args);
            return lk_fail(cli->prog, 2, "'%s' is not a cluster key (expected %d hex digits)",
                           opts[0].value, 2 * LK_WIRE_KEY);
        }
        buf[strcspn(buf, "\r\n")] = '\0';
        json_object_set_new(args, "key", json_string(buf));
        sodium_memzero(buf, sizeof(buf));
    }
    json_t *data = NULL;
    int r = call(cli, LK_CMD_ROTATE_KEY, args, &data);
    if (r == 0) {
        if (cli->json) {
            lk_print_json(data);
        } else {
            printf("%s\n", str(data, "message"));
            size_t i;
            json_t *v;
            json_array_foreach(json_object_get(data, "not_given"), i, v)
            {
                printf("WARNING: node %s is DEAD and was not given the new key: before it starts "
                       "again, copy etc/authkey from this node to it (mode 0600)\n",
                       json_string_value(v));
            }
        }
    }
    json_decref(data);
    return r;
}

/* Each setting with the value that applies ("effective", from lkd), and "(auto, from the
 * node count)" after a quorum or max-failovers that is not set. Which are at their default
 * is in --json's "defaults". */
static void print_cluster_settings(const json_t *data)
{
    const json_t *effective = json_object_get(data, "effective");
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(data, "settings"), k, v)
    {
        /* The alert hooks: a table of their own (cluster alert list). */
        if (strcmp(k, "alerts") == 0 || strcmp(k, LK_CLUSTER_KEY_TUNABLES) == 0) {
            continue; /* the tunables: cluster tunables */
        }
        const char *raw = json_string_value(v) ? json_string_value(v) : "";
        const char *shown = json_string_value(json_object_get(effective, k));
        if (!shown) {
            shown = raw[0] ? raw : lk_help_value_note(k, raw);
        }
        bool automatic = !raw[0] && (strcmp(k, "quorum") == 0 || strcmp(k, "max-failovers") == 0);
        printf("%-22s %s%s\n", k, shown, automatic ? " (auto, from the node count)" : "");
    }
}

/* ---------------------------------------------------------------- alert hooks */

/* The secret of a webhook, read here (the file may be readable by this user only) and sent
 * to lkd over the local socket: one line, its line end dropped. Returns 0 or an exit code
 * after printing the error. */
static int read_secret(const struct lk_cli *cli, const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        return lk_fail(cli->prog, 2, "cannot read secret file '%s': %s", path, strerror(errno));
    }
    size_t n = fread(buf, 1, size - 1, f);
    bool more = fgetc(f) != EOF;
    fclose(f);
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        buf[--n] = '\0';
    }
    if (more || n > LK_ALERT_SECRET_MAX) {
        sodium_memzero(buf, size);
        return lk_fail(cli->prog, 2, "secret file '%s' is too long: at most %d characters", path,
                       LK_ALERT_SECRET_MAX);
    }
    if (n == 0 || strlen(buf) != n) {
        sodium_memzero(buf, size);
        return lk_fail(cli->prog, 2, "secret file '%s' is empty or not text", path);
    }
    return 0;
}

static void print_alerts(const json_t *alerts)
{
    printf("%-16s %-7s %-40s %-22s %7s %9s %6s %6s %s\n", "NAME", "KIND", "TARGET", "EVENTS",
           "TIMEOUT", "DELIVERED", "FAILED", "QUEUED", "LAST ERROR");
    size_t i;
    json_t *a;
    json_array_foreach(alerts, i, a)
    {
        char timeout[16];
        snprintf(timeout, sizeof(timeout), "%llds",
                 (long long) json_integer_value(json_object_get(a, "timeout")));
        printf("%-16s %-7s %-40s %-22s %7s %9lld %6lld %6lld %s\n", str(a, "name"), str(a, "kind"),
               str(a, "target"), str(a, "events"), timeout,
               json_integer_value(json_object_get(a, "delivered")),
               json_integer_value(json_object_get(a, "failed")),
               json_integer_value(json_object_get(a, "queued")),
               str(a, "last_error")[0] ? str(a, "last_error") : "-");
    }
    if (json_array_size(alerts) == 0) {
        printf("(no alert hooks: lkcli cluster alert add)\n");
    }
}

static int cmd_alert(const struct lk_cli *cli, int argc, char **argv)
{
    if (argc < 1) {
        return lk_fail(cli->prog, 2, "cluster alert: missing verb (add, delete or list)");
    }
    json_t *data = NULL;
    int r;
    if (strcmp(argv[0], "list") == 0) {
        r = no_args(cli, "cluster alert list", argc - 1, argv + 1);
        if (r == 0) {
            r = call(cli, LK_CMD_ALERT_LIST, NULL, &data);
        }
        if (r == 0) {
            if (cli->json) {
                lk_print_json(json_object_get(data, "alerts"));
            } else {
                print_alerts(json_object_get(data, "alerts"));
            }
        }
        json_decref(data);
        return r;
    }
    if (strcmp(argv[0], "delete") == 0) {
        struct lk_opt opts[] = {{.name = "name",
                                 .has_value = true,
                                 .arg = "N",
                                 .help = "the hook to delete",
                                 .required = true}};
        if (lk_args_parse(cli->prog, argc - 1, argv + 1, opts, 1, NULL, 0, NULL) != 0) {
            return 2;
        }
        if (!opts[0].value) {
            return lk_fail(cli->prog, 2, "cluster alert delete: needs --name N");
        }
        r = call(cli, LK_CMD_ALERT_DELETE, json_pack("{s:s}", "name", opts[0].value), &data);
        if (r == 0) {
            if (cli->json) {
                lk_print_json(data);
            } else {
                printf("alert '%s' deleted on every reachable node\n", opts[0].value);
            }
        }
        json_decref(data);
        return r;
    }
    if (strcmp(argv[0], "add") != 0) {
        return lk_fail(cli->prog, 2, "cluster alert: unknown verb '%s' (add, delete or list)",
                       argv[0]);
    }
    struct lk_opt opts[] = {
            {.name = "name",
             .has_value = true,
             .arg = "N",
             .help = "the hook's name",
             .required = true},
            {.name = "exec",
             .has_value = true,
             .arg = "FILE",
             .help = "run this program with the event (this or --webhook)",
             .dflt = "none"},
            {.name = "webhook",
             .has_value = true,
             .arg = "URL",
             .help = "POST the event to this URL (this or --exec)",
             .dflt = "none"},
            {.name = "secret-file",
             .has_value = true,
             .arg = "F",
             .help = "the webhook's secret, read from this file (webhook only)",
             .dflt = "none"},
            {.name = "events",
             .has_value = true,
             .arg = "LIST",
             .help = "severities (info, warning, error, all) and event numbers or ranges",
             .dflt = "warning,error"},
            {.name = "timeout",
             .has_value = true,
             .arg = "S",
             .help = "the hook is stopped after this long, 1 to " STR(LK_ALERT_TIMEOUT_MAX_S),
             .unit = "seconds",
             .dflt = STR(LK_ALERT_TIMEOUT_DEFAULT_S)},
            {.name = "recipient",
             .has_value = true,
             .arg = "TEXT",
             .help = "free text given to the hook (LK_ALERT_RECIPIENT), e.g. a mail address",
             .dflt = "empty"},
    };
    if (lk_args_parse(cli->prog, argc - 1, argv + 1, opts, 7, NULL, 0, NULL) != 0) {
        return 2;
    }
    const char *name = opts[0].value, *exec = opts[1].value, *url = opts[2].value;
    if (!name || (!exec) == (!url)) {
        return lk_fail(cli->prog, 2,
                       "cluster alert add: needs --name N and either --exec FILE or --webhook URL "
                       "--secret-file F");
    }
    if (exec && opts[3].value) {
        return lk_fail(cli->prog, 2, "cluster alert add: --secret-file is for --webhook only");
    }
    if (url && !opts[3].value) {
        return lk_fail(cli->prog, 2, "cluster alert add: --webhook needs --secret-file F");
    }
    json_t *args = json_pack("{s:s,s:s,s:s}", "name", name, "kind", exec ? "exec" : "webhook",
                             "target", exec ? exec : url);
    if (opts[4].value) {
        json_object_set_new(args, "events", json_string(opts[4].value));
    }
    if (opts[6].value) {
        json_object_set_new(args, "recipient", json_string(opts[6].value));
    }
    if (opts[5].value) {
        char *end = NULL;
        long t = strtol(opts[5].value, &end, 10);
        if (!end || *end || end == opts[5].value || t < 1 || t > LK_ALERT_TIMEOUT_MAX_S) {
            json_decref(args);
            return lk_fail(cli->prog, 2, "invalid --timeout '%s': expected 1 to %d seconds",
                           opts[5].value, LK_ALERT_TIMEOUT_MAX_S);
        }
        json_object_set_new(args, "timeout", json_integer(t));
    }
    if (url) {
        char secret[LK_ALERT_SECRET_MAX + 2];
        r = read_secret(cli, opts[3].value, secret, sizeof(secret));
        if (r != 0) {
            json_decref(args);
            return r;
        }
        json_object_set_new(args, "secret", json_string(secret));
        sodium_memzero(secret, sizeof(secret));
    }
    r = call(cli, LK_CMD_ALERT_ADD, args, &data);
    if (r == 0) {
        if (cli->json) {
            lk_print_json(json_object_get(data, "alert"));
        } else {
            json_t *a = json_object_get(data, "alert");
            printf("alert '%s' added on every reachable node: %s %s, events %s, timeout %llds\n",
                   str(a, "name"), str(a, "kind"), str(a, "target"), str(a, "events"),
                   (long long) json_integer_value(json_object_get(a, "timeout")));
        }
    }
    json_decref(data);
    return r;
}

/* ---------------------------------------------------------------- tunables */

#define TUNABLES_MAX_EDITS 256

static void print_tunables(const json_t *data)
{
    printf("file: %s\n", str(data, "file"));
    const json_t *list = json_object_get(data, "tunables");
    size_t i;
    const json_t *t;
    json_array_foreach(list, i, t)
    {
        bool exported = json_is_true(json_object_get(t, "exported"));
        bool dollar = json_is_true(json_object_get(t, "literal_dollar"));
        printf("%-28s %s%s%s\n", str(t, "key"), str(t, "value"),
               exported ? "" : "   (not passed to scripts: OpenKeeper sets it)",
               dollar ? "   ('$' kept as written: not expanded)" : "");
    }
    if (json_array_size(list) == 0) {
        printf("(no tunables: lkcli cluster tunables --set KEY=VALUE, or edit the file)\n");
    }
}

/* The reply of a settings change (or listing): JSON as it came, or the keys changed and then
 * the listing by print. */
static void print_settings_reply(const struct lk_cli *cli, const json_t *data,
                                 void (*print)(const json_t *data))
{
    if (cli->json) {
        lk_print_json(data);
        return;
    }
    if (str(data, "changed")[0]) {
        printf("changed on every reachable node: %s\n", str(data, "changed"));
    }
    print(data);
}

/* Reads FILE whole for --file (LifeKeeper's own file can be given as is); lkd checks it. */
static int read_tunables_file(const struct lk_cli *cli, const char *path, char **ret_text,
                              size_t *ret_len)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        return lk_fail(cli->prog, 2, "cannot read tunables file '%s': %s", path, strerror(errno));
    }
    char *buf = malloc(LK_TUNABLES_TEXT_MAX + 2);
    if (!buf) {
        fclose(f);
        return lk_fail(cli->prog, 1, "out of memory");
    }
    size_t n = fread(buf, 1, LK_TUNABLES_TEXT_MAX + 1, f);
    bool failed = ferror(f);
    fclose(f);
    if (failed || n > LK_TUNABLES_TEXT_MAX) {
        free(buf);
        return lk_fail(cli->prog, 2, "cannot read tunables file '%s': %s", path,
                       failed ? "read error" : "too long (at most 65536 bytes)");
    }
    buf[n] = '\0';
    *ret_text = buf;
    *ret_len = n;
    return 0;
}

static int cmd_tunables(const struct lk_cli *cli, int argc, char **argv)
{
    const char *sets[TUNABLES_MAX_EDITS], *unsets[TUNABLES_MAX_EDITS];
    struct lk_opt opts[] = {
            {.name = "set",
             .has_value = true,
             .arg = "KEY=VALUE",
             .help = "set a tunable on every node (repeatable)",
             .values = sets,
             .max_values = TUNABLES_MAX_EDITS},
            {.name = "unset",
             .has_value = true,
             .arg = "KEY",
             .help = "remove a tunable on every node (repeatable)",
             .values = unsets,
             .max_values = TUNABLES_MAX_EDITS},
            {.name = "file",
             .has_value = true,
             .arg = "FILE",
             .help = "replace the whole text with FILE's (/etc/default/LifeKeeper as is)"},
    };
    if (lk_args_parse(cli->prog, argc, argv, opts, 3, NULL, 0, NULL) != 0) {
        return 2;
    }
    json_t *args = json_object();
    if (opts[2].value) {
        char *text = NULL;
        size_t len = 0;
        int r = read_tunables_file(cli, opts[2].value, &text, &len);
        if (r != 0) {
            json_decref(args);
            return r;
        }
        json_t *t = json_stringn(text, len);
        free(text);
        if (!t) {
            json_decref(args);
            return lk_fail(cli->prog, 2, "invalid tunables file '%s': not UTF-8 text",
                           opts[2].value);
        }
        json_object_set_new(args, "text", t);
    }
    for (int k = 0; k < 2; k++) {
        if (opts[k].count) {
            json_t *list = json_array();
            for (size_t i = 0; i < opts[k].count; i++) {
                json_array_append_new(list, json_string(opts[k].values[i]));
            }
            json_object_set_new(args, k == 0 ? "set" : "unset", list);
        }
    }
    json_t *data = NULL;
    int r = call(cli, LK_CMD_CLUSTER_TUNABLES, args, &data);
    if (r == 0) {
        print_settings_reply(cli, data, print_tunables);
    }
    json_decref(data);
    return r;
}

static int cmd_cluster(const struct lk_cli *cli, int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "tunables") == 0) {
        return cmd_tunables(cli, argc - 1, argv + 1);
    }
    if (argc >= 1 && strcmp(argv[0], "alert") == 0) {
        return cmd_alert(cli, argc - 1, argv + 1);
    }
    if (argc >= 1 && strcmp(argv[0], "rotate-key") == 0) {
        return cmd_rotate_key(cli, argc - 1, argv + 1);
    }
    if (argc < 1 || strcmp(argv[0], "config") != 0) {
        return lk_fail(cli->prog, 2,
                       "cluster: unknown verb (config, rotate-key, alert or tunables)");
    }
    struct lk_opt opts[16];
    size_t n = 0;
    for (size_t i = 0; lk_cluster_settings_keys[i] && n < 16; i++) {
        /* The alert hooks: `cluster alert add|delete` (the files are checked, the secret
         * read from a file). */
        if (strcmp(lk_cluster_settings_keys[i], "alerts") != 0 &&
            strcmp(lk_cluster_settings_keys[i], LK_CLUSTER_KEY_TUNABLES) != 0) {
            opts[n++] = lk_help_cluster_opt(lk_cluster_settings_keys[i]);
        }
    }
    if (lk_args_parse(cli->prog, argc - 1, argv + 1, opts, n, NULL, 0, NULL) != 0) {
        return 2;
    }
    json_t *settings = json_object();
    for (size_t i = 0; i < n; i++) {
        if (opts[i].value) {
            json_object_set_new(settings, opts[i].name, json_string(opts[i].value));
        }
    }
    json_t *data = NULL;
    int r = call(cli, LK_CMD_CLUSTER_CONFIG, json_pack("{s:o}", "settings", settings), &data);
    if (r == 0) {
        print_settings_reply(cli, data, print_cluster_settings);
    }
    json_decref(data);
    return r;
}

/* ---------------------------------------------------------------- extend, unextend */

int lk_cmd_extend(const struct lk_cli *cli, bool extend, int argc, char **argv)
{
    const char *verb = extend ? "extend" : "unextend";
    struct lk_opt opts[] = {
            {.name = "tag",
             .has_value = true,
             .arg = "T",
             .help = "a resource of the hierarchy",
             .required = true},
            {.name = "node", .has_value = true, .arg = "N", .help = "the node", .required = true},
            {.name = "priority",
             .has_value = true,
             .arg = "P",
             .help = "its priority there, 1 (first choice) to 1024",
             .dflt = "the next number after the priorities it has"},
    };
    if (lk_args_parse(cli->prog, argc, argv, opts, extend ? 3 : 2, NULL, 0, NULL) != 0) {
        return 2;
    }
    if (!opts[0].value || !opts[1].value) {
        return lk_fail(cli->prog, 2, "resource %s: needs --tag T --node N", verb);
    }
    json_t *args = json_pack("{s:s,s:s}", "tag", opts[0].value, "node", opts[1].value);
    if (opts[2].value) {
        char *end = NULL;
        long p = strtol(opts[2].value, &end, 10);
        if (!end || *end || end == opts[2].value || p < 1 || p > 1024) {
            json_decref(args);
            return lk_fail(cli->prog, 2, "invalid --priority '%s': expected 1 to 1024",
                           opts[2].value);
        }
        json_object_set_new(args, "priority", json_integer(p));
    }
    json_t *data = NULL;
    int r = call(cli, extend ? LK_CMD_RES_EXTEND : LK_CMD_RES_UNEXTEND, args, &data);
    if (r == 0) {
        if (cli->json) {
            lk_print_json(data);
        } else {
            printf("resource '%s' (its hierarchy) %s %s node %s\n", opts[0].value,
                   extend ? "extended" : "unextended", extend ? "to" : "from", opts[1].value);
        }
    }
    json_decref(data);
    return r;
}

int lk_cmd_cluster(const struct lk_cli *cli, const char *noun, int argc, char **argv)
{
    if (strcmp(noun, "node") == 0) {
        return cmd_node(cli, argc, argv);
    }
    if (strcmp(noun, "commpath") == 0) {
        return cmd_commpath(cli, argc, argv);
    }
    return cmd_cluster(cli, argc, argv);
}
