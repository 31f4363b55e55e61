/* Built-in checks run inside lkd (probe.c): a TCP connect, an HTTP GET, or a look at a
 * resource's process, on the loop, without a process of their own. Each ends as a struct
 * lk_result, as a script's run does, so that the monitor and the engine treat both alike:
 * SUCCESS, EXIT (status 1, the reason in message and in the output), TIMEOUT, ABORTED. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "cgroup.h"
#include "checkspec.h"
#include "resource.h"
#include "result.h"

struct lk_probe;

struct lk_probe_spec {
    struct lk_checkspec check; /* copied by lk_probe_start */
    uint64_t timeout_usec;     /* 0 = no limit (as a script's) */
    /* process: the pidfile's process, or without a pidfile the cgroup of tag in cgroups
     * (NULL: containment is off). Borrowed for the call only. */
    const char *pidfile;
    const struct lk_cgroups *cgroups;
    const char *tag;
};

/* Fills *ret for res's built-in check of action (quickchk or deepchk): the SPEC parsed, the
 * timeout a script of that check would get, res's pidfile and tag (borrowed from res), and
 * cgroups (NULL: containment off). Returns 0, -ENOENT when res has no built-in check for
 * action, or -EINVAL for a SPEC that does not parse (lk_settings_set refuses those). */
int lk_probe_spec_for(struct lk_probe_spec *ret, const struct lk_resource *res,
                      enum lk_action action, const struct lk_cgroups *cgroups);

/* Called exactly once per started probe, from the loop, on a later iteration than
 * lk_probe_start's; result and output (output_len bytes, not NUL-terminated) are borrowed
 * for the call. The probe is freed after the callback returns. */
typedef void (*lk_probe_done_cb)(struct lk_probe *probe, const struct lk_result *result,
                                 const char *output, size_t output_len, void *userdata);

/* Starts a probe. Returns 0 and sets *ret_probe (borrowed until cb fires; may be NULL), or a
 * negative errno (-ENOMEM, -EINVAL for an empty check), in which case cb is never called.
 * A connection that cannot even be tried (no descriptor left) is a failed check, told
 * through cb. */
int lk_probe_start(uv_loop_t *loop, const struct lk_probe_spec *spec, lk_probe_done_cb cb,
                   void *userdata, struct lk_probe **ret_probe);

/* Ends a probe now: cb still fires, with LK_OUTCOME_ABORTED. No effect on a probe that is
 * already finishing. */
void lk_probe_abort(struct lk_probe *probe);

/* Probes in flight in this process. */
unsigned lk_probe_count(void);
