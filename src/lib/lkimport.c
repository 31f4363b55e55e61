/* lkimport: reads a LifeKeeper export (ins_list, "#dep_list", "#eqv_list" sections) and
 * plans its import as lkcli commands (docs/LIFEKEEPER.md "Importing a LifeKeeper
 * configuration").
 *
 * Owns: the dump's syntax (separator detection, \ooo escapes, the three record shapes),
 * the checks that make the import all-or-nothing before anything is run (every value,
 * every tag a relation names, priorities, cycles), and the order of the steps: creates
 * children first and never in service, dependencies, extends with LifeKeeper's
 * priorities, tunables, and restores only when asked.
 * Never: reads a file, talks to lkd, or decides on its own to bring anything in service.
 * Every refusal is -EINVAL with one line naming the dump's line. */
#include "lkimport.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "validate.h"

#define INS_FIELDS 17
#define EQV_FIELDS 7
#define MAX_FIELDS 32

enum section { SEC_INS, SEC_DEP, SEC_EQV };
static const char *const section_names[] = {"ins_list", "dep_list", "eqv_list"};

/* ---------------------------------------------------------------- parsing */

/* Field text with \ooo decoded; NULL for ENOMEM. */
static char *decode(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    if (!out) {
        return NULL;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && n - i >= 4 && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
            s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
            int v = (s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0');
            if (v != 0) {
                out[o++] = (char) v;
                i += 3;
                continue;
            }
        }
        out[o++] = s[i];
    }
    out[o] = '\0';
    return out;
}

/* Splits line (len bytes) at sep into at most MAX_FIELDS (start, length) pairs; returns
 * how many fields, MAX_FIELDS + 1 when there are more. */
static size_t split(const char *line, size_t len, char sep, const char **starts, size_t *lens)
{
    size_t n = 0, begin = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || line[i] == sep) {
            if (n == MAX_FIELDS) {
                return MAX_FIELDS + 1;
            }
            starts[n] = line + begin;
            lens[n++] = i - begin;
            begin = i + 1;
        }
    }
    return n;
}

static size_t count_fields(const char *line, size_t len, char sep)
{
    size_t n = 1;
    for (size_t i = 0; i < len; i++) {
        n += line[i] == sep;
    }
    return n;
}

/* The separator of the first ins_list line: ^A or 0x1F when present, else the first of
 * , : | TAB that gives seventeen fields; 0 when none does. */
static char detect_sep(const char *line, size_t len)
{
    static const char candidates[] = {'\001', '\x1f', ',', ':', '|', '\t'};
    for (size_t i = 0; i < 2; i++) {
        if (memchr(line, candidates[i], len)) {
            return candidates[i];
        }
    }
    for (size_t i = 2; i < sizeof(candidates); i++) {
        if (count_fields(line, len, candidates[i]) == INS_FIELDS) {
            return candidates[i];
        }
    }
    return 0;
}

static int grow(void **array, size_t n, size_t size)
{
    if (n % 16 == 0) {
        void *p = realloc(*array, (n + 16) * size);
        if (!p) {
            return -ENOMEM;
        }
        *array = p;
    }
    return 0;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len = s[0] < 0x80                    ? 1
                 : s[0] >= 0xc2 && s[0] <= 0xdf ? 2
                 : s[0] >= 0xe0 && s[0] <= 0xef ? 3
                 : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4
                                                : 0;
    if (len == 0 || len > n) {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
    }
    /* Overlong forms, surrogates and code points past U+10FFFF. */
    if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
        (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f)) {
        return 0;
    }
    return len;
}

/* Why a decoded field cannot be taken (an escape can give any byte), or NULL: the text
 * goes to lkd, whose protocol is UTF-8 JSON, and into the printed commands. */
static const char *field_problem(const char *s)
{
    const unsigned char *p = (const unsigned char *) s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f) {
            return "contains a control character";
        }
        size_t len = utf8_len(p + i, n - i);
        if (len == 0) {
            return "is not valid UTF-8";
        }
        i += len;
    }
    return NULL;
}

/* Decodes fields [0, n) into out: all set, or none after -ENOMEM or -EINVAL (a field that
 * field_problem refuses, named with its line in err). */
static int take_fields(const char **starts, const size_t *lens, size_t n, char **out,
                       unsigned line_no, char *err, size_t err_size)
{
    int r = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        out[i] = decode(starts[i], lens[i]);
        if (!out[i]) {
            r = -ENOMEM;
            break;
        }
        const char *why = field_problem(out[i]);
        if (why) {
            i++;
            r = lk_fail_einval(err, err_size, "line %u: field %zu %s", line_no, i, why);
            break;
        }
    }
    if (r < 0) {
        for (size_t j = 0; j < i && j < n; j++) {
            free(out[j]);
            out[j] = NULL;
        }
    }
    return r;
}

static int parse_priority(const char *s, unsigned *ret)
{
    unsigned v = 0;
    if (!*s || strlen(s) > 4) {
        return -EINVAL;
    }
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') {
            return -EINVAL;
        }
        v = v * 10 + (unsigned) (*p - '0');
    }
    if (v < 1 || v > LK_IMPORT_MAX_PRIORITY) {
        return -EINVAL;
    }
    *ret = v;
    return 0;
}

static int add_record(struct lk_import_dump *d, enum section sec, unsigned line_no,
                      const char *line, size_t len, char *err, size_t err_size)
{
    const char *starts[MAX_FIELDS];
    size_t lens[MAX_FIELDS];
    size_t n = split(line, len, d->sep, starts, lens);
    char *f[MAX_FIELDS] = {0};
    int r;
    size_t *count = sec == SEC_INS ? &d->n_res : sec == SEC_DEP ? &d->n_deps : &d->n_eqvs;
    if (*count >= LK_IMPORT_MAX_RECORDS) {
        return lk_fail_einval(err, err_size, "line %u: more than %u %s records", line_no,
                              LK_IMPORT_MAX_RECORDS, section_names[sec]);
    }
    if (sec == SEC_INS) {
        if (n != INS_FIELDS) {
            return lk_fail_einval(err, err_size,
                                  "line %u: an ins_list record has %d fields, not %zu (a field "
                                  "containing the separator?)",
                                  line_no, INS_FIELDS, n > MAX_FIELDS ? (size_t) MAX_FIELDS : n);
        }
        if ((r = grow((void **) &d->res, d->n_res, sizeof(*d->res))) < 0 ||
            (r = take_fields(starts, lens, n, f, line_no, err, err_size)) < 0) {
            return r;
        }
        struct lk_import_resource *res = &d->res[d->n_res++];
        *res = (struct lk_import_resource){.line = line_no,
                                           .system = f[0],
                                           .app = f[1],
                                           .type = f[2],
                                           .tag = f[3],
                                           .id = f[4],
                                           .info = f[5],
                                           .init = f[8],
                                           .quick = f[13],
                                           .deep = f[14],
                                           .local_recovery = f[15],
                                           .switchback = f[16]};
        /* State, reason, counters and the reserved fields describe the running system,
         * not its configuration. */
        for (size_t i = 6; i < 13; i++) {
            if (i != 8) {
                free(f[i]);
            }
        }
        if (!res->tag[0]) {
            return lk_fail_einval(err, err_size, "line %u: an ins_list record without a tag",
                                  line_no);
        }
        return 0;
    }
    if (sec == SEC_DEP) {
        if (n != 2 && n != 3) {
            return lk_fail_einval(err, err_size,
                                  "line %u: a dep_list record is 'parent%schild' (2 fields), not "
                                  "%zu fields",
                                  line_no, d->sep == '\001' ? "^A" : "SEP",
                                  n > MAX_FIELDS ? (size_t) MAX_FIELDS : n);
        }
        if ((r = grow((void **) &d->deps, d->n_deps, sizeof(*d->deps))) < 0 ||
            (r = take_fields(starts, lens, n, f, line_no, err, err_size)) < 0) {
            return r;
        }
        struct lk_import_dep *dep = &d->deps[d->n_deps++];
        *dep = (struct lk_import_dep){.line = line_no, .parent = f[n - 2], .child = f[n - 1]};
        if (n == 3) {
            free(f[0]);
        }
        if (!dep->parent[0] || !dep->child[0]) {
            return lk_fail_einval(err, err_size, "line %u: a dep_list record with an empty tag",
                                  line_no);
        }
        return 0;
    }
    if (n != EQV_FIELDS) {
        return lk_fail_einval(err, err_size,
                              "line %u: an eqv_list record has %d fields (system, tag, other "
                              "system, other tag, SHARED, priority, other priority), not %zu",
                              line_no, EQV_FIELDS, n > MAX_FIELDS ? (size_t) MAX_FIELDS : n);
    }
    if ((r = grow((void **) &d->eqvs, d->n_eqvs, sizeof(*d->eqvs))) < 0 ||
        (r = take_fields(starts, lens, n, f, line_no, err, err_size)) < 0) {
        return r;
    }
    struct lk_import_eqv *e = &d->eqvs[d->n_eqvs++];
    *e = (struct lk_import_eqv){
            .line = line_no, .system = f[0], .tag = f[1], .other_system = f[2], .other_tag = f[3]};
    bool shared = strcmp(f[4], "SHARED") == 0;
    int p1 = parse_priority(f[5], &e->prio), p2 = parse_priority(f[6], &e->other_prio);
    free(f[4]);
    free(f[5]);
    free(f[6]);
    if (!shared) {
        return lk_fail_einval(err, err_size, "line %u: an eqv_list record whose kind is not SHARED",
                              line_no);
    }
    if (p1 < 0 || p2 < 0) {
        return lk_fail_einval(err, err_size, "line %u: a priority is not a number from 1 to %d",
                              line_no, LK_IMPORT_MAX_PRIORITY);
    }
    if (!e->system[0] || !e->tag[0] || !e->other_system[0]) {
        return lk_fail_einval(err, err_size, "line %u: an eqv_list record with an empty field",
                              line_no);
    }
    return 0;
}

int lk_import_parse(const char *text, size_t len, struct lk_import_dump *ret_dump, char *err,
                    size_t err_size)
{
    struct lk_import_dump d = {0};
    enum section sec = SEC_INS;
    unsigned line_no = 0;
    int r = 0;
    if (len > LK_IMPORT_MAX_INPUT) {
        return lk_fail_einval(err, err_size, "the dump is larger than %u bytes",
                              LK_IMPORT_MAX_INPUT);
    }
    for (size_t pos = 0; pos < len && r == 0;) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t) (nl - line) : len - pos;
        pos += n + (nl ? 1 : 0);
        line_no++;
        if (n > 0 && line[n - 1] == '\r') {
            n--;
        }
        if (memchr(line, '\0', n)) {
            r = lk_fail_einval(err, err_size, "line %u: a NUL byte", line_no);
            break;
        }
        for (size_t i = 0; i < n && r == 0; i++) {
            unsigned char c = (unsigned char) line[i];
            if ((c < 0x20 && c != '\t' && c != '\001' && c != 0x1f) || c == 0x7f) {
                r = lk_fail_einval(err, err_size, "line %u: a control character (0x%02x)", line_no,
                                   c);
            }
        }
        if (r < 0) {
            break;
        }
        size_t blank = 0;
        while (blank < n && (line[blank] == ' ' || line[blank] == '\t')) {
            blank++;
        }
        if (blank == n) {
            continue;
        }
        if (line[blank] == '#') {
            const char *word = line + blank + 1;
            size_t wn = n - blank - 1;
            while (wn > 0 && (word[wn - 1] == ' ' || word[wn - 1] == '\t')) {
                wn--;
            }
            for (int s = 0; s < 3; s++) {
                if (wn == strlen(section_names[s]) && memcmp(word, section_names[s], wn) == 0) {
                    sec = (enum section) s;
                }
            }
            continue;
        }
        if (!d.sep) {
            if (sec != SEC_INS) {
                r = lk_fail_einval(err, err_size, "line %u: a %s record before any ins_list record",
                                   line_no, section_names[sec]);
                break;
            }
            d.sep = detect_sep(line, n);
            if (!d.sep) {
                r = lk_fail_einval(err, err_size,
                                   "line %u: not an ins_list record: no separator (^A, 0x1F, "
                                   "',', ':', '|' or TAB) splits it into %d fields",
                                   line_no, INS_FIELDS);
                break;
            }
        }
        r = add_record(&d, sec, line_no, line, n, err, err_size);
    }
    if (r == 0 && d.n_res == 0) {
        r = lk_fail_einval(err, err_size, "no ins_list record in the dump");
    }
    if (r < 0) {
        if (r == -ENOMEM) {
            (void) lk_fail_einval(err, err_size, "out of memory");
        }
        lk_import_dump_done(&d);
        return r;
    }
    *ret_dump = d;
    return 0;
}

void lk_import_dump_done(struct lk_import_dump *d)
{
    if (!d) {
        return;
    }
    for (size_t i = 0; i < d->n_res; i++) {
        struct lk_import_resource *x = &d->res[i];
        char *all[] = {x->system, x->app,  x->type,           x->tag,       x->id, x->info, x->init,
                       x->quick,  x->deep, x->local_recovery, x->switchback};
        for (size_t j = 0; j < sizeof(all) / sizeof(all[0]); j++) {
            free(all[j]);
        }
    }
    for (size_t i = 0; i < d->n_deps; i++) {
        free(d->deps[i].parent);
        free(d->deps[i].child);
    }
    for (size_t i = 0; i < d->n_eqvs; i++) {
        free(d->eqvs[i].system);
        free(d->eqvs[i].tag);
        free(d->eqvs[i].other_system);
        free(d->eqvs[i].other_tag);
    }
    free(d->res);
    free(d->deps);
    free(d->eqvs);
    *d = (struct lk_import_dump){0};
}

/* ---------------------------------------------------------------- planning */

/* The planner's state: which records are imported, their order, the per-tag priorities. */
struct prio {
    const char *node; /* an OpenKeeper node name (borrowed from the options or the dump) */
    unsigned prio;
    unsigned line;
};

struct item {
    const struct lk_import_resource *res;
    bool imported, visiting, done, has_parent;
    size_t component;
    struct prio *prios;
    size_t n_prios;
};

struct planner {
    const struct lk_import_dump *dump;
    const struct lk_import_options *opts;
    struct lk_import_plan *plan;
    struct item *items;
    size_t n_items;
    size_t *by_tag;                 /* the dump's record indexes sorted by tag, then by line */
    size_t *item_of_rec;            /* record index → its item (the first record of each tag) */
    size_t *child_start, *children; /* each item's imported children (CSR) */
    const char *local;
    char *err;
    size_t err_size;
};

static int add_string(char ***array, size_t *n, const char *s)
{
    char **p = realloc(*array, (*n + 1) * sizeof(**array));
    if (!p) {
        return -ENOMEM;
    }
    *array = p;
    if (!(p[*n] = strdup(s))) {
        return -ENOMEM;
    }
    (*n)++;
    return 0;
}

__attribute__((format(printf, 2, 3))) static int warn(struct planner *pl, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return add_string(&pl->plan->warnings, &pl->plan->n_warnings, buf);
}

static int skip(struct planner *pl, const char *tag, const char *why)
{
    struct lk_import_skip *p =
            realloc(pl->plan->skipped, (pl->plan->n_skipped + 1) * sizeof(*pl->plan->skipped));
    if (!p) {
        return -ENOMEM;
    }
    pl->plan->skipped = p;
    struct lk_import_skip *s = &p[pl->plan->n_skipped];
    s->tag = strdup(tag);
    s->why = strdup(why);
    if (!s->tag || !s->why) {
        free(s->tag);
        free(s->why);
        return -ENOMEM;
    }
    pl->plan->n_skipped++;
    return 0;
}

/* Appends a step of NULL-terminated words; tag_index: the word that is the tag. */
static int add_step(struct planner *pl, enum lk_import_step_kind kind, int tag_index,
                    const char *const *words)
{
    size_t n = 0;
    while (words[n]) {
        n++;
    }
    struct lk_import_step *steps =
            realloc(pl->plan->steps, (pl->plan->n_steps + 1) * sizeof(*steps));
    if (!steps) {
        return -ENOMEM;
    }
    pl->plan->steps = steps;
    char **argv = calloc(n + 1, sizeof(*argv));
    if (!argv) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (!(argv[i] = strdup(words[i]))) {
            for (size_t j = 0; j < i; j++) {
                free(argv[j]);
            }
            free(argv);
            return -ENOMEM;
        }
    }
    steps[pl->plan->n_steps++] = (struct lk_import_step){
            .kind = kind, .argv = argv, .argc = n, .tag = tag_index >= 0 ? argv[tag_index] : NULL};
    return 0;
}

static int cmp_rec(const void *a, const void *b, void *userdata)
{
    const struct lk_import_dump *d = userdata;
    size_t x = *(const size_t *) a, y = *(const size_t *) b;
    int c = strcmp(d->res[x].tag, d->res[y].tag);
    return c ? c : (x > y) - (x < y);
}

/* The first record (by line) whose tag is tag, or SIZE_MAX: a binary search of by_tag. */
static size_t first_record(const struct planner *pl, const char *tag)
{
    size_t lo = 0, hi = pl->dump->n_res;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(pl->dump->res[pl->by_tag[mid]].tag, tag) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo < pl->dump->n_res && strcmp(pl->dump->res[pl->by_tag[lo]].tag, tag) == 0) {
        return pl->by_tag[lo];
    }
    return SIZE_MAX;
}

static struct item *find(struct planner *pl, const char *tag)
{
    size_t rec = first_record(pl, tag);
    if (rec == SIZE_MAX || pl->item_of_rec[rec] == SIZE_MAX) {
        return NULL;
    }
    return &pl->items[pl->item_of_rec[rec]];
}

/* The OpenKeeper node of a LifeKeeper system (--map, else the same name). */
static const char *map_node(const struct planner *pl, const char *system)
{
    for (size_t i = 0; i < pl->opts->n_map; i++) {
        if (strcmp(pl->opts->map_from[i], system) == 0) {
            return pl->opts->map_to[i];
        }
    }
    return system;
}

/* A check interval in seconds as the setting's text ("" when not given). */
static int interval(struct planner *pl, const struct lk_import_resource *r, const char *what,
                    const char *value, char *buf, size_t size)
{
    unsigned long long v = 0;
    buf[0] = '\0';
    if (!value[0]) {
        return 0;
    }
    for (const char *p = value; *p; p++) {
        if (*p < '0' || *p > '9' || v > 86400ULL * 60) {
            return lk_fail_einval(pl->err, pl->err_size,
                                  "line %u: '%s': the %s interval '%s' is not a whole number",
                                  r->line, r->tag, what, value);
        }
        v = v * 10 + (unsigned long long) (*p - '0');
    }
    if (pl->opts->intervals_minutes) {
        v *= 60;
    }
    if (v > 86400) {
        return lk_fail_einval(pl->err, pl->err_size,
                              "line %u: '%s': the %s interval '%s' is over a day", r->line, r->tag,
                              what, value);
    }
    snprintf(buf, size, "%llu", v);
    return 0;
}

static int check_resource(struct planner *pl, const struct lk_import_resource *r)
{
    char why[512];
    if (lk_validate_tag(r->tag, "tag", why, sizeof(why)) < 0) {
        return lk_fail_einval(pl->err, pl->err_size, "line %u: %s", r->line, why);
    }
    if (r->id[0] && lk_validate_tag(r->id, "id", why, sizeof(why)) < 0) {
        return lk_fail_einval(pl->err, pl->err_size, "line %u: '%s': %s", r->line, r->tag, why);
    }
    if (lk_validate_info(r->info, why, sizeof(why)) < 0) {
        return lk_fail_einval(pl->err, pl->err_size, "line %u: '%s': %s", r->line, r->tag, why);
    }
    static const char *const inits[] = {"", "AUTORES_ISP", "INIT_ISP", "INIT_OSU"};
    static const char *const sbs[] = {"", "INTELLIGENT", "AUTOMATIC"};
    static const char *const lrs[] = {"", "0", "1", "N", "Y", "n", "y"};
    bool ok_init = false, ok_sb = false, ok_lr = false;
    for (size_t i = 0; i < 4; i++) {
        ok_init = ok_init || strcasecmp(r->init, inits[i]) == 0;
    }
    for (size_t i = 0; i < 3; i++) {
        ok_sb = ok_sb || strcasecmp(r->switchback, sbs[i]) == 0;
    }
    for (size_t i = 0; i < 7; i++) {
        ok_lr = ok_lr || strcmp(r->local_recovery, lrs[i]) == 0;
    }
    if (!ok_init) {
        return lk_fail_einval(pl->err, pl->err_size,
                              "line %u: '%s': unknown initialization '%s' (AUTORES_ISP, "
                              "INIT_ISP or INIT_OSU)",
                              r->line, r->tag, r->init);
    }
    if (!ok_sb) {
        return lk_fail_einval(pl->err, pl->err_size,
                              "line %u: '%s': unknown switchback '%s' (INTELLIGENT or AUTOMATIC)",
                              r->line, r->tag, r->switchback);
    }
    if (!ok_lr) {
        return lk_fail_einval(pl->err, pl->err_size,
                              "line %u: '%s': local recovery '%s' is not 0, 1, N or Y", r->line,
                              r->tag, r->local_recovery);
    }
    return 0;
}

/* Records (node, prio) for it; the same node twice with two priorities is a refusal. */
static int add_prio(struct planner *pl, struct item *it, const char *node, unsigned prio,
                    unsigned line)
{
    for (size_t i = 0; i < it->n_prios; i++) {
        if (strcmp(it->prios[i].node, node) == 0) {
            if (it->prios[i].prio != prio) {
                return lk_fail_einval(pl->err, pl->err_size,
                                      "line %u: '%s' has priority %u on %s, and %u on line %u",
                                      line, it->res->tag, prio, node, it->prios[i].prio,
                                      it->prios[i].line);
            }
            return 0;
        }
        if (it->prios[i].prio == prio) {
            return lk_fail_einval(pl->err, pl->err_size,
                                  "line %u: '%s' has priority %u on both %s and %s", line,
                                  it->res->tag, prio, node, it->prios[i].node);
        }
    }
    struct prio *p = realloc(it->prios, (it->n_prios + 1) * sizeof(*p));
    if (!p) {
        return -ENOMEM;
    }
    it->prios = p;
    p[it->n_prios++] = (struct prio){.node = node, .prio = prio, .line = line};
    return 0;
}

static int cmp_prio(const void *a, const void *b)
{
    const struct prio *x = a, *y = b;
    return (x->prio > y->prio) - (x->prio < y->prio);
}

/* Depth first, children before parents; a cycle is a refusal. */
static int visit(struct planner *pl, struct item *it, size_t *order, size_t *n_order)
{
    if (it->done) {
        return 0;
    }
    if (it->visiting) {
        return lk_fail_einval(pl->err, pl->err_size, "the dependencies form a cycle through '%s'",
                              it->res->tag);
    }
    it->visiting = true;
    size_t self = (size_t) (it - pl->items);
    for (size_t k = pl->child_start[self]; k < pl->child_start[self + 1]; k++) {
        int r = visit(pl, &pl->items[pl->children[k]], order, n_order);
        if (r < 0) {
            return r;
        }
    }
    it->visiting = false;
    it->done = true;
    order[(*n_order)++] = (size_t) (it - pl->items);
    return 0;
}

static size_t component_of(size_t *parent, size_t i)
{
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

static int plan_create(struct planner *pl, const struct item *it)
{
    const struct lk_import_resource *r = it->res;
    char paths[5][4096], quick[32], deep[32];
    static const char *const actions[] = {"restore", "remove", "quickchk", "deepchk", "recover"};
    const char *w[64];
    size_t n = 0;
    int rc;
    if ((rc = interval(pl, r, "quick check", r->quick, quick, sizeof(quick))) < 0 ||
        (rc = interval(pl, r, "deep check", r->deep, deep, sizeof(deep))) < 0) {
        return rc;
    }
    w[n++] = "resource";
    w[n++] = "create";
    w[n++] = "gen";
    w[n++] = "--tag";
    w[n++] = r->tag;
    if (r->id[0]) {
        w[n++] = "--id";
        w[n++] = r->id;
    }
    if (r->info[0]) {
        w[n++] = "--app-info";
        w[n++] = r->info;
    }
    w[n++] = "--no-in-service";
    for (size_t a = 0; a < 5; a++) {
        if (lk_import_script_path(pl->opts->scripts_dir, actions[a], r->tag, paths[a],
                                  sizeof(paths[a])) < 0) {
            return lk_fail_einval(pl->err, pl->err_size, "'%s': the script path is too long",
                                  r->tag);
        }
        /* restore and remove are required: a missing one is the caller's refusal. */
        if (a < 2 || (pl->opts->exists && pl->opts->exists(paths[a], pl->opts->userdata))) {
            w[n++] = a == 0   ? "--restore"
                     : a == 1 ? "--remove"
                     : a == 2 ? "--quickchk"
                     : a == 3 ? "--deepchk"
                              : "--recover";
            w[n++] = paths[a];
        }
    }
    char init[16], sb[16];
    if (r->init[0]) {
        snprintf(init, sizeof(init), "%s", r->init);
        for (char *p = init; *p; p++) {
            *p = (char) (*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        }
        w[n++] = "--init";
        w[n++] = init;
    }
    if (r->switchback[0]) {
        snprintf(sb, sizeof(sb), "%s", r->switchback);
        for (char *p = sb; *p; p++) {
            *p = (char) (*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        }
        w[n++] = "--switchback";
        w[n++] = sb;
    }
    if (r->local_recovery[0]) {
        w[n++] = "--local-recovery";
        w[n++] = strchr("1Yy", r->local_recovery[0]) ? "on" : "off";
    }
    if (quick[0]) {
        w[n++] = "--quickchk-interval";
        w[n++] = quick;
    }
    if (deep[0]) {
        w[n++] = "--deepchk-interval";
        w[n++] = deep;
    }
    w[n++] = "--script-args";
    w[n++] = "lifekeeper";
    w[n] = NULL;
    return add_step(pl, LK_IMPORT_STEP_CREATE, 4, w);
}

static bool in_list(char **list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(list[i], s) == 0) {
            return true;
        }
    }
    return false;
}

/* The extends of one hierarchy's root: the priorities of the first member that has
 * eqv_list records (the root's when it has them), renumbered so that the local node,
 * which has priority 1 as the creator, comes first and the others keep LifeKeeper's order. */
static int plan_extends(struct planner *pl, struct item *root, size_t *parent)
{
    size_t comp = component_of(parent, (size_t) (root - pl->items));
    const struct item *src = root->n_prios ? root : NULL;
    for (size_t i = 0; !src && i < pl->n_items; i++) {
        const struct item *it = &pl->items[i];
        if (it->imported && it->n_prios && component_of(parent, i) == comp) {
            src = it;
        }
    }
    if (!src) {
        return 0;
    }
    /* Members that disagree with the source: said, not refused (OpenKeeper extends a
     * hierarchy as a whole). */
    for (size_t i = 0; i < pl->n_items; i++) {
        const struct item *it = &pl->items[i];
        if (root != src || !it->imported || it == src || !it->n_prios ||
            component_of(parent, i) != comp) {
            continue;
        }
        bool same = it->n_prios == src->n_prios;
        for (size_t a = 0; same && a < it->n_prios; a++) {
            bool found = false;
            for (size_t b = 0; b < src->n_prios; b++) {
                found = found || (strcmp(it->prios[a].node, src->prios[b].node) == 0 &&
                                  it->prios[a].prio == src->prios[b].prio);
            }
            same = found;
        }
        if (!same) {
            int r = warn(pl,
                         "'%s' has other nodes or priorities than '%s' in eqv_list; its "
                         "hierarchy is extended as '%s' is",
                         it->res->tag, src->res->tag, src->res->tag);
            if (r < 0) {
                return r;
            }
        }
    }
    struct prio sorted[LK_IMPORT_MAX_PRIORITY];
    size_t n = src->n_prios < LK_IMPORT_MAX_PRIORITY ? src->n_prios : LK_IMPORT_MAX_PRIORITY;
    memcpy(sorted, src->prios, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), cmp_prio);
    unsigned local_prio = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(sorted[i].node, pl->local) == 0) {
            local_prio = sorted[i].prio;
        }
    }
    if (local_prio != 1) {
        int r = local_prio ? warn(pl,
                                  "'%s': this node (%s) had priority %u in LifeKeeper; the node "
                                  "that creates a hierarchy has priority 1, the others follow "
                                  "in LifeKeeper's order",
                                  root->res->tag, pl->local, local_prio)
                           : warn(pl,
                                  "'%s': this node (%s) is not among the systems of its "
                                  "eqv_list records; it becomes the first choice (priority 1)",
                                  root->res->tag, pl->local);
        if (r < 0) {
            return r;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(sorted[i].node, pl->local) == 0) {
            continue;
        }
        unsigned p =
                !local_prio || sorted[i].prio < local_prio ? sorted[i].prio + 1 : sorted[i].prio;
        if (p > LK_IMPORT_MAX_PRIORITY) {
            return lk_fail_einval(pl->err, pl->err_size,
                                  "line %u: '%s': priority %u on %s leaves no room for this "
                                  "node's priority 1",
                                  sorted[i].line, src->res->tag, sorted[i].prio, sorted[i].node);
        }
        char prio[16];
        snprintf(prio, sizeof(prio), "%u", p);
        const char *w[] = {"resource",     "extend", "--tag",
                           root->res->tag, "--node", sorted[i].node,
                           "--priority",   prio,     NULL};
        int r = add_step(pl, LK_IMPORT_STEP_EXTEND, 3, w);
        if (r == 0 && !in_list(pl->plan->nodes, pl->plan->n_nodes, sorted[i].node)) {
            r = add_string(&pl->plan->nodes, &pl->plan->n_nodes, sorted[i].node);
        }
        if (r < 0) {
            return r;
        }
    }
    return 0;
}

static int plan_all(struct planner *pl)
{
    const struct lk_import_dump *d = pl->dump;
    const struct lk_import_options *o = pl->opts;
    int r;
    pl->plan->source = strdup(d->res[0].system);
    if (!pl->plan->source) {
        return -ENOMEM;
    }
    pl->local = o->local_node && o->local_node[0] ? o->local_node : map_node(pl, d->res[0].system);
    for (size_t i = 0; i < o->n_map; i++) {
        bool used = false;
        for (size_t j = 0; j < d->n_res && !used; j++) {
            used = strcmp(d->res[j].system, o->map_from[i]) == 0;
        }
        for (size_t j = 0; j < d->n_eqvs && !used; j++) {
            used = strcmp(d->eqvs[j].system, o->map_from[i]) == 0 ||
                   strcmp(d->eqvs[j].other_system, o->map_from[i]) == 0;
        }
        if (!used && (r = warn(pl, "--map %s=%s: no system %s in the dump", o->map_from[i],
                               o->map_to[i], o->map_from[i])) < 0) {
            return r;
        }
    }
    /* The resources: every tag once; only gen/app is imported. */
    for (size_t i = 0; i < d->n_res; i++) {
        pl->by_tag[i] = i;
        pl->item_of_rec[i] = SIZE_MAX;
    }
    qsort_r(pl->by_tag, d->n_res, sizeof(*pl->by_tag), cmp_rec, (void *) (uintptr_t) d);
    for (size_t i = 0; i < d->n_res; i++) {
        const struct lk_import_resource *res = &d->res[i];
        size_t first = first_record(pl, res->tag);
        if (first != i) {
            const struct lk_import_resource *prev = &d->res[first];
            if (strcmp(prev->system, res->system) == 0) {
                return lk_fail_einval(pl->err, pl->err_size, "line %u: tag '%s' again (line %u)",
                                      res->line, res->tag, prev->line);
            }
            continue; /* the same resource listed from another system (ins_list -d) */
        }
        pl->item_of_rec[i] = pl->n_items;
        struct item *it = &pl->items[pl->n_items++];
        *it = (struct item){.res = res};
        if (strcmp(res->app, "gen") != 0 || strcmp(res->type, "app") != 0) {
            char why[600];
            snprintf(why, sizeof(why),
                     "its type is %.200s/%.200s: only gen/app resources are imported", res->app,
                     res->type);
            if ((r = skip(pl, res->tag, why)) < 0) {
                return r;
            }
            continue;
        }
        if ((r = check_resource(pl, res)) < 0) {
            return r;
        }
        it->imported = true;
        if ((r = add_string(&pl->plan->tags, &pl->plan->n_tags, res->tag)) < 0) {
            return r;
        }
    }
    if (pl->plan->n_tags == 0) {
        return lk_fail_einval(pl->err, pl->err_size, "no gen/app resource in the dump");
    }
    /* Dependencies: both ends must be resources of the dump. */
    size_t *parent = calloc(pl->n_items, sizeof(*parent));
    size_t *order = calloc(pl->n_items, sizeof(*order));
    /* Each dependency's items (SIZE_MAX: not imported, or said again). */
    size_t *dep_p = calloc(d->n_deps + 1, sizeof(*dep_p));
    size_t *dep_c = calloc(d->n_deps + 1, sizeof(*dep_c));
    pl->child_start = calloc(pl->n_items + 1, sizeof(*pl->child_start));
    pl->children = calloc(d->n_deps + 1, sizeof(*pl->children));
    if (!parent || !order || !dep_p || !dep_c || !pl->child_start || !pl->children) {
        free(parent);
        free(order);
        free(dep_p);
        free(dep_c);
        return -ENOMEM;
    }
    for (size_t i = 0; i < pl->n_items; i++) {
        parent[i] = i;
    }
    r = 0;
    for (size_t i = 0; r == 0 && i < d->n_deps; i++) {
        const struct lk_import_dep *dep = &d->deps[i];
        struct item *p = find(pl, dep->parent), *c = find(pl, dep->child);
        dep_p[i] = dep_c[i] = SIZE_MAX;
        if (!p || !c) {
            r = lk_fail_einval(pl->err, pl->err_size,
                               "line %u: dependency '%s' -> '%s': no ins_list record for '%s'",
                               dep->line, dep->parent, dep->child, !p ? dep->parent : dep->child);
        } else if (p == c) {
            r = lk_fail_einval(pl->err, pl->err_size, "line %u: '%s' depends on itself", dep->line,
                               dep->parent);
        } else if (!p->imported || !c->imported) {
            r = warn(pl, "dependency '%s' -> '%s' is not imported: '%s' is skipped", dep->parent,
                     dep->child, !p->imported ? dep->parent : dep->child);
        } else {
            c->has_parent = true;
            dep_p[i] = (size_t) (p - pl->items);
            dep_c[i] = (size_t) (c - pl->items);
            size_t a = component_of(parent, dep_p[i]);
            size_t b = component_of(parent, dep_c[i]);
            parent[a] = b;
        }
    }
    /* A dependency given twice is one; then each item's children, in the dump's order. */
    for (size_t i = 0; r == 0 && i < d->n_deps; i++) {
        for (size_t j = 0; dep_p[i] != SIZE_MAX && j < i; j++) {
            if (dep_p[j] == dep_p[i] && dep_c[j] == dep_c[i]) {
                dep_p[i] = dep_c[i] = SIZE_MAX;
            }
        }
        if (dep_p[i] != SIZE_MAX) {
            pl->child_start[dep_p[i] + 1]++;
        }
    }
    for (size_t i = 0; i < pl->n_items; i++) {
        pl->child_start[i + 1] += pl->child_start[i];
    }
    size_t *fill = calloc(pl->n_items + 1, sizeof(*fill));
    if (!fill) {
        r = -ENOMEM;
    }
    for (size_t i = 0; r == 0 && i < d->n_deps; i++) {
        if (dep_p[i] != SIZE_MAX) {
            pl->children[pl->child_start[dep_p[i]] + fill[dep_p[i]]++] = dep_c[i];
        }
    }
    free(fill);
    /* Equivalencies: priorities per tag and node. */
    for (size_t i = 0; r == 0 && i < d->n_eqvs; i++) {
        const struct lk_import_eqv *e = &d->eqvs[i];
        struct item *it = find(pl, e->tag);
        if (!it) {
            r = lk_fail_einval(pl->err, pl->err_size,
                               "line %u: eqv_list names '%s', which has no ins_list record",
                               e->line, e->tag);
            break;
        }
        if (!it->imported) {
            continue;
        }
        if (e->other_tag[0] && strcmp(e->other_tag, e->tag) != 0) {
            r = warn(pl,
                     "'%s' is called '%s' on %s in LifeKeeper; OpenKeeper's tags are the "
                     "same on every node",
                     e->tag, e->other_tag, e->other_system);
        }
        const char *a = map_node(pl, e->system), *b = map_node(pl, e->other_system);
        if (r == 0 && strcmp(a, b) == 0) {
            r = lk_fail_einval(pl->err, pl->err_size,
                               "line %u: '%s': systems %s and %s are the same node %s", e->line,
                               e->tag, e->system, e->other_system, a);
        }
        if (r == 0) {
            r = add_prio(pl, it, a, e->prio, e->line);
        }
        if (r == 0) {
            r = add_prio(pl, it, b, e->other_prio, e->line);
        }
    }
    size_t n_order = 0;
    for (size_t i = 0; r == 0 && i < pl->n_items; i++) {
        if (pl->items[i].imported) {
            r = visit(pl, &pl->items[i], order, &n_order);
        }
    }
    for (size_t i = 0; r == 0 && i < n_order; i++) {
        r = plan_create(pl, &pl->items[order[i]]);
    }
    for (size_t i = 0; r == 0 && i < d->n_deps; i++) {
        const struct lk_import_dep *dep = &d->deps[i];
        if (dep_p[i] != SIZE_MAX) {
            const char *w[] = {"dependency", "create",   "--parent", dep->parent,
                               "--child",    dep->child, NULL};
            r = add_step(pl, LK_IMPORT_STEP_DEPENDENCY, 3, w);
        }
    }
    for (size_t i = 0; r == 0 && i < n_order; i++) {
        struct item *it = &pl->items[order[i]];
        if (!it->has_parent) {
            r = plan_extends(pl, it, parent);
        }
    }
    if (r == 0 && o->tunables_file) {
        const char *w[] = {"cluster", "tunables", "--file", o->tunables_file, NULL};
        r = add_step(pl, LK_IMPORT_STEP_TUNABLES, -1, w);
    }
    for (size_t i = 0; r == 0 && o->restore && i < n_order; i++) {
        struct item *it = &pl->items[order[i]];
        if (!it->has_parent) {
            const char *w[] = {"resource", "restore", "--tag", it->res->tag, NULL};
            r = add_step(pl, LK_IMPORT_STEP_RESTORE, 3, w);
        }
    }
    free(parent);
    free(order);
    free(dep_p);
    free(dep_c);
    return r;
}

int lk_import_plan(const struct lk_import_dump *dump, const struct lk_import_options *opts,
                   struct lk_import_plan *ret_plan, char *err, size_t err_size)
{
    struct lk_import_plan plan = {0};
    struct planner pl = {
            .dump = dump, .opts = opts, .plan = &plan, .err = err, .err_size = err_size};
    int r;
    if (!opts->scripts_dir || !opts->scripts_dir[0]) {
        return lk_fail_einval(err, err_size, "no scripts directory");
    }
    pl.items = calloc(dump->n_res ? dump->n_res : 1, sizeof(*pl.items));
    pl.by_tag = calloc(dump->n_res ? dump->n_res : 1, sizeof(*pl.by_tag));
    pl.item_of_rec = calloc(dump->n_res ? dump->n_res : 1, sizeof(*pl.item_of_rec));
    r = pl.items && pl.by_tag && pl.item_of_rec ? plan_all(&pl) : -ENOMEM;
    for (size_t i = 0; i < pl.n_items; i++) {
        free(pl.items[i].prios);
    }
    free(pl.items);
    free(pl.by_tag);
    free(pl.item_of_rec);
    free(pl.child_start);
    free(pl.children);
    if (r < 0) {
        if (r == -ENOMEM) {
            (void) lk_fail_einval(err, err_size, "out of memory");
        }
        lk_import_plan_done(&plan);
        return r;
    }
    *ret_plan = plan;
    return 0;
}

void lk_import_plan_done(struct lk_import_plan *plan)
{
    if (!plan) {
        return;
    }
    for (size_t i = 0; i < plan->n_steps; i++) {
        for (size_t j = 0; j < plan->steps[i].argc; j++) {
            free(plan->steps[i].argv[j]);
        }
        free(plan->steps[i].argv);
    }
    for (size_t i = 0; i < plan->n_skipped; i++) {
        free(plan->skipped[i].tag);
        free(plan->skipped[i].why);
    }
    for (size_t i = 0; i < plan->n_warnings; i++) {
        free(plan->warnings[i]);
    }
    for (size_t i = 0; i < plan->n_nodes; i++) {
        free(plan->nodes[i]);
    }
    for (size_t i = 0; i < plan->n_tags; i++) {
        free(plan->tags[i]);
    }
    free(plan->steps);
    free(plan->skipped);
    free(plan->warnings);
    free(plan->nodes);
    free(plan->tags);
    free(plan->source);
    *plan = (struct lk_import_plan){0};
}

/* ---------------------------------------------------------------- text */

static bool plain_word(const char *w)
{
    if (!*w) {
        return false;
    }
    for (const char *p = w; *p; p++) {
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./=:@%+,-",
                    *p)) {
            return false;
        }
    }
    return true;
}

char *lk_import_step_text(const struct lk_import_step *step, const char *prefix)
{
    size_t size = strlen(prefix) + 1;
    for (size_t i = 0; i < step->argc; i++) {
        size += 3 + 4 * strlen(step->argv[i]);
    }
    char *out = malloc(size);
    if (!out) {
        return NULL;
    }
    char *p = out;
    p += sprintf(p, "%s", prefix);
    for (size_t i = 0; i < step->argc; i++) {
        const char *w = step->argv[i];
        *p++ = ' ';
        if (plain_word(w)) {
            p += sprintf(p, "%s", w);
            continue;
        }
        *p++ = '\'';
        for (const char *c = w; *c; c++) {
            if (*c == '\'') {
                memcpy(p, "'\\''", 4);
                p += 4;
            } else {
                *p++ = *c;
            }
        }
        *p++ = '\'';
    }
    *p = '\0';
    return out;
}

int lk_import_script_path(const char *dir, const char *action, const char *tag, char *buf,
                          size_t size)
{
    static const char *const actions[][2] = {{"restore", "actions/!restore"},
                                             {"remove", "actions/!remove"},
                                             {"quickchk", "actions/!quickCheck"},
                                             {"deepchk", "actions/!deepCheck"},
                                             {"recover", "recovery/!recover"}};
    for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
        if (strcmp(action, actions[i][0]) == 0) {
            size_t dl = strlen(dir);
            while (dl > 1 && dir[dl - 1] == '/') {
                dl--;
            }
            int n = snprintf(buf, size, "%.*s/%s/%s", (int) dl, dir, actions[i][1], tag);
            return n < 0 || (size_t) n >= size ? -ENOSPC : n;
        }
    }
    return -EINVAL;
}
