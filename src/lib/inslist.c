/* ins_list's line: node, app, type, tag, id, info, state, reason, init, reserved,
 * quick-check failures, local recoveries, reserved, quick and deep intervals in seconds,
 * local recovery 1/0, switchback. The 7th field is the state, as scripts written for the
 * seed system expect. */
#include "inslist.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

char *lk_format_seconds(unsigned long long usec, char *buf, size_t size)
{
    unsigned long long whole = usec / 1000000ULL;
    unsigned long long frac = usec % 1000000ULL;
    if (frac == 0) {
        snprintf(buf, size, "%llu", whole);
        return buf;
    }
    char digits[8];
    snprintf(digits, sizeof(digits), "%06llu", frac);
    for (int i = 5; i > 0 && digits[i] == '0'; i--) {
        digits[i] = '\0';
    }
    snprintf(buf, size, "%llu.%s", whole, digits);
    return buf;
}

const char *const lk_inslist_field_names[LK_INSLIST_FIELDS] = {
        "node",
        "app",
        "type",
        "tag",
        "id",
        "info",
        "state",
        "reason",
        "init",
        "reserved10",
        "check_failures",
        "local_recoveries",
        "reserved13",
        "quickchk_interval",
        "deepchk_interval",
        "local_recovery",
        "switchback",
};

void lk_inslist_fields(const struct lk_resource *res, const char *node,
                       struct lk_inslist_numbers *n, const char *fields[LK_INSLIST_FIELDS])
{
    lk_format_seconds(res->settings.quickchk_interval_usec, n->quick, sizeof(n->quick));
    lk_format_seconds(res->settings.deepchk_interval_usec, n->deep, sizeof(n->deep));
    snprintf(n->failures, sizeof(n->failures), "%u", res->check_failures_in_row);
    snprintf(n->recoveries, sizeof(n->recoveries), "%u", res->local_recoveries);
    const char *f[LK_INSLIST_FIELDS] = {
            node,
            res->app,
            res->type,
            res->tag,
            res->id,
            res->info,
            lk_state_name(res->state),
            res->reason,
            lk_init_name(res->settings.init),
            "",
            n->failures,
            n->recoveries,
            "",
            n->quick,
            n->deep,
            res->settings.local_recovery ? "1" : "0",
            lk_switchback_name(res->settings.switchback),
    };
    memcpy(fields, f, sizeof(f));
}

int lk_inslist_format(const struct lk_resource *res, const char *node, char sep, char *buf,
                      size_t size, int *ret_bad_field)
{
    struct lk_inslist_numbers numbers;
    const char *fields[LK_INSLIST_FIELDS];
    lk_inslist_fields(res, node, &numbers, fields);
    size_t used = 0;
    for (int i = 0; i < LK_INSLIST_FIELDS; i++) {
        if (strchr(fields[i], sep) || strchr(fields[i], '\n')) {
            if (ret_bad_field) {
                *ret_bad_field = i + 1;
            }
            return -EINVAL;
        }
        size_t len = strlen(fields[i]);
        size_t need = len + (i > 0 ? 1 : 0);
        if (used + need + 1 > size) {
            return -ENOSPC;
        }
        if (i > 0) {
            buf[used++] = sep;
        }
        memcpy(buf + used, fields[i], len);
        used += len;
    }
    buf[used] = '\0';
    return (int) used;
}

static bool needs_escape(unsigned char c, char sep)
{
    return c == (unsigned char) sep || c == '\\' || (c < 0x20 && c != '\t') || c == 0x7f;
}

size_t lk_inslist_escape(const char *text, char sep, char *buf, size_t size)
{
    size_t need = 0;
    for (const unsigned char *p = (const unsigned char *) text; *p; p++) {
        char esc[5];
        size_t len = 1;
        if (needs_escape(*p, sep)) {
            snprintf(esc, sizeof(esc), "\\%03o", *p);
            len = 4;
        } else {
            esc[0] = (char) *p;
        }
        /* Only whole escapes are written: a cut never leaves half of one. */
        if (size > 0 && need + len < size) {
            memcpy(buf + need, esc, len);
        } else if (size > 0 && need < size) {
            buf[need] = '\0';
            size = need + 1;
        }
        need += len;
    }
    if (size > 0) {
        buf[need < size ? need : size - 1] = '\0';
    }
    return need;
}

bool lk_inslist_separator_ok(char c)
{
    return c != '\0' && c != '\n' && c != '\\' && !(c >= '0' && c <= '7');
}

int lk_inslist_format_escaped(const struct lk_resource *res, const char *node, char sep, char *buf,
                              size_t size)
{
    struct lk_inslist_numbers numbers;
    const char *fields[LK_INSLIST_FIELDS];
    lk_inslist_fields(res, node, &numbers, fields);
    size_t used = 0;
    for (int i = 0; i < LK_INSLIST_FIELDS; i++) {
        if (i > 0) {
            if (used + 2 > size) {
                return -ENOSPC;
            }
            buf[used++] = sep;
        }
        size_t need = lk_inslist_escape(fields[i], sep, buf + used, size - used);
        if (used + need + 1 > size) {
            return -ENOSPC;
        }
        used += need;
    }
    buf[used] = '\0';
    return (int) used;
}
