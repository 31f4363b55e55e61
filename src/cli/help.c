/* The commands' help: `lkcli --help` (every command), `lkcli <command> --help` (one
 * command with every option, its unit and its default), the settings' descriptions and
 * `--version`. Entered from lkcli.c (which command was named) and args.c (--help among a
 * command's options). Never prints a default it does not read from the code that applies
 * it: resource settings from lk_settings_init, cluster settings from
 * lk_cluster_settings_init, a command's other defaults from its own lk_opt table.
 *
 * How a command plugs in (cmd_web.c, `metrics`, `cluster alert`, ...):
 *  1. parse its options with lk_args_parse and give each struct lk_opt its .arg (the
 *     value's placeholder), .help (one line), .unit and .dflt (or .required): `--help`
 *     then prints them, with nothing else to do; a command without options calls
 *     lk_args_none instead;
 *  2. add one row {path, synopsis, summary} to lk_help_commands below, so that
 *     `lkcli --help` lists it and its help has a synopsis and a summary (without a row
 *     its help still lists its options under "usage: lkcli <words> [OPTIONS]").
 * tests/scenario/test_cli_help.py checks every row's help against its options. */
#include "help.h"

#include <string.h>

#include "client.h"
#include "resource.h"
#include "settings.h"

#ifndef LK_SOFTWARE_VERSION
#define LK_SOFTWARE_VERSION "unknown"
#endif

const struct lk_help_cmd lk_help_commands[] = {
        {"status", "", "this node, the cluster's nodes and comm paths, resources, recent events"},
        {"resource create",
         "gen --tag T --restore FILE --remove FILE [OPTIONS] | ocf --tag T --agent P:A "
         "[--param K=V]... | systemd --tag T --unit U",
         "define a resource (its scripts, an OCF agent or a systemd unit) and (unless "
         "--no-in-service) bring it in service"},
        {"resource restore", "--tag T [--node N]",
         "bring a hierarchy in service (on node N: a switchover)"},
        {"resource remove", "--tag T [--hierarchy]", "take a resource out of service"},
        {"resource delete", "--tag T [--hierarchy]", "delete a definition (or a whole tree)"},
        {"resource extend", "--tag T --node N [--priority P]", "define its hierarchy on node N"},
        {"resource unextend", "--tag T --node N", "drop its hierarchy's definition on node N"},
        {"resource update-script", "--tag T [--action A --file FILE] [--helper FILE]...",
         "replace one script, or add or replace helper files, on every node"},
        {"resource config", "--tag T [OPTIONS]",
         "show a resource's settings, or change them on every node"},
        {"resource test", "--tag T --action A",
         "run one script once as lkd would, show its output and verdict, change nothing"},
        {"resource why", "--tag T", "the last incident on every node, root cause first"},
        {"resource reset", "--tag T", "clear the check-failure and local-recovery counters"},
        {"resource list", "[--tag T]", "the definitions, their states and settings"},
        {"resource describe-agent", "PROVIDER:AGENT",
         "an OCF agent's parameters and advised timeouts (docs/OCF.md)"},
        {"dependency create", "--parent P --child C", "P depends on C (C starts first)"},
        {"dependency delete", "--parent P --child C", "drop that dependency"},
        {"dependency list", "", "every dependency"},
        {"log", "[-n N] [--follow] [--tag T] [--cluster] [--severity S] [--number N]",
         "the event log (of every node)"},
        {"node list", "", "the cluster's members, their state, quorum"},
        {"commpath list", "", "comm paths with their state and counters"},
        {"commpath create", "--node N --address ADDR:PORT", "add a comm path to a peer, live"},
        {"commpath delete", "--node N --address ADDR:PORT", "drop a comm path, live"},
        {"cluster config", "[OPTIONS]", "show the cluster settings, or change them on every node"},
        {"cluster rotate-key", "[--key-file FILE]",
         "a new cluster key on every node, without downtime"},
        {"cluster alert add",
         "--name N (--exec FILE | --webhook URL --secret-file F) [--events LIST] [OPTIONS]",
         "an alert hook on every node: a program or a webhook run for chosen events"},
        {"cluster alert delete", "--name N", "delete an alert hook on every node"},
        {"cluster alert list", "", "the alert hooks with their deliveries and failures"},
        {"cluster tunables", "[--set KEY=VALUE]... [--unset KEY]... [--file FILE]",
         "the tunables scripts get (/etc/default/LifeKeeper), or change them on every node"},
        {"web token create", "--role admin|operator|guest [--name N]",
         "a token for the web console and its API, shown once"},
        {"web token list", "", "the web console's tokens (never the tokens themselves)"},
        {"web token revoke", "--id ID", "revoke a token; its sessions end"},
        {"metrics", "", "this node's figures in the Prometheus text format"},
        {"import lifekeeper",
         "FILE [--scripts DIR] [--tunables FILE] [--map LKNODE=NODE]... "
         "[--intervals seconds|minutes] [--restore] [--dry-run]",
         "recreate a LifeKeeper configuration (ins_list, dep_list, eqv_list output) here"},
        {"lifekeeper-setup", "[--dry-run] [--prefix DIR]",
         "link LifeKeeper's paths (/opt/LifeKeeper, /etc/default) to this node's root"},
        {NULL, NULL, NULL},
};

/* ---------------------------------------------------------------- settings */

struct setting_help {
    const char *key;
    const char *arg;
    const char *unit;
    const char *help;
};

static const struct setting_help resource_settings[] = {
        {"quickchk-interval", "S", "seconds",
         "how often the quick check runs while in service; 0: no quick check"},
        {"deepchk-interval", "S", "seconds",
         "how often the deep check runs while in service; 0: no deep check"},
        {"quickchk-timeout", "S", "seconds",
         "a quick check running longer has timed out (see --monitor-timeout-action)"},
        {"deepchk-timeout", "S", "seconds",
         "a deep check running longer has timed out (see --monitor-timeout-action)"},
        {"check-failures", "N", "failed checks in a row",
         "failed checks in a row before the resource has failed"},
        {"local-recovery", "on|off", NULL,
         "on a failure, recover (or restore) on this node before failing over"},
        {"max-recoveries", "N", "local recoveries",
         "local recoveries within --recovery-window; one more fails over"},
        {"recovery-window", "S", "seconds", "the window --max-recoveries counts in"},
        {"switchback", "intelligent|automatic", NULL,
         "automatic: move back to the highest-priority node when it returns"},
        {"monitor-timeout-action", "ignore|fail", NULL,
         "a check that timed out: warn only (ignore) or count it as failed"},
        {"action-timeout", "S", "seconds",
         "restore, remove and recover are stopped after this long; 0: no limit"},
        {"start-grace", "S", "seconds",
         "no check before this long after it came in service; 0: one interval"},
        {"pidfile", "PATH", "an absolute path",
         "the application's pidfile, watched between checks; empty: none"},
        {"monitor", "on|off", NULL, "checks on (ISP), or suspended (ISU)"},
        {"init", "AUTORES_ISP|INIT_ISP|INIT_OSU", NULL,
         "when lkd starts: restore if it was in service, always, or never"},
        {"watch", "cgroup|pidfile|none", NULL,
         "how the death of its application is noticed between checks"},
        {"kill-mode", "control-group|process|none", NULL,
         "what is killed when a remove has run (systemd's KillMode)"},
        {"quickchk-check", "SPEC", NULL,
         "a quick check lkd runs itself instead of the script: tcp:HOST:PORT, "
         "http://HOST:PORT/PATH[=STATUS][~BODY] or process; empty: none"},
        {"deepchk-check", "SPEC", NULL,
         "a deep check lkd runs itself instead of the script (as --quickchk-check)"},
        {"script-args", "none|lifekeeper", NULL,
         "lifekeeper: every script is called with LifeKeeper's -t TAG -i ID (gen only)"},
};

static const struct setting_help cluster_settings[] = {
        {"heartbeat-interval-ms", "N", "milliseconds", "time between two heartbeats to a peer"},
        {"heartbeat-misses", "N", "heartbeats", "missed heartbeats in a row before a peer is DEAD"},
        {"quorum", "majority|none", NULL,
         "majority: act only with more than half of the votes; none: always"},
        {"quorum-loss-action", "osu|none", NULL,
         "without quorum: take this node's hierarchies out of service, or nothing"},
        {"witness", "ADDR:PORT", NULL, "the witness node's address (a vote, runs nothing)"},
        {"fence-script", "FILE", "an absolute path", "run to fence a node before failover"},
        {"max-failovers", "N", "failovers",
         "failovers of a hierarchy within --failover-window; then it stays down"},
        {"failover-window", "S", "seconds", "the window --max-failovers counts in"},
        {"min-protocol", "1|2", NULL,
         "the oldest comm-path protocol a peer may speak (2: encrypted only)"},
        {"remote-exec", "on|off", NULL,
         "on: lcdremexec and lcdrcp may run commands and write files as root on any node "
         "(an admin of any node asks); off by default"},
};

#define N_RESOURCE_SETTINGS (sizeof(resource_settings) / sizeof(resource_settings[0]))
#define N_CLUSTER_SETTINGS  (sizeof(cluster_settings) / sizeof(cluster_settings[0]))

const char *lk_help_value_note(const char *key, const char *value)
{
    bool zero = value && strcmp(value, "0") == 0;
    bool empty = !value || !value[0];
    if (zero && strcmp(key, "quickchk-timeout") == 0) {
        return " (the quickchk-interval)";
    }
    if (zero && strcmp(key, "deepchk-timeout") == 0) {
        return " (twice the deepchk-interval)";
    }
    if (zero && (strcmp(key, "quickchk-interval") == 0 || strcmp(key, "deepchk-interval") == 0)) {
        return " (no check)";
    }
    if (zero && strcmp(key, "action-timeout") == 0) {
        return " (no limit)";
    }
    if (zero && strcmp(key, "start-grace") == 0) {
        return " (one check interval)";
    }
    if (empty && strcmp(key, "quorum") == 0) {
        return "auto (majority with three or more voters, else none)";
    }
    if (empty && strcmp(key, "max-failovers") == 0) {
        return "auto (the number of nodes - 1, at least 1)";
    }
    if (empty && (strcmp(key, "pidfile") == 0 || strcmp(key, "witness") == 0 ||
                  strcmp(key, "quickchk-check") == 0 || strcmp(key, "deepchk-check") == 0 ||
                  strcmp(key, "fence-script") == 0)) {
        return "none";
    }
    return "";
}

/* A default as help prints it: the value, and what it means when that is not obvious. */
static const char *default_text(const char *key, const char *value, char *buf, size_t size)
{
    const char *note = lk_help_value_note(key, value);
    if (!value[0] && note[0]) {
        snprintf(buf, size, "%s", note);
    } else {
        snprintf(buf, size, "%s%s", value, note);
    }
    return buf;
}

static struct lk_opt setting_opt(const struct setting_help *table, size_t n, const char *key,
                                 const char *value)
{
    struct lk_opt o = {.name = key, .has_value = true, .arg = "VALUE", .dflt = value};
    for (size_t i = 0; i < n; i++) {
        if (strcmp(table[i].key, key) == 0) {
            o.arg = table[i].arg;
            o.unit = table[i].unit;
            o.help = table[i].help;
        }
    }
    return o;
}

/* The index of key in keys (a NULL-terminated table), or -1. */
static int key_index(const char *const *keys, const char *key)
{
    for (int i = 0; keys[i]; i++) {
        if (strcmp(keys[i], key) == 0) {
            return i;
        }
    }
    return -1;
}

#define MAX_KEYS 64

struct lk_opt lk_help_setting_opt(const char *key)
{
    /* One slot per setting: the option's default text lives as long as the command. */
    static char defaults[MAX_KEYS][LK_PIDFILE_MAX + 64];
    struct lk_settings s;
    lk_settings_init(&s);
    char value[LK_PIDFILE_MAX];
    int slot = key_index(lk_settings_keys, key);
    const char *v = lk_settings_get(&s, key, value, sizeof(value));
    const char *text = NULL;
    if (v && slot >= 0 && slot < MAX_KEYS) {
        text = default_text(key, v, defaults[slot], sizeof(defaults[slot]));
    }
    return setting_opt(resource_settings, N_RESOURCE_SETTINGS, key, text);
}

struct lk_opt lk_help_cluster_opt(const char *key)
{
    static char defaults[MAX_KEYS][1200];
    struct lk_cluster_settings s;
    lk_cluster_settings_init(&s);
    char value[1100];
    int slot = key_index(lk_cluster_settings_keys, key);
    const char *v = lk_cluster_settings_get(&s, key, value, sizeof(value));
    const char *text = NULL;
    if (v && slot >= 0 && slot < MAX_KEYS) {
        text = default_text(key, v, defaults[slot], sizeof(defaults[slot]));
    }
    return setting_opt(cluster_settings, N_CLUSTER_SETTINGS, key, text);
}

/* ---------------------------------------------------------------- commands */

static char current[128];
static const struct lk_help_cmd *current_cmd;

/* Whether the first words of argv (before any option) are path's words; *ret_n = their
 * number. */
static bool starts_with(const char *path, size_t argc, char **argv, size_t *ret_n)
{
    size_t n = 0;
    const char *p = path;
    while (*p) {
        size_t len = strcspn(p, " ");
        if (n >= argc || argv[n][0] == '-' || strlen(argv[n]) != len ||
            strncmp(argv[n], p, len) != 0) {
            return false;
        }
        n++;
        p += len;
        p += *p == ' ';
    }
    *ret_n = n;
    return true;
}

size_t lk_help_set_command(int argc, char **argv)
{
    size_t words = 0;
    while (words < (size_t) argc && words < 3 && argv[words][0] != '-') {
        words++;
    }
    size_t best = 0;
    current_cmd = NULL;
    for (const struct lk_help_cmd *c = lk_help_commands; c->path; c++) {
        size_t n = 0;
        if (starts_with(c->path, words, argv, &n) && n > best) {
            best = n;
            current_cmd = c;
        }
    }
    size_t used = 0;
    current[0] = '\0';
    for (size_t i = 0; i < (current_cmd ? best : words); i++) {
        int w = snprintf(current + used, sizeof(current) - used, "%s%s", i ? " " : "", argv[i]);
        used += w > 0 ? (size_t) w : 0;
        if (used >= sizeof(current)) {
            break;
        }
    }
    if (current_cmd || words == 0) {
        return 0;
    }
    /* No command is these words: a group when some command starts with them. */
    for (const struct lk_help_cmd *c = lk_help_commands; c->path; c++) {
        size_t len = strlen(current);
        if (strncmp(c->path, current, len) == 0 && c->path[len] == ' ') {
            return words;
        }
    }
    return 0;
}

static void print_opt(FILE *out, const struct lk_opt *o)
{
    fprintf(out, "  --%s%s%s\n", o->name, o->has_value ? " " : "",
            o->has_value ? (o->arg ? o->arg : "VALUE") : "");
    fprintf(out, "      %s\n", o->help ? o->help : "(not described)");
    if (o->unit) {
        fprintf(out, "      unit: %s\n", o->unit);
    }
    if (o->required) {
        fprintf(out, "      required\n");
    } else if (o->dflt) {
        fprintf(out, "      default: %s\n", o->dflt);
    } else if (!o->has_value) {
        fprintf(out, "      default: off\n");
    } else {
        fprintf(out, "      default: not given\n");
    }
}

void lk_help_print_command(FILE *out, const struct lk_opt *opts, size_t n_opts)
{
    if (current_cmd) {
        fprintf(out, "usage: lkcli %s%s%s\n\n%s\n", current_cmd->path,
                current_cmd->synopsis[0] ? " " : "", current_cmd->synopsis, current_cmd->summary);
    } else {
        fprintf(out, "usage: lkcli %s%s\n", current, n_opts ? " [OPTIONS]" : "");
    }
    if (n_opts > 0) {
        fprintf(out, "\nOptions:\n");
    }
    for (size_t i = 0; i < n_opts; i++) {
        print_opt(out, &opts[i]);
    }
    fprintf(out, "\nGlobal options:\n"
                 "  --root DIR\n"
                 "      the node's root directory\n"
                 "      default: $LKROOT, else " LK_DEFAULT_ROOT "\n"
                 "  --json\n"
                 "      machine-readable output; an error is one JSON object\n"
                 "      {\"error\": ..., \"code\": ...} on stderr\n"
                 "      default: off\n"
                 "  --help\n"
                 "      this help\n"
                 "\nExit status: 0 ok, 1 failed, 2 usage, 3 lkd not reachable, 4 permission "
                 "denied.\n");
}

void lk_help_print_group(FILE *out)
{
    fprintf(out, "usage: lkcli %s VERB ...\n\n", current);
    size_t len = strlen(current);
    for (const struct lk_help_cmd *c = lk_help_commands; c->path; c++) {
        if (strncmp(c->path, current, len) == 0 && c->path[len] == ' ') {
            fprintf(out, "  lkcli %s%s%s\n      %s\n", c->path, c->synopsis[0] ? " " : "",
                    c->synopsis, c->summary);
        }
    }
    fprintf(out, "\n'lkcli %s VERB --help' explains one of them.\n", current);
}

void lk_help_print_usage(FILE *out)
{
    fprintf(out, "usage: lkcli [--root DIR] [--json] COMMAND ...\n\n");
    for (const struct lk_help_cmd *c = lk_help_commands; c->path; c++) {
        fprintf(out, "  %s%s%s\n      %s\n", c->path, c->synopsis[0] ? " " : "", c->synopsis,
                c->summary);
    }
    fprintf(out, "\n'lkcli COMMAND --help' explains a command: every option, its unit and its\n"
                 "default. --root DIR: the node's root (default $LKROOT, else " LK_DEFAULT_ROOT
                 ");\n--json: machine-readable output, errors as {\"error\":..., \"code\":...} on "
                 "stderr;\n--version: the version.\n"
                 "\nExit status: 0 ok, 1 failed, 2 usage, 3 lkd not reachable, 4 permission "
                 "denied.\n");
}

void lk_print_version(const char *prog)
{
    printf("%s (OpenKeeper) %s\n", prog, LK_SOFTWARE_VERSION);
}
