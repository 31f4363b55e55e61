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
