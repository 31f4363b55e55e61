/* OCF resource agents, the pure part: what an agent's exit code means in each context (the
 * one table, docs/OCF.md), the ocf-exit-reason line of its output, its name and file, the
 * environment a run gets, its meta-data (parsed with libxml2) and the Pacemaker tools it
 * would call.
 *
 * Entering: exit statuses and output tails from the daemon's OCF type (io/type_ocf.c),
 * meta-data text and agent files the daemon read, definitions' parameters.
 * Leaving: verdicts in struct lk_result, environments, parsed meta-data.
 *
 * It must never run an agent, read a file, or decide what a verdict does to a resource:
 * that is the engine's. A code the table does not list is an ordinary failure. */
#include "ocf.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"

#define SYSTEM_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char *const context_names[LK_OCF_CTX_COUNT] = {
        [LK_OCF_CTX_PROBE] = "probe",     [LK_OCF_CTX_START] = "start", [LK_OCF_CTX_STOP] = "stop",
        [LK_OCF_CTX_MONITOR] = "monitor", [LK_OCF_CTX_OTHER] = "other",
};

static const struct {
    int status;
    const char *name;
} code_names[] = {
        {LK_OCF_SUCCESS, "OCF_SUCCESS"},
        {LK_OCF_ERR_GENERIC, "OCF_ERR_GENERIC"},
        {LK_OCF_ERR_ARGS, "OCF_ERR_ARGS"},
        {LK_OCF_ERR_UNIMPLEMENTED, "OCF_ERR_UNIMPLEMENTED"},
        {LK_OCF_ERR_PERM, "OCF_ERR_PERM"},
        {LK_OCF_ERR_INSTALLED, "OCF_ERR_INSTALLED"},
        {LK_OCF_ERR_CONFIGURED, "OCF_ERR_CONFIGURED"},
        {LK_OCF_NOT_RUNNING, "OCF_NOT_RUNNING"},
        {LK_OCF_RUNNING_MASTER, "OCF_RUNNING_MASTER"},
        {LK_OCF_FAILED_MASTER, "OCF_FAILED_MASTER"},
        {LK_OCF_DEGRADED, "OCF_DEGRADED"},
        {LK_OCF_DEGRADED_MASTER, "OCF_DEGRADED_MASTER"},
};

#define OK_                                                                                        \
    {                                                                                              \
        LK_VERDICT_OK, LK_OCF_SEVERITY_INFO, NULL                                                  \
    }
#define FAIL_WARN                                                                                  \
    {                                                                                              \
        LK_VERDICT_FAILED, LK_OCF_SEVERITY_WARNING, NULL                                           \
    }
#define FAIL_ERR                                                                                   \
    {                                                                                              \
        LK_VERDICT_FAILED, LK_OCF_SEVERITY_ERR, NULL                                               \
    }
#define HARD_                                                                                      \
    {                                                                                              \
        LK_VERDICT_HARD, LK_OCF_SEVERITY_ERR, NULL                                                 \
    }
#define INSTALLED_                                                                                 \
    {                                                                                              \
        LK_VERDICT_NOT_INSTALLED, LK_OCF_SEVERITY_ERR, NULL                                        \
    }
#define CONFIGURED_                                                                                \
    {                                                                                              \
        LK_VERDICT_NOT_CONFIGURED, LK_OCF_SEVERITY_ERR, NULL                                       \
    }
#define DEGRADED_                                                                                  \
    {                                                                                              \
        LK_VERDICT_DEGRADED, LK_OCF_SEVERITY_WARNING, NULL                                         \
    }

/* The table. Columns: probe, start, stop, monitor, other (recover, validate-all).
 * - 0 is success everywhere.
 * - 7 on a probe: cleanly stopped (no clean-up remove); on a check: it is not running, a
 *   failure; on a stop: already stopped, a success; after a start or recover: a failure.
 * - 2/3/4: a hard error: OSF here, no local retry, fail over.
 * - 5: not installed on this node: the node cannot run it, try the next one.
 * - 6: not configured: OSF, no failover anywhere (no other node would do better).
 * - 190/191: running but degraded: success with a warning, no recovery; on a stop it means
 *   it still runs: a failure.
 * - 1, 8, 9 (promotable agents are refused at create) and anything else: a failure. */
static const struct {
    int status;
    struct lk_ocf_code ctx[LK_OCF_CTX_COUNT];
} table[] = {
        {LK_OCF_SUCCESS, {OK_, OK_, OK_, OK_, OK_}},
        {LK_OCF_ERR_GENERIC, {FAIL_WARN, FAIL_ERR, FAIL_ERR, FAIL_WARN, FAIL_ERR}},
        {LK_OCF_ERR_ARGS, {HARD_, HARD_, HARD_, HARD_, HARD_}},
        {LK_OCF_ERR_UNIMPLEMENTED, {HARD_, HARD_, HARD_, HARD_, HARD_}},
        {LK_OCF_ERR_PERM, {HARD_, HARD_, HARD_, HARD_, HARD_}},
        {LK_OCF_ERR_INSTALLED, {INSTALLED_, INSTALLED_, INSTALLED_, INSTALLED_, INSTALLED_}},
        {LK_OCF_ERR_CONFIGURED, {CONFIGURED_, CONFIGURED_, CONFIGURED_, CONFIGURED_, CONFIGURED_}},
        {LK_OCF_NOT_RUNNING,
         {{LK_VERDICT_NOT_RUNNING, LK_OCF_SEVERITY_INFO, NULL},
          FAIL_ERR,
          OK_,
          {LK_VERDICT_NOT_RUNNING, LK_OCF_SEVERITY_WARNING, NULL},
          FAIL_ERR}},
        {LK_OCF_RUNNING_MASTER, {FAIL_ERR, FAIL_ERR, FAIL_ERR, FAIL_ERR, FAIL_ERR}},
        {LK_OCF_FAILED_MASTER, {FAIL_ERR, FAIL_ERR, FAIL_ERR, FAIL_ERR, FAIL_ERR}},
        {LK_OCF_DEGRADED, {DEGRADED_, DEGRADED_, FAIL_ERR, DEGRADED_, DEGRADED_}},
        {LK_OCF_DEGRADED_MASTER, {DEGRADED_, DEGRADED_, FAIL_ERR, DEGRADED_, DEGRADED_}},
};

const char *lk_ocf_code_name(int status)
{
    for (size_t i = 0; i < sizeof(code_names) / sizeof(code_names[0]); i++) {
        if (code_names[i].status == status) {
            return code_names[i].name;
        }
    }
    return "unknown";
}

struct lk_ocf_code lk_ocf_code(int status, enum lk_ocf_context ctx)
{
    if ((unsigned) ctx >= LK_OCF_CTX_COUNT) {
        ctx = LK_OCF_CTX_OTHER;
    }
    struct lk_ocf_code code = FAIL_ERR;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (table[i].status == status) {
            code = table[i].ctx[ctx];
            break;
        }
    }
    code.name = lk_ocf_code_name(status);
    return code;
}

const char *lk_ocf_context_name(enum lk_ocf_context ctx)
{
    return (unsigned) ctx < LK_OCF_CTX_COUNT ? context_names[ctx] : "other";
}

const char *lk_ocf_severity_name(enum lk_ocf_severity severity)
{
    switch (severity) {
    case LK_OCF_SEVERITY_INFO:
        return "info";
    case LK_OCF_SEVERITY_WARNING:
        return "warning";
    default:
        return "err";
    }
}

enum lk_ocf_context lk_ocf_context_of(enum lk_action action, bool probe)
{
    switch (action) {
    case LK_ACTION_RESTORE:
        return LK_OCF_CTX_START;
    case LK_ACTION_REMOVE:
        return LK_OCF_CTX_STOP;
    case LK_ACTION_QUICKCHK:
    case LK_ACTION_DEEPCHK:
        return probe ? LK_OCF_CTX_PROBE : LK_OCF_CTX_MONITOR;
    default:
        return LK_OCF_CTX_OTHER;
    }
}

const char *lk_ocf_operation(enum lk_action action)
{
    switch (action) {
    case LK_ACTION_RESTORE:
        return "start";
    case LK_ACTION_REMOVE:
        return "stop";
    case LK_ACTION_QUICKCHK:
    case LK_ACTION_DEEPCHK:
        return "monitor";
    case LK_ACTION_RECOVER:
        return "recover";
    default:
        return NULL;
    }
}

bool lk_ocf_exit_reason(const char *output, size_t output_len, char *buf, size_t size)
{
    if (size == 0) {
        return false;
    }
    buf[0] = '\0';
    if (!output) {
        return false;
    }
    const size_t plen = strlen(LK_OCF_REASON_PREFIX);
    const char *found = NULL;
    size_t found_len = 0;
    size_t pos = 0;
    while (pos < output_len) {
        const char *line = output + pos;
        const char *nl = memchr(line, '\n', output_len - pos);
        size_t len = nl ? (size_t) (nl - line) : output_len - pos;
        if (len >= plen && memcmp(line, LK_OCF_REASON_PREFIX, plen) == 0) {
            found = line + plen;
            found_len = len - plen;
        }
        pos += len + 1;
    }
    if (!found) {
        return false;
    }
    while (found_len > 0 && isspace((unsigned char) found[0])) {
        found++;
        found_len--;
    }
    while (found_len > 0 && isspace((unsigned char) found[found_len - 1])) {
        found_len--;
    }
    if (found_len >= size) {
        found_len = size - 1;
    }
    for (size_t i = 0; i < found_len; i++) {
        unsigned char c = (unsigned char) found[i];
        buf[i] = (c < 0x20 || c == 0x7f) ? ' ' : (char) c;
    }
    buf[found_len] = '\0';
    return true;
}

void lk_ocf_scrub(char *text, size_t size, const char *secret)
{
    size_t slen = secret ? strlen(secret) : 0;
    if (slen == 0 || size == 0 || !strstr(text, secret)) {
        return;
    }
    char *out = malloc(size);
    if (!out) {
        /* Nothing safer to show than nothing. */
        text[0] = '\0';
        return;
    }
    size_t o = 0;
    for (const char *p = text; *p && o < size - 1;) {
        if (strncmp(p, secret, slen) == 0) {
            for (const char *m = "***"; *m && o < size - 1; m++) {
                out[o++] = *m;
            }
            p += slen;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    memcpy(text, out, o + 1);
    free(out);
}

void lk_ocf_classify(enum lk_ocf_context ctx, struct lk_result *result, const char *output,
                     size_t output_len)
{
    (void) lk_ocf_exit_reason(output, output_len, result->exit_reason, sizeof(result->exit_reason));
    if (result->outcome == LK_OUTCOME_SUCCESS || result->outcome == LK_OUTCOME_EXIT) {
        result->verdict = lk_ocf_code(result->exit_status, ctx).verdict;
    } else if (result->outcome == LK_OUTCOME_EXEC_FAILED && result->exec_errno == ENOENT) {
        /* The agent is not on this node (a definition extended to a node without the
         * package): what its own exit status 5 would say. */
        result->verdict = LK_VERDICT_NOT_INSTALLED;
    } else {
        result->verdict = LK_VERDICT_BY_OUTCOME;
    }
}

static bool name_part_ok(const char *s, size_t len)
{
    if (len == 0 || s[0] == '.' || s[0] == '-') {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) s[i];
        if (!isalnum(c) && c != '_' && c != '.' && c != '+' && c != '-') {
            return false;
        }
    }
    return true;
}

int lk_ocf_agent_parse(const char *text, struct lk_ocf_agent *ret_agent, char *err, size_t err_size)
{
    if (!text || !*text) {
        snprintf(err, err_size, "an OCF agent is needed (PROVIDER:AGENT, e.g. heartbeat:Dummy)");
        return -EINVAL;
    }
    const char *s = text;
    if (strncmp(s, "ocf:", 4) == 0) {
        s += 4;
    }
    const char *colon = strchr(s, ':');
    const char *provider = "heartbeat";
    size_t provider_len = strlen(provider);
    const char *agent = s;
    if (colon) {
        provider = s;
        provider_len = (size_t) (colon - s);
        agent = colon + 1;
    }
    size_t agent_len = strlen(agent);
    if (!name_part_ok(provider, provider_len) || provider_len > LK_OCF_PROVIDER_MAX ||
        !name_part_ok(agent, agent_len) || agent_len > LK_OCF_AGENT_MAX) {
        snprintf(err, err_size,
                 "invalid OCF agent '%.*s': expected PROVIDER:AGENT (letters, digits, _ . + -)",
                 200, text);
        return -EINVAL;
    }
    memcpy(ret_agent->provider, provider, provider_len);
    ret_agent->provider[provider_len] = '\0';
    memcpy(ret_agent->name, agent, agent_len);
    ret_agent->name[agent_len] = '\0';
    return 0;
}

char *lk_ocf_agent_format(const struct lk_ocf_agent *agent, char *buf, size_t size)
{
    snprintf(buf, size, "%s:%s", agent->provider, agent->name);
    return buf;
}

char *lk_ocf_agent_path(const char *root, const struct lk_ocf_agent *agent, char *buf, size_t size)
{
    snprintf(buf, size, "%s/resource.d/%s/%s", root, agent->provider, agent->name);
    return buf;
}

const char *lk_ocf_root(void)
{
    const char *env = getenv(LK_OCF_ROOT_ENV);
    return env && env[0] == '/' ? env : LK_OCF_ROOT_DEFAULT;
}

static const char *const pacemaker_tools[] = {
        "crm_attribute", "crm_master",          "crm_node", "attrd_updater", "crm_resource",
        "crm_mon",       "ocf_promotion_score", "cibadmin",
};

static bool word_char(char c)
{
    return isalnum((unsigned char) c) || c == '_';
}

int lk_ocf_pacemaker_tools(const char *text, size_t len, char *which, size_t which_size)
{
    int found = 0;
    if (which_size > 0) {
        which[0] = '\0';
    }
    for (size_t t = 0; t < sizeof(pacemaker_tools) / sizeof(pacemaker_tools[0]); t++) {
        const char *tool = pacemaker_tools[t];
        size_t tlen = strlen(tool);
        const char *p = text;
        size_t left = len;
        while (left >= tlen) {
            const char *hit = memmem(p, left, tool, tlen);
            if (!hit) {
                break;
            }
            /* A whole word only: "crm_node" must not match "crm_nodes_of_x". */
            bool before = hit > text && word_char(hit[-1]);
            bool after = (size_t) (hit - text) + tlen < len && word_char(hit[tlen]);
            if (!before && !after) {
                size_t used = strlen(which);
                if (used < which_size) {
                    snprintf(which + used, which_size - used, "%s%s", found ? ", " : "", tool);
                }
                found++;
                break;
            }
            left -= (size_t) (hit - p) + 1;
            p = hit + 1;
        }
    }
    return found;
}

static const char *const passed_on[] = {"HA_RSCTMP", "HA_VARRUN"};

static bool env_name_ok(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > 63) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!isalnum((unsigned char) name[i]) && name[i] != '_') {
            return false;
        }
    }
    return true;
}

static int env_add(char **env, size_t *n, const char *key, const char *value)
{
    size_t len = strlen(key) + strlen(value) + 2;
    char *s = malloc(len);
    if (!s) {
        return -ENOMEM;
    }
    snprintf(s, len, "%s=%s", key, value);
    env[(*n)++] = s;
    return 0;
}

void lk_ocf_env_free(char **env)
{
    if (!env) {
        return;
    }
    for (char **p = env; *p; p++) {
        free(*p);
    }
    free(env);
}

int lk_ocf_env_build(const struct lk_ocf_env_spec *spec, char ***ret_env)
{
    for (size_t i = 0; i < spec->param_count; i++) {
        if (!spec->params[i].name || !env_name_ok(spec->params[i].name) || !spec->params[i].value) {
            return -EINVAL;
        }
    }
    size_t cap = spec->param_count + 32;
    char **env = calloc(cap, sizeof(*env));
    if (!env) {
        return -ENOMEM;
    }
    size_t n = 0;
    char buf[LK_OCF_PROVIDER_MAX + LK_OCF_AGENT_MAX + 4096];
    char num[32];
    int r = 0;
    snprintf(buf, sizeof(buf), "%s/lib/heartbeat", spec->ocf_root);
    r = r ? r : env_add(env, &n, "OCF_ROOT", spec->ocf_root);
    r = r ? r : env_add(env, &n, "OCF_FUNCTIONS_DIR", buf);
    snprintf(num, sizeof(num), "%d", LK_OCF_RA_MAJOR);
    r = r ? r : env_add(env, &n, "OCF_RA_VERSION_MAJOR", num);
    snprintf(num, sizeof(num), "%d", LK_OCF_RA_MINOR);
    r = r ? r : env_add(env, &n, "OCF_RA_VERSION_MINOR", num);
    r = r ? r : env_add(env, &n, "OCF_RESOURCE_INSTANCE", spec->instance);
    r = r ? r : env_add(env, &n, "OCF_RESOURCE_TYPE", spec->agent->name);
    r = r ? r : env_add(env, &n, "OCF_RESOURCE_PROVIDER", spec->agent->provider);
    for (size_t i = 0; i < spec->param_count && !r; i++) {
        if (strcmp(spec->params[i].name, LK_OCF_DEPTH_PARAM) == 0) {
            continue;
        }
        snprintf(buf, sizeof(buf), "OCF_RESKEY_%s", spec->params[i].name);
        r = env_add(env, &n, buf, spec->params[i].value);
    }
    snprintf(num, sizeof(num), "%" PRIu64, spec->timeout_ms);
    r = r ? r : env_add(env, &n, "OCF_RESKEY_CRM_meta_timeout", num);
    snprintf(num, sizeof(num), "%" PRIu64, spec->interval_ms);
    r = r ? r : env_add(env, &n, "OCF_RESKEY_CRM_meta_interval", num);
    if (spec->check_level >= 0) {
        snprintf(num, sizeof(num), "%d", spec->check_level);
        r = r ? r : env_add(env, &n, "OCF_CHECK_LEVEL", num);
    }
    snprintf(buf, sizeof(buf), "%s/bin:%s", spec->lkroot, SYSTEM_PATH);
    r = r ? r : env_add(env, &n, "PATH", buf);
    r = r ? r : env_add(env, &n, "LANG", "C");
    r = r ? r : env_add(env, &n, "LKROOT", spec->lkroot);
    r = r ? r : env_add(env, &n, "LK_TAG", spec->instance);
    r = r ? r : env_add(env, &n, "LK_NODE", spec->node ? spec->node : "");
    r = r ? r : env_add(env, &n, "LK_ACTION", spec->action ? spec->action : "");
    /* Where agents keep their state and pid files (ocf-directories' defaults: /run/...),
     * passed on from lkd's own environment when set: several nodes on one machine (tests)
     * each give their own. */
    for (size_t i = 0; i < sizeof(passed_on) / sizeof(passed_on[0]) && !r; i++) {
        const char *v = getenv(passed_on[i]);
        if (v && v[0] == '/') {
            r = env_add(env, &n, passed_on[i], v);
        }
    }
    if (r < 0) {
        lk_ocf_env_free(env);
        return r;
    }
    env[n] = NULL;
    *ret_env = env;
    return 0;
}

int lk_ocf_duration_ms(const char *text, uint64_t *ret_ms)
{
    if (!text) {
        return -EINVAL;
    }
    while (isspace((unsigned char) *text)) {
        text++;
    }
    if (!isdigit((unsigned char) *text)) {
        return -EINVAL;
    }
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || v > UINT32_MAX) {
        return -EINVAL;
    }
    while (isspace((unsigned char) *end)) {
        end++;
    }
    char unit[8] = "";
    size_t u = 0;
    while (*end && !isspace((unsigned char) *end) && u < sizeof(unit) - 1) {
        unit[u++] = (char) tolower((unsigned char) *end++);
    }
    unit[u] = '\0';
    while (isspace((unsigned char) *end)) {
        end++;
    }
    if (*end) {
        return -EINVAL;
    }
    uint64_t mult;
    if (!*unit || strcmp(unit, "s") == 0 || strcmp(unit, "sec") == 0) {
        mult = 1000;
    } else if (strcmp(unit, "ms") == 0 || strcmp(unit, "msec") == 0) {
        mult = 1;
    } else if (strcmp(unit, "m") == 0 || strcmp(unit, "min") == 0) {
        mult = 60000;
    } else if (strcmp(unit, "h") == 0 || strcmp(unit, "hr") == 0) {
        mult = 3600000;
    } else {
        return -EINVAL;
    }
    *ret_ms = (uint64_t) v * mult;
    return 0;
}

/* Secret by name: a parameter whose name has a part (split on '_' and '-') that is, or
 * starts with, pass/passwd/password/secret/token/credential, or is exactly key or
 * apikey. The meta-data of OCF 1.1 has no attribute for it. */
bool lk_ocf_secret_name(const char *name)
{
    static const char *const prefixes[] = {"pass", "secret", "token", "credential", "pwd"};
    static const char *const words[] = {"key", "apikey", "privkey", "psk"};
    char part[64];
    const char *p = name;
    while (*p) {
        size_t len = strcspn(p, "_-");
        if (len > 0 && len < sizeof(part)) {
            for (size_t i = 0; i < len; i++) {
                part[i] = (char) tolower((unsigned char) p[i]);
            }
            part[len] = '\0';
            for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
                if (strncmp(part, prefixes[i], strlen(prefixes[i])) == 0) {
                    return true;
                }
            }
            for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
                if (strcmp(part, words[i]) == 0) {
                    return true;
                }
            }
        }
        p += len;
        if (*p) {
            p++;
        }
    }
    return false;
}

static char *prop_dup(xmlNode *node, const char *name)
{
    xmlChar *v = xmlGetProp(node, (const xmlChar *) name);
    if (!v) {
        return NULL;
    }
    char *s = strdup((const char *) v);
    xmlFree(v);
    return s;
}

static bool prop_true(xmlNode *node, const char *name)
{
    xmlChar *v = xmlGetProp(node, (const xmlChar *) name);
    if (!v) {
        return false;
    }
    const char *s = (const char *) v;
    bool t = strcmp(s, "1") == 0 || strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0;
    xmlFree(v);
    return t;
}

static bool is_elem(xmlNode *node, const char *name)
{
    return node->type == XML_ELEMENT_NODE && strcmp((const char *) node->name, name) == 0;
}

/* The text of the first child element named name, whitespace collapsed; "" if none. */
static char *child_text(xmlNode *node, const char *name)
{
    for (xmlNode *c = node->children; c; c = c->next) {
        if (!is_elem(c, name)) {
            continue;
        }
        xmlChar *v = xmlNodeGetContent(c);
        if (!v) {
            break;
        }
        const char *s = (const char *) v;
        size_t len = strlen(s);
        char *out = malloc(len + 1);
        if (!out) {
            xmlFree(v);
            return NULL;
        }
        size_t o = 0;
        bool space = false;
        for (size_t i = 0; i < len; i++) {
            if (isspace((unsigned char) s[i])) {
                space = o > 0;
                continue;
            }
            if (space) {
                out[o++] = ' ';
                space = false;
            }
            out[o++] = s[i];
        }
        out[o] = '\0';
        xmlFree(v);
        return out;
    }
    return strdup("");
}

static void copy_prop(xmlNode *node, const char *name, char *buf, size_t size)
{
    buf[0] = '\0';
    xmlChar *v = xmlGetProp(node, (const xmlChar *) name);
    if (v) {
        snprintf(buf, size, "%s", (const char *) v);
        xmlFree(v);
    }
}

/* The parameter at node, the index-th; a name a definition could not give (none, too
 * long, other characters than lk_params_check_name allows) is -EINVAL with err. */
static int parse_param(xmlNode *node, size_t index, struct lk_ocf_param *p, char *err,
                       size_t err_size)
{
    memset(p, 0, sizeof(*p));
    xmlChar *name = xmlGetProp(node, (const xmlChar *) "name");
    char why[160];
    if (lk_params_check_name(name ? (const char *) name : "", why, sizeof(why)) < 0) {
        xmlFree(name);
        snprintf(err, err_size, "the agent's meta-data: parameter %zu: %s", index + 1, why);
        return -EINVAL;
    }
    snprintf(p->name, sizeof(p->name), "%s", (const char *) name);
    xmlFree(name);
    p->required = prop_true(node, "required");
    p->unique = prop_true(node, "unique");
    p->reloadable = prop_true(node, "reloadable");
    /* OCF 1.1 calls unique "unique-group": a named group of parameters whose values
     * together must be unique. Either marks the parameter unique here. */
    xmlChar *group = xmlGetProp(node, (const xmlChar *) "unique-group");
    if (group) {
        p->unique = p->unique || group[0] != '\0';
        xmlFree(group);
    }
    p->shortdesc = child_text(node, "shortdesc");
    if (!p->shortdesc) {
        return -ENOMEM;
    }
    for (xmlNode *c = node->children; c; c = c->next) {
        if (is_elem(c, "content")) {
            p->content_type = prop_dup(c, "type");
            p->default_value = prop_dup(c, "default");
            break;
        }
    }
    if (!p->content_type && !(p->content_type = strdup(""))) {
        return -ENOMEM;
    }
    p->secret = lk_ocf_secret_name(p->name);
    return 0;
}

static void parse_action(xmlNode *node, struct lk_ocf_action *a)
{
    memset(a, 0, sizeof(*a));
    copy_prop(node, "name", a->name, sizeof(a->name));
    char buf[64];
    copy_prop(node, "timeout", buf, sizeof(buf));
    if (lk_ocf_duration_ms(buf, &a->timeout_ms) < 0) {
        a->timeout_ms = 0;
    }
    copy_prop(node, "interval", buf, sizeof(buf));
    if (lk_ocf_duration_ms(buf, &a->interval_ms) < 0) {
        a->interval_ms = 0;
    }
    copy_prop(node, "depth", buf, sizeof(buf));
    a->depth = buf[0] ? atoi(buf) : 0;
    if (a->depth < 0) {
        a->depth = 0;
    }
    copy_prop(node, "role", buf, sizeof(buf));
    a->role = buf[0] != '\0';
}

static size_t count_children(xmlNode *parent, const char *name)
{
    size_t n = 0;
    for (xmlNode *c = parent ? parent->children : NULL; c; c = c->next) {
        n += is_elem(c, name);
    }
    return n;
}

static xmlNode *find_child(xmlNode *parent, const char *name)
{
    for (xmlNode *c = parent->children; c; c = c->next) {
        if (is_elem(c, name)) {
            return c;
        }
    }
    return NULL;
}

void lk_ocf_meta_free(struct lk_ocf_meta *meta)
{
    if (!meta) {
        return;
    }
    for (size_t i = 0; i < meta->param_count; i++) {
        free(meta->params[i].shortdesc);
        free(meta->params[i].content_type);
        free(meta->params[i].default_value);
    }
    free(meta->params);
    free(meta->actions);
    free(meta->shortdesc);
    memset(meta, 0, sizeof(*meta));
}

int lk_ocf_meta_parse(const char *xml, size_t len, struct lk_ocf_meta *ret_meta, char *err,
                      size_t err_size)
{
    struct lk_ocf_meta m;
    memset(&m, 0, sizeof(m));
    if (!xml || len == 0 || len > INT32_MAX) {
        snprintf(err, err_size, "the agent printed no meta-data");
        return -EINVAL;
    }
    /* No network, no external entities, no DTD loading: the text comes from a program. */
    xmlDoc *doc = xmlReadMemory(xml, (int) len, "meta-data.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
        snprintf(err, err_size, "the agent's meta-data is not XML");
        return -EINVAL;
    }
    int r = 0;
    xmlNode *root = xmlDocGetRootElement(doc);
    if (!root || !is_elem(root, "resource-agent")) {
        snprintf(err, err_size, "the agent's meta-data has no <resource-agent> element");
        r = -EINVAL;
        goto out;
    }
    copy_prop(root, "name", m.name, sizeof(m.name));
    copy_prop(root, "version", m.version, sizeof(m.version));
    if (!m.version[0]) {
        xmlNode *v = find_child(root, "version");
        if (v) {
            xmlChar *t = xmlNodeGetContent(v);
            if (t) {
                snprintf(m.version, sizeof(m.version), "%s", (const char *) t);
                xmlFree(t);
            }
        }
    }
    m.shortdesc = child_text(root, "shortdesc");
    if (!m.shortdesc) {
        r = -ENOMEM;
        goto out;
    }
    xmlNode *params = find_child(root, "parameters");
    size_t np = count_children(params, "parameter");
    if (np > 0) {
        m.params = calloc(np, sizeof(*m.params));
        if (!m.params) {
            r = -ENOMEM;
            goto out;
        }
        for (xmlNode *c = params->children; c; c = c->next) {
            if (!is_elem(c, "parameter")) {
                continue;
            }
            r = parse_param(c, m.param_count, &m.params[m.param_count], err, err_size);
            m.param_count++;
            if (r < 0) {
                goto out;
            }
        }
    }
    xmlNode *actions = find_child(root, "actions");
    size_t na = count_children(actions, "action");
    if (na > 0) {
        m.actions = calloc(na, sizeof(*m.actions));
        if (!m.actions) {
            r = -ENOMEM;
            goto out;
        }
        for (xmlNode *c = actions->children; c; c = c->next) {
            if (!is_elem(c, "action")) {
                continue;
            }
            struct lk_ocf_action *a = &m.actions[m.action_count++];
            parse_action(c, a);
            if (strcmp(a->name, "promote") == 0 || strcmp(a->name, "demote") == 0) {
                m.promotable = true;
            }
        }
    }
out:
    xmlFreeDoc(doc);
    if (r < 0) {
        if (r == -ENOMEM) {
            snprintf(err, err_size, "out of memory parsing the agent's meta-data");
        }
        lk_ocf_meta_free(&m);
        return r;
    }
    *ret_meta = m;
    return 0;
}

const struct lk_ocf_param *lk_ocf_meta_param(const struct lk_ocf_meta *meta, const char *name)
{
    for (size_t i = 0; i < meta->param_count; i++) {
        if (strcmp(meta->params[i].name, name) == 0) {
            return &meta->params[i];
        }
    }
    return NULL;
}

const struct lk_ocf_action *lk_ocf_meta_action(const struct lk_ocf_meta *meta, const char *name,
                                               bool deep)
{
    const struct lk_ocf_action *best = NULL;
    for (size_t i = 0; i < meta->action_count; i++) {
        const struct lk_ocf_action *a = &meta->actions[i];
        if (a->role || strcmp(a->name, name) != 0) {
            continue;
        }
        if (strcmp(name, "monitor") != 0) {
            return a;
        }
        if (!deep && a->depth == 0) {
            return a;
        }
        if (deep && a->depth > 0 && (!best || a->depth > best->depth)) {
            best = a;
        }
    }
    return best;
}

int lk_ocf_meta_check_params(const struct lk_ocf_meta *meta, const char *agent,
                             const struct lk_ocf_value *params, size_t count, char *err,
                             size_t err_size)
{
    int level;
    if (lk_ocf_deep_level(params, count, &level) < 0) {
        snprintf(err, err_size, "%s must be a number from 0 to %d", LK_OCF_DEPTH_PARAM,
                 LK_OCF_DEPTH_MAX);
        return -EINVAL;
    }
    for (size_t i = 0; i < count; i++) {
        if (strcmp(params[i].name, LK_OCF_DEPTH_PARAM) == 0) {
            continue;
        }
        if (!lk_ocf_meta_param(meta, params[i].name)) {
            snprintf(err, err_size, "%s has no parameter '%s' (lkcli resource describe-agent %s)",
                     agent, params[i].name, agent);
            return -EINVAL;
        }
    }
    for (size_t p = 0; p < meta->param_count; p++) {
        if (!meta->params[p].required) {
            continue;
        }
        bool given = false;
        for (size_t i = 0; i < count && !given; i++) {
            given = strcmp(params[i].name, meta->params[p].name) == 0;
        }
        if (!given) {
            snprintf(err, err_size, "%s needs parameter '%s' (--param %s=...)", agent,
                     meta->params[p].name, meta->params[p].name);
            return -EINVAL;
        }
    }
    return 0;
}

int lk_ocf_deep_level(const struct lk_ocf_value *params, size_t count, int *ret_level)
{
    int level = LK_OCF_DEEP_DEPTH;
    for (size_t i = 0; i < count; i++) {
        if (strcmp(params[i].name, LK_OCF_DEPTH_PARAM) != 0) {
            continue;
        }
        const char *v = params[i].value;
        size_t len = v ? strlen(v) : 0;
        if (len == 0 || len > 4 || strspn(v, "0123456789") != len || atoi(v) > LK_OCF_DEPTH_MAX) {
            return -EINVAL;
        }
        level = atoi(v);
    }
    *ret_level = level;
    return 0;
}

const char *const lk_ocf_advised_keys[] = {
        "action-timeout",   "quickchk-interval", "quickchk-timeout",
        "deepchk-interval", "deepchk-timeout",   NULL,
};

static const char *format_ms(uint64_t ms, char *buf, size_t size)
{
    if (ms % 1000 == 0) {
        snprintf(buf, size, "%" PRIu64, ms / 1000);
    } else {
        /* Three decimals, trailing zeros dropped: 1500 → "1.5". */
        snprintf(buf, size, "%" PRIu64 ".%03" PRIu64, ms / 1000, ms % 1000);
        size_t len = strlen(buf);
        while (len > 0 && buf[len - 1] == '0') {
            buf[--len] = '\0';
        }
    }
    return buf;
}

const char *lk_ocf_meta_advised(const struct lk_ocf_meta *meta, const char *key, char *buf,
                                size_t size)
{
    uint64_t ms = 0;
    if (strcmp(key, "action-timeout") == 0) {
        const struct lk_ocf_action *start = lk_ocf_meta_action(meta, "start", false);
        const struct lk_ocf_action *stop = lk_ocf_meta_action(meta, "stop", false);
        ms = start ? start->timeout_ms : 0;
        if (stop && stop->timeout_ms > ms) {
            ms = stop->timeout_ms;
        }
    } else if (strncmp(key, "quickchk-", 9) == 0 || strncmp(key, "deepchk-", 8) == 0) {
        bool deep = key[0] == 'd';
        const struct lk_ocf_action *mon = lk_ocf_meta_action(meta, "monitor", deep);
        if (mon) {
            ms = strstr(key, "-interval") ? mon->interval_ms : mon->timeout_ms;
        }
    }
    return ms ? format_ms(ms, buf, size) : NULL;
}

json_t *lk_ocf_meta_json(const struct lk_ocf_meta *meta, const char *agent)
{
    json_t *params = json_array();
    json_t *actions = json_array();
    json_t *advised = json_object();
    if (!params || !actions || !advised) {
        json_decref(params);
        json_decref(actions);
        json_decref(advised);
        return NULL;
    }
    for (size_t i = 0; i < meta->param_count; i++) {
        const struct lk_ocf_param *p = &meta->params[i];
        (void) json_array_append_new(
                params, json_pack("{s:s, s:b, s:b, s:b, s:b, s:s, s:s?, s:s}", "name", p->name,
                                  "required", p->required, "unique", p->unique, "reloadable",
                                  p->reloadable, "secret", p->secret, "type", p->content_type,
                                  "default", p->default_value, "shortdesc", p->shortdesc));
    }
    for (size_t i = 0; i < meta->action_count; i++) {
        const struct lk_ocf_action *a = &meta->actions[i];
        json_t *o =
                json_pack("{s:s, s:I, s:I}", "name", a->name, "timeout_ms",
                          (json_int_t) a->timeout_ms, "interval_ms", (json_int_t) a->interval_ms);
        if (o && a->depth > 0) {
            (void) json_object_set_new(o, "depth", json_integer(a->depth));
        }
        if (o && a->role) {
            (void) json_object_set_new(o, "role", json_true());
        }
        (void) json_array_append_new(actions, o);
    }
    char buf[32];
    for (const char *const *k = lk_ocf_advised_keys; *k; k++) {
        const char *v = lk_ocf_meta_advised(meta, *k, buf, sizeof(buf));
        if (v) {
            (void) json_object_set_new(advised, *k, json_string(v));
        }
    }
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:b}", "agent", agent, "version",
                     meta->version, "shortdesc", meta->shortdesc ? meta->shortdesc : "",
                     "parameters", params, "actions", actions, "advised", advised, "promotable",
                     meta->promotable);
}
