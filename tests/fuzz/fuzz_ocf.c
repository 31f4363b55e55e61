/* libFuzzer target: what an OCF agent and a peer give about OCF resources: an agent's
 * meta-data XML (src/lib/ocf.c's lk_ocf_meta_parse, libxml2) and what reads its result
 * (lk_ocf_meta_json, lk_ocf_meta_param, lk_ocf_meta_advised, lk_ocf_meta_check_params),
 * an agent's output and exit status (lk_ocf_classify: the ocf-exit-reason line), and a
 * resource's parameters as JSON from a peer (src/lib/params.c).
 *
 * Input: the first byte's low two bits pick the mode (fuzz.h), the rest is its input:
 *   0, 2  meta-data XML        1  a context byte, a status byte, then the agent's output
 *   3  the parameters' full JSON form
 * Invariants: a refusal is -EINVAL with a one-line UTF-8 message and nothing left
 * allocated (LSan); accepted meta-data has named parameters, valid JSON, and advice a
 * setting takes; an exit reason is one line inside its buffer; accepted parameters print
 * and parse back to the same, and a secret value never appears in the public forms.
 * Never: files, processes, the store. */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "ocf.h"
#include "params.h"
#include "resource.h"
#include "result.h"

#define ERR_SIZE 1024

static void refusal(int r, const char *err)
{
    FUZZ_CHECK(r == -EINVAL, "error %d", r);
    FUZZ_CHECK(err[0] != '\0', "a refusal without a message");
    FUZZ_CHECK(fuzz_one_line(err), "a message of more than one line: '%s'", err);
    FUZZ_CHECK(fuzz_utf8(err), "a message a reply cannot carry: '%s'", err);
}

static void meta(const uint8_t *data, size_t size)
{
    struct lk_ocf_meta m;
    char err[ERR_SIZE] = "";
    memset(&m, 0x5a, sizeof(m));
    int r = lk_ocf_meta_parse((const char *) data, size, &m, err, sizeof(err));
    if (r < 0) {
        refusal(r, err);
        return;
    }
    FUZZ_CHECK(memchr(m.name, '\0', sizeof(m.name)) && memchr(m.version, '\0', sizeof(m.version)),
               "name or version not terminated");
    FUZZ_CHECK(m.param_count == 0 || m.params, "parameters without a list");
    struct lk_ocf_value *given = calloc(m.param_count + 1, sizeof(*given));
    FUZZ_CHECK(given != NULL, "calloc");
    for (size_t i = 0; i < m.param_count; i++) {
        const struct lk_ocf_param *p = &m.params[i];
        FUZZ_CHECK(memchr(p->name, '\0', sizeof(p->name)) != NULL, "name not terminated");
        FUZZ_CHECK(p->name[0] != '\0', "parameter %zu has no name", i);
        FUZZ_CHECK(p->shortdesc && p->content_type, "parameter '%s' without texts", p->name);
        const struct lk_ocf_param *q = lk_ocf_meta_param(&m, p->name);
        FUZZ_CHECK(q != NULL && strcmp(q->name, p->name) == 0, "'%s' not found", p->name);
        FUZZ_CHECK(p->secret == lk_ocf_secret_name(p->name), "'%s' secret mark", p->name);
        given[i].name = p->name;
        given[i].value = "v";
    }
    FUZZ_CHECK(m.action_count == 0 || m.actions, "actions without a list");
    for (size_t i = 0; i < m.action_count; i++) {
        FUZZ_CHECK(memchr(m.actions[i].name, '\0', sizeof(m.actions[i].name)) != NULL,
                   "action name not terminated");
    }
    json_t *j = lk_ocf_meta_json(&m, "heartbeat:fuzz");
    FUZZ_CHECK(j != NULL, "the meta-data does not print");
    char *text = json_dumps(j, JSON_COMPACT);
    FUZZ_CHECK(text != NULL, "the meta-data's JSON does not dump");
    json_error_t jerr;
    json_t *back = json_loads(text, 0, &jerr);
    FUZZ_CHECK(back && json_equal(back, j), "the meta-data's JSON is not valid: %s", jerr.text);
    json_decref(back);
    free(text);
    json_decref(j);
    /* Every advised value is one a resource setting takes. */
    for (size_t k = 0; lk_ocf_advised_keys[k]; k++) {
        char buf[64];
        const char *v = lk_ocf_meta_advised(&m, lk_ocf_advised_keys[k], buf, sizeof(buf));
        if (!v) {
            continue;
        }
        FUZZ_CHECK(memchr(buf, '\0', sizeof(buf)) != NULL, "advice not terminated");
        struct lk_settings s;
        lk_settings_init(&s);
        err[0] = '\0';
        int sr = lk_settings_set(&s, lk_ocf_advised_keys[k], v, err, sizeof(err));
        if (sr < 0) {
            refusal(sr == -ERANGE ? -EINVAL : sr, err); /* out of a setting's range: refused */
        }
    }
    /* Every parameter given: only a duplicate can refuse; none given: refused if required. */
    err[0] = '\0';
    r = lk_ocf_meta_check_params(&m, "heartbeat:fuzz", given, m.param_count, err, sizeof(err));
    if (r < 0) {
        refusal(r, err);
    }
    bool required = false;
    for (size_t i = 0; i < m.param_count; i++) {
        required |= m.params[i].required;
    }
    err[0] = '\0';
    r = lk_ocf_meta_check_params(&m, "heartbeat:fuzz", NULL, 0, err, sizeof(err));
    FUZZ_CHECK((r < 0) == required, "no parameters given: %d (required: %d)", r, required);
    if (r < 0) {
        refusal(r, err);
    }
    given[0].name = "no_such_parameter_xyz";
    given[0].value = "v";
    if (!lk_ocf_meta_param(&m, given[0].name)) {
        err[0] = '\0';
        r = lk_ocf_meta_check_params(&m, "heartbeat:fuzz", given, 1, err, sizeof(err));
        FUZZ_CHECK(r < 0, "an undeclared parameter accepted");
        refusal(r, err);
    }
    free(given);
    lk_ocf_meta_free(&m);
}

static void classify(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return;
    }
    static const int statuses[] = {0, 1, 2, 3, 5, 6, 7, 8, 9, 190, 191, 42, 255};
    enum lk_ocf_context ctx = (enum lk_ocf_context)(data[0] % LK_OCF_CTX_COUNT);
    int status = statuses[data[1] % (sizeof(statuses) / sizeof(statuses[0]))];
    /* The output as the runner keeps it: a heap copy of exactly its bytes (ASan sees any
     * read past the end). */
    size_t len = size - 2;
    char *out = malloc(len ? len : 1);
    FUZZ_CHECK(out != NULL, "malloc");
    memcpy(out, data + 2, len);
    struct lk_result res;
    memset(&res, 0, sizeof(res));
    res.outcome = status == 0 ? LK_OUTCOME_SUCCESS : LK_OUTCOME_EXIT;
    res.exit_status = status;
    memset(res.exit_reason, 0x5a, sizeof(res.exit_reason));
    lk_ocf_classify(ctx, &res, out, len);
    const char *end = memchr(res.exit_reason, '\0', sizeof(res.exit_reason));
    FUZZ_CHECK(end != NULL, "exit reason not terminated");
    FUZZ_CHECK(fuzz_one_line(res.exit_reason), "exit reason of more than one line: '%s'",
               res.exit_reason);
    for (const char *p = res.exit_reason; *p; p++) {
        FUZZ_CHECK((unsigned char) *p >= 0x20 && *p != 0x7f, "control byte in the reason");
    }
    FUZZ_CHECK(res.verdict == lk_ocf_code(status, ctx).verdict, "verdict %d", res.verdict);
    bool found = memmem(out, len, LK_OCF_REASON_PREFIX, strlen(LK_OCF_REASON_PREFIX)) != NULL;
    if (!found) {
        FUZZ_CHECK(res.exit_reason[0] == '\0', "a reason without the prefix");
    }
    /* A small buffer: the reason is cut inside it. */
    char small[8];
    memset(small, 0x5a, sizeof(small));
    bool had = lk_ocf_exit_reason(out, len, small, sizeof(small));
    FUZZ_CHECK(memchr(small, '\0', sizeof(small)) != NULL, "cut reason not terminated");
    FUZZ_CHECK(had || small[0] == '\0', "no reason but text");
    FUZZ_CHECK(!had || found, "a reason without the prefix");
    free(out);
}

/* Whether value occurs in text (a non-empty value; an empty one hides nothing). */
static bool shows(const char *text, const char *value)
{
    return value[0] != '\0' && strstr(text, value) != NULL;
}

static void params(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *json = json_loadb((const char *) data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (!json) {
        return;
    }
    struct lk_params p = {0};
    char err[ERR_SIZE] = "";
    int r = lk_params_from_json(json, &p, err, sizeof(err));
    if (r < 0) {
        refusal(r, err);
        FUZZ_CHECK(p.count == 0 && p.items == NULL, "refused parameters kept");
        json_decref(json);
        return;
    }
    FUZZ_CHECK(p.count <= LK_PARAMS_MAX, "%zu parameters", p.count);
    json_t *full = lk_params_json(&p);
    FUZZ_CHECK(full != NULL, "the parameters do not print");
    struct lk_params again = {0};
    FUZZ_CHECK(lk_params_from_json(full, &again, err, sizeof(err)) == 0,
               "the printed parameters are refused: %s", err);
    FUZZ_CHECK(lk_params_equal(&p, &again), "the parameters change on their way back");
    json_t *full2 = lk_params_json(&again);
    FUZZ_CHECK(full2 && json_equal(full, full2), "the full form changes on its way back");
    json_t *pub = lk_params_public_json(&p);
    FUZZ_CHECK(pub != NULL, "the public form does not print");
    char *pub_text = json_dumps(pub, JSON_COMPACT | JSON_ENCODE_ANY);
    FUZZ_CHECK(pub_text != NULL, "the public form does not dump");
    static char line[8192];
    lk_params_public_text(&p, line, sizeof(line));
    FUZZ_CHECK(fuzz_one_line(line), "public text of more than one line");
    char small[32];
    lk_params_public_text(&p, small, sizeof(small));
    FUZZ_CHECK(memchr(small, '\0', sizeof(small)) != NULL, "cut text not terminated");
    for (size_t i = 0; i < p.count; i++) {
        const struct lk_param *q = &p.items[i];
        FUZZ_CHECK(lk_params_check_name(q->name, err, sizeof(err)) == 0, "name: %s", err);
        json_t *v = json_object_get(pub, q->name);
        FUZZ_CHECK(json_is_string(v), "'%s' missing from the public form", q->name);
        if (!q->secret) {
            FUZZ_CHECK(strcmp(json_string_value(v), q->value) == 0, "'%s' shown otherwise",
                       q->name);
            continue;
        }
        FUZZ_CHECK(strcmp(json_string_value(v), LK_PARAM_SECRET_TEXT) == 0, "'%s' shown", q->name);
        /* The value may be part of another value, a name or the markup: only a secret
         * that occurs nowhere else must not be found. */
        bool elsewhere = shows("=*\" {}:,", q->value);
        for (size_t k = 0; k < p.count && !elsewhere; k++) {
            elsewhere = strstr(p.items[k].name, q->value) != NULL ||
                        (!p.items[k].secret && strstr(p.items[k].value, q->value) != NULL) ||
                        strstr(q->value, "...") != NULL;
        }
        if (!elsewhere) {
            json_t *sv = json_string(q->value);
            char *esc = sv ? json_dumps(sv, JSON_ENCODE_ANY) : NULL;
            json_decref(sv);
            FUZZ_CHECK(!shows(line, q->value), "secret '%s' in the public text", q->name);
            if (esc) {
                esc[strlen(esc) - 1] = '\0';
                FUZZ_CHECK(!shows(pub_text, esc + 1), "secret '%s' in the public JSON", q->name);
                free(esc);
            }
        }
    }
    free(pub_text);
    json_decref(pub);
    json_decref(full2);
    json_decref(full);
    lk_params_free(&again);
    lk_params_free(&p);
    json_decref(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fuzz_mode_fn *const modes[4] = {meta, classify, meta, params};
    return fuzz_four_modes(data, size, modes);
}
