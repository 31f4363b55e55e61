/* sendevent -C CLASS -E EVENT -m MONITOR -n NAME [-s SEVERITY] [...]: a monitor's event,
 * in LifeKeeper's sendevent(5) terms, written into this node's event log (and so to
 * lk.log, syslog and the alert hooks) as event 1750 (INFO), 1751 (WARNING) or 1752
 * (ERROR), with the class, event, monitor and object name in the message and the
 * resource's tag from $LK_TAG when lkd runs the caller. Every option of sendevent(5) is
 * accepted; -x's text is added to the message, the others are read and ignored. It
 * never starts a recovery: LifeKeeper's registered event handlers have no equivalent
 * here (docs/LIFEKEEPER.md). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog.h"
#include "lcdi.h"
#include "proto.h"

/* SEVERITY as our event number: a name (syslog's and LifeKeeper's categories) or a
 * syslog level 0-7. Returns 0 when it is none of these. */
static int number_of(const char *severity)
{
    static const struct {
        const char *name;
        int number;
    } names[] = {
            {"INFO", LK_MSG_SENDEVENT_INFO},       {"NOTICE", LK_MSG_SENDEVENT_INFO},
            {"DEBUG", LK_MSG_SENDEVENT_INFO},      {"MSG", LK_MSG_SENDEVENT_INFO},
            {"WARNING", LK_MSG_SENDEVENT_WARNING}, {"WARN", LK_MSG_SENDEVENT_WARNING},
            {"MINOR", LK_MSG_SENDEVENT_WARNING},   {"ERROR", LK_MSG_SENDEVENT_ERROR},
            {"ERR", LK_MSG_SENDEVENT_ERROR},       {"MAJOR", LK_MSG_SENDEVENT_ERROR},
            {"CRITICAL", LK_MSG_SENDEVENT_ERROR},  {"CRIT", LK_MSG_SENDEVENT_ERROR},
            {"FATAL", LK_MSG_SENDEVENT_ERROR},     {"ALERT", LK_MSG_SENDEVENT_ERROR},
            {"EMERG", LK_MSG_SENDEVENT_ERROR},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(severity, names[i].name) == 0) {
            return names[i].number;
        }
    }
    if (severity[0] >= '0' && severity[0] <= '7' && severity[1] == '\0') {
        int level = severity[0] - '0';
        return level <= 3   ? LK_MSG_SENDEVENT_ERROR
               : level == 4 ? LK_MSG_SENDEVENT_WARNING
                            : LK_MSG_SENDEVENT_INFO;
    }
    return 0;
}

/* One line of printable text: a control character becomes a space. */
static void flatten(char *s)
{
    for (; *s; s++) {
        if ((unsigned char) *s < 0x20 || *s == 0x7f) {
            *s = ' ';
        }
    }
}

int main(int argc, char **argv)
{
    struct lcdi l;
    lcdi_init(&l, "sendevent",
              "usage: sendevent -C CLASS -E EVENT -m MONITOR -n NAME [-s SEVERITY] [-x TEXT] "
              "[-c CLASS-OF-OBJ] [-i ID] [-t YYMMDDHHMMSS] [-T TIMESTAMP] [-o] [-z] [-w] "
              "[-a TYPE] [-P PROBLEM-TYPE] [-p PROBLEM-CODE] [-d PROBLEM-DATA] [-S SYSTEM] "
              "[-O OUTFILE] [--root DIR]",
              "\n"
              "Writes a monitor's event into this node's event log (and so to lk.log, syslog and\n"
              "the alert hooks): event 1750 (INFO), 1751 (WARNING) or 1752 (ERROR) by SEVERITY,\n"
              "the message naming CLASS, EVENT, MONITOR and NAME, the resource $LK_TAG when set.\n"
              "It starts no recovery.\n"
              "\n"
              "  -C CLASS      the class of the event (required)\n"
              "  -E EVENT      the event (required)\n"
              "  -m MONITOR    the monitor that saw it (required)\n"
              "  -n NAME       the object it happened to (required)\n"
              "  -s SEVERITY   INFO, NOTICE, WARNING, MINOR, ERROR, MAJOR, CRITICAL, FATAL (any\n"
              "                case) or a syslog level 0-7; default: WARNING\n"
              "  -x TEXT       the problem's text, added to the message\n"
              "  -c -i -t -T -o -z -w -a -P -p -d -S -O   accepted as sendevent(5) has them,\n"
              "                not used\n"
              "  --root DIR    the node's root directory; default: $LKROOT, else the default\n"
              "  --version     the version\n"
              "  --help        this help\n"
              "\n"
              "Exit status (LCDI): 0 ok, 1 failed or lkd not reachable, 2 syntax error, 5 illegal\n"
              "severity.\n");
    l.own_d = true;
    const char *cls = NULL, *event = NULL, *monitor = NULL, *name = NULL, *severity = NULL,
               *text = NULL;
    int c;
    while ((c = lcdi_getopt(&l, argc, argv, "C:E:m:n:s:x:c:i:t:T:ozwa:P:p:d:S:O:", false)) != -1) {
        switch (c) {
        case 'C':
            cls = optarg;
            break;
        case 'E':
            event = optarg;
            break;
        case 'm':
            monitor = optarg;
            break;
        case 'n':
            name = optarg;
            break;
        case 's':
            severity = optarg;
            break;
        case 'x':
            text = optarg;
            break;
        case LCDI_OPT_EXIT:
            return l.exit;
        default:
            break; /* sendevent(5)'s other options: accepted, not used */
        }
    }
    if (optind < argc) {
        return lcdi_syntax(&l, "unexpected argument");
    }
    if (!cls || !event || !monitor || !name) {
        return lcdi_syntax(&l, !cls       ? "missing -C CLASS"
                               : !event   ? "missing -E EVENT"
                               : !monitor ? "missing -m MONITOR"
                                          : "missing -n NAME");
    }
    int number = severity ? number_of(severity) : LK_MSG_SENDEVENT_WARNING;
    if (!number) {
        return lcdi_fail(&l, LCDI_ILLEGAL,
                         "-s '%s': expected INFO, WARNING, ERROR (or NOTICE, MINOR, MAJOR, "
                         "CRITICAL, FATAL) or a syslog level 0-7",
                         severity);
    }
    char extra[600] = "";
    if (text && text[0]) {
        snprintf(extra, sizeof(extra), ": %s", text);
    }
    /* Below the event log's 1024 bytes; a text cut inside a UTF-8 character is cut
     * further, to its last whole character. */
    char message[1000];
    lk_catalog_format(message, sizeof(message), number, cls, event, monitor, name, extra);
    flatten(message);
    const struct lk_catalog_entry *entry = lk_catalog_find(number);
    json_t *args = NULL;
    size_t full = strlen(message);
    for (size_t len = full; !args && len > 0 && len + 4 > full; len--) {
        message[len] = '\0';
        args = json_pack("{s:s, s:i, s:s, s:s}", "category",
                         lk_severity_name(entry ? entry->severity : LK_SEV_WARNING), "number",
                         number, "message", message, "process", "sendevent");
    }
    if (!args) {
        return lcdi_fail(&l, LCDI_ILLEGAL, "the event's text is not valid UTF-8");
    }
    const char *tag = getenv("LK_TAG");
    if (tag && tag[0]) {
        json_object_set_new(args, "tag", json_string(tag));
    }
    json_t *data = NULL;
    int r = lcdi_ask(&l, LK_CMD_LOG_WRITE, args, &data);
    json_decref(data);
    return r;
}
