/* What every LifeKeeper-compatible command (ins_list, ins_setinfo, eqv_list, lcdremexec, …)
 * shares: LifeKeeper's exit statuses (LCDI), its short options (-d DEST, -f C) next to
 * ours (--root, --help, --version), the request to lkd (forwarded to DEST when DEST is
 * another node) with lkd's errors mapped to LCDI statuses, and the printing of records
 * (fields separated by the -f character, a field's separator and backslash escaped).
 * Commands print; nothing here is used by lkd. */
#pragma once

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* LifeKeeper's LCDI exit statuses (docs/LIFEKEEPER.md). */
enum lcdi_exit {
    LCDI_OK = 0,
    LCDI_SYSCALL = 1,   /* a system or library call failed; lkd not reachable */
    LCDI_SYNTAX = 2,    /* syntax error: an unknown option, a missing value */
    LCDI_INTERNAL = 3,  /* internal error: a malformed reply */
    LCDI_EXISTS = 4,    /* the object exists already */
    LCDI_ILLEGAL = 5,   /* an illegal argument */
    LCDI_RANGE = 6,     /* an index out of range */
    LCDI_NOENT = 7,     /* the object does not exist */
    LCDI_DEPENDENT = 8, /* cannot delete: another instance depends on it */
    LCDI_COMM = 9,      /* communication with the other system failed */
};

/* LifeKeeper's default field separator: Ctrl-A. */
#define LCDI_SEPARATOR '\001'

/* lcdi_getopt's value for an option that is not one of the command's: an error was
 * printed and the command must exit with lcdi->exit. */
#define LCDI_OPT_EXIT (-2)

/* One command's invocation; owned by its main, on the stack. */
struct lcdi {
    const char *prog;  /* the command's name, for errors */
    const char *usage; /* "usage: ins_setinfo [-d DEST] -t TAG [-v INFO]" (one line) */
    const char *help;  /* what --help prints after the usage line (options, statuses) */
    const char *root;  /* --root, else NULL ($LKROOT, else the default) */
    const char *dest;  /* -d: the node to ask; NULL or "" = this node */
    char sep;          /* -f: the field separator; LCDI_SEPARATOR unless given */
    /* ins_list keeps SPEC §6's statuses for what its tests always checked (lkd not
     * reachable 3, permission denied 4, an unknown tag 1): set by ins_list only. */
    bool spec_statuses;
    /* lkd's usage error (2) stays 2 instead of 5 (lcdi_call's callers: lcdremexec, lcdrcp). */
    bool usage_is_syntax;
    /* lkd refusing what was asked (a failure that names no missing object, not a system
     * error) is 5, illegal argument, instead of 1 (ins_setstate: a state that cannot be
     * set now). */
    bool refusal_is_illegal;
    /* sendevent's -d is its problem data, not a node: set, -d comes back to the caller. */
    bool own_d;
    int exit; /* the status to exit with after LCDI_OPT_EXIT */
};

/* Sets l up for the command prog: separator ^A, local node, LCDI statuses. */
void lcdi_init(struct lcdi *l, const char *prog, const char *usage, const char *help);

/* getopt_long over argv with the command's short options (optstring, without the leading
 * ':'; "d:" and "f:" in it mean -d and -f, handled here) and the long options every
 * command has (--root DIR, --help or -h, --version; --json when json is set, returned as
 * 'j').
 * Returns the next option of the command's own (as getopt does, optarg set), -1 at the
 * end, or LCDI_OPT_EXIT after --help/--version (l->exit = 0) or a syntax error (printed,
 * l->exit = 2). -d (unless l->own_d) and -f never come back to the caller. */
int lcdi_getopt(struct lcdi *l, int argc, char **argv, const char *optstring, bool json);

/* Prints "prog: message" on stderr (one line) and returns code. */
__attribute__((format(printf, 3, 4))) int lcdi_fail(const struct lcdi *l, int code, const char *fmt,
                                                    ...);

/* A syntax error: "prog: what" and the usage line; returns LCDI_SYNTAX. */
int lcdi_syntax(const struct lcdi *l, const char *what);

/* Sends cmd with args (stolen) to lkd, on l->dest when that is another node (the request
 * envelope's "node": lkd forwards it). Returns LCDI_OK with *ret_data set (caller decrefs)
 * or, after printing one line, an LCDI status: lkd not reachable or permission denied 1,
 * an argument lkd refused 5, "no resource with tag" 7, the other node unknown, dead or
 * lost during the request 9, anything else 1. With l->spec_statuses: SPEC §6's statuses,
 * except 9 as above. */
int lcdi_ask(struct lcdi *l, const char *cmd, json_t *args, json_t **ret_data);

/* lcdi_ask for a command without a struct lcdi (lcdremexec, lcdrcp): cmd with args (stolen)
 * on node (NULL or "" = this node), the root from $LKROOT. Returns LCDI_OK with *ret_data
 * (caller decrefs) or an LCDI status after one line on stderr: lkd not running or a
 * refusal 1, a usage error 2, a node that cannot be reached 9. */
int lcdi_call(const char *prog, const char *node, const char *cmd, json_t *args, json_t **ret_data);

/* The resources of the node asked (resource.list: {"node", "resources": [...]}, each with
 * its "nodes", the extends with their priorities). Returns as lcdi_call. */
int lcdi_resources(struct lcdi *l, json_t **ret_data);

/* The resource object of data (lcdi_resources) whose key (a string member) equals value,
 * or NULL. */
json_t *lcdi_find(const json_t *data, const char *key, const char *value);

/* This node's name (l->dest's when given, checked to be a member): asks lkd once per
 * process. Returns LCDI_OK with *ret_name (borrowed until exit) or a printed status. */
int lcdi_node_name(struct lcdi *l, const char **ret_name);

/* Writes text as one field, escaped by lk_inslist_escape for l->sep. */
void lcdi_put_field(const struct lcdi *l, FILE *out, const char *text);

/* Writes the n fields as one record: escaped fields separated by l->sep, then '\n'. */
void lcdi_put_record(const struct lcdi *l, FILE *out, const char *const *fields, size_t n);
