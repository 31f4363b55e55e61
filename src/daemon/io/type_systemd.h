/* The systemd type's extra (type_systemd.c): the runs that hold a unit for the cluster and
 * give it back, for core/sdunits.c. The type itself is lk_type_systemd in restype.h. */
#pragma once

#include <stdbool.h>

#include "restype.h"
#include "sdunit.h"

/* Where `lk_systemd own|release` keep a resource's record: $LKROOT/<this>/<TAG>. */
#define LK_SYSTEMD_RECORD_DIR "subsys/gen/resources/systemd"

/* Fills run (zeroed first) for `lk_systemd own UNIT` (own) or `release UNIT` of tag,
 * bounded by timeout_usec. 0, or -ENOMEM (run then holds nothing to free). */
int lk_type_systemd_prepare_hold(const struct lk_type_ctx *ctx, const char *tag, const char *unit,
                                 bool own, uint64_t timeout_usec, struct lk_type_run *run);
