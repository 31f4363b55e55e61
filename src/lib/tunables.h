/* The tunables: LifeKeeper's /etc/default/LifeKeeper, KEY=VALUE lines that every gen/app
 * script finds in its environment. OpenKeeper keeps them as one cluster setting, the text
 * verbatim (comments included), stored as $LKROOT/etc/default/LifeKeeper. This is the pure
 * model of that text: parsing, the reserved keys, and the edits `lkcli cluster tunables`
 * makes (--set, --unset) that keep every other line as the administrator wrote it.
 *
 * The format (a subset of what a shell sources): blank lines, '#' comments, KEY=VALUE with
 * an optional leading "export ", "export KEY..." alone (no effect), KEY = [A-Za-z_][A-Za-z0-9_]*,
 * VALUE made of unquoted characters, '...' (literal) and "..." (\" \\ \$ \` escaped) parts,
 * ended by whitespace, an optional "# comment" after it. '$' is never expanded: it is kept
 * as written (the listing says so). The text is UTF-8, at most LK_TUNABLES_TEXT_MAX bytes and
 * LK_TUNABLES_KEYS_MAX assignments, without NUL or control characters but tab and newline. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define LK_TUNABLES_TEXT_MAX 65536 /* bytes, without the NUL */
#define LK_TUNABLES_KEYS_MAX 1024  /* assignments (lines) */
#define LK_TUNABLE_KEY_MAX   128   /* bytes of a key, without the NUL */

/* One assignment, as the text holds it after its quotes are removed. */
struct lk_tunable {
    char *key;     /* heap */
    char *value;   /* heap, never NULL */
    unsigned line; /* 1-based line of the text */
    bool reserved; /* never exported (lk_tunables_reserved) */
    bool dollar;   /* the value holds a '$' kept literally (a shell would have expanded it) */
};

/* A parsed text: its assignments, in the order of the text; a key assigned twice keeps
 * only its last assignment (the shell's rule), at the place of the first. Owned by the
 * caller: lk_tunables_done. */
struct lk_tunables {
    struct lk_tunable *items;
    size_t count;
};

/* Parses text (len bytes; a NUL in them is an error). Returns 0, -EINVAL with a one-line
 * message naming the line in err ("line 3: ..."), or -ENOMEM; ret is filled only on
 * success. */
int lk_tunables_parse(const char *text, size_t len, struct lk_tunables *ret, char *err,
                      size_t err_size);

/* Frees what lk_tunables_parse allocated; t is left empty (safe to call twice). */
void lk_tunables_done(struct lk_tunables *t);

/* Whether key is one a script's environment never takes from the tunables, because
 * OpenKeeper sets it: LKROOT, PATH, LANG, PERL5LIB and every LK_*. */
bool lk_tunables_reserved(const char *key);

/* The value of key, or NULL. */
const char *lk_tunables_get(const struct lk_tunables *t, const char *key);

/* Checks a key's form. Returns 0 or -EINVAL with a one-line message. */
int lk_tunables_check_key(const char *key, char *err, size_t err_size);

/* The text with key set to value: the last line assigning key is replaced (its "export "
 * kept), or "KEY=VALUE" appended; every other line is kept byte for byte. The value is
 * written in single quotes when it needs any (''\'' for a quote in it). Returns 0 with a
 * malloc'ed text in *ret_text, -EINVAL (bad text, key or value; the result over the limits)
 * with a one-line message, or -ENOMEM. */
int lk_tunables_set(const char *text, const char *key, const char *value, char **ret_text,
                    char *err, size_t err_size);

/* The text without any line assigning key. Returns 0 with a malloc'ed text in *ret_text,
 * -ENOENT when no line assigns it, -EINVAL for a bad text or key, or -ENOMEM. */
int lk_tunables_unset(const char *text, const char *key, char **ret_text, char *err,
                      size_t err_size);

/* What changed from old_text to new_text, by key, for events and replies: "set A, B; unset
 * C" ("comments only" when no value changed, "" when the texts are equal). A text that does
 * not parse counts as having no keys. Writes into buf (cut to size). Returns buf. */
char *lk_tunables_diff(const char *old_text, const char *new_text, char *buf, size_t size);
