/* ins_setchkint [-d DEST] -t TAG -c q|d -v INTERVAL: sets a resource's quick or deep check
 * interval, as LifeKeeper's ins_setchkint does. LifeKeeper gives this interval in minutes
 * (its GUI and ins_create -Q/-D; ins_list then shows seconds): INTERVAL is minutes here too,
 * converted to seconds; "30s" gives seconds, 0 turns the check off. The change is
 * resource.config's --quickchk-interval / --deepchk-interval (one definition, replicated).
 * It never runs a check. */
#include <stdio.h>
#include <string.h>

#include "lcdi.h"
#include "proto.h"
#include "validate.h"

int main(int argc, char **argv)
{
    struct lcdi l;
    lcdi_init(&l, "ins_setchkint",
              "usage: ins_setchkint [-d DEST] -t TAG -c {q|d} -v INTERVAL [--root DIR]",
              "\n"
              "Sets the quick (-c q) or deep (-c d) check interval of resource TAG.\n"
              "\n"
              "  -d DEST       the node to send the change to; default: this node\n"
              "  -t TAG        the resource (required)\n"
              "  -c q|d        which check: q (quickchk) or d (deepchk) (required)\n"
              "  -v INTERVAL   minutes, as LifeKeeper's (1440 at most), or seconds with an 's'\n"
              "                (\"30s\"; \"3m\" is 3 minutes); 0 turns the check off (required)\n"
              "  --root DIR    the node's root directory; default: $LKROOT, else the default\n"
              "  --version     the version\n"
              "  --help        this help\n"
              "\n"
              "Exit status (LCDI): 0 ok, 1 failed or lkd not reachable, 2 syntax error, 5 illegal\n"
              "interval or check, 7 no such resource, 9 communication with DEST failed.\n");
    const char *tag = NULL, *check = NULL, *interval = NULL;
    int c;
    while ((c = lcdi_getopt(&l, argc, argv, "d:t:c:v:", false)) != -1) {
        switch (c) {
        case 't':
            tag = optarg;
            break;
        case 'c':
            check = optarg;
            break;
        case 'v':
            interval = optarg;
            break;
        default:
            return l.exit;
        }
    }
    if (optind < argc) {
        return lcdi_syntax(&l, "unexpected argument");
    }
    if (!tag || !check || !interval) {
        return lcdi_syntax(&l, !tag     ? "missing -t TAG"
                               : !check ? "missing -c q|d"
                                        : "missing -v INTERVAL");
    }
    const char *key = strcmp(check, "q") == 0 || strcmp(check, "quick") == 0  ? "quickchk-interval"
                      : strcmp(check, "d") == 0 || strcmp(check, "deep") == 0 ? "deepchk-interval"
                                                                              : NULL;
    if (!key) {
        return lcdi_fail(&l, LCDI_ILLEGAL, "-c '%s': expected q (quick) or d (deep)", check);
    }
    /* Minutes unless it ends in 's'; whole numbers only, as LifeKeeper's. */
    char digits[32];
    size_t len = strlen(interval);
    bool in_seconds = len > 1 && interval[len - 1] == 's';
    bool unit = in_seconds || (len > 1 && interval[len - 1] == 'm');
    uint64_t n = 0;
    if (len == 0 || len >= sizeof(digits)) {
        return lcdi_fail(&l, LCDI_ILLEGAL, "-v '%s': expected minutes, or seconds as 30s",
                         interval);
    }
    snprintf(digits, sizeof(digits), "%.*s", (int) (unit ? len - 1 : len), interval);
    if (lk_parse_uint(digits, 0, in_seconds ? 86400 : 1440, &n) < 0) {
        return lcdi_fail(&l, LCDI_ILLEGAL,
                         "-v '%s': expected minutes (0 to 1440), or seconds as 30s (to 86400s)",
                         interval);
    }
    char seconds[32];
    snprintf(seconds, sizeof(seconds), "%llu", (unsigned long long) (in_seconds ? n : n * 60));
    json_t *args = json_pack("{s:s, s:{s:s}}", "tag", tag, "settings", key, seconds);
    json_t *data = NULL;
    int r = lcdi_ask(&l, LK_CMD_RES_CONFIG, args, &data);
    json_decref(data);
    return r;
}
