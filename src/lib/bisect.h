/* Binary search over arrays of pointers to structs that are kept sorted by a tag (a char
 * array inside each struct, compared with strcmp). Resources, watches and the engine's
 * view all use it, so a thousand resources cost ten comparisons a lookup. Pure. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Where tag is in items[0..count), or where it would be inserted. Each items[i] points to
 * a struct with the tag tag_offset bytes in (offsetof(struct x, tag)). *ret_found says
 * whether it is there. */
size_t lk_bisect_tag(const void *const *items, size_t count, size_t tag_offset, const char *tag,
                     bool *ret_found);
