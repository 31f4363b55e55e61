/* Validation of what users give us: tags, ids, info strings, script contents, numbers.
 * Pure: works on strings and buffers, never on files. Each validator returns 0 when the
 * input is acceptable, or -EINVAL and writes a one-line English reason (no final period)
 * into err. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LK_TAG_MAX         128  /* bytes in a tag or an id */
#define LK_INFO_MAX        1024 /* bytes in the app-info string */
#define LK_SCRIPT_MAX_SIZE (1024 * 1024)
#define LK_APP_MAX         15     /* bytes in an app: "gen", "ocf", "systemd" */
#define LK_TYPE_MAX        255    /* bytes in a type: "app", an OCF agent, a systemd unit */
#define LK_FIELD_SEPARATOR '\x1f' /* ins_list's default field separator */

/* A tag: 1..LK_TAG_MAX bytes of [A-Za-z0-9._-], not "." or "..", not starting with '-'
 * or '.'. The same rule serves for ids. what names the field in the message ("tag"). */
int lk_validate_tag(const char *tag, const char *what, char *err, size_t err_size);

/* Writes the message into err (when err_size > 0) and returns -EINVAL: the one-line
 * refusal every validator returns. */
__attribute__((format(printf, 3, 4))) int lk_fail_einval(char *err, size_t err_size,
                                                         const char *fmt, ...);

/* The app-info string: printable characters only (no control characters, so neither the
 * ins_list separator nor a newline), at most LK_INFO_MAX bytes. */
int lk_validate_info(const char *info, char *err, size_t err_size);

/* The reason of a state set by hand (ins_setstate -R): printable characters only (no
 * control character, so neither the ins_list separator nor a newline), 1 to
 * LK_HAND_REASON_MAX bytes. */
#define LK_HAND_REASON_MAX 256
int lk_validate_hand_reason(const char *reason, char *err, size_t err_size);

/* A resource's app and type as text: app one of "gen", "ocf", "systemd"; type 1..255
 * bytes (LK_TYPE_MAX) of [A-Za-z0-9._:@\\-], not starting with '-' or '.'; gen's type is
 * "app". What a type means (an agent that exists, a unit name) the type table checks. */
int lk_validate_app_type(const char *app, const char *type, char *err, size_t err_size);

/* Whether buf (len bytes, the start of a file) begins with "#!" or the ELF magic. */
bool lk_script_header_ok(const void *buf, size_t len);

/* A whole script's content: not empty, at most LK_SCRIPT_MAX_SIZE, header as above. */
int lk_validate_script(const void *buf, size_t len, char *err, size_t err_size);

/* Parses a duration in seconds with an optional fraction ("2", "0.5", "180") into
 * microseconds; min_usec..max_usec inclusive, and 0 is always allowed when allow_zero. */
int lk_parse_seconds(const char *text, uint64_t min_usec, uint64_t max_usec, bool allow_zero,
                     uint64_t *ret_usec);

/* Parses a whole number in min..max inclusive. */
int lk_parse_uint(const char *text, uint64_t min, uint64_t max, uint64_t *ret_value);
