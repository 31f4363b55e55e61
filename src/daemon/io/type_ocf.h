/* The ocf type's own entry points beyond the type table (restype.h): the agent's meta-data,
 * for `lkcli resource describe-agent` (api/api_agent.c). */
#pragma once

#include <stddef.h>
#include <uv.h>

#include "ocf.h"
#include "resource.h"

/* Called once with the parsed meta-data (borrowed for the call) and the agent's
 * "provider:agent" name, or with status < 0 and a one-line error (meta NULL). */
typedef void (*lk_type_ocf_meta_cb)(int status, const char *err, const struct lk_ocf_meta *meta,
                                    const char *agent, void *userdata);

/* Runs agent_text's `meta-data` on loop (root: $LKROOT, its working directory and where its
 * output is kept until read). The agent must be installed under the OCF root, pass lkd's
 * script check and call none of Pacemaker's tools. Returns 0 when cb will be called (later,
 * from the loop), or -errno with a one-line message in err (cb never called): -EINVAL for a
 * bad name, -ENOENT not installed, -EPERM unsafe, -ENOTSUP Pacemaker's tools. */
int lk_type_ocf_meta(uv_loop_t *loop, const char *root, const char *node, const char *agent_text,
                     lk_type_ocf_meta_cb cb, void *userdata, char *err, size_t err_size);

/* Masks, in place and keeping the length, every value of res's secret parameters (marked,
 * or named like a secret: lk_ocf_secret_name) in text (len bytes, not NUL-terminated): for
 * a run's output tail before it is attached to an event. root: $LKROOT. */
void lk_type_ocf_scrub_output(const char *root, const struct lk_resource *res, char *text,
                              size_t len);
