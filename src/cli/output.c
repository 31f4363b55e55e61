/* Human-readable output shared by the commands (kept apart from the protocol code): the
 * progress lines of long operations and the one way an event is printed. */
#include "output.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void lk_print_progress(const char *text, const json_t *msg, void *userdata)
{
    (void) msg;
    (void) userdata;
    if (text) {
        printf("%s\n", text);
        fflush(stdout);
    }
}

void lk_print_event(const json_t *e, const char *indent, unsigned flags)
{
    long long ms = (long long) json_integer_value(json_object_get(e, "time_ms"));
    time_t secs = (time_t) (ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char when[32];
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
    const char *node = json_string_value(json_object_get(e, "node"));
    const char *tag = json_string_value(json_object_get(e, "tag"));
    const char *process = json_string_value(json_object_get(e, "process"));
    bool foreign = process && process[0] && strcmp(process, "lkd") != 0;
    printf("%s%s.%03lldZ %s%s%-7s %5lld %s%s%s%s: %s\n", indent, when, ms % 1000,
           (flags & LK_EVENT_NODE) && node ? node : "", (flags & LK_EVENT_NODE) ? " " : "",
           json_string_value(json_object_get(e, "severity")),
           (long long) json_integer_value(json_object_get(e, "number")), tag && tag[0] ? tag : "-",
           foreign ? " (" : "", foreign ? process : "", foreign ? ")" : "",
           json_string_value(json_object_get(e, "message")));
    const char *detail = json_string_value(json_object_get(e, "detail"));
    for (const char *p = detail; (flags & LK_EVENT_DETAIL) && p && *p;) {
        const char *nl = strchr(p, '\n');
        int len = nl ? (int) (nl - p) : (int) strlen(p);
        printf("%s    | %.*s\n", indent, len, p);
        p += len + (nl ? 1 : 0);
    }
    fflush(stdout);
}
