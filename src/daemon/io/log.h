/* lkd's own diagnostic lines on stderr ("lkd: ..."), by level of meaning (as Pacemaker
 * and syslog name them): err (something failed and was not done), warning (something
 * odd was ignored), notice (a normal but significant change), info (what the daemon is
 * doing), debug (the decision log: each engine's inputs and outputs, for replay).
 * Operator-facing history goes to the event log (eventlog.h), not here.
 *
 * The level is lk.conf's `[node] log-level` (config.h; default info); the environment
 * variable LKD_DEBUG, set to anything, also turns debug on (kept from before levels). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum lk_log_level {
    LK_LOG_ERR = 3, /* the syslog numbers */
    LK_LOG_WARNING = 4,
    LK_LOG_NOTICE = 5,
    LK_LOG_INFO = 6,
    LK_LOG_DEBUG = 7,
};

#define LK_LOG_DEFAULT LK_LOG_INFO

/* Parses a level's name ("err", "warning", "notice", "info", "debug"). Returns 0 or
 * -EINVAL with a one-line message in err naming the accepted values. */
int lk_log_level_parse(const char *text, enum lk_log_level *ret_level, char *err, size_t err_size);

/* The name lk_log_level_parse takes for level; "?" for a value out of range. */
const char *lk_log_level_name(enum lk_log_level level);

/* Lines of level and more severe ones are written from now on. */
void lk_log_set_level(enum lk_log_level level);

/* Whether a line of level would be written: to skip building an expensive one. */
bool lk_log_enabled(enum lk_log_level level);

/* Writes "lkd: " and the formatted text as one line to stderr, when level is enabled.
 * A trailing newline is added (the format has none). */
__attribute__((format(printf, 2, 3))) void lk_log(enum lk_log_level level, const char *format, ...);
