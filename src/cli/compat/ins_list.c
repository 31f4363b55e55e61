/* ins_list [-d DEST] [-f C] [-R TOP] [-a APP] [-r TYP] [-t TAG] [-i ID] [--json]: one line
 * per resource, seventeen fields in LifeKeeper's order (SPEC §7), for administrators'
 * and LifeKeeper scripts. Fields are separated by ^A (LifeKeeper's default) or C; a field
 * holding the separator, a backslash or a control character has it escaped as a backslash
 * and three octal digits (lk_inslist_escape), so every line has seventeen fields. lkd
 * formats the lines (resource.inslist with "escape": one string, fast with a thousand
 * resources); the filters and -R's order are applied here on the escaped fields. An lkd
 * that does not escape (a node of an older release asked with -d) gets the slower way:
 * the records built here from its resource list. With --json: an array of objects with
 * the seventeen fields named. It only asks and prints. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "client.h"
#include "help.h"
#include "inslist.h"
#include "lcdi.h"
#include "proto.h"
#include "validate.h"

#define PROG "ins_list"

#define USAGE                                                                                      \
    "usage: ins_list [-d DEST] [-f C] [-R TOP] [-a APP] [-r TYP] [-t TAG] [-i ID] [--json] "       \
    "[--root DIR]"

static const char HELP[] =
        "\n"
        "One line per resource, seventeen fields separated by C: node, app, type, tag, id,\n"
        "info, state, reason, init, (reserved), check failures in a row, local recoveries,\n"
        "(reserved), quickchk interval (seconds), deepchk interval (seconds), local\n"
        "recovery (1/0), switchback. A field holding C, a backslash or a control character\n"
        "has it written as a backslash and its three octal digits (\\054 for ',').\n"
        "\n"
        "  -d DEST       the node to ask (its name); default: this node\n"
        "  -f C          the field separator, one character; default: Ctrl-A (\\001), as\n"
        "                LifeKeeper's; not a backslash, newline or digit 0-7\n"
        "  -R TOP        only the hierarchies under TOP: TOP first, then the resources it\n"
        "                depends on, depth first; several roots separated by Ctrl-A\n"
        "  -a APP        only resources of this application (gen, ocf, systemd)\n"
        "  -r TYP        only resources of this type (app, ...)\n"
        "  -t TAG        only this resource\n"
        "  -i ID         only resources with this id\n"
        "  --json        a JSON array of objects with the fields named (-f is ignored); an\n"
        "                error is {\"error\": ..., \"code\": ...} on stderr; default: off\n"
        "  --root DIR    the node's root directory\n"
        "                default: $LKROOT, else " LK_DEFAULT_ROOT "\n"
        "  --version     the version\n"
        "  --help        this help\n"
        "\n"
        "Exit status: 0 ok, 1 failed (also: an unknown tag or root), 2 usage, 3 lkd not\n"
        "reachable, 4 permission denied, 9 communication with DEST failed.\n";

struct filter {
    const char *app, *type, *tag, *id;
};

static bool wanted(const json_t *res, const struct filter *f)
{
    static const char *const keys[] = {"app", "type", "tag", "id"};
    const char *values[] = {f->app, f->type, f->tag, f->id};
    for (size_t i = 0; i < 4; i++) {
        const char *v = json_string_value(json_object_get(res, keys[i]));
        if (values[i] && (!v || strcmp(v, values[i]) != 0)) {
            return false;
        }
    }
    return true;
}

/* Appends res to order unless it is there already (a resource two roots share, or one
 * reached twice in a diamond, is listed once); false when it was. */
static bool add_once(json_t *order, json_t *res)
{
    size_t i;
    json_t *r;
    json_array_foreach(order, i, r)
    {
        if (r == res) {
            return false;
        }
    }
    json_array_append(order, res);
    return true;
}

/* Top first, then each child's hierarchy, depth first (the order of dependency.list). A
 * resource listed already is not walked again: its hierarchy is listed too, and walking
 * it once per path would take time exponential in the diamonds of a hierarchy. */
static void walk(const json_t *data, const json_t *deps, json_t *res, json_t *order, int depth)
{
    if (!add_once(order, res) || depth > 1000) {
        return; /* lkd refuses cycles; a bound all the same */
    }
    const char *tag = json_string_value(json_object_get(res, "tag"));
    size_t i;
    json_t *d;
    json_array_foreach(deps, i, d)
    {
        const char *parent = json_string_value(json_object_get(d, "parent"));
        const char *child = json_string_value(json_object_get(d, "child"));
        json_t *c = child ? lcdi_find(data, "tag", child) : NULL;
        if (parent && tag && strcmp(parent, tag) == 0 && c) {
            walk(data, deps, c, order, depth + 1);
        }
    }
}

/* The resources to print, in order: every resource, or the hierarchies under the roots. */
static int select_order(struct lcdi *l, const json_t *data, const char *roots, json_t **ret)
{
    json_t *order = json_array();
    if (!roots) {
        size_t i;
        json_t *res;
        json_array_foreach(json_object_get(data, "resources"), i, res)
        {
            json_array_append(order, res);
        }
        *ret = order;
        return 0;
    }
    json_t *deps = NULL;
    int r = lcdi_ask(l, LK_CMD_DEP_LIST, NULL, &deps);
    if (r != 0) {
        json_decref(order);
        return r;
    }
    char buf[4096];
    snprintf(buf, sizeof(buf), "%s", roots);
    char *save = NULL;
    for (char *top = strtok_r(buf, "\001", &save); top; top = strtok_r(NULL, "\001", &save)) {
        json_t *res = lcdi_find(data, "tag", top);
        if (!res) {
            json_decref(deps);
            json_decref(order);
            return lcdi_fail(l, LK_EXIT_FAILED, "no resource with tag '%s'", top);
        }
        walk(data, json_object_get(deps, "dependencies"), res, order, 0);
    }
    json_decref(deps);
    *ret = order;
    return 0;
}

/* One line of resource.inslist's reply: the text and its fields split (escaped). */
struct line {
    const char *text;
    size_t len;
    char *fields[LK_INSLIST_FIELDS];
};

static char *escaped(const struct lcdi *l, const char *text)
{
    size_t need = lk_inslist_escape(text, l->sep, NULL, 0);
    char *out = malloc(need + 1);
    if (out) {
        lk_inslist_escape(text, l->sep, out, need + 1);
    }
    return out;
}

static bool field_is(const struct lcdi *l, const char *field, const char *value)
{
    if (!value) {
        return true;
    }
    char *e = escaped(l, value);
    bool same = e && strcmp(field, e) == 0;
    free(e);
    return same;
}

static ssize_t find_line(const struct lcdi *l, struct line *lines, size_t n, const char *tag)
{
    char *e = escaped(l, tag);
    for (size_t i = 0; e && i < n; i++) {
        if (strcmp(lines[i].fields[3], e) == 0) {
            free(e);
            return (ssize_t) i;
        }
    }
    free(e);
    return -1;
}

/* -R's order over the lines: top first, then each child's hierarchy, depth first. */
static void walk_lines(const struct lcdi *l, struct line *lines, size_t n, const json_t *deps,
                       size_t v, bool *listed, size_t *order, size_t *count, int depth)
{
    if (listed[v]) {
        return;
    }
    listed[v] = true;
    order[(*count)++] = v;
    if (depth > 1000) {
        return;
    }
    size_t i;
    json_t *d;
    json_array_foreach(deps, i, d)
    {
        const char *parent = json_string_value(json_object_get(d, "parent"));
        const char *child = json_string_value(json_object_get(d, "child"));
        if (parent && child && field_is(l, lines[v].fields[3], parent)) {
            ssize_t c = find_line(l, lines, n, child);
            if (c >= 0) {
                walk_lines(l, lines, n, deps, (size_t) c, listed, order, count, depth + 1);
            }
        }
    }
}

/* The lines lkd formatted (escaped), filtered and ordered here. */
static int print_lines(struct lcdi *l, const char *text, size_t len, const struct filter *f,
                       const char *roots)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        n += text[i] == '\n';
    }
    struct line *lines = calloc(n + 1, sizeof(*lines));
    char *copy = malloc(len + 1);
    bool *listed = calloc(n + 1, sizeof(bool));
    size_t *order = calloc(n + 1, sizeof(size_t));
    json_t *deps = NULL;
    int r = 0;
    if (!lines || !copy || !listed || !order) {
        r = lcdi_fail(l, LK_EXIT_FAILED, "out of memory");
        goto out;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    size_t k = 0;
    for (char *p = copy, *start = copy; k < n && *p; p++) {
        if (*p != '\n') {
            continue;
        }
        *p = '\0';
        lines[k].text = text + (start - copy);
        lines[k].len = (size_t) (p - start);
        size_t fno = 0;
        lines[k].fields[fno++] = start;
        for (char *q = start; *q && fno < LK_INSLIST_FIELDS; q++) {
            if (*q == l->sep) {
                *q = '\0';
                lines[k].fields[fno++] = q + 1;
            }
        }
        if (fno != LK_INSLIST_FIELDS) {
            r = lcdi_fail(l, LK_EXIT_FAILED, "malformed line in lkd's reply");
            goto out;
        }
        start = p + 1;
        k++;
    }
    size_t count = 0;
    if (roots) {
        r = lcdi_ask(l, LK_CMD_DEP_LIST, NULL, &deps);
        if (r != 0) {
            goto out;
        }
        char buf[4096];
        snprintf(buf, sizeof(buf), "%s", roots);
        char *save = NULL;
        for (char *top = strtok_r(buf, "\001", &save); top; top = strtok_r(NULL, "\001", &save)) {
            ssize_t v = find_line(l, lines, k, top);
            if (v < 0) {
                r = lcdi_fail(l, LK_EXIT_FAILED, "no resource with tag '%s'", top);
                goto out;
            }
            walk_lines(l, lines, k, json_object_get(deps, "dependencies"), (size_t) v, listed,
                       order, &count, 0);
        }
    } else {
        for (size_t i = 0; i < k; i++) {
            order[count++] = i;
        }
    }
    for (size_t i = 0; i < count; i++) {
        const struct line *ln = &lines[order[i]];
        if (field_is(l, ln->fields[1], f->app) && field_is(l, ln->fields[2], f->type) &&
            field_is(l, ln->fields[3], f->tag) && field_is(l, ln->fields[4], f->id)) {
            fwrite(ln->text, 1, ln->len, stdout);
            fputc('\n', stdout);
        }
    }
out:
    json_decref(deps);
    free(order);
    free(listed);
    free(copy);
    free(lines);
    return r;
}

int main(int argc, char **argv)
{
    struct lcdi l;
    lcdi_init(&l, PROG, USAGE, HELP);
    l.spec_statuses = true;
    bool json = lk_json_prescan(argc, argv);
    struct filter f = {0};
    const char *roots = NULL;
    int c;
    while ((c = lcdi_getopt(&l, argc, argv, "d:f:R:a:r:t:i:", true)) != -1) {
        switch (c) {
        case 'R':
            roots = optarg;
            break;
        case 'a':
            f.app = optarg;
            break;
        case 'r':
            f.type = optarg;
            break;
        case 't':
            f.tag = optarg;
            break;
        case 'i':
            f.id = optarg;
            break;
        case 'j':
            break;
        case LCDI_OPT_EXIT:
            return l.exit;
        default:
            return lk_fail(PROG, LK_EXIT_USAGE, "unknown option '-%c' (see --help)", c);
        }
    }
    if (optind < argc) {
        return lk_fail(PROG, LK_EXIT_USAGE, "unexpected argument '%s'", argv[optind]);
    }
    if (roots && strlen(roots) >= 4096) {
        return lk_fail(PROG, LK_EXIT_USAGE, "-R: too long");
    }
    json_t *data = NULL;
    int r = 0;
    if (!json) {
        char sep[2] = {l.sep, '\0'};
        json_t *args = json_pack("{s:s, s:b}", "separator", sep, "escape", true);
        if (f.tag) {
            json_object_set_new(args, "tag", json_string(f.tag));
        }
        r = lcdi_ask(&l, LK_CMD_RES_INSLIST, args, &data);
        if (r != 0) {
            return r;
        }
        json_t *lines = json_object_get(data, "lines");
        if (json_is_true(json_object_get(data, "escaped")) && json_is_string(lines)) {
            r = print_lines(&l, json_string_value(lines), json_string_length(lines), &f, roots);
            json_decref(data);
            if (r == 0 && fflush(stdout) != 0) {
                r = lk_fail(PROG, LK_EXIT_FAILED, "cannot write the output");
            }
            return r;
        }
        json_decref(data);
        data = NULL;
    }
    r = lcdi_resources(&l, &data);
    if (r != 0) {
        return r;
    }
    /* An unknown tag is an error, as it always was (a script asking about its own
     * resource learns that it is gone); -a, -r and -i only filter. */
    if (f.tag && !lcdi_find(data, "tag", f.tag)) {
        json_decref(data);
        return lk_fail(PROG, LK_EXIT_FAILED, "no resource with tag '%s'", f.tag);
    }
    json_t *order = NULL;
    r = select_order(&l, data, roots, &order);
    if (r != 0) {
        json_decref(data);
        return r;
    }
    const char *node = json_string_value(json_object_get(data, "node"));
    json_t *out = json ? json_array() : NULL;
    size_t i;
    json_t *obj;
    json_array_foreach(order, i, obj)
    {
        if (!wanted(obj, &f)) {
            continue;
        }
        static struct lk_resource res;
        if (lk_proto_resource_parse(obj, &res) < 0) {
            json_decref(out);
            json_decref(order);
            json_decref(data);
            return lk_fail(PROG, LK_EXIT_FAILED, "malformed resource in lkd's reply");
        }
        struct lk_inslist_numbers numbers;
        const char *fields[LK_INSLIST_FIELDS];
        lk_inslist_fields(&res, node ? node : "", &numbers, fields);
        if (json) {
            json_t *line = json_object();
            for (int k = 0; k < LK_INSLIST_FIELDS; k++) {
                json_object_set_new(line, lk_inslist_field_names[k], json_string(fields[k]));
            }
            json_array_append_new(out, line);
        } else {
            lcdi_put_record(&l, stdout, fields, LK_INSLIST_FIELDS);
        }
    }
    if (json) {
        lk_print_json(out);
        json_decref(out);
    }
    json_decref(order);
    json_decref(data);
    return fflush(stdout) == 0 ? 0 : lk_fail(PROG, LK_EXIT_FAILED, "cannot write the output");
}
