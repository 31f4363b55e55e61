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

int lk_inslist_format(const struct lk_resource *res, const char *node, char sep, char *buf,
                      size_t size, int *ret_bad_field)
{
    char quick[32], deep[32], failures[16], recoveries[16];
    lk_format_seconds(res->settings.quickchk_interval_usec, quick, sizeof(quick));
    lk_format_seconds(res->settings.deepchk_interval_usec, deep, sizeof(deep));
    snprintf(failures, sizeof(failures), "%u", res->check_failures_in_row);
    snprintf(recoveries, sizeof(recoveries), "%u", res->local_recoveries);

    const char *fields[LK_INSLIST_FIELDS] = {
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
            failures,
            recoveries,
            "",
            quick,
            deep,
            res->settings.local_recovery ? "1" : "0",
            lk_switchback_name(res->settings.switchback),
    };
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
