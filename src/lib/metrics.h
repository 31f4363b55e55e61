/* The Prometheus text exposition format, version 0.0.4: a builder that writes metric
 * families (their # HELP and # TYPE lines), samples with escaped label values, and
 * histograms (cumulative _bucket lines, _sum, _count) into one growing text.
 * Pure: no I/O, no clock; the caller owns the struct lk_metrics and frees it with
 * lk_metrics_done.
 *
 * Errors are sticky: the first failure (a bad metric or label name, a sample outside its
 * family, out of memory) is kept, every later call returns it and does nothing, and
 * lk_metrics_take gives NULL. So a caller may write a whole exposition and check once. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define LK_METRICS_NAME_MAX 128

enum lk_metric_type {
    LK_METRIC_COUNTER,
    LK_METRIC_GAUGE,
    LK_METRIC_HISTOGRAM,
    LK_METRIC_TYPE_COUNT,
};

struct lk_metrics {
    char *text;
    size_t len, cap;
    int err; /* 0, or the first failure (-EINVAL, -ENOMEM) */
    char family[LK_METRICS_NAME_MAX + 1];
    enum lk_metric_type type;
};

/* A histogram's figures: bucket_count upper bounds, increasing and finite; counts holds
 * bucket_count + 1 figures, each the observations in its own bucket (not cumulative),
 * the last one those above the highest bound (+Inf); count is their total, sum the sum
 * of the observed values. */
struct lk_histogram {
    const double *bounds;
    size_t bucket_count;
    const uint64_t *counts;
    uint64_t count;
    double sum;
};

/* Makes m empty (nothing allocated yet). */
void lk_metrics_init(struct lk_metrics *m);
/* Frees m's text (also after lk_metrics_take: then nothing is left to free). */
void lk_metrics_done(struct lk_metrics *m);

/* Starts a family: "# HELP name help" (help escaped: backslash, newline) and "# TYPE".
 * name must match [a-zA-Z_:][a-zA-Z0-9_:]*, at most LK_METRICS_NAME_MAX bytes. Returns 0,
 * -EINVAL (bad name or type) or -ENOMEM. */
int lk_metrics_family(struct lk_metrics *m, const char *name, enum lk_metric_type type,
                      const char *help);

/* One sample of the current counter or gauge family: labels holds pairs (name, value),
 * pairs of them; label names must match [a-zA-Z_][a-zA-Z0-9_]* and not start with "__",
 * values are escaped (backslash, double quote, newline). value is written exactly when it
 * is an integer below 2^53, as +Inf, -Inf or NaN when not finite. Returns 0, -EINVAL (no
 * family yet, a histogram family, a bad label name, labels NULL with pairs) or -ENOMEM. */
int lk_metrics_sample(struct lk_metrics *m, const char *const *labels, size_t pairs, double value);

/* One histogram of the current histogram family, with these labels (as lk_metrics_sample;
 * "le" is not allowed among them): its _bucket lines with cumulative counts, the +Inf
 * bucket, _sum and _count. Returns 0, -EINVAL (not a histogram family, bounds not
 * increasing or not finite, counts that do not add up to count) or -ENOMEM. */
int lk_metrics_histogram(struct lk_metrics *m, const char *const *labels, size_t pairs,
                         const struct lk_histogram *h);

/* The text written so far (NUL-terminated, *ret_len bytes without the NUL), handed to the
 * caller (free it); m is empty afterwards. NULL after any failure (m's error stays). */
char *lk_metrics_take(struct lk_metrics *m, size_t *ret_len);

/* The type's name as "# TYPE" writes it ("counter", "gauge", "histogram"); NULL when
 * out of range. */
const char *lk_metric_type_name(enum lk_metric_type type);
