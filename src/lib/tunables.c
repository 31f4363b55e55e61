/* The tunables' text (LifeKeeper's /etc/default/LifeKeeper): parsing into assignments, the
 * reserved keys, and the line edits of `lkcli cluster tunables --set/--unset`. Entered by
 * settings.c (a value of the "tunables" cluster setting is checked here), by the daemon's
 * scripts.c (the environment of a run) and by lkcli (the listing).
 * Never: file I/O, logging, expansion of '$' or anything else a shell would do with the
 * text (no command substitution, no variables); every error is one line naming the line. */
#include "tunables.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT_WORD "export"

enum line_kind {
    LINE_EMPTY,  /* blank, comment, or "export KEY..." alone */
    LINE_ASSIGN, /* KEY=VALUE */
};

struct line {
    enum line_kind kind;
    const char *key; /* into the text */
    size_t key_len;
    char *value; /* heap, LINE_ASSIGN only */
    bool dollar;
};

static int fail(char *err, size_t err_size, unsigned line, const char *what)
{
    if (err && err_size) {
        if (line) {
            snprintf(err, err_size, "line %u: %s", line, what);
        } else {
            snprintf(err, err_size, "%s", what);
        }
    }
    return -EINVAL;
}

static bool is_key_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_key_char(char c)
{
    return is_key_start(c) || (c >= '0' && c <= '9');
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Length of a valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80) {
        return 1;
    }
    size_t len = (s[0] & 0xe0) == 0xc0   ? 2
                 : (s[0] & 0xf0) == 0xe0 ? 3
                 : (s[0] & 0xf8) == 0xf0 ? 4
                                         : 0;
    if (len == 0 || len > n) {
        return 0;
    }
    uint32_t cp = s[0] & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return len;
}

/* The whole text's bytes: no NUL, no control character but tab and newline, UTF-8. */
static int check_bytes(const char *text, size_t len, char *err, size_t err_size)
{
    unsigned line = 1;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char) text[i];
        if (c == '\n') {
            line++;
            i++;
            continue;
        }
        if (c == 0) {
            return fail(err, err_size, line, "contains a NUL byte");
        }
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            char what[64];
            snprintf(what, sizeof(what), "contains the control character 0x%02x%s", c,
                     c == '\r' ? " (a DOS line end?)" : "");
            return fail(err, err_size, line, what);
        }
        size_t n = utf8_len((const unsigned char *) text + i, len - i);
        if (n == 0) {
            return fail(err, err_size, line, "is not valid UTF-8");
        }
        i += n;
    }
    return 0;
}

/* Appends c to the growing buffer *buf (*used of *cap bytes). */
static int put(char **buf, size_t *used, size_t *cap, char c)
{
    if (*used + 1 >= *cap) {
        size_t ncap = *cap ? *cap * 2 : 32;
        char *n = realloc(*buf, ncap);
        if (!n) {
            return -ENOMEM;
        }
        *buf = n;
        *cap = ncap;
    }
    (*buf)[(*used)++] = c;
    (*buf)[*used] = '\0';
    return 0;
}

/* The value at s (up to end): unquoted, '...' and "..." parts until whitespace; what follows
 * must be nothing or a comment. */
static int parse_value(const char *s, const char *end, unsigned lineno, struct line *ret, char *err,
                       size_t err_size)
{
    char *v = NULL;
    size_t used = 0, cap = 0;
    int r = put(&v, &used, &cap, 'x'); /* allocates; the 'x' is dropped below */
    used = 0;
    if (r == 0) {
        v[0] = '\0';
    }
    bool dollar = false;
    while (r == 0 && s < end && !is_blank(*s)) {
        char c = *s;
        if (c == '\'') {
            const char *close = memchr(s + 1, '\'', (size_t) (end - s - 1));
            if (!close) {
                r = fail(err, err_size, lineno, "unterminated single quote");
                break;
            }
            for (const char *p = s + 1; r == 0 && p < close; p++) {
                dollar = dollar || *p == '$';
                r = put(&v, &used, &cap, *p);
            }
            s = close + 1;
        } else if (c == '"') {
            const char *p = s + 1;
            for (; r == 0 && p < end && *p != '"'; p++) {
                if (*p == '\\' && p + 1 < end && strchr("\"\\$`", p[1])) {
                    p++;
                } else if (*p == '`') {
                    r = fail(err, err_size, lineno,
                             "a backquote (command substitution) is not supported; escape it as "
                             "\\`");
                    break;
                } else if (*p == '$') {
                    dollar = true;
                }
                if (r == 0) {
                    r = put(&v, &used, &cap, *p);
                }
            }
            if (r == 0 && p >= end) {
                r = fail(err, err_size, lineno, "unterminated double quote");
            }
            s = p + 1;
        } else if (c == '\\') {
            if (s + 1 >= end) {
                r = fail(err, err_size, lineno,
                         "a backslash at the end of a line (continuation lines are not supported)");
                break;
            }
            dollar = dollar || s[1] == '$';
            r = put(&v, &used, &cap, s[1]);
            s += 2;
        } else if (strchr(";&|<>()`", c)) {
            char what[96];
            snprintf(what, sizeof(what), "unquoted '%c' in the value of a tunable; quote the value",
                     c);
            r = fail(err, err_size, lineno, what);
        } else {
            dollar = dollar || c == '$';
            r = put(&v, &used, &cap, c);
            s++;
        }
    }
    while (r == 0 && s < end && is_blank(*s)) {
        s++;
    }
    if (r == 0 && s < end && *s != '#') {
        r = fail(err, err_size, lineno,
                 "a space in an unquoted value (a shell would run the rest as a command); quote "
                 "the value");
    }
    if (r < 0) {
        free(v);
        if (r == -ENOMEM) {
            (void) fail(err, err_size, 0, "out of memory");
        }
        return r;
    }
    ret->value = v;
    ret->dollar = dollar;
    return 0;
}

/* One line (without its newline). */
static int parse_line(const char *s, const char *end, unsigned lineno, struct line *ret, char *err,
                      size_t err_size)
{
    memset(ret, 0, sizeof(*ret));
    while (s < end && is_blank(*s)) {
        s++;
    }
    if (s == end || *s == '#') {
        ret->kind = LINE_EMPTY;
        return 0;
    }
    size_t ew = strlen(EXPORT_WORD);
    bool exported = false;
    if ((size_t) (end - s) > ew && memcmp(s, EXPORT_WORD, ew) == 0 && is_blank(s[ew])) {
        exported = true;
        s += ew;
        while (s < end && is_blank(*s)) {
            s++;
        }
    }
    const char *key = s;
    if (s < end && is_key_start(*s)) {
        while (s < end && is_key_char(*s)) {
            s++;
        }
    }
    size_t key_len = (size_t) (s - key);
    if (key_len == 0) {
        return fail(err, err_size, lineno,
                    "expected KEY=VALUE (KEY: letters, digits and '_', not starting with a digit)");
    }
    if (key_len > LK_TUNABLE_KEY_MAX) {
        return fail(err, err_size, lineno, "the key is too long (at most 128 bytes)");
    }
    if (s == end || *s != '=') {
        /* "export A B": marks variables for export, assigns nothing. */
        if (exported) {
            while (s < end) {
                while (s < end && is_blank(*s)) {
                    s++;
                }
                if (s == end || *s == '#') {
                    ret->kind = LINE_EMPTY;
                    return 0;
                }
                if (!is_key_start(*s)) {
                    break;
                }
                while (s < end && is_key_char(*s)) {
                    s++;
                }
                if (s < end && !is_blank(*s)) {
                    break;
                }
            }
            if (s == end) {
                ret->kind = LINE_EMPTY;
                return 0;
            }
        }
        const char *after = s;
        while (after < end && is_blank(*after)) {
            after++;
        }
        return fail(err, err_size, lineno,
                    after > s && after < end && *after == '='
                            ? "expected KEY=VALUE without spaces around '='"
                            : "expected KEY=VALUE");
    }
    ret->kind = LINE_ASSIGN;
    ret->key = key;
    ret->key_len = key_len;
    return parse_value(s + 1, end, lineno, ret, err, err_size);
}

/* Calls each(line, info, start, end, userdata) for every line of text (checked first). */
typedef int (*line_cb)(unsigned lineno, struct line *info, const char *start, const char *end,
                       void *userdata);

static int each_line(const char *text, size_t len, line_cb each, void *userdata, char *err,
                     size_t err_size)
{
    if (len > LK_TUNABLES_TEXT_MAX) {
        char what[96];
        snprintf(what, sizeof(what), "the tunables are too long (%zu bytes, at most %d)", len,
                 LK_TUNABLES_TEXT_MAX);
        return fail(err, err_size, 0, what);
    }
    int r = check_bytes(text, len, err, err_size);
    const char *p = text, *end = text + len;
    unsigned lineno = 0, assigns = 0;
    while (r == 0 && p < end) {
        lineno++;
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        const char *le = nl ? nl : end;
        struct line info;
        r = parse_line(p, le, lineno, &info, err, err_size);
        if (r == 0 && info.kind == LINE_ASSIGN && ++assigns > LK_TUNABLES_KEYS_MAX) {
            free(info.value);
            r = fail(err, err_size, lineno, "too many assignments (at most 1024)");
        }
        if (r == 0) {
            r = each(lineno, &info, p, nl ? nl + 1 : end, userdata);
        }
        p = nl ? nl + 1 : end;
    }
    return r;
}

static int collect(unsigned lineno, struct line *info, const char *start, const char *end,
                   void *userdata)
{
    (void) start;
    (void) end;
    struct lk_tunables *t = userdata;
    if (info->kind != LINE_ASSIGN) {
        return 0;
    }
    for (size_t i = 0; i < t->count; i++) {
        if (strlen(t->items[i].key) == info->key_len &&
            memcmp(t->items[i].key, info->key, info->key_len) == 0) {
            free(t->items[i].value);
            t->items[i].value = info->value;
            t->items[i].dollar = info->dollar;
            t->items[i].line = lineno;
            return 0;
        }
    }
    struct lk_tunable *items = realloc(t->items, (t->count + 1) * sizeof(*items));
    char *key = strndup(info->key, info->key_len);
    if (!items || !key) {
        if (items) {
            t->items = items;
        }
        free(key);
        free(info->value);
        return -ENOMEM;
    }
    t->items = items;
    t->items[t->count++] = (struct lk_tunable){
            .key = key,
            .value = info->value,
            .line = lineno,
            .reserved = lk_tunables_reserved(key),
            .dollar = info->dollar,
    };
    return 0;
}

int lk_tunables_parse(const char *text, size_t len, struct lk_tunables *ret, char *err,
                      size_t err_size)
{
    struct lk_tunables t = {0};
    int r = each_line(text ? text : "", text ? len : 0, collect, &t, err, err_size);
    if (r < 0) {
        if (r == -ENOMEM) {
            (void) fail(err, err_size, 0, "out of memory");
        }
        lk_tunables_done(&t);
        return r;
    }
    *ret = t;
    return 0;
}

void lk_tunables_done(struct lk_tunables *t)
{
    if (!t) {
        return;
    }
    for (size_t i = 0; i < t->count; i++) {
        free(t->items[i].key);
        free(t->items[i].value);
    }
    free(t->items);
    t->items = NULL;
    t->count = 0;
}

bool lk_tunables_reserved(const char *key)
{
    static const char *const reserved[] = {"LKROOT", "PATH", "LANG", "PERL5LIB", NULL};
    for (size_t i = 0; reserved[i]; i++) {
        if (strcmp(key, reserved[i]) == 0) {
            return true;
        }
    }
    return strncmp(key, "LK_", 3) == 0;
}

const char *lk_tunables_get(const struct lk_tunables *t, const char *key)
{
    for (size_t i = 0; t && i < t->count; i++) {
        if (strcmp(t->items[i].key, key) == 0) {
            return t->items[i].value;
        }
    }
    return NULL;
}

int lk_tunables_check_key(const char *key, char *err, size_t err_size)
{
    size_t len = key ? strlen(key) : 0;
    bool ok = len > 0 && len <= LK_TUNABLE_KEY_MAX && is_key_start(key[0]);
    for (size_t i = 1; ok && i < len; i++) {
        ok = is_key_char(key[i]);
    }
    if (!ok) {
        return fail(err, err_size, 0,
                    "invalid tunable name: expected letters, digits and '_' (at most 128), not "
                    "starting with a digit");
    }
    return 0;
}

/* The edit: the text rebuilt line by line, the lines assigning key dropped or (the last
 * one) replaced. */
struct edit {
    const char *key;
    const char *line; /* the replacement line, "KEY=..." without newline; NULL = unset */
    unsigned last;    /* the last line assigning key (first pass) */
    FILE *out;
    bool found;
};

static int find_last(unsigned lineno, struct line *info, const char *start, const char *end,
                     void *userdata)
{
    (void) start;
    (void) end;
    struct edit *e = userdata;
    if (info->kind == LINE_ASSIGN && strlen(e->key) == info->key_len &&
        memcmp(e->key, info->key, info->key_len) == 0) {
        e->last = lineno;
        e->found = true;
    }
    free(info->value);
    return 0;
}

static int rewrite(unsigned lineno, struct line *info, const char *start, const char *end,
                   void *userdata)
{
    struct edit *e = userdata;
    bool mine = info->kind == LINE_ASSIGN && strlen(e->key) == info->key_len &&
                memcmp(e->key, info->key, info->key_len) == 0;
    free(info->value);
    /* --set keeps the earlier assignments (overridden, as the shell would); --unset drops
     * them all. */
    if (!mine || (e->line && lineno != e->last)) {
        (void) fwrite(start, 1, (size_t) (end - start), e->out);
        return 0;
    }
    if (e->line) {
        /* Keep the line's indentation and "export ". */
        (void) fwrite(start, 1, (size_t) (info->key - start), e->out);
        fputs(e->line, e->out);
        fputc('\n', e->out);
    }
    return 0;
}

/* The value written so that the parser gives it back: bare when it only has safe
 * characters, else in single quotes. */
static void write_value(FILE *f, const char *value)
{
    bool bare = value[0] != '\0';
    for (const char *p = value; *p && bare; p++) {
        unsigned char c = (unsigned char) *p;
        bare = c >= 0x80 || is_key_char((char) c) || strchr("/.,:-+=@%^~{}[]!?*", c);
    }
    if (bare) {
        fputs(value, f);
        return;
    }
    fputc('\'', f);
    for (const char *p = value; *p; p++) {
        if (*p == '\'') {
            fputs("'\\''", f);
        } else {
            fputc(*p, f);
        }
    }
    fputc('\'', f);
}

static int edit_text(const char *text, const char *key, const char *value, char **ret_text,
                     char *err, size_t err_size)
{
    if (!text) {
        text = "";
    }
    int r = lk_tunables_check_key(key, err, err_size);
    if (r < 0) {
        return r;
    }
    struct edit e = {.key = key};
    r = each_line(text, strlen(text), find_last, &e, err, err_size);
    if (r < 0) {
        return r;
    }
    if (!e.found && !value) {
        char what[LK_TUNABLE_KEY_MAX + 64];
        snprintf(what, sizeof(what), "no tunable named '%s'", key);
        (void) fail(err, err_size, 0, what);
        return -ENOENT;
    }
    char *line = NULL, *out = NULL;
    size_t line_len = 0, out_len = 0;
    if (value) {
        if (strchr(value, '\n')) {
            return fail(err, err_size, 0, "invalid tunable value: contains a newline");
        }
        FILE *lf = open_memstream(&line, &line_len);
        if (!lf) {
            return -ENOMEM;
        }
        fprintf(lf, "%s=", key);
        write_value(lf, value);
        if (fclose(lf) != 0) {
            free(line);
            return -ENOMEM;
        }
    }
    e.line = line;
    e.out = open_memstream(&out, &out_len);
    if (!e.out) {
        free(line);
        return -ENOMEM;
    }
    r = each_line(text, strlen(text), rewrite, &e, err, err_size);
    if (r == 0 && value && !e.found) {
        size_t tl = strlen(text);
        if (tl > 0 && text[tl - 1] != '\n') {
            fputc('\n', e.out);
        }
        fputs(line, e.out);
        fputc('\n', e.out);
    }
    free(line);
    if (fclose(e.out) != 0) {
        free(out);
        return -ENOMEM;
    }
    if (r < 0) {
        free(out);
        return r;
    }
    /* The result must itself be valid: the value's bytes and the limits. */
    struct lk_tunables check;
    char why[256];
    r = lk_tunables_parse(out, out_len, &check, why, sizeof(why));
    if (r < 0) {
        free(out);
        if (r == -EINVAL) {
            char what[300];
            snprintf(what, sizeof(what), "invalid tunable value: %s", why);
            return fail(err, err_size, 0, what);
        }
        return r;
    }
    lk_tunables_done(&check);
    *ret_text = out;
    return 0;
}

int lk_tunables_set(const char *text, const char *key, const char *value, char **ret_text,
                    char *err, size_t err_size)
{
    return edit_text(text, key, value ? value : "", ret_text, err, err_size);
}

int lk_tunables_unset(const char *text, const char *key, char **ret_text, char *err,
                      size_t err_size)
{
    return edit_text(text, key, NULL, ret_text, err, err_size);
}

/* Appends name to the list in buf (used bytes), cut with "..." when full. */
static void list_add(char *buf, size_t size, size_t *used, size_t *n, const char *name)
{
    if (*used >= size) {
        return;
    }
    int w = snprintf(buf + *used, size - *used, "%s%s", *n ? ", " : "", name);
    (*n)++;
    if (w < 0 || (size_t) w >= size - *used) {
        if (size >= 4) {
            memcpy(buf + size - 4, "...", 4);
        }
        *used = size;
        return;
    }
    *used += (size_t) w;
}

char *lk_tunables_diff(const char *old_text, const char *new_text, char *buf, size_t size)
{
    if (size == 0) {
        return buf;
    }
    buf[0] = '\0';
    old_text = old_text ? old_text : "";
    new_text = new_text ? new_text : "";
    if (strcmp(old_text, new_text) == 0) {
        return buf;
    }
    struct lk_tunables a = {0}, b = {0};
    (void) lk_tunables_parse(old_text, strlen(old_text), &a, NULL, 0);
    (void) lk_tunables_parse(new_text, strlen(new_text), &b, NULL, 0);
    size_t used = 0, n = 0;
    for (size_t i = 0; i < b.count; i++) {
        const char *was = lk_tunables_get(&a, b.items[i].key);
        if (!was || strcmp(was, b.items[i].value) != 0) {
            if (n == 0) {
                list_add(buf, size, &used, &n, "set ");
                n = 0;
            }
            list_add(buf, size, &used, &n, b.items[i].key);
        }
    }
    size_t set_n = n;
    n = 0;
    for (size_t i = 0; i < a.count; i++) {
        if (!lk_tunables_get(&b, a.items[i].key)) {
            if (n == 0) {
                list_add(buf, size, &used, &n, set_n ? "; unset " : "unset ");
                n = 0;
            }
            list_add(buf, size, &used, &n, a.items[i].key);
        }
    }
    if (set_n == 0 && n == 0) {
        snprintf(buf, size, "comments only");
    }
    lk_tunables_done(&a);
    lk_tunables_done(&b);
    return buf;
}
