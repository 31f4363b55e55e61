/* Binary search by tag over sorted arrays of struct pointers (see bisect.h). */
#include "bisect.h"

#include <string.h>

size_t lk_bisect_tag(const void *const *items, size_t count, size_t tag_offset, const char *tag,
                     bool *ret_found)
{
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp((const char *) items[mid] + tag_offset, tag);
        if (c == 0) {
            *ret_found = true;
            return mid;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *ret_found = false;
    return lo;
}
