/* The ins_list line format (SPEC §7): seventeen fields in the seed system's order.
 * Pure formatting. */
#pragma once

#include <stddef.h>

#include "resource.h"

#define LK_INSLIST_FIELDS 17

/* Formats one resource as an ins_list line (no newline) with sep between fields.
 * Returns the length written, -ENOSPC when buf is too small, or -EINVAL when a field
 * contains sep (the line would be ambiguous); then *ret_bad_field is the 1-based field. */
int lk_inslist_format(const struct lk_resource *res, const char *node, char sep, char *buf,
                      size_t size, int *ret_bad_field);

/* Seconds as ins_list and status print them: "180", "0.5", "0". Returns buf. */
char *lk_format_seconds(unsigned long long usec, char *buf, size_t size);
