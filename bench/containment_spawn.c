/* The cost of containment per script run (issue 10): /bin/true started by the runner the
 * way lkd starts scripts, uncontained (posix_spawn) and contained (clone3 straight into a
 * cgroup), N runs each, interleaved so that both see the same machine.
 *
 * Two figures per run: start_us, how long lk_run_start kept the loop (the spawn itself,
 * until the child has exec'd), and run_us, from the start to the done callback (the whole
 * run of /bin/true as lkd sees it). --rss-mb M first touches M MB of memory, since a
 * fork-like clone copies the page tables and costs more in a larger process (lkd's RSS is
 * a few MB).
 *
 * The cgroup is made under the cgroup v2 mount (okbench-<pid>/openkeeper/...) through
 * lk_cgroups_open and removed at the end. Prints one JSON object: min, median and max per
 * method, in microseconds. Must run as root. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "cgroup.h"
#include "runner.h"

struct series {
    double *start_us;
    double *run_us;
    int n;
};

static bool run_done;
static uint64_t done_ns;
static enum lk_outcome last_outcome;

static void on_done(struct lk_run *run, const struct lk_result *result, const char *output,
                    size_t output_len, void *userdata)
{
    (void) run;
    (void) output;
    (void) output_len;
    (void) userdata;
    run_done = true;
    done_ns = uv_hrtime();
    last_outcome = result->outcome;
}

static int one_run(uv_loop_t *loop, bool contained, int cgroup_fd, struct series *s)
{
    static char env_path[] = "PATH=/usr/bin:/bin";
    static char *env[] = {env_path, NULL};
    struct lk_run_spec spec = {
            .path = "/bin/true",
            .cwd = "/",
            .env = env,
            .contained = contained,
            .cgroup_fd = cgroup_fd,
    };
    run_done = false;
    uint64_t t0 = uv_hrtime();
    int r = lk_run_start(loop, &spec, on_done, NULL, NULL);
    uint64_t t1 = uv_hrtime();
    if (r < 0) {
        fprintf(stderr, "lk_run_start: %s\n", strerror(-r));
        return -1;
    }
    while (!run_done) {
        uv_run(loop, UV_RUN_ONCE);
    }
    if (last_outcome != LK_OUTCOME_SUCCESS) {
        fprintf(stderr, "/bin/true did not succeed (%s)\n", contained ? "contained" : "plain");
        return -1;
    }
    s->start_us[s->n] = (double) (t1 - t0) / 1000.0;
    s->run_us[s->n] = (double) (done_ns - t0) / 1000.0;
    s->n++;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

static void print_stats(const char *name, double *v, int n, bool last)
{
    qsort(v, (size_t) n, sizeof(*v), cmp_double);
    double median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    printf("      \"%s\": {\"min\": %.1f, \"median\": %.1f, \"max\": %.1f}%s\n", name, v[0], median,
           v[n - 1], last ? "" : ",");
}

static void print_series(const char *name, struct series *s, bool last)
{
    printf("    \"%s\": {\n", name);
    print_stats("start_us", s->start_us, s->n, false);
    print_stats("run_us", s->run_us, s->n, true);
    printf("    }%s\n", last ? "" : ",");
}

static bool find_mount(char *buf, size_t size)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f) {
        return false;
    }
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f)) {
        char point[PATH_MAX];
        if (strstr(line, " - cgroup2 ") && sscanf(line, "%*s %*s %*s %*s %4095s", point) == 1) {
            snprintf(buf, size, "%s", point);
            found = true;
        }
    }
    fclose(f);
    return found;
}

int main(int argc, char **argv)
{
    int runs = 1000;
    long rss_mb = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--rss-mb") == 0 && i + 1 < argc) {
            rss_mb = atol(argv[++i]);
        } else if (strcmp(argv[i], "--build") == 0 && i + 1 < argc) {
            i++; /* accepted like the other benchmarks; this one is the build */
        } else {
            fprintf(stderr, "usage: %s [--runs N] [--rss-mb M]\n", argv[0]);
            return 2;
        }
    }
    if (runs < 1 || runs > 1000000 || rss_mb < 0 || rss_mb > 16384) {
        fprintf(stderr, "--runs must be 1..1000000, --rss-mb 0..16384\n");
        return 2;
    }
    char *ballast = NULL;
    if (rss_mb > 0) {
        ballast = malloc((size_t) rss_mb << 20);
        if (!ballast) {
            fprintf(stderr, "cannot allocate %ld MB\n", rss_mb);
            return 1;
        }
        memset(ballast, 1, (size_t) rss_mb << 20);
    }

    char mount[PATH_MAX], parent[PATH_MAX + 32] = "", sub[PATH_MAX + 64] = "", why[256] = "";
    struct lk_cgroups *cg = NULL;
    int cgroup_fd = -1;
    if (find_mount(mount, sizeof(mount))) {
        snprintf(parent, sizeof(parent), "%s/okbench-%d", mount, (int) getpid());
        snprintf(sub, sizeof(sub), "%s/openkeeper", parent);
        if (mkdir(parent, 0755) < 0) {
            snprintf(why, sizeof(why), "cannot create %s: %s", parent, strerror(errno));
        } else if (lk_cgroups_open("/bench", "bench", parent, &cg, why, sizeof(why)) == 0 && cg) {
            cgroup_fd = lk_cgroups_fd(cg, "true");
            if (cgroup_fd < 0) {
                snprintf(why, sizeof(why), "lk_cgroups_fd: %s", strerror(-cgroup_fd));
            }
        }
    } else {
        snprintf(why, sizeof(why), "no cgroup v2 mount");
    }

    uv_loop_t loop;
    uv_loop_init(&loop);
    struct series plain = {calloc((size_t) runs, sizeof(double)),
                           calloc((size_t) runs, sizeof(double)), 0};
    struct series boxed = {calloc((size_t) runs, sizeof(double)),
                           calloc((size_t) runs, sizeof(double)), 0};
    int rc = 0;
    if (!plain.start_us || !plain.run_us || !boxed.start_us || !boxed.run_us) {
        rc = 1;
    }
    for (int i = 0; rc == 0 && i < runs; i++) {
        if (one_run(&loop, false, -1, &plain) < 0 ||
            (cgroup_fd >= 0 && one_run(&loop, true, cgroup_fd, &boxed) < 0)) {
            rc = 1;
        }
    }
    if (rc == 0) {
        printf("{\n  \"benchmark\": \"containment_spawn\",\n  \"runs\": %d,\n  \"rss_mb\": %ld,\n"
               "  \"program\": \"/bin/true\",\n  \"methods\": {\n",
               runs, rss_mb);
        print_series("uncontained", &plain, cgroup_fd < 0);
        if (cgroup_fd >= 0) {
            print_series("contained", &boxed, true);
        }
        printf("  }%s\n", cgroup_fd >= 0 ? "" : ",");
        if (cgroup_fd < 0) {
            printf("  \"contained_error\": \"");
            for (const char *c = why; *c; c++) {
                if (*c == '"' || *c == '\\') {
                    printf("\\%c", *c);
                } else if ((unsigned char) *c >= 0x20) {
                    putchar(*c);
                }
            }
            printf("\"\n");
        }
        printf("}\n");
    }

    (void) uv_loop_close(&loop);
    lk_cgroups_close(cg);
    if (sub[0]) {
        (void) rmdir(sub);
    }
    if (parent[0]) {
        (void) rmdir(parent);
    }
    free(plain.start_us);
    free(plain.run_us);
    free(boxed.start_us);
    free(boxed.run_us);
    free(ballast);
    return rc;
}
