/* lkcli status: this node, its containment and guard, its resources with state, reason and
 * usage, and recent events. Reads only the status reply; a field the daemon does not send
 * (an older lkd) prints nothing. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "client.h"
#include "lkcli.h"
#include "output.h"
#include "resource.h"

static const json_t *find_resource(const json_t *resources, const char *tag)
{
    size_t i;
    json_t *res;
    json_array_foreach(resources, i, res)
    {
        if (strcmp(json_string_value(json_object_get(res, "tag")), tag) == 0) {
            return res;
        }
    }
    return NULL;
}

/* " [3 procs, cpu 1.23 s, mem 12.3 MiB]" from a resource's "usage" object (mem only when
 * the memory figure is known); "" when there is none. */
static void format_usage(const json_t *usage, char *buf, size_t size)
{
    buf[0] = '\0';
    if (!json_is_object(usage)) {
        return;
    }
    json_int_t procs = json_integer_value(json_object_get(usage, "procs"));
    json_int_t cpu_usec = json_integer_value(json_object_get(usage, "cpu_usec"));
    const json_t *memory = json_object_get(usage, "memory_bytes");
    char mem[48] = "";
    if (json_is_integer(memory) && json_integer_value(memory) >= 0) {
        static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = (double) json_integer_value(memory);
        size_t u = 0;
        while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
            v /= 1024.0;
            u++;
        }
        if (u == 0) {
            snprintf(mem, sizeof(mem), ", mem %" PRId64 " B", (int64_t) json_integer_value(memory));
        } else {
            snprintf(mem, sizeof(mem), ", mem %.1f %s", v, units[u]);
        }
    }
    snprintf(buf, size, " [%" PRId64 " proc%s, cpu %.2f s%s]", (int64_t) procs,
             procs == 1 ? "" : "s", (double) cpu_usec / 1e6, mem);
}

/* One line per resource of a hierarchy, children below their parent with tree branches,
 * as the seed system's status display indents dependencies. */
static void print_tree(const json_t *resources, const json_t *node, const char *lead,
                       const char *branch, const char *below)
{
    const char *tag = json_string_value(json_object_get(node, "tag"));
    const json_t *res = find_resource(resources, tag);
    if (!res) {
        return;
    }
    char label[512];
    snprintf(label, sizeof(label), "%s%s%s", lead, branch, tag);
    const char *pending = json_string_value(json_object_get(res, "pending"));
    char elsewhere[256] = "";
    size_t used = 0, k;
    json_t *where;
    json_array_foreach(json_object_get(res, "nodes"), k, where)
    {
        if (json_is_true(json_object_get(where, "self")) || used >= sizeof(elsewhere) - 1) {
            continue;
        }
        const char *st = json_string_value(json_object_get(where, "state"));
        if (json_is_false(json_object_get(where, "alive"))) {
            st = "DEAD";
        } else if (!st || !st[0]) {
            st = "?";
        }
        int w = snprintf(elsewhere + used, sizeof(elsewhere) - used, "%s%s:%s%s", used ? " " : "",
                         json_string_value(json_object_get(where, "node")), st,
                         json_is_true(json_object_get(where, "unable")) ? "(unable)" : "");
        used += w > 0 ? (size_t) w : 0;
    }
    /* A remove failed here: the application may still run, whatever the state says. */
    bool stop_failed = json_is_true(json_object_get(res, "stop_failed"));
    /* Its type said so (issue 13): this node cannot run it, or no node can. */
    const char *verdict_note =
            json_is_true(json_object_get(res, "not_configured"))
                    ? " [not configured: fails over nowhere; fix it, then resource reset]"
            : json_is_true(json_object_get(res, "unable"))
                    ? " [unable: not installed on this node; install it, then resource reset]"
                    : "";
    char usage[128];
    format_usage(json_object_get(res, "usage"), usage, sizeof(usage));
    printf("  %-32s %-5s %-18s %4lld %4lld  %s%s%s%s%s%s%s\n", label,
           json_string_value(json_object_get(res, "state")), used ? elsewhere : "-",
           (long long) json_integer_value(json_object_get(res, "check_failures_in_row")),
           (long long) json_integer_value(json_object_get(res, "local_recoveries")),
           json_string_value(json_object_get(res, "reason")), pending && pending[0] ? " [" : "",
           pending ? pending : "", pending && pending[0] ? "]" : "",
           stop_failed
                   ? " [stop failed: may still run here; fence this node, or remove or reset it]"
                   : "",
           verdict_note, usage);
    const json_t *children = json_object_get(node, "children");
    char next[512];
    snprintf(next, sizeof(next), "%s%s", lead, below);
    size_t n = json_array_size(children);
    for (size_t i = 0; i < n && strlen(next) < 400; i++) {
        bool last = i + 1 == n;
        print_tree(resources, json_array_get(children, i), next, last ? "`-- " : "|-- ",
                   last ? "    " : "|   ");
    }
}

/* "containment: on (<base>)" / "containment: off (<why>)"; nothing without the field. */
static void print_containment(const json_t *containment)
{
    if (!json_is_object(containment)) {
        return;
    }
    bool on = json_is_true(json_object_get(containment, "on"));
    const char *detail = json_string_value(json_object_get(containment, on ? "base" : "why"));
    printf("containment: %s (%s)\n", on ? "on" : "off", detail ? detail : "?");
}

/* The guard: running with its last look and watchdog, not running (null), or the fence it
 * set off; nothing when the reply has no "guard" at all. */
static void print_guard(const json_t *data)
{
    const json_t *guard = json_object_get(data, "guard");
    if (!guard) {
        return;
    }
    if (json_is_true(json_object_get(guard, "fenced"))) {
        const char *why = json_string_value(json_object_get(guard, "why"));
        printf("guard: FENCED this node: %s\n", why && why[0] ? why : "no reason given");
    } else if (json_is_true(json_object_get(guard, "running"))) {
        printf("guard: running (pid %" PRId64 ", last look %" PRId64 " ms ago, watchdog %s)\n",
               (int64_t) json_integer_value(json_object_get(guard, "pid")),
               (int64_t) json_integer_value(json_object_get(guard, "last_look_ms")),
               json_is_true(json_object_get(guard, "watchdog")) ? "armed" : "not armed");
    } else {
        printf("guard: not running\n");
    }
}

/* The node database when it is not writable (a full or failing disk): first, loudly. */
static void print_store(const json_t *data)
{
    const json_t *store = json_object_get(data, "store");
    if (!json_is_object(store) || !json_is_false(json_object_get(store, "writable"))) {
        return;
    }
    const char *why = json_string_value(json_object_get(store, "why"));
    time_t since = (time_t) (json_integer_value(json_object_get(store, "since")) / 1000);
    struct tm tm;
    char when[32] = "?";
    if (gmtime_r(&since, &tm)) {
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", &tm);
    }
    printf("node database NOT WRITABLE since %s: %s; state kept in memory, changes "
           "refused\n",
           when, why && why[0] ? why : "unknown error");
}

int lk_cmd_status(const struct lk_cli *cli, int argc, char **argv)
{
    if (lk_args_none(cli->prog, "status", argc, argv) != 0) {
        return 2;
    }
    json_t *data = NULL;
    int r = lk_client_call(cli->prog, cli->root, LK_CMD_STATUS, NULL, NULL, NULL, &data);
    if (r != 0) {
        return r;
    }
    if (cli->json) {
        lk_print_json(data);
        json_decref(data);
        return 0;
    }
    print_store(data);
    printf("node %s  (pid %lld, up %lld s, root %s)%s\n",
           json_string_value(json_object_get(data, "node")),
           (long long) json_integer_value(json_object_get(data, "pid")),
           (long long) json_integer_value(json_object_get(data, "uptime_s")),
           json_string_value(json_object_get(data, "root")),
           json_is_true(json_object_get(data, "stopping")) ? "  STOPPING" : "");
    print_containment(json_object_get(data, "containment"));
    print_guard(data);
    json_t *cluster = json_object_get(data, "cluster");
    if (json_array_size(json_object_get(cluster, "nodes")) > 1 ||
        json_array_size(json_object_get(cluster, "warnings")) > 0) {
        printf("\n");
        lk_print_nodes(cluster);
        printf("\ncomm paths:\n");
        lk_print_commpaths(json_string_value(json_object_get(data, "node")),
                           json_object_get(cluster, "peers"));
    }
    json_t *resources = json_object_get(data, "resources");
    printf("\nresources: %zu\n", json_array_size(resources));
    if (json_array_size(resources) > 0) {
        printf("  %-32s %-5s %-18s %4s %4s  %s\n", "TAG", "STATE", "OTHER NODES", "FAIL", "REC",
               "REASON");
    }
    json_t *roots = json_object_get(data, "hierarchies");
    size_t i;
    json_t *root;
    json_array_foreach(roots, i, root)
    {
        print_tree(resources, root, "", "", "");
        const char *budget = json_string_value(json_object_get(root, "budget"));
        if (budget) {
            printf("    failover budget: %s\n", budget);
        }
        const char *safety = json_string_value(json_object_get(root, "safety"));
        if (safety) {
            printf("    safety: %s\n", safety);
        }
        size_t k;
        json_t *marked;
        json_array_foreach(json_object_get(root, "remove_failed_on"), k, marked)
        {
            printf("    remove failed on %s: it may still run there; no node restores the "
                   "hierarchy until %s is fenced or it is removed there\n",
                   json_string_value(marked), json_string_value(marked));
        }
    }
    json_t *events = json_object_get(data, "events");
    printf("\nrecent events:\n");
    json_t *e;
    json_array_foreach(events, i, e)
    {
        lk_print_event(e, "  ", 0);
    }
    json_decref(data);
    return 0;
}
