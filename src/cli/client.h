/* The commands' side of the local protocol: finding the node's root, connecting to
 * lkd.sock, sending one request and reading progress lines and the final reply.
 * Also the shared printing of errors with SPEC §6's exit statuses. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "proto.h"

#define LK_DEFAULT_ROOT "/opt/openkeeper"

/* The root: the --root value if given, else $LKROOT, else LK_DEFAULT_ROOT. */
const char *lk_client_root(const char *root_arg);

/* Called for every progress line while waiting; text is borrowed for the call. */
typedef void (*lk_progress_cb)(const char *text, const json_t *msg, void *userdata);

/* Sends cmd with args (stolen) to the daemon of root and waits for the reply.
 * Returns the exit status to use: 0 with *ret_data set (caller decrefs) on success, or
 * an LK_EXIT_* code after printing the one-line error as "prog: error" on stderr. */
int lk_client_call(const char *prog, const char *root, const char *cmd, json_t *args,
                   lk_progress_cb progress, void *userdata, json_t **ret_data);

/* lk_client_call for the lkd of node (the envelope's "node", issue 14; NULL or "" = this
 * node's): the request is forwarded there by this node's lkd. A request that could not reach
 * node, or lost it, returns LK_EXIT_COMM (9) rather than 1. */
int lk_client_call_on(const char *prog, const char *root, const char *node, const char *cmd,
                      json_t *args, lk_progress_cb progress, void *userdata, json_t **ret_data);

/* Set by a command that maps lkd's errors to statuses of its own (the LifeKeeper commands):
 * an error reply from lkd is not printed, only kept for lk_client_error. Errors of the
 * connection itself are printed as always. */
extern bool lk_client_quiet;

/* The text of the last error reply from lkd ("" when the last call failed otherwise or
 * did not fail). Borrowed until the next call. */
const char *lk_client_error(void);

/* Set by a command given --json: lk_fail prints its error as one JSON object
 * {"error": "message", "code": N} on stderr instead of "prog: message". */
extern bool lk_json_errors;

/* Before anything can fail (so that the errors of the line itself are JSON too): whether
 * --json stands among argv[1..] before any "--"; sets lk_json_errors to that. */
bool lk_json_prescan(int argc, char **argv);

/* Prints "prog: message" (or, with lk_json_errors, the JSON object) on stderr and returns
 * code. */
__attribute__((format(printf, 3, 4))) int lk_fail(const char *prog, int code, const char *fmt, ...);

/* After getopt_long returned c (':' or '?') with opterr = 0 and a ':'-led optstring:
 * prints one line naming the bad option and returns LK_EXIT_USAGE. */
int lk_fail_getopt(const char *prog, int c, char **argv);

/* Prints json to stdout, indented, with a newline. */
void lk_print_json(const json_t *json);

/* Reads a script file for sending: checks it exists, is a regular file and not a symbolic
 * link (opened without blocking: a FIFO cannot hang the command), is readable, is not
 * empty, at most 1 MiB, and starts with #! or is ELF. Returns its base64 (caller
 * frees) or NULL after printing "prog: <what> script 'path': <why>". */
char *lk_read_script(const char *prog, const char *what, const char *path);
