/* Unit tests for metrics.c, the Prometheus text builder: the refusals first (bad names,
 * samples outside a family, histograms that do not add up, the sticky error), then the
 * text itself compared byte for byte: families, label escaping, values, histograms.
 * Pure: no loop, no files. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

static const double bounds[] = {0.005, 0.5, 10};

static void family__bad_name_refused(void **state)
{
    (void) state;
    const char *bad[] = {"", "1abc", "a-b", "a b", "a{", "é"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct lk_metrics m;
        lk_metrics_init(&m);
        assert_int_equal(lk_metrics_family(&m, bad[i], LK_METRIC_GAUGE, "h"), -EINVAL);
        assert_null(lk_metrics_take(&m, NULL));
        lk_metrics_done(&m);
    }
    struct lk_metrics m;
    lk_metrics_init(&m);
    assert_int_equal(lk_metrics_family(&m, "a", LK_METRIC_TYPE_COUNT, "h"), -EINVAL);
    lk_metrics_done(&m);
    char long_name[LK_METRICS_NAME_MAX + 2];
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    lk_metrics_init(&m);
    assert_int_equal(lk_metrics_family(&m, long_name, LK_METRIC_GAUGE, "h"), -EINVAL);
    lk_metrics_done(&m);
}

static void sample__outside_family_refused(void **state)
{
    (void) state;
    struct lk_metrics m;
    lk_metrics_init(&m);
    assert_int_equal(lk_metrics_sample(&m, NULL, 0, 1), -EINVAL);
    lk_metrics_done(&m);
    /* A histogram family takes no plain sample, a counter family no histogram. */
    lk_metrics_init(&m);
    assert_int_equal(lk_metrics_family(&m, "h_seconds", LK_METRIC_HISTOGRAM, "h"), 0);
    assert_int_equal(lk_metrics_sample(&m, NULL, 0, 1), -EINVAL);
    lk_metrics_done(&m);
    lk_metrics_init(&m);
    assert_int_equal(lk_metrics_family(&m, "c_total", LK_METRIC_COUNTER, "h"), 0);
    uint64_t counts[4] = {0};
    struct lk_histogram h = {.bounds = bounds, .bucket_count = 3, .counts = counts};
    assert_int_equal(lk_metrics_histogram(&m, NULL, 0, &h), -EINVAL);
    lk_metrics_done(&m);
}

static void sample__bad_label_refused(void **state)
{
    (void) state;
    const char *const cases[][2] = {
            {"", "v"}, {"1a", "v"}, {"a:b", "v"}, {"__reserved", "v"}, {"a", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct lk_metrics m;
        lk_metrics_init(&m);
        assert_int_equal(lk_metrics_family(&m, "g", LK_METRIC_GAUGE, "h"), 0);
        assert_int_equal(lk_metrics_sample(&m, cases[i], 1, 1), -EINVAL);
        lk_metrics_done(&m);
    }
    struct lk_metrics m;
    lk_metrics_init(&m);
    assert_int_equal(lk_metrics_family(&m, "g", LK_METRIC_GAUGE, "h"), 0);
    assert_int_equal(lk_metrics_sample(&m, NULL, 1, 1), -EINVAL);
    lk_metrics_done(&m);
}

static void histogram__inconsistent_refused(void **state)
{
    (void) state;
    uint64_t counts[4] = {1, 2, 0, 1};
    const double unsorted[] = {0.5, 0.005, 10};
    const double infinite[] = {0.5, INFINITY, 20};
    const char *const le[] = {"le", "1"};
    struct {
        const double *bounds;
        uint64_t count;
        const char *const *labels;
    } cases[] = {
            {bounds, 3, NULL},   /* counts add up to 4 */
            {unsorted, 4, NULL}, /* bounds not increasing */
            {infinite, 4, NULL}, /* a bound not finite */
            {bounds, 4, le},     /* "le" is the builder's */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct lk_metrics m;
        lk_metrics_init(&m);
        assert_int_equal(lk_metrics_family(&m, "h_seconds", LK_METRIC_HISTOGRAM, "h"), 0);
        struct lk_histogram h = {.bounds = cases[i].bounds,
                                 .bucket_count = 3,
                                 .counts = counts,
                                 .count = cases[i].count};
        assert_int_equal(lk_metrics_histogram(&m, cases[i].labels, cases[i].labels ? 1 : 0, &h),
                         -EINVAL);
        lk_metrics_done(&m);
    }
}

static void take__error_is_sticky(void **state)
{
    (void) state;
    struct lk_metrics m;
    lk_metrics_init(&m);
    assert_int_equal(lk_metrics_family(&m, "bad name", LK_METRIC_GAUGE, "h"), -EINVAL);
    /* Later calls that would be fine return the first failure and write nothing. */
    assert_int_equal(lk_metrics_family(&m, "good", LK_METRIC_GAUGE, "h"), -EINVAL);
    assert_int_equal(lk_metrics_sample(&m, NULL, 0, 1), -EINVAL);
    assert_null(lk_metrics_take(&m, NULL));
    lk_metrics_done(&m);
}

static void take__empty_is_empty_text(void **state)
{
    (void) state;
    struct lk_metrics m;
    lk_metrics_init(&m);
    size_t len = 99;
    char *text = lk_metrics_take(&m, &len);
    assert_non_null(text);
    assert_int_equal(len, 0);
    assert_string_equal(text, "");
    free(text);
    lk_metrics_done(&m);
}

static void sample__text_and_escaping(void **state)
{
    (void) state;
    struct lk_metrics m;
    lk_metrics_init(&m);
    assert_int_equal(
            lk_metrics_family(&m, "openkeeper_node_up", LK_METRIC_GAUGE, "1 when \\ alive\nor not"),
            0);
    const char *const one[] = {"node", "a\"b\\c\nd"};
    assert_int_equal(lk_metrics_sample(&m, one, 1, 1), 0);
    const char *const two[] = {"peer", "n2", "reason", "other"};
    assert_int_equal(lk_metrics_sample(&m, two, 2, 0), 0);
    assert_int_equal(lk_metrics_family(&m, "x_seconds", LK_METRIC_GAUGE, ""), 0);
    assert_int_equal(lk_metrics_sample(&m, NULL, 0, 0.1), 0);
    assert_int_equal(lk_metrics_sample(&m, NULL, 0, 1765000000123.0), 0);
    assert_int_equal(lk_metrics_sample(&m, NULL, 0, -3), 0);
    assert_int_equal(lk_metrics_sample(&m, NULL, 0, INFINITY), 0);
    assert_int_equal(lk_metrics_sample(&m, NULL, 0, -INFINITY), 0);
    assert_int_equal(lk_metrics_sample(&m, NULL, 0, NAN), 0);
    assert_int_equal(lk_metrics_sample(&m, NULL, 0, 1e300), 0);
    size_t len = 0;
    char *text = lk_metrics_take(&m, &len);
    assert_non_null(text);
    assert_string_equal(text, "# HELP openkeeper_node_up 1 when \\\\ alive\\nor not\n"
                              "# TYPE openkeeper_node_up gauge\n"
                              "openkeeper_node_up{node=\"a\\\"b\\\\c\\nd\"} 1\n"
                              "openkeeper_node_up{peer=\"n2\",reason=\"other\"} 0\n"
                              "# HELP x_seconds \n"
                              "# TYPE x_seconds gauge\n"
                              "x_seconds 0.1\n"
                              "x_seconds 1765000000123\n"
                              "x_seconds -3\n"
                              "x_seconds +Inf\n"
                              "x_seconds -Inf\n"
                              "x_seconds NaN\n"
                              "x_seconds 1e+300\n");
    assert_int_equal(len, strlen(text));
    free(text);
    lk_metrics_done(&m);
}

static void histogram__cumulative_buckets(void **state)
{
    (void) state;
    struct lk_metrics m;
    lk_metrics_init(&m);
    assert_int_equal(
            lk_metrics_family(&m, "openkeeper_check_duration_seconds", LK_METRIC_HISTOGRAM, "h"),
            0);
    uint64_t counts[4] = {1, 2, 0, 1};
    struct lk_histogram h = {
            .bounds = bounds, .bucket_count = 3, .counts = counts, .count = 4, .sum = 42.25};
    const char *const labels[] = {"tag", "web", "kind", "quickchk"};
    assert_int_equal(lk_metrics_histogram(&m, labels, 2, &h), 0);
    uint64_t none[4] = {0};
    struct lk_histogram empty = {.bounds = bounds, .bucket_count = 3, .counts = none};
    assert_int_equal(lk_metrics_histogram(&m, NULL, 0, &empty), 0);
    char *text = lk_metrics_take(&m, NULL);
    assert_non_null(text);
    assert_string_equal(
            text, "# HELP openkeeper_check_duration_seconds h\n"
                  "# TYPE openkeeper_check_duration_seconds histogram\n"
                  "openkeeper_check_duration_seconds_bucket{tag=\"web\",kind=\"quickchk\","
                  "le=\"0.005\"} 1\n"
                  "openkeeper_check_duration_seconds_bucket{tag=\"web\",kind=\"quickchk\","
                  "le=\"0.5\"} 3\n"
                  "openkeeper_check_duration_seconds_bucket{tag=\"web\",kind=\"quickchk\","
                  "le=\"10\"} 3\n"
                  "openkeeper_check_duration_seconds_bucket{tag=\"web\",kind=\"quickchk\","
                  "le=\"+Inf\"} 4\n"
                  "openkeeper_check_duration_seconds_sum{tag=\"web\",kind=\"quickchk\"} 42.25\n"
                  "openkeeper_check_duration_seconds_count{tag=\"web\",kind=\"quickchk\"} 4\n"
                  "openkeeper_check_duration_seconds_bucket{le=\"0.005\"} 0\n"
                  "openkeeper_check_duration_seconds_bucket{le=\"0.5\"} 0\n"
                  "openkeeper_check_duration_seconds_bucket{le=\"10\"} 0\n"
                  "openkeeper_check_duration_seconds_bucket{le=\"+Inf\"} 0\n"
                  "openkeeper_check_duration_seconds_sum 0\n"
                  "openkeeper_check_duration_seconds_count 0\n");
    free(text);
    lk_metrics_done(&m);
}

static void take__large_text_grows(void **state)
{
    (void) state;
    struct lk_metrics m;
    lk_metrics_init(&m);
    assert_int_equal(lk_metrics_family(&m, "g", LK_METRIC_GAUGE, "h"), 0);
    char tag[32];
    const char *const labels[] = {"tag", tag};
    for (int i = 0; i < 20000; i++) {
        snprintf(tag, sizeof(tag), "resource-%05d", i);
        assert_int_equal(lk_metrics_sample(&m, labels, 1, i), 0);
    }
    size_t len = 0;
    char *text = lk_metrics_take(&m, &len);
    assert_non_null(text);
    assert_non_null(strstr(text, "g{tag=\"resource-19999\"} 19999\n"));
    assert_int_equal(len, strlen(text));
    free(text);
    lk_metrics_done(&m);
}

static void sample__shortest_value_that_reads_back(void **state)
{
    (void) state;
    struct lk_metrics m;
    lk_metrics_init(&m);
    assert_int_equal(lk_metrics_family(&m, "v", LK_METRIC_GAUGE, "h"), 0);
    const double values[] = {0.1 + 0.2, 1e-7, 0.005, 1796665417.892, -0.0, 9007199254740993.0};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        assert_int_equal(lk_metrics_sample(&m, NULL, 0, values[i]), 0);
    }
    /* UTF-8 in a label value passes as it is. */
    const char *const l[] = {"tag", "caf\xc3\xa9"};
    assert_int_equal(lk_metrics_sample(&m, l, 1, 1), 0);
    char *text = lk_metrics_take(&m, NULL);
    assert_non_null(text);
    assert_string_equal(text, "# HELP v h\n# TYPE v gauge\n"
                              "v 0.30000000000000004\n"
                              "v 1e-07\n"
                              "v 0.005\n"
                              "v 1796665417.892\n"
                              "v 0\n"
                              "v 9007199254740992\n"
                              "v{tag=\"caf\xc3\xa9\"} 1\n");
    free(text);
    lk_metrics_done(&m);
}

static void type_name__names(void **state)
{
    (void) state;
    assert_string_equal(lk_metric_type_name(LK_METRIC_COUNTER), "counter");
    assert_string_equal(lk_metric_type_name(LK_METRIC_GAUGE), "gauge");
    assert_string_equal(lk_metric_type_name(LK_METRIC_HISTOGRAM), "histogram");
    assert_null(lk_metric_type_name(LK_METRIC_TYPE_COUNT));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(family__bad_name_refused),
            cmocka_unit_test(sample__outside_family_refused),
            cmocka_unit_test(sample__bad_label_refused),
            cmocka_unit_test(histogram__inconsistent_refused),
            cmocka_unit_test(take__error_is_sticky),
            cmocka_unit_test(take__empty_is_empty_text),
            cmocka_unit_test(sample__text_and_escaping),
            cmocka_unit_test(histogram__cumulative_buckets),
            cmocka_unit_test(take__large_text_grows),
            cmocka_unit_test(sample__shortest_value_that_reads_back),
            cmocka_unit_test(type_name__names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
