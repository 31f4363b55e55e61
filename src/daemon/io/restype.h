/* Resource types: one ops struct per app ("gen" scripts, "ocf" agents, "systemd" units),
 * chosen by the definition's app through lk_type_find. Everything that runs an action, a
 * check or `resource test` prepares the run and classifies its result through here, so no
 * caller compares type strings. The table itself is in restype.c; each type lives in its own
 * io/type_<app>.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "resource.h"
#include "result.h"
#include "runner.h"

struct lk_params; /* src/lib/params.h: a definition's name/value parameters */

/* Where a run happens. */
struct lk_type_ctx {
    const char *root;      /* $LKROOT */
    const char *node_name; /* this node */
    const char *exe_dir;   /* the directory lkd's own helpers live in (lk_systemd) */
    const char *tunables;  /* the tunables' text (gen/app environments); NULL = none */
};

/* The directory lkd's executable is in (where its helpers such as lk_systemd are
 * installed), from /proc/self/exe, read once; "" when it cannot be read. */
const char *lk_type_exe_dir(void);

/* Flags for prepare and classify. */
#define LK_TYPE_PROBE                                                                              \
    1u /* the run is the start-up probe (a quickchk while the resource's                           \
        * pending is PROBE; OCF interval 0) */

/* One prepared run: hand run->spec to lk_run_start, then lk_type_run_free. spec's pointers
 * point into the struct and into env/argv, so the struct must not be copied. */
struct lk_type_run {
    struct lk_run_spec spec;
    char path[LK_PATH_MAX + 256];
    char *argv[8]; /* NULL-terminated; strings heap-owned (lk_type_run_arg); argv[0] = path
                    * when the type adds none (then spec.argv stays NULL) */
    size_t argc;
    char **env; /* heap, NULL-terminated, strings heap-owned (lk_type_run_env) */
    size_t env_count;
    size_t env_cap;
    void *priv; /* the type's own storage, freed with priv_free when set */
    void (*priv_free)(void *priv);
};

/* Called exactly once by an admit hook that returned 0, from the loop, never from inside the
 * hook: status 0 = admitted (the hook may have filled defaults into res->settings), or
 * -EINVAL (or another -errno) with a one-line error for the user. */
typedef void (*lk_type_admit_cb)(int status, const char *err, void *userdata);

/* Bits of lk_type_admit's `given`: the settings the user gave explicitly, which an admit hook
 * must not overwrite with the type's defaults (OCF meta-data timeouts). */
#define LK_TYPE_GIVEN_ACTION_TIMEOUT    0x01u
#define LK_TYPE_GIVEN_QUICKCHK_TIMEOUT  0x02u
#define LK_TYPE_GIVEN_DEEPCHK_TIMEOUT   0x04u
#define LK_TYPE_GIVEN_QUICKCHK_INTERVAL 0x08u
#define LK_TYPE_GIVEN_DEEPCHK_INTERVAL  0x10u

struct lk_type_ops {
    const char *app; /* "gen" (type "app"), "ocf" (type = agent), "systemd" (type = unit) */
    /* Whether its runs take the setting script-args (gen: the scripts get LifeKeeper's
     * `-t TAG -i ID`); lk_type_check refuses script-args lifekeeper for the others. */
    bool script_args;
    /* No I/O: whether the type string and the definition make sense; at create and on
     * definitions received from peers. 0, or -EINVAL with a one-line message. */
    int (*check)(const struct lk_resource *res, char *err, size_t err_size);
    /* Which actions exist (copied into res->has_script[] where resources are created and
     * loaded, so the engine is unchanged: gen = its scripts; ocf and systemd = all five). */
    bool (*has_action)(const struct lk_resource *res, enum lk_action action);
    /* Fills run for res's action (flags: LK_TYPE_PROBE): path, argv, environment, cwd,
     * timeout, secure_root. 0, or -errno with a one-line message (the caller then treats
     * the run as one that could not execute). */
    int (*prepare)(const struct lk_type_ctx *ctx, const struct lk_resource *res,
                   enum lk_action action, unsigned flags, struct lk_type_run *run, char *err,
                   size_t err_size);
    /* Sets result->verdict and result->exit_reason from the exit status and the output
     * (output_len bytes, not NUL-terminated). NULL, or leaving BY_OUTCOME: exit 0 = OK,
     * anything else = FAILED, as for gen/app scripts. */
    void (*classify)(const struct lk_resource *res, enum lk_action action, unsigned flags,
                     struct lk_result *result, const char *output, size_t output_len);
    /* One line for status and ins_list: "gen/app", "ocf heartbeat:IPaddr2"... */
    void (*describe)(const struct lk_resource *res, char *buf, size_t size);
    /* Optional (NULL = nothing to check), asynchronous: at create and at every parameter
     * change, on the loop, before anything is written. res is the candidate definition
     * (app, type, info, settings; it may fill into res->settings the defaults of the
     * settings whose LK_TYPE_GIVEN_* bit is clear), params its parameters (NULL = none).
     * It may run processes through the runner (OCF meta-data and validate-all) on loop.
     * res and params stay the caller's and valid until cb. Returns 0 when cb will be
     * called (exactly once, later, from the loop), or -errno with a one-line message in
     * err when it could not even start (cb is then never called). */
    int (*admit)(uv_loop_t *loop, const struct lk_type_ctx *ctx, struct lk_resource *res,
                 const struct lk_params *params, unsigned given, lk_type_admit_cb cb,
                 void *userdata, char *err, size_t err_size);
    /* Optional: masks in place, keeping the length, what of text (a run's output tail, len
     * bytes, not NUL-terminated) must never be shown: the values of the resource's secret
     * parameters, which an agent may echo (OCF). */
    void (*scrub)(const struct lk_type_ctx *ctx, const struct lk_resource *res, char *text,
                  size_t len);
};

/* The types, one per file. */
extern const struct lk_type_ops lk_type_genapp;  /* type_genapp.c */
extern const struct lk_type_ops lk_type_ocf;     /* type_ocf.c */
extern const struct lk_type_ops lk_type_systemd; /* type_systemd.c */

/* The type for app ("gen", "ocf", "systemd"), or NULL for an unknown one. */
const struct lk_type_ops *lk_type_find(const char *app);

/* The type's check of res, its settings included (script-args only where the type takes
 * it); -EINVAL "unknown resource app 'x'" for an unknown app. */
int lk_type_check(const struct lk_resource *res, char *err, size_t err_size);

/* Whether res has action (false for an unknown app). */
bool lk_type_has_action(const struct lk_resource *res, enum lk_action action);

/* Fills res->has_script[] from its type's has_action. */
void lk_type_fill_actions(struct lk_resource *res);

/* Prepares run (zeroed first) through res's type. On failure run holds nothing to free,
 * and err says why ("unknown resource app 'x'" for an unknown app). */
int lk_type_prepare(const struct lk_type_ctx *ctx, const struct lk_resource *res,
                    enum lk_action action, unsigned flags, struct lk_type_run *run, char *err,
                    size_t err_size);

/* Frees what prepare allocated; run may then be reused. NULL is fine. */
void lk_type_run_free(struct lk_type_run *run);

/* Classifies result through res's type (nothing for an unknown app or no classify). */
void lk_type_classify(const struct lk_resource *res, enum lk_action action, unsigned flags,
                      struct lk_result *result, const char *output, size_t output_len);

/* What a run of res's own process means, in one step for every caller (executor, monitor,
 * resource test): result classified in place, and the output to show from now on: output
 * itself, or, when the type masks secrets and there is output, a masked copy in masked
 * (LK_RUN_OUTPUT_MAX bytes; a longer output is returned as it is, the runner never keeps
 * more). */
const char *lk_type_read_run(const struct lk_type_ctx *ctx, const struct lk_resource *res,
                             enum lk_action action, unsigned flags, struct lk_result *result,
                             const char *output, size_t output_len, char *masked);

/* Describes res through its type; "<app>/<type>" for an unknown app. Returns buf. */
char *lk_type_describe(const struct lk_resource *res, char *buf, size_t size);

/* Runs res's type's admit hook. Returns 0 when cb will be called, 1 when the type has none
 * (admitted at once; cb is not called), or -errno with a one-line message in err. */
int lk_type_admit(uv_loop_t *loop, const struct lk_type_ctx *ctx, struct lk_resource *res,
                  const struct lk_params *params, unsigned given, lk_type_admit_cb cb,
                  void *userdata, char *err, size_t err_size);

/* Helpers for prepare implementations. Each returns 0 or -ENOMEM (-E2BIG for an argument
 * past the 7th). */
/* Appends "name=value" to run's environment. */
int lk_type_run_env(struct lk_type_run *run, const char *name, const char *value);
/* Appends one argument; the first one added is argv[0]. Sets spec.argv. */
int lk_type_run_arg(struct lk_type_run *run, const char *arg);
