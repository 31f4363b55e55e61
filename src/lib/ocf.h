/* OCF resource agents (the Open Cluster Framework's resource agent API, as Debian's
 * resource-agents ship them): the exit-code table, the ocf-exit-reason line, the agent's
 * name, the environment a run gets, the meta-data XML, and the Pacemaker tools an agent
 * would need. Pure: no I/O beyond parsing buffers the caller read (docs/OCF.md).
 *
 * Owner: every struct here is owned by its caller; lk_ocf_meta_free and lk_ocf_env_free
 * release what the parse and build functions allocated. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "action.h"
#include "result.h"

#define LK_OCF_ROOT_DEFAULT  "/usr/lib/ocf"
#define LK_OCF_ROOT_ENV      "LK_OCF_ROOT" /* overrides the default (tests) */
#define LK_OCF_PROVIDER_MAX  63
#define LK_OCF_AGENT_MAX     127
#define LK_OCF_DEEP_DEPTH    10                /* OCF_CHECK_LEVEL of a deepchk unless configured */
#define LK_OCF_DEPTH_PARAM   "OCF_CHECK_LEVEL" /* the parameter that configures it */
#define LK_OCF_DEPTH_MAX     1000
#define LK_OCF_REASON_PREFIX "ocf-exit-reason:"
#define LK_OCF_RA_MAJOR      1
#define LK_OCF_RA_MINOR      1

/* The OCF exit codes (resource-agents' ocf-returncodes; 190/191 from OCF 1.1). */
enum {
    LK_OCF_SUCCESS = 0,
    LK_OCF_ERR_GENERIC = 1,
    LK_OCF_ERR_ARGS = 2,
    LK_OCF_ERR_UNIMPLEMENTED = 3,
    LK_OCF_ERR_PERM = 4,
    LK_OCF_ERR_INSTALLED = 5,
    LK_OCF_ERR_CONFIGURED = 6,
    LK_OCF_NOT_RUNNING = 7,
    LK_OCF_RUNNING_MASTER = 8,
    LK_OCF_FAILED_MASTER = 9,
    LK_OCF_DEGRADED = 190,
    LK_OCF_DEGRADED_MASTER = 191,
};

/* What the run was for: the same code means different things (7 on a probe is "cleanly
 * stopped", on a check "it died", on a stop "already stopped"). */
enum lk_ocf_context {
    LK_OCF_CTX_PROBE,   /* monitor at start-up, OCF_RESKEY_CRM_meta_interval=0 */
    LK_OCF_CTX_START,   /* restore */
    LK_OCF_CTX_STOP,    /* remove */
    LK_OCF_CTX_MONITOR, /* quickchk, deepchk */
    LK_OCF_CTX_OTHER,   /* recover (stop then start), validate-all, anything else */
    LK_OCF_CTX_COUNT,
};

enum lk_ocf_severity {
    LK_OCF_SEVERITY_INFO,
    LK_OCF_SEVERITY_WARNING,
    LK_OCF_SEVERITY_ERR,
};

/* One row of the table: what an exit code means in a context. */
struct lk_ocf_code {
    enum lk_verdict verdict;
    enum lk_ocf_severity severity;
    const char *name; /* "OCF_ERR_CONFIGURED", "unknown" for codes OCF does not define */
};

/* The meaning of exit status status in context ctx (the one table, docs/OCF.md). */
struct lk_ocf_code lk_ocf_code(int status, enum lk_ocf_context ctx);

/* The code's OCF name ("OCF_NOT_RUNNING"), "unknown" for any other number. */
const char *lk_ocf_code_name(int status);

/* "probe", "start", "stop", "monitor", "other". */
const char *lk_ocf_context_name(enum lk_ocf_context ctx);

/* "info", "warning", "err". */
const char *lk_ocf_severity_name(enum lk_ocf_severity severity);

/* The context of a run of action (probe: the start-up probe, a quickchk). */
enum lk_ocf_context lk_ocf_context_of(enum lk_action action, bool probe);

/* The OCF operation an action runs: restore "start", remove "stop", quickchk and deepchk
 * "monitor", recover "recover" (the type runs stop then start); NULL when out of range. */
const char *lk_ocf_operation(enum lk_action action);

/* Sets result->verdict from the table when the agent exited (outcome SUCCESS or EXIT); an
 * agent that is not there (EXEC_FAILED, ENOENT) is LK_VERDICT_NOT_INSTALLED, as its exit
 * status 5 would be; anything else (signal, timeout, other exec failures, refused) stays
 * LK_VERDICT_BY_OUTCOME. Sets
 * result->exit_reason to the output's last ocf-exit-reason line, or "" when none. */
void lk_ocf_classify(enum lk_ocf_context ctx, struct lk_result *result, const char *output,
                     size_t output_len);

/* Copies the text of the last line of output that starts with "ocf-exit-reason:" (the
 * prefix and surrounding blanks removed, control characters replaced by spaces, cut to
 * size - 1 bytes) into buf. Returns whether there was one (buf = "" otherwise). */
bool lk_ocf_exit_reason(const char *output, size_t output_len, char *buf, size_t size);

/* Replaces every occurrence of secret (a secret parameter's value, non-empty) in the
 * NUL-terminated text (size bytes of room) by "***", cutting at size - 1: an agent that
 * echoes a password in its ocf-exit-reason must not put it into events and logs. */
void lk_ocf_scrub(char *text, size_t size, const char *secret);

/* An agent's name: "provider:agent", "ocf:provider:agent" or a plain "agent" (provider
 * heartbeat). Each part [A-Za-z0-9_.+-], not starting with '.' or '-'. */
struct lk_ocf_agent {
    char provider[LK_OCF_PROVIDER_MAX + 1];
    char name[LK_OCF_AGENT_MAX + 1];
};

/* Parses text into ret_agent. Returns 0, or -EINVAL with a one-line message in err. */
int lk_ocf_agent_parse(const char *text, struct lk_ocf_agent *ret_agent, char *err,
                       size_t err_size);

/* "provider:agent" into buf; returns buf. */
char *lk_ocf_agent_format(const struct lk_ocf_agent *agent, char *buf, size_t size);

/* root/resource.d/provider/agent into buf; returns buf. */
char *lk_ocf_agent_path(const char *root, const struct lk_ocf_agent *agent, char *buf, size_t size);

/* The OCF root: $LK_OCF_ROOT when set and absolute, else /usr/lib/ocf. Borrowed. */
const char *lk_ocf_root(void);

/* Whether the agent's text (script or binary) calls a Pacemaker tool it cannot work
 * without (crm_attribute, crm_master, crm_node, attrd_updater, crm_resource, crm_mon,
 * cibadmin, or ocf_promotion_score, which calls crm_master). Writes the names found,
 * ", "-separated, into which. Returns the number of tools found. */
int lk_ocf_pacemaker_tools(const char *text, size_t len, char *which, size_t which_size);

/* Whether a parameter named name holds a secret: a part of the name (split on '_' and '-')
 * starts with pass, secret, token, credential or pwd, or is key, apikey, privkey or psk
 * ("password", "admin_passwd", "api_token", "ssl_key"; not "keyfile"). OCF's meta-data
 * has no attribute for it (docs/OCF.md). */
bool lk_ocf_secret_name(const char *name);

/* One parameter value of a run (borrowed). */
struct lk_ocf_value {
    const char *name;
    const char *value;
};

/* Everything the environment of one run is built from (all borrowed). */
struct lk_ocf_env_spec {
    const char *ocf_root;
    const char *lkroot;   /* LKROOT, cwd of the run */
    const char *node;     /* LK_NODE */
    const char *instance; /* OCF_RESOURCE_INSTANCE: the resource's tag */
    const struct lk_ocf_agent *agent;
    const char *action; /* LK_ACTION: restore, remove, quickchk, ... */
    const struct lk_ocf_value *params;
    size_t param_count;
    uint64_t timeout_ms;  /* OCF_RESKEY_CRM_meta_timeout */
    uint64_t interval_ms; /* OCF_RESKEY_CRM_meta_interval: 0 on a probe */
    int check_level;      /* OCF_CHECK_LEVEL; < 0: not set */
};

/* Builds the whole environment of a run, as a heap NULL-terminated "KEY=VALUE" array:
 * OCF_ROOT, OCF_FUNCTIONS_DIR, OCF_RA_VERSION_MAJOR/MINOR, OCF_RESOURCE_INSTANCE,
 * OCF_RESOURCE_TYPE, OCF_RESOURCE_PROVIDER, OCF_RESKEY_<name> per parameter (but
 * OCF_CHECK_LEVEL, which only sets the deepchk's level),
 * OCF_RESKEY_CRM_meta_timeout and _interval (ms), OCF_CHECK_LEVEL when check_level >= 0,
 * PATH, LANG=C, LKROOT, LK_TAG, LK_NODE, LK_ACTION, and HA_RSCTMP and HA_VARRUN when this
 * process has them (absolute paths).
 * Returns 0 and *ret_env (lk_ocf_env_free), or -ENOMEM / -EINVAL (a bad parameter name). */
int lk_ocf_env_build(const struct lk_ocf_env_spec *spec, char ***ret_env);

/* Frees an environment from lk_ocf_env_build; NULL is fine. */
void lk_ocf_env_free(char **env);

/* A parameter as the agent's meta-data declares it. */
struct lk_ocf_param {
    char name[64];
    char *shortdesc;     /* "" when none */
    char *content_type;  /* "string", "integer", "boolean", ...; "" when none */
    char *default_value; /* NULL when none */
    bool required;
    bool unique;
    bool reloadable;
    bool secret; /* named like a password or key (docs/OCF.md) */
};

/* An action the agent advertises, with its advised timeout and interval. */
struct lk_ocf_action {
    char name[32];
    uint64_t timeout_ms;  /* 0 when not given */
    uint64_t interval_ms; /* 0 when not given */
    int depth;            /* OCF_CHECK_LEVEL of a monitor entry; 0 when not given */
    bool role;            /* the entry is for a role (promotable): ignored for advice */
};

struct lk_ocf_meta {
    char name[LK_OCF_AGENT_MAX + 1];
    char version[32];
    char *shortdesc;
    size_t param_count;
    struct lk_ocf_param *params;
    size_t action_count;
    struct lk_ocf_action *actions;
    bool promotable; /* it advertises promote or demote */
};

/* Parses an agent's meta-data XML. Returns 0 (lk_ocf_meta_free it), or -EINVAL with a
 * one-line message in err (not XML, not <resource-agent>, a parameter whose name
 * lk_params_check_name refuses: no definition could give it), or -ENOMEM. */
int lk_ocf_meta_parse(const char *xml, size_t len, struct lk_ocf_meta *ret_meta, char *err,
                      size_t err_size);

/* Frees what lk_ocf_meta_parse allocated; a zeroed struct is fine. */
void lk_ocf_meta_free(struct lk_ocf_meta *meta);

/* The parameter named name, NULL when the agent has none. */
const struct lk_ocf_param *lk_ocf_meta_param(const struct lk_ocf_meta *meta, const char *name);

/* The first action entry named name without a role (and for "monitor", with depth 0 when
 * deep is false, the deepest one when true); NULL when none. */
const struct lk_ocf_action *lk_ocf_meta_action(const struct lk_ocf_meta *meta, const char *name,
                                               bool deep);

/* Checks the parameter names a definition gives against the meta-data: every required
 * parameter is given, every name given is declared. Returns 0, or -EINVAL with a one-line
 * message in err ("heartbeat:IPaddr2 needs parameter 'ip'"). */
int lk_ocf_meta_check_params(const struct lk_ocf_meta *meta, const char *agent,
                             const struct lk_ocf_value *params, size_t count, char *err,
                             size_t err_size);

/* The OCF_CHECK_LEVEL a deepchk runs at: the value of the parameter OCF_CHECK_LEVEL when
 * given (it is not passed as OCF_RESKEY_OCF_CHECK_LEVEL), else LK_OCF_DEEP_DEPTH.
 * Returns 0, or -EINVAL when the value is not a number 0..LK_OCF_DEPTH_MAX. */
int lk_ocf_deep_level(const struct lk_ocf_value *params, size_t count, int *ret_level);

/* The value the meta-data advises for the settings key ("action-timeout",
 * "quickchk-interval", "quickchk-timeout", "deepchk-interval", "deepchk-timeout"), as
 * lk_settings_set takes it (seconds, "20", "0.5"). Returns buf, or NULL when the agent
 * advises nothing for it. action-timeout is the larger of start's and stop's timeouts;
 * the quickchk values come from the depth-0 monitor entry, the deepchk ones from a
 * monitor entry with a depth (none: NULL). */
const char *lk_ocf_meta_advised(const struct lk_ocf_meta *meta, const char *key, char *buf,
                                size_t size);

/* The settings keys lk_ocf_meta_advised knows, NULL-terminated. */
extern const char *const lk_ocf_advised_keys[];

/* Parses an OCF duration ("20s", "20", "1m", "90000ms", "2min", "1h"; bare = seconds)
 * into ms. Returns 0 or -EINVAL. */
int lk_ocf_duration_ms(const char *text, uint64_t *ret_ms);

/* The meta-data as describe-agent shows it: {"agent", "version", "shortdesc",
 * "parameters": [{"name", "required", "unique", "reloadable", "secret", "type", "default",
 * "shortdesc"}], "actions": [{"name", "timeout_ms", "interval_ms", "depth"}], "advised":
 * {settings key: seconds text}, "promotable"}. Returns a new reference, NULL for ENOMEM. */
json_t *lk_ocf_meta_json(const struct lk_ocf_meta *meta, const char *agent);
