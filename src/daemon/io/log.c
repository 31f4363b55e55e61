/* lkd's diagnostic lines on stderr, filtered by level (log.h). One process-wide level,
 * set once from lk.conf at start; LKD_DEBUG in the environment adds debug. Each line is
 * formatted first and written with one call, so lines of concurrent writers (the daemon
 * and the scripts it runs share stderr) are not interleaved mid-line.
 * Events that enter: calls only. Never: allocate, block on anything but stderr, or
 * write to the event log (that is eventlog.c's). */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

static const char *const level_names[] = {
        [LK_LOG_ERR] = "err",   [LK_LOG_WARNING] = "warning", [LK_LOG_NOTICE] = "notice",
        [LK_LOG_INFO] = "info", [LK_LOG_DEBUG] = "debug",
};

static enum lk_log_level current = LK_LOG_DEFAULT;
static int env_debug = -1; /* LKD_DEBUG is set: -1 = not looked at yet */

int lk_log_level_parse(const char *text, enum lk_log_level *ret_level, char *err, size_t err_size)
{
    for (int l = LK_LOG_ERR; text && l <= LK_LOG_DEBUG; l++) {
        if (strcmp(text, level_names[l]) == 0) {
            *ret_level = (enum lk_log_level) l;
            return 0;
        }
    }
    bool printable = text != NULL;
    for (const char *p = text; p && *p; p++) {
        printable = printable && (unsigned char) *p >= 0x20 && *p != 0x7f;
    }
    /* Quoted only when printable, so that the message stays one line. */
    return lk_fail_einval(err, err_size,
                          "invalid log-level%s%.64s%s: expected err, warning, notice, info or "
                          "debug",
                          printable ? " '" : "", printable ? text : "", printable ? "'" : "");
}

const char *lk_log_level_name(enum lk_log_level level)
{
    return level >= LK_LOG_ERR && level <= LK_LOG_DEBUG ? level_names[level] : "?";
}

void lk_log_set_level(enum lk_log_level level)
{
    current = level;
}

bool lk_log_enabled(enum lk_log_level level)
{
    if (level <= current) {
        return true;
    }
    if (env_debug < 0) {
        env_debug = getenv("LKD_DEBUG") != NULL;
    }
    return level == LK_LOG_DEBUG && env_debug;
}

void lk_log(enum lk_log_level level, const char *format, ...)
{
    if (!lk_log_enabled(level)) {
        return;
    }
    char line[4096];
    va_list ap;
    va_start(ap, format);
    int n = vsnprintf(line, sizeof(line), format, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    /* A longer line is cut, still as one line. */
    fprintf(stderr, "lkd: %s\n", line);
}
