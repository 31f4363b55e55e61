/* Built-in check specifications (checkspec.h): the text of the settings quickchk-check and
 * deepchk-check, parsed and validated field by field, and the words that name a check's
 * target in results and events.
 *
 * Entered from lk_settings_set (a command, a peer's definition, the store at load) and from
 * the probe before each run. Every byte is outside input: a SPEC is refused whole, with one
 * line that says which part is wrong, and only a printable SPEC is quoted.
 *
 * Must never: look a name up, touch the network or a file, or accept a byte that would let
 * an HTTP request carry a second line (control characters, spaces in the path). */
#include "checkspec.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static bool printable(const char *s)
{
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        if (*p < 0x20 || *p >= 0x7f) {
            return false;
        }
    }
    return true;
}

static int bad(const char *text, const char *why, char *err, size_t err_size)
{
    if (printable(text)) {
        snprintf(err, err_size, "invalid check '%s': %s", text, why);
    } else {
        snprintf(err, err_size, "invalid check: %s", why);
    }
    return -EINVAL;
}

/* A decimal number of 1 to max_digits digits, nothing else, within [min, max]. */
static bool number(const char *s, size_t len, size_t max_digits, long min, long max, long *ret)
{
    if (len == 0 || len > max_digits) {
        return false;
    }
    long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (s[i] - '0');
    }
    if (v < min || v > max) {
        return false;
    }
    *ret = v;
    return true;
}

/* HOST:PORT or [HOST]:PORT from s (len bytes); the port may be left out when dflt_port is
 * not 0. Returns NULL or the reason it is wrong. */
static const char *host_port(const char *s, size_t len, uint16_t dflt_port,
                             struct lk_checkspec *spec)
{
    const char *host = s, *port = NULL;
    size_t host_len;
    if (len > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (!close) {
            return "an IPv6 address needs its closing ']'";
        }
        host = s + 1;
        host_len = (size_t) (close - host);
        size_t rest = len - (size_t) (close + 1 - s);
        if (rest > 0 && close[1] != ':') {
            return "expected ':PORT' after the IPv6 address";
        }
        port = rest > 0 ? close + 2 : NULL;
        spec->ipv6 = true;
    } else {
        const char *colon = NULL;
        for (size_t i = 0; i < len; i++) {
            if (s[i] == ':') {
                if (colon) {
                    return "an IPv6 address must be written in brackets: [ADDRESS]:PORT";
                }
                colon = s + i;
            }
        }
        host_len = colon ? (size_t) (colon - s) : len;
        port = colon ? colon + 1 : NULL;
        spec->ipv6 = false;
    }
    if (host_len == 0) {
        return "missing host";
    }
    if (host_len >= sizeof(spec->host)) {
        return "the host must be a numeric IPv4 address or an IPv6 address in brackets "
               "(no name lookup)";
    }
    memcpy(spec->host, host, host_len);
    spec->host[host_len] = '\0';
    unsigned char addr[16];
    if (inet_pton(spec->ipv6 ? AF_INET6 : AF_INET, spec->host, addr) != 1) {
        return "the host must be a numeric IPv4 address or an IPv6 address in brackets "
               "(no name lookup)";
    }
    long p = dflt_port;
    if (port) {
        size_t port_len = len - (size_t) (port - s);
        if (!number(port, port_len, 5, 1, 65535, &p)) {
            return "the port must be a number from 1 to 65535";
        }
    } else if (!dflt_port) {
        return "missing ':PORT'";
    }
    spec->port = (uint16_t) p;
    return NULL;
}

static int parse_http(const char *text, const char *rest, struct lk_checkspec *spec, char *err,
                      size_t err_size)
{
    const char *slash = strchr(rest, '/');
    const char *why = host_port(rest, slash ? (size_t) (slash - rest) : strlen(rest), 80, spec);
    if (why) {
        return bad(text, why, err, err_size);
    }
    if (!slash) {
        return bad(text, "missing the path: http://HOST:PORT/PATH", err, err_size);
    }
    /* The body's text runs from the first '~' to the end; a path that holds a '~' writes it
     * %7E. What is left ends in "=STATUS" when a status is given. */
    const char *tilde = strchr(slash, '~');
    size_t head = tilde ? (size_t) (tilde - slash) : strlen(slash);
    spec->status = 200;
    spec->body[0] = '\0';
    if (tilde) {
        if (!tilde[1]) {
            return bad(text, "'~' must be followed by the text the response must hold", err,
                       err_size);
        }
        snprintf(spec->body, sizeof(spec->body), "%s", tilde + 1);
    }
    long status = 0;
    if (head >= 4 && slash[head - 4] == '=' && number(slash + head - 3, 3, 3, 0, 999, &status)) {
        if (status < 100 || status > 599) {
            return bad(text, "the status must be from 100 to 599", err, err_size);
        }
        spec->status = (int) status;
        head -= 4;
    }
    for (size_t i = 0; i < head; i++) {
        unsigned char c = (unsigned char) slash[i];
        if (c <= 0x20 || c >= 0x7f || c == '#') {
            return bad(text,
                       "the path must be printable ASCII without spaces or '#' "
                       "(write them %20, %23)",
                       err, err_size);
        }
    }
    memcpy(spec->path, slash, head);
    spec->path[head] = '\0';
    return 0;
}

int lk_checkspec_parse(const char *text, struct lk_checkspec *spec, char *err, size_t err_size)
{
    memset(spec, 0, sizeof(*spec));
    if (!text) {
        snprintf(err, err_size, "invalid check: missing");
        return -EINVAL;
    }
    if (!printable(text)) {
        return bad(text, "contains a control character or a byte outside ASCII", err, err_size);
    }
    size_t len = strlen(text);
    if (len == 0) {
        spec->kind = LK_CHECK_NONE;
        return 0;
    }
    if (len > LK_CHECKSPEC_MAX) {
        snprintf(err, err_size, "invalid check: longer than %d bytes", LK_CHECKSPEC_MAX);
        return -EINVAL;
    }
    if (strcmp(text, "process") == 0) {
        spec->kind = LK_CHECK_PROCESS;
        return 0;
    }
    if (strncmp(text, "tcp:", 4) == 0) {
        spec->kind = LK_CHECK_TCP;
        const char *why = host_port(text + 4, len - 4, 0, spec);
        return why ? bad(text, why, err, err_size) : 0;
    }
    if (strncmp(text, "http://", 7) == 0) {
        spec->kind = LK_CHECK_HTTP;
        return parse_http(text, text + 7, spec, err, err_size);
    }
    if (strncmp(text, "https://", 8) == 0) {
        return bad(text,
                   "https is not supported (lkd speaks no TLS); check the port with tcp:", err,
                   err_size);
    }
    return bad(text, "expected tcp:HOST:PORT, http://HOST:PORT/PATH[=STATUS][~BODY] or process",
               err, err_size);
}

char *lk_checkspec_target(const struct lk_checkspec *spec, char *buf, size_t size)
{
    const char *open = spec->ipv6 ? "[" : "", *close = spec->ipv6 ? "]" : "";
    switch (spec->kind) {
    case LK_CHECK_TCP:
        snprintf(buf, size, "tcp %s%s%s:%u", open, spec->host, close, (unsigned) spec->port);
        break;
    case LK_CHECK_HTTP:
        snprintf(buf, size, "http %s%s%s:%u%s", open, spec->host, close, (unsigned) spec->port,
                 spec->path);
        break;
    case LK_CHECK_PROCESS:
        snprintf(buf, size, "process");
        break;
    default:
        snprintf(buf, size, "no check");
        break;
    }
    return buf;
}
