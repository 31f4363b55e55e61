/* The Prometheus text exposition format 0.0.4 (metrics.h): what a family, a sample and a
 * histogram look like as text, the escaping of label values and help texts, and the
 * check of metric and label names.
 *
 * Everything enters as plain values from the caller (lkd's metrics handler, the unit
 * test); the text grows in one buffer, doubled when full. It never reads a clock, never
 * logs, never reorders what it is given: the caller writes each family's samples right
 * after the family, as the format requires, and the builder refuses a sample outside
 * its family's kind. */
#include "metrics.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_CAP 4096

static const char *const type_names[LK_METRIC_TYPE_COUNT] = {"counter", "gauge", "histogram"};

const char *lk_metric_type_name(enum lk_metric_type type)
{
    return (unsigned) type < LK_METRIC_TYPE_COUNT ? type_names[type] : NULL;
}

void lk_metrics_init(struct lk_metrics *m)
{
    *m = (struct lk_metrics){0};
}

void lk_metrics_done(struct lk_metrics *m)
{
    free(m->text);
    m->text = NULL;
    m->len = m->cap = 0;
}

/* Makes room for n more bytes and the NUL. */
static bool reserve(struct lk_metrics *m, size_t n)
{
    if (m->err) {
        return false;
    }
    if (m->len + n + 1 <= m->cap) {
        return true;
    }
    size_t cap = m->cap ? m->cap : FIRST_CAP;
    while (cap < m->len + n + 1) {
        if (cap > SIZE_MAX / 2) {
            m->err = -ENOMEM;
            return false;
        }
        cap *= 2;
    }
    char *text = realloc(m->text, cap);
    if (!text) {
        m->err = -ENOMEM;
        return false;
    }
    m->text = text;
    m->cap = cap;
    return true;
}

static void put(struct lk_metrics *m, const char *s, size_t n)
{
    if (reserve(m, n)) {
        memcpy(m->text + m->len, s, n);
        m->len += n;
        m->text[m->len] = '\0';
    }
}

static void puts_(struct lk_metrics *m, const char *s)
{
    put(m, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void putf(struct lk_metrics *m, const char *fmt, ...)
{
    char buf[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    /* Only numbers and names are formatted here: they fit. */
    if (n < 0 || (size_t) n >= sizeof(buf)) {
        m->err = m->err ? m->err : -EINVAL;
        return;
    }
    put(m, buf, (size_t) n);
}

/* Writes s with backslash and newline escaped, and the double quote too when quote. */
static void put_escaped(struct lk_metrics *m, const char *s, bool quote)
{
    const char *run = s;
    for (const char *p = s; *p; p++) {
        const char *esc = *p == '\\'           ? "\\\\"
                          : *p == '\n'         ? "\\n"
                          : quote && *p == '"' ? "\\\""
                                               : NULL;
        if (esc) {
            put(m, run, (size_t) (p - run));
            puts_(m, esc);
            run = p + 1;
        }
    }
    puts_(m, run);
}

static bool name_char(char c, bool first, bool colon)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':')) {
        return true;
    }
    return !first && c >= '0' && c <= '9';
}

static bool valid_name(const char *name, bool colon)
{
    if (!name || !name[0] || strlen(name) > LK_METRICS_NAME_MAX) {
        return false;
    }
    for (const char *p = name; *p; p++) {
        if (!name_char(*p, p == name, colon)) {
            return false;
        }
    }
    return true;
}

static int fail(struct lk_metrics *m, int err)
{
    if (!m->err) {
        m->err = err;
    }
    return m->err;
}

/* A value as the format writes it into buf (40 bytes): an integer exactly, else the
 * shortest %g that reads back the same, and the three special values by their names. */
static void format_value(char buf[static 40], double v)
{
    if (isnan(v)) {
        snprintf(buf, 40, "%s", "NaN");
    } else if (isinf(v)) {
        snprintf(buf, 40, "%s", v > 0 ? "+Inf" : "-Inf");
    } else if (v > -9007199254740992.0 && v < 9007199254740992.0 && v == (double) (int64_t) v) {
        snprintf(buf, 40, "%lld", (long long) v);
    } else {
        for (int prec = 6; prec <= 17; prec++) {
            snprintf(buf, 40, "%.*g", prec, v);
            if (strtod(buf, NULL) == v) {
                break;
            }
        }
    }
}

static void put_value(struct lk_metrics *m, double v)
{
    char buf[40];
    format_value(buf, v);
    puts_(m, buf);
}

int lk_metrics_family(struct lk_metrics *m, const char *name, enum lk_metric_type type,
                      const char *help)
{
    if (m->err) {
        return m->err;
    }
    if (!valid_name(name, true) || !lk_metric_type_name(type)) {
        return fail(m, -EINVAL);
    }
    snprintf(m->family, sizeof(m->family), "%s", name);
    m->type = type;
    puts_(m, "# HELP ");
    puts_(m, name);
    puts_(m, " ");
    put_escaped(m, help ? help : "", false);
    puts_(m, "\n# TYPE ");
    puts_(m, name);
    puts_(m, " ");
    puts_(m, type_names[type]);
    puts_(m, "\n");
    return m->err;
}

/* Checks the label names of pairs (and that "le" is absent when le_free). */
static bool valid_labels(const char *const *labels, size_t pairs, bool le_free)
{
    if (pairs && !labels) {
        return false;
    }
    for (size_t i = 0; i < pairs; i++) {
        const char *k = labels[2 * i];
        if (!valid_name(k, false) || strncmp(k, "__", 2) == 0 || !labels[2 * i + 1] ||
            (le_free && strcmp(k, "le") == 0)) {
            return false;
        }
    }
    return true;
}

/* name{k="v",...,extra_k="extra_v"} (no braces when there is no label at all). */
static void put_series(struct lk_metrics *m, const char *suffix, const char *const *labels,
                       size_t pairs, const char *le)
{
    puts_(m, m->family);
    puts_(m, suffix);
    if (pairs == 0 && !le) {
        return;
    }
    puts_(m, "{");
    for (size_t i = 0; i < pairs; i++) {
        puts_(m, i ? "," : "");
        puts_(m, labels[2 * i]);
        puts_(m, "=\"");
        put_escaped(m, labels[2 * i + 1], true);
        puts_(m, "\"");
    }
    if (le) {
        puts_(m, pairs ? ",le=\"" : "le=\"");
        puts_(m, le);
        puts_(m, "\"");
    }
    puts_(m, "}");
}

int lk_metrics_sample(struct lk_metrics *m, const char *const *labels, size_t pairs, double value)
{
    if (m->err) {
        return m->err;
    }
    if (!m->family[0] || m->type == LK_METRIC_HISTOGRAM || !valid_labels(labels, pairs, false)) {
        return fail(m, -EINVAL);
    }
    put_series(m, "", labels, pairs, NULL);
    puts_(m, " ");
    put_value(m, value);
    puts_(m, "\n");
    return m->err;
}

int lk_metrics_histogram(struct lk_metrics *m, const char *const *labels, size_t pairs,
                         const struct lk_histogram *h)
{
    if (m->err) {
        return m->err;
    }
    if (!m->family[0] || m->type != LK_METRIC_HISTOGRAM || !h || !h->counts ||
        (h->bucket_count && !h->bounds) || !valid_labels(labels, pairs, true)) {
        return fail(m, -EINVAL);
    }
    uint64_t total = 0;
    for (size_t i = 0; i <= h->bucket_count; i++) {
        if (i < h->bucket_count &&
            (!isfinite(h->bounds[i]) || (i > 0 && h->bounds[i] <= h->bounds[i - 1]))) {
            return fail(m, -EINVAL);
        }
        total += h->counts[i];
    }
    if (total != h->count) {
        return fail(m, -EINVAL);
    }
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= h->bucket_count; i++) {
        char le[40] = "+Inf";
        if (i < h->bucket_count) {
            format_value(le, h->bounds[i]);
        }
        cumulative += h->counts[i];
        put_series(m, "_bucket", labels, pairs, le);
        putf(m, " %llu\n", (unsigned long long) cumulative);
    }
    put_series(m, "_sum", labels, pairs, NULL);
    puts_(m, " ");
    put_value(m, h->sum);
    puts_(m, "\n");
    put_series(m, "_count", labels, pairs, NULL);
    putf(m, " %llu\n", (unsigned long long) h->count);
    return m->err;
}

char *lk_metrics_take(struct lk_metrics *m, size_t *ret_len)
{
    if (m->err || !reserve(m, 0)) {
        return NULL;
    }
    m->text[m->len] = '\0';
    char *text = m->text;
    if (ret_len) {
        *ret_len = m->len;
    }
    m->text = NULL;
    m->len = m->cap = 0;
    return text;
}
