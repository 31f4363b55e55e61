/* The LifeKeeper commands' shared half (lcdi.h): option parsing in LifeKeeper's style,
 * the request to lkd with -d DEST put into the envelope (lkd forwards it to DEST over the
 * comm paths), lkd's errors turned into LCDI exit statuses, and records printed with
 * their fields escaped. It only asks lkd and prints: it never reads or writes the node's
 * files, and it never decides what a command means (each command's file does). */
#include "lcdi.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "help.h"
#include "inslist.h"
#include "proto.h"

void lcdi_init(struct lcdi *l, const char *prog, const char *usage, const char *help)
{
    memset(l, 0, sizeof(*l));
    l->prog = prog;
    l->usage = usage;
    l->help = help;
    l->sep = LCDI_SEPARATOR;
}

int lcdi_fail(const struct lcdi *l, int code, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return lk_fail(l->prog, code, "%s", msg);
}

int lcdi_syntax(const struct lcdi *l, const char *what)
{
    return lk_fail(l->prog, LCDI_SYNTAX, "%s (%s)", what, l->usage);
}

int lcdi_getopt(struct lcdi *l, int argc, char **argv, const char *optstring, bool json)
{
    static const struct option with_json[] = {
            {"root", required_argument, NULL, 'R' + 256},
            {"help", no_argument, NULL, 'h' + 256},
            {"version", no_argument, NULL, 'V' + 256},
            {"json", no_argument, NULL, 'j'},
            {0},
    };
    /* Without --json the same table ends one entry earlier. */
    static const struct option without_json[] = {
            {"root", required_argument, NULL, 'R' + 256},
            {"help", no_argument, NULL, 'h' + 256},
            {"version", no_argument, NULL, 'V' + 256},
            {0},
    };
    char opts[128];
    /* '+': options end at the first word that is not one (lcdremexec's command), ':'
     * reports a missing value as ':' instead of a message of getopt's own; -h is --help
     * (no LifeKeeper command has an -h of its own). */
    snprintf(opts, sizeof(opts), "+:%sh", optstring);
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, opts, json ? with_json : without_json, NULL);
        switch (c) {
        case 'd':
            if (l->own_d) {
                return c;
            }
            l->dest = optarg;
            continue;
        case 'f':
            if (strlen(optarg) != 1) {
                l->exit = lk_fail(l->prog, LCDI_SYNTAX, "-f takes exactly one character");
                return LCDI_OPT_EXIT;
            }
            if (!lk_inslist_separator_ok(optarg[0])) {
                l->exit = lk_fail(l->prog, LCDI_SYNTAX,
                                  "-f '%s' cannot separate fields: a newline, a backslash and "
                                  "the digits 0-7 occur in escaped fields",
                                  optarg);
                return LCDI_OPT_EXIT;
            }
            l->sep = optarg[0];
            continue;
        case 'R' + 256:
            l->root = optarg;
            continue;
        case 'h':
        case 'h' + 256:
            printf("%s\n%s", l->usage, l->help);
            l->exit = 0;
            return LCDI_OPT_EXIT;
        case 'V' + 256:
            lk_print_version(l->prog);
            l->exit = 0;
            return LCDI_OPT_EXIT;
        case ':':
        case '?':
            l->exit = lk_fail_getopt(l->prog, c, argv);
            return LCDI_OPT_EXIT;
        default:
            return c;
        }
    }
}

/* The node names lkd reported, once per process. */
static json_t *node_list;

static int get_node_list(struct lcdi *l, json_t **ret)
{
    if (!node_list) {
        json_t *data = NULL;
        int r = lk_client_call(l->prog, lk_client_root(l->root), LK_CMD_NODE_LIST, NULL, NULL, NULL,
                               &data);
        if (r != 0) {
            return l->spec_statuses ? r : LCDI_SYSCALL;
        }
        node_list = data;
    }
    *ret = node_list;
    return LCDI_OK;
}

/* Whether dest names this node ("" and NULL do); else checks that it is a member that is
 * alive: an unknown or dead node is LCDI 9, as LifeKeeper's commands fail when the other
 * system cannot be reached. */
static int check_dest(struct lcdi *l, bool *ret_local)
{
    json_t *list = NULL;
    if (!l->dest || !l->dest[0]) {
        *ret_local = true;
        return LCDI_OK;
    }
    int r = get_node_list(l, &list);
    if (r != 0) {
        return r;
    }
    const char *self = json_string_value(json_object_get(list, "node"));
    if (self && strcmp(self, l->dest) == 0) {
        *ret_local = true;
        return LCDI_OK;
    }
    size_t i;
    json_t *n;
    json_array_foreach(json_object_get(list, "nodes"), i, n)
    {
        const char *name = json_string_value(json_object_get(n, "name"));
        if (name && strcmp(name, l->dest) == 0) {
            const char *state = json_string_value(json_object_get(n, "state"));
            if (!state || strcmp(state, "ALIVE") != 0) {
                return lcdi_fail(l, LCDI_COMM,
                                 "communication with %s failed: the node is not alive", l->dest);
            }
            *ret_local = false;
            return LCDI_OK;
        }
    }
    return lcdi_fail(l, LCDI_COMM, "no node '%s'", l->dest);
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* lkd's error reply (its SPEC §6 code and text) as an LCDI status. */
static int lcdi_status_of(const struct lcdi *l, int code, const char *text)
{
    if (starts_with(text, "communication with ") || starts_with(text, "no node ")) {
        return LCDI_COMM;
    }
    /* A forwarding lkd answers 9 when the other node cannot be reached. */
    if (code == LCDI_COMM) {
        return LCDI_COMM;
    }
    if (l->spec_statuses) {
        return code;
    }
    if (code == LK_EXIT_USAGE) {
        return l->usage_is_syntax ? LCDI_SYNTAX : LCDI_ILLEGAL;
    }
    if (starts_with(text, "no resource with tag ") || starts_with(text, "no dependency ")) {
        return LCDI_NOENT;
    }
    if (strstr(text, " exists already") || strstr(text, "already exists")) {
        return LCDI_EXISTS;
    }
    if (l->refusal_is_illegal && code == LK_EXIT_FAILED && !starts_with(text, "lkd is stopping") &&
        !starts_with(text, "out of memory")) {
        return LCDI_ILLEGAL;
    }
    return LCDI_SYSCALL;
}

int lcdi_ask(struct lcdi *l, const char *cmd, json_t *args, json_t **ret_data)
{
    bool local = true;
    int r = check_dest(l, &local);
    if (r != 0) {
        json_decref(args);
        return r;
    }
    lk_client_quiet = true;
    r = lk_client_call_on(l->prog, lk_client_root(l->root), local ? NULL : l->dest, cmd, args, NULL,
                          NULL, ret_data);
    lk_client_quiet = false;
    if (r == 0) {
        return LCDI_OK;
    }
    const char *text = lk_client_error();
    if (r == LCDI_COMM) {
        /* The client printed it (an lkd reply kept as 9 by the client itself). */
        return text[0] ? lcdi_fail(l, LCDI_COMM, "%s", text) : LCDI_COMM;
    }
    if (!text[0]) {
        /* Not a reply: the connection failed (printed by the client). */
        return l->spec_statuses ? r : LCDI_SYSCALL;
    }
    return lcdi_fail(l, lcdi_status_of(l, r, text), "%s", text);
}

int lcdi_call(const char *prog, const char *node, const char *cmd, json_t *args, json_t **ret_data)
{
    struct lcdi l;
    lcdi_init(&l, prog, "", "");
    l.dest = node;
    l.usage_is_syntax = true;
    return lcdi_ask(&l, cmd, args, ret_data);
}

int lcdi_resources(struct lcdi *l, json_t **ret_data)
{
    json_t *data = NULL;
    int r = lcdi_ask(l, LK_CMD_RES_LIST, NULL, &data);
    if (r != 0) {
        return r;
    }
    if (!json_is_array(json_object_get(data, "resources"))) {
        json_decref(data);
        return lcdi_fail(l, LCDI_INTERNAL, "malformed resource list from lkd");
    }
    *ret_data = data;
    return LCDI_OK;
}

json_t *lcdi_find(const json_t *data, const char *key, const char *value)
{
    size_t i;
    json_t *res;
    json_array_foreach(json_object_get(data, "resources"), i, res)
    {
        const char *v = json_string_value(json_object_get(res, key));
        if (v && value && strcmp(v, value) == 0) {
            return res;
        }
    }
    return NULL;
}

int lcdi_node_name(struct lcdi *l, const char **ret_name)
{
    bool local = true;
    int r = check_dest(l, &local);
    if (r != 0) {
        return r;
    }
    if (!local) {
        *ret_name = l->dest;
        return LCDI_OK;
    }
    json_t *list = NULL;
    r = get_node_list(l, &list);
    if (r != 0) {
        return r;
    }
    const char *self = json_string_value(json_object_get(list, "node"));
    if (!self) {
        return lcdi_fail(l, LCDI_INTERNAL, "lkd's node list has no node name");
    }
    *ret_name = self;
    return LCDI_OK;
}

void lcdi_put_field(const struct lcdi *l, FILE *out, const char *text)
{
    char small[1024];
    size_t need = lk_inslist_escape(text, l->sep, small, sizeof(small));
    if (need < sizeof(small)) {
        fwrite(small, 1, need, out);
        return;
    }
    char *big = malloc(need + 1);
    if (!big) {
        /* Out of memory for one field: the cut text would be a silent lie. */
        fputs("?", out);
        return;
    }
    lk_inslist_escape(text, l->sep, big, need + 1);
    fwrite(big, 1, need, out);
    free(big);
}

void lcdi_put_record(const struct lcdi *l, FILE *out, const char *const *fields, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            fputc(l->sep, out);
        }
        lcdi_put_field(l, out, fields[i] ? fields[i] : "");
    }
    fputc('\n', out);
}
