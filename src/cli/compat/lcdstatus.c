/* lcdstatus [-d DEST] [-q] [-e] [-r ROOT] [-u]: the node's resources and comm paths in
 * LifeKeeper's two shapes. -q (short): LOCAL, TAG (indented by depth in its hierarchy), ID,
 * STATE, PRIO (this node's priority), PRIMARY (the node of highest priority), then the comm
 * paths (MACHINE, NETWORK, ADDRESSES/DEVICE, STATE, PRIO); -e: the first column is BACKUP,
 * the next node in priority order ("------" for the last). Without them (long): each
 * resource as "tag:" and its id, app, type, state, initialize, info, reason and what it
 * depends on, then the comm paths. -r: only the hierarchy under ROOT. -u is accepted and
 * changes nothing (its meaning is not published). From lkd's status; it only reads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lcdi.h"
#include "proto.h"

struct view {
    const json_t *status;
    const json_t *deps;
    const char *self;
    bool shortform, backup;
    json_t *printed; /* tags already shown: a resource two parents share is shown once */
};

static bool has_parent(const json_t *deps, const char *tag)
{
    size_t i;
    json_t *d;
    json_array_foreach(deps, i, d)
    {
        const char *child = json_string_value(json_object_get(d, "child"));
        if (child && strcmp(child, tag) == 0) {
            return true;
        }
    }
    return false;
}

static const char *str(const json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));
    return v ? v : "";
}

/* This node's priority, the primary (priority 1 side: the lowest number) and the node
 * after this one in priority order ("------" when none). The extends are sorted by
 * priority (lkd's node.c). */
static void priorities(const struct view *v, const json_t *res, char *prio, size_t size,
                       const char **ret_primary, const char **ret_backup)
{
    const json_t *nodes = json_object_get(res, "nodes");
    *ret_primary = "";
    *ret_backup = "------";
    snprintf(prio, size, "-");
    bool after_self = false;
    long long best = 0;
    size_t i;
    json_t *n;
    json_array_foreach(nodes, i, n)
    {
        const char *name = str(n, "node");
        long long p = json_integer_value(json_object_get(n, "priority"));
        if (!(*ret_primary)[0] || p < best) {
            best = p;
            *ret_primary = name;
        }
        if (after_self && strcmp(*ret_backup, "------") == 0) {
            *ret_backup = name;
        }
        if (strcmp(name, v->self) == 0) {
            snprintf(prio, size, "%lld", p);
            after_self = true;
        }
    }
}

static void depends_on(const struct view *v, const char *tag, FILE *out)
{
    size_t i;
    json_t *d;
    bool any = false;
    json_array_foreach(v->deps, i, d)
    {
        if (strcmp(str(d, "parent"), tag) == 0) {
            fprintf(out, "%s%s", any ? "," : "", str(d, "child"));
            any = true;
        }
    }
    if (!any) {
        fputs("(none)", out);
    }
}

static void show(struct view *v, const json_t *res, int depth)
{
    const char *tag = str(res, "tag");
    size_t i;
    json_t *t;
    json_array_foreach(v->printed, i, t)
    {
        if (strcmp(json_string_value(t), tag) == 0) {
            return;
        }
    }
    json_array_append_new(v->printed, json_string(tag));
    if (v->shortform) {
        char prio[24];
        const char *primary, *backup;
        priorities(v, res, prio, sizeof(prio), &primary, &backup);
        printf("%-10s %*s%-*s %-20s %-5s %4s  %s\n", v->backup ? backup : v->self, depth * 2, "",
               depth * 2 < 24 ? 24 - depth * 2 : 0, tag, str(res, "id"), str(res, "state"), prio,
               primary);
    } else {
        const json_t *settings = json_object_get(res, "settings");
        printf("%s:\n", tag);
        printf("\tid=%s app=%s type=%s state=%s\n", str(res, "id"), str(res, "app"),
               str(res, "type"), str(res, "state"));
        printf("\tinitialize=(%s) switchback=(%s)\n", str(settings, "init"),
               str(settings, "switchback"));
        printf("\tinfo=%s\n", str(res, "info"));
        printf("\treason=%s\n", str(res, "reason"));
        printf("\tdepends on resources: ");
        depends_on(v, tag, stdout);
        printf("\n\n");
    }
    if (depth > 1000) {
        return;
    }
    json_t *d;
    json_array_foreach(v->deps, i, d)
    {
        if (strcmp(str(d, "parent"), tag) == 0) {
            size_t j;
            json_t *child;
            json_array_foreach(json_object_get(v->status, "resources"), j, child)
            {
                if (strcmp(str(child, "tag"), str(d, "child")) == 0) {
                    show(v, child, depth + 1);
                }
            }
        }
    }
}

static void comm_paths(const struct view *v)
{
    const json_t *peers = json_object_get(json_object_get(v->status, "cluster"), "peers");
    printf("%-10s %-8s %-24s %-10s %s\n", "MACHINE", "NETWORK", "ADDRESSES/DEVICE", "STATE",
           "PRIO");
    size_t i, j;
    json_t *p, *path;
    json_array_foreach(peers, i, p)
    {
        json_array_foreach(json_object_get(p, "paths"), j, path)
        {
            json_t *prio = json_object_get(path, "priority");
            char ptext[24] = "-";
            if (json_is_integer(prio)) {
                snprintf(ptext, sizeof(ptext), "%lld", (long long) json_integer_value(prio));
            }
            printf("%-10s %-8s %-24s %-10s %s\n", str(p, "name"), "TCP", str(path, "address"),
                   str(path, "state"), ptext);
        }
    }
}

int main(int argc, char **argv)
{
    struct lcdi l;
    lcdi_init(&l, "lcdstatus", "usage: lcdstatus [-d DEST] [-q] [-e] [-r ROOT] [-u] [--root DIR]",
              "\n"
              "The resources and comm paths of the node asked, in LifeKeeper's shapes.\n"
              "\n"
              "  -d DEST       the node to ask; default: this node\n"
              "  -q            the short display: LOCAL, TAG (indented by depth), ID, STATE, PRIO\n"
              "                (this node's priority), PRIMARY, then the comm paths\n"
              "  -e            the short display with BACKUP first: the next node in priority\n"
              "                order, ------ for the last\n"
              "  -r ROOT       only the hierarchy under the resource ROOT\n"
              "  -u            accepted, changes nothing\n"
              "  --root DIR    the node's root directory; default: $LKROOT, else the default\n"
              "  --version     the version\n"
              "  --help        this help\n"
              "Default: the long display (each resource with its details).\n"
              "\n"
              "Exit status (LCDI): 0 ok, 1 failed or lkd not reachable, 2 syntax error, 7 no\n"
              "such resource, 9 communication with DEST failed.\n");
    struct view v = {0};
    const char *root = NULL;
    int c;
    while ((c = lcdi_getopt(&l, argc, argv, "d:qer:u", false)) != -1) {
        switch (c) {
        case 'q':
            v.shortform = true;
            break;
        case 'e':
            v.shortform = true;
            v.backup = true;
            break;
        case 'r':
            root = optarg;
            break;
        case 'u':
            break;
        default:
            return l.exit;
        }
    }
    if (optind < argc) {
        return lcdi_syntax(&l, "unexpected argument");
    }
    json_t *status = NULL;
    int r = lcdi_ask(&l, LK_CMD_STATUS, NULL, &status);
    if (r != 0) {
        return r;
    }
    v.status = status;
    v.deps = json_object_get(status, "dependencies");
    v.self = str(status, "node");
    v.printed = json_array();
    const json_t *resources = json_object_get(status, "resources");
    const json_t *top = NULL;
    if (root) {
        size_t i;
        json_t *res;
        json_array_foreach(resources, i, res)
        {
            if (strcmp(str(res, "tag"), root) == 0) {
                top = res;
            }
        }
        if (!top) {
            json_decref(v.printed);
            json_decref(status);
            return lcdi_fail(&l, LCDI_NOENT, "no resource with tag '%s'", root);
        }
    }
    if (v.shortform) {
        printf("%-10s %-24s %-20s %-5s %4s  %s\n", v.backup ? "BACKUP" : "LOCAL", "TAG", "ID",
               "STATE", "PRIO", "PRIMARY");
    } else {
        printf("Resource Hierarchy Information\n\nResource hierarchies for machine \"%s\":\n\n",
               v.self);
    }
    if (top) {
        show(&v, top, 0);
    } else {
        size_t i;
        json_t *res;
        json_array_foreach(resources, i, res)
        {
            if (!has_parent(v.deps, str(res, "tag"))) {
                show(&v, res, 0);
            }
        }
    }
    printf(v.shortform ? "\n" : "Communication Status Information\n\n");
    comm_paths(&v);
    if (!v.shortform) {
        printf("\nLifeKeeper Flags\n\t(none)\n");
    }
    json_decref(v.printed);
    json_decref(status);
    return fflush(stdout) == 0 ? 0 : lcdi_fail(&l, LCDI_SYSCALL, "cannot write the output");
}
