/* The ins_list line format (SPEC §7): seventeen fields in the seed system's order.
 * Pure formatting. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "resource.h"

#define LK_INSLIST_FIELDS 17

/* The fields' names, as `ins_list --json` gives them ("node", "app", … "switchback"). */
extern const char *const lk_inslist_field_names[LK_INSLIST_FIELDS];

/* Room for the numbers among the fields (see lk_inslist_fields). */
struct lk_inslist_numbers {
    char quick[32], deep[32], failures[16], recoveries[16];
};

/* The seventeen fields of res's line, in order, as text (pointing into res, node and
 * numbers, which must outlive fields). */
void lk_inslist_fields(const struct lk_resource *res, const char *node,
                       struct lk_inslist_numbers *numbers, const char *fields[LK_INSLIST_FIELDS]);

/* Formats one resource as an ins_list line (no newline) with sep between fields.
 * Returns the length written, -ENOSPC when buf is too small, or -EINVAL when a field
 * contains sep (the line would be ambiguous); then *ret_bad_field is the 1-based field. */
int lk_inslist_format(const struct lk_resource *res, const char *node, char sep, char *buf,
                      size_t size, int *ret_bad_field);

/* Seconds as ins_list and status print them: "180", "0.5", "0". Returns buf. */
char *lk_format_seconds(unsigned long long usec, char *buf, size_t size);

/* Escapes text as one field of a record whose fields are separated by sep (the LifeKeeper
 * commands' -f C): every byte that is sep, a backslash or a control character other than
 * tab becomes a backslash and its three octal digits ("\054" for ',', "\134" for a
 * backslash, "\012" for a newline); the rest is copied. Writes at most size bytes,
 * always NUL-terminated when size > 0, and returns the length the whole escaped text
 * needs (as snprintf: a result >= size means it was cut). */
size_t lk_inslist_escape(const char *text, char sep, char *buf, size_t size);

/* lk_inslist_format with every field escaped (lk_inslist_escape) instead of refused: the
 * line always has seventeen fields. Returns the length written or -ENOSPC. */
int lk_inslist_format_escaped(const struct lk_resource *res, const char *node, char sep, char *buf,
                              size_t size);

/* Whether c can separate escaped fields unambiguously: not NUL, a newline, a backslash or
 * an octal digit (those occur in escapes). */
bool lk_inslist_separator_ok(char c);
