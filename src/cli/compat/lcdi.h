/* The LifeKeeper (LCDI) commands' shared helpers (issue 14): LCDI's exit statuses and a call
 * to lkd, on this node or on the one `-d` names, whose failure maps to them. Minimal here
 * (lcdremexec, lcdrcp); the other LifeKeeper commands' helpers extend this file. */
#pragma once

#include <jansson.h>

/* LCDI exit statuses (LifeKeeper's man pages, "EXIT CODES"). */
enum lcdi_exit {
    LCDI_OK = 0,
    LCDI_SYSCALL = 1,   /* a system or library call failed; lkd not reachable */
    LCDI_SYNTAX = 2,    /* a syntax error in the command line */
    LCDI_INTERNAL = 3,  /* internal error */
    LCDI_EXISTS = 4,    /* the object exists already */
    LCDI_ILLEGAL = 5,   /* an argument is illegal */
    LCDI_RANGE = 6,     /* index out of range */
    LCDI_NOENT = 7,     /* the object does not exist */
    LCDI_DEPENDENT = 8, /* cannot delete: others depend on it */
    LCDI_COMM = 9,      /* communication with the other system failed */
};

/* Sends cmd with args (stolen) to lkd (node: the `-d` value, NULL or "" = this node) and
 * waits for the reply: LCDI_OK with *ret_data (caller decrefs), or an LCDI status after
 * printing "prog: error" on stderr (lkd not running: 1; refused: 1; a node that cannot be
 * reached: 9; a usage error: 2). */
int lcdi_call(const char *prog, const char *node, const char *cmd, json_t *args, json_t **ret_data);
