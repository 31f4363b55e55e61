/* Built-in checks as text (checkspec.c): the settings quickchk-check and deepchk-check hold a
 * SPEC that lkd runs itself, without a process (io/probe.c):
 *
 *   tcp:HOST:PORT                       a connection is accepted within the timeout
 *   http://HOST[:PORT]/PATH[=STATUS][~BODY]
 *                                       GET PATH answers STATUS (default 200), and, with
 *                                       ~BODY, the first LK_CHECK_KEEP bytes of the
 *                                       response hold BODY
 *   process                             the pidfile's process is alive, or without a
 *                                       pidfile, the resource's cgroup holds a process
 *
 * HOST is numeric: an IPv4 address or an IPv6 address in brackets. No name is looked up, so
 * a check never waits for a resolver and never fails because DNS does. Pure: parsing and
 * wording only. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LK_CHECKSPEC_MAX 255  /* a SPEC's length, NUL excluded */
#define LK_CHECK_KEEP    4096 /* the bytes of an HTTP response kept and searched */
#define LK_CHECK_HOST    48   /* a numeric address, brackets excluded, NUL included */

enum lk_check_kind {
    LK_CHECK_NONE, /* "": no built-in check */
    LK_CHECK_TCP,
    LK_CHECK_HTTP,
    LK_CHECK_PROCESS,
};

struct lk_checkspec {
    enum lk_check_kind kind;
    bool ipv6;
    char host[LK_CHECK_HOST]; /* without brackets */
    uint16_t port;
    char path[LK_CHECKSPEC_MAX + 1]; /* http: starts with '/', printable ASCII, no space */
    int status;                      /* http: the expected status, 100-599 */
    char body[LK_CHECKSPEC_MAX + 1]; /* http: the text the response must hold; "" = any */
};

/* Parses text into *ret ("" gives LK_CHECK_NONE). Returns 0, or -EINVAL with a one-line
 * message in err that quotes the SPEC only when it is printable; *ret is then undefined. */
int lk_checkspec_parse(const char *text, struct lk_checkspec *ret, char *err, size_t err_size);

/* The check's target for messages: "tcp 127.0.0.1:80", "http [::1]:8080/health",
 * "process". Returns buf. */
char *lk_checkspec_target(const struct lk_checkspec *spec, char *buf, size_t size);
