/* Unit tests for quorum.c: two tables, one row per situation. The first gives this node
 * ("a"), the mode, the voters and what each peer is (configured, alive, a witness, whom
 * the witness's heartbeats name) and expects the count, the decision and the change to
 * report; the second is the witness ("w") choosing a group from what each node reports
 * ALIVE and what it voted for before, and expects the group as the heartbeat sends it
 * (leader first). Sets are written as "b,c". Pure: no loop, no files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "quorum.h"

#define PEERS_MAX 8
#define NAMES_MAX 8

#define MAJ   LK_QUORUM_MODE_MAJORITY
#define NONE  LK_QUORUM_MODE_NONE
#define UNSET LK_QUORUM_MODE_UNSET

struct peer_row {
    const char *name; /* NULL ends the list */
    bool configured;
    bool alive;
    bool witness;
    const char *sees;  /* its alive set, "b,c"; "+b,c": and its HELLO came after that */
    const char *votes; /* a witness: whom it votes for */
};

/* A configured node, alive (and hearing "a") or dead; the witness, alive or dead, voting
 * for a set. */
#define UP(n)                                                                                      \
    {                                                                                              \
        n, true, true, false, "a", NULL                                                            \
    }
#define DOWN(n)                                                                                    \
    {                                                                                              \
        n, true, false, false, NULL, NULL                                                          \
    }
#define WIT_UP(n, votes)                                                                           \
    {                                                                                              \
        n, false, true, true, NULL, votes                                                          \
    }
#define WIT_DOWN(n)                                                                                \
    {                                                                                              \
        n, false, false, true, NULL, NULL                                                          \
    }

struct count_case {
    const char *name;
    enum lk_quorum_mode mode;
    size_t configured_peers;
    bool witness_configured;
    struct peer_row peers[PEERS_MAX + 1];
    bool settled, known, was_quorate; /* rows with settled false set nothing else */
    struct {
        unsigned votes, voters, needed;
        bool none, quorate, witness_for_self;
        enum lk_quorum_change change;
    } want;
};

#define SETTLED .settled = true, .known = true, .was_quorate = true
#define WANT(v, n, q, c)                                                                           \
    .want = {.votes = (v),                                                                         \
             .voters = (n),                                                                        \
             .needed = (n) / 2 + 1,                                                                \
             .quorate = (q),                                                                       \
             .change = LK_QUORUM_##c}

static const struct count_case count_cases[] = {
        /* Majority: more than half of the voters. */
        {"majority 2 nodes, both alive", MAJ, 1, false, {UP("b")}, SETTLED, WANT(2, 2, true, SAME)},
        {"majority 2 nodes, peer dead",
         MAJ,
         1,
         false,
         {DOWN("b")},
         SETTLED,
         WANT(1, 2, false, LOST)},
        {"majority 3 nodes, all alive",
         MAJ,
         2,
         false,
         {UP("b"), UP("c")},
         SETTLED,
         WANT(3, 3, true, SAME)},
        {"majority 3 nodes, one dead",
         MAJ,
         2,
         false,
         {UP("b"), DOWN("c")},
         SETTLED,
         WANT(2, 3, true, SAME)},
        {"majority 3 nodes, alone",
         MAJ,
         2,
         false,
         {DOWN("b"), DOWN("c")},
         SETTLED,
         WANT(1, 3, false, LOST)},
        {"majority 4 nodes, half alive is not enough",
         MAJ,
         3,
         false,
         {UP("b"), DOWN("c"), DOWN("d")},
         SETTLED,
         WANT(2, 4, false, LOST)},
        {"majority 4 nodes, three alive",
         MAJ,
         3,
         false,
         {UP("b"), UP("c"), DOWN("d")},
         SETTLED,
         WANT(3, 4, true, SAME)},
        {"majority 5 nodes, three alive",
         MAJ,
         4,
         false,
         {UP("b"), UP("c"), DOWN("d"), DOWN("e")},
         SETTLED,
         WANT(3, 5, true, SAME)},
        {"majority 5 nodes, two alive",
         MAJ,
         4,
         false,
         {UP("b"), DOWN("c"), DOWN("d"), DOWN("e")},
         SETTLED,
         WANT(2, 5, false, LOST)},
        {"majority 4 nodes + witness naming us breaks the 2-2 tie",
         MAJ,
         3,
         true,
         {UP("b"), DOWN("c"), DOWN("d"), WIT_UP("w", "a,b")},
         SETTLED,
         {3, 5, 3, false, true, true, LK_QUORUM_SAME}},
        {"majority 4 nodes + witness naming the other side",
         MAJ,
         3,
         true,
         {UP("b"), DOWN("c"), DOWN("d"), WIT_UP("w", "c,d")},
         SETTLED,
         WANT(2, 5, false, LOST)},
        {"majority 2 nodes + witness, both alive, witness silent",
         MAJ,
         1,
         true,
         {UP("b"), WIT_DOWN("w")},
         SETTLED,
         WANT(2, 3, true, SAME)},

        /* None: always quorate, whatever is alive. */
        {"none 3 nodes, alone",
         NONE,
         2,
         false,
         {DOWN("b"), DOWN("c")},
         SETTLED,
         {1, 3, 2, true, true, false, LK_QUORUM_SAME}},
        {"none 2 nodes, peer dead",
         NONE,
         1,
         false,
         {DOWN("b")},
         SETTLED,
         {1, 2, 2, true, true, false, LK_QUORUM_SAME}},
        {"none with a witness voting elsewhere",
         NONE,
         1,
         true,
         {DOWN("b"), WIT_UP("w", "b")},
         SETTLED,
         {1, 3, 2, true, true, false, LK_QUORUM_SAME}},

        /* Unset: majority from three voters, none below. */
        {"unset 1 node alone",
         UNSET,
         0,
         false,
         {{0}},
         SETTLED,
         {1, 1, 1, true, true, false, LK_QUORUM_SAME}},
        {"unset 2 voters: none, peer dead",
         UNSET,
         1,
         false,
         {DOWN("b")},
         SETTLED,
         {1, 2, 2, true, true, false, LK_QUORUM_SAME}},
        {"unset 2 nodes + witness = 3 voters: majority, witness names us",
         UNSET,
         1,
         true,
         {DOWN("b"), WIT_UP("w", "a")},
         SETTLED,
         {2, 3, 2, false, true, true, LK_QUORUM_SAME}},
        {"unset 2 nodes + witness, witness dead too",
         UNSET,
         1,
         true,
         {DOWN("b"), WIT_DOWN("w")},
         SETTLED,
         WANT(1, 3, false, LOST)},
        {"unset 2 nodes + witness naming only the peer",
         UNSET,
         1,
         true,
         {DOWN("b"), WIT_UP("w", "b")},
         SETTLED,
         WANT(1, 3, false, LOST)},
        {"unset 3 nodes: majority, alone",
         UNSET,
         2,
         false,
         {DOWN("b"), DOWN("c")},
         SETTLED,
         WANT(1, 3, false, LOST)},
        {"unset 3 nodes, two alive",
         UNSET,
         2,
         false,
         {UP("b"), DOWN("c")},
         SETTLED,
         WANT(2, 3, true, SAME)},

        /* Who votes. */
        {"an alive peer not in lk.conf does not vote",
         MAJ,
         2,
         false,
         {DOWN("b"), DOWN("c"), {"x", false, true, false, NULL, NULL}},
         SETTLED,
         WANT(1, 3, false, LOST)},
        {"a configured peer that says it is a witness gives no node vote",
         MAJ,
         2,
         false,
         {{"b", true, true, true, NULL, NULL}, DOWN("c")},
         SETTLED,
         WANT(1, 3, false, LOST)},
        {"a dead witness still naming us gives no vote",
         MAJ,
         1,
         true,
         {DOWN("b"), {"w", false, false, true, NULL, "a"}},
         SETTLED,
         WANT(1, 3, false, LOST)},
        {"two witnesses naming us count once",
         MAJ,
         3,
         true,
         {DOWN("b"), DOWN("c"), UP("d"), WIT_UP("w", "a,d"), WIT_UP("v", "a")},
         SETTLED,
         {3, 5, 3, false, true, true, LK_QUORUM_SAME}},
        {"a configured peer never seen counts as dead",
         MAJ,
         2,
         false,
         {UP("b")},
         SETTLED,
         WANT(2, 3, true, SAME)},
        /* One-way links (docs/CLUSTER.md "Quorum"): a vote goes both ways. */
        {"one-way: a peer heard here that does not hear us gives no vote",
         MAJ,
         2,
         false,
         {{"b", true, true, false, "c", NULL}, DOWN("c")},
         SETTLED,
         WANT(1, 3, false, LOST)},
        {"one-way: the 3-node S2 case, each hears the third only one way",
         MAJ,
         2,
         false,
         {{"b", true, true, false, "", NULL}, {"c", true, true, false, "b", NULL}},
         SETTLED,
         WANT(1, 3, false, LOST)},
        {"one-way: an alive peer without a heartbeat yet gives no vote",
         MAJ,
         2,
         false,
         {{"b", true, true, false, NULL, NULL}, DOWN("c")},
         .settled = true,
         .known = true,
         .was_quorate = false,
         WANT(1, 3, false, SAME)},
        {"its HELLO after a heartbeat that did not name us: it hears us now",
         MAJ,
         2,
         false,
         {{"b", true, true, false, "+c", NULL}, DOWN("c")},
         .settled = true,
         .known = true,
         .was_quorate = false,
         WANT(2, 3, true, GAINED)},
        {"one-way with quorum none: still quorate",
         NONE,
         1,
         false,
         {{"b", true, true, false, "", NULL}},
         SETTLED,
         {1, 2, 2, true, true, false, LK_QUORUM_SAME}},
        {"a witness's vote without a witness configured does not count",
         MAJ,
         2,
         false,
         {DOWN("b"), DOWN("c"), WIT_UP("w", "a")},
         SETTLED,
         WANT(1, 3, false, LOST)},

        /* The change to report. */
        {"not settled: nothing reported",
         MAJ,
         2,
         false,
         {DOWN("b"), DOWN("c")},
         .settled = false,
         WANT(1, 3, false, PENDING)},
        {"not settled but quorate",
         MAJ,
         2,
         false,
         {UP("b"), DOWN("c")},
         .settled = false,
         WANT(2, 3, true, PENDING)},
        {"first decision after settling, quorate: silent",
         MAJ,
         2,
         false,
         {UP("b"), DOWN("c")},
         .settled = true,
         WANT(2, 3, true, KNOWN)},
        {"first decision after settling, not quorate: lost",
         MAJ,
         2,
         false,
         {DOWN("b"), DOWN("c")},
         .settled = true,
         WANT(1, 3, false, LOST)},
        {"quorum gained",
         MAJ,
         2,
         false,
         {UP("b"), DOWN("c")},
         .settled = true,
         .known = true,
         .was_quorate = false,
         WANT(2, 3, true, GAINED)},
        {"still not quorate: nothing new",
         MAJ,
         2,
         false,
         {DOWN("b"), DOWN("c")},
         .settled = true,
         .known = true,
         .was_quorate = false,
         WANT(1, 3, false, SAME)},
};

struct vote_case {
    const char *name;
    struct peer_row peers[PEERS_MAX + 1];
    const char *previous; /* "b,c" or NULL */
    const char *want;     /* the group, leader first; "" = nobody */
};

/* A node alive that reports sees alive. */
#define N(n, sees)                                                                                 \
    {                                                                                              \
        n, true, true, false, sees, NULL                                                           \
    }
#define NDEAD(n, sees)                                                                             \
    {                                                                                              \
        n, true, false, false, sees, NULL                                                          \
    }

static const struct vote_case vote_cases[] = {
        {"nobody alive", {NDEAD("a", "b"), NDEAD("b", "a")}, NULL, ""},
        {"no peers at all", {{0}}, "a", ""},
        {"one node alive", {N("a", ""), NDEAD("b", "")}, NULL, "a"},
        {"all three see each other", {N("a", "b,c"), N("b", "a,c"), N("c", "a,b")}, NULL, "a,b,c"},
        {"largest group wins: {a} | {b,c}", {N("a", ""), N("b", "c"), N("c", "b")}, NULL, "b,c"},
        {"largest group wins over a previous vote",
         {N("a", ""), N("b", "c"), N("c", "b")},
         "a",
         "b,c"},
        {"2-2 tie: the smaller name",
         {N("a", "b"), N("b", "a"), N("c", "d"), N("d", "c")},
         NULL,
         "a,b"},
        {"2-2 tie: the previous vote sticks",
         {N("a", "b"), N("b", "a"), N("c", "d"), N("d", "c")},
         "c,d",
         "c,d"},
        {"2-2 tie: a previous vote for d: d leads the group",
         {N("a", "b"), N("b", "a"), N("c", "d"), N("d", "c")},
         "d",
         "d,c"},
        {"2-2 tie: previous names both sides: the smaller name",
         {N("a", "b"), N("b", "a"), N("c", "d"), N("d", "c")},
         "a,c",
         "a,b"},
        {"1-1 tie (two nodes cut apart): the smaller name", {N("a", ""), N("b", "")}, NULL, "a"},
        {"1-1 tie: sticky to the node voted for before", {N("a", ""), N("b", "")}, "b", "b"},
        {"asymmetric: only mutual visibility counts",
         {N("a", "b"), N("b", ""), N("c", "")},
         NULL,
         "a"},
        {"asymmetric: the node that sees both mutually leads",
         {N("a", "b,c"), N("b", "a,c"), N("c", "b")},
         NULL,
         "b,a,c"},
        {"a dead node reported alive is left out",
         {N("a", "b,d"), N("b", "a,d"), NDEAD("d", "a,b")},
         NULL,
         "a,b"},
        {"another witness is never in a group",
         {N("a", "b,v"), N("b", "a,v"), {"v", false, true, true, "a,b", NULL}},
         NULL,
         "a,b"},
        {"an alive node without a heartbeat yet votes alone",
         {N("a", NULL), N("b", "c"), N("c", "b")},
         "a",
         "b,c"},
        {"names in a peer's alive set that are unknown are ignored",
         {N("b", "zz,c"), N("c", "b,yy")},
         NULL,
         "b,c"},
};

static size_t split(const char *text, char *buf, size_t buf_size, const char **names)
{
    size_t n = 0;
    if (!text || !text[0]) {
        return 0;
    }
    snprintf(buf, buf_size, "%s", text);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t && n < NAMES_MAX;
         t = strtok_r(NULL, ",", &save)) {
        names[n++] = t;
    }
    return n;
}

/* The rows' peers as quorum.c takes them; the names live in bufs. */
struct built {
    struct lk_quorum_peer peers[PEERS_MAX];
    const char *names[PEERS_MAX][2][NAMES_MAX];
    char bufs[PEERS_MAX][2][128];
    const char *previous[NAMES_MAX];
    char previous_buf[128];
};

static size_t build(const struct peer_row *rows, struct built *b)
{
    size_t n = 0;
    memset(b, 0, sizeof(*b));
    for (; n < PEERS_MAX && rows[n].name; n++) {
        struct lk_quorum_peer *p = &b->peers[n];
        p->name = rows[n].name;
        p->configured = rows[n].configured;
        p->alive = rows[n].alive;
        p->witness = rows[n].witness;
        const char *sees = rows[n].sees;
        p->hello = sees && sees[0] == '+';
        p->alive_set = b->names[n][0];
        p->alive_count = split(p->hello ? sees + 1 : sees, b->bufs[n][0], sizeof(b->bufs[n][0]),
                               b->names[n][0]);
        p->votes = b->names[n][1];
        p->vote_count = split(rows[n].votes, b->bufs[n][1], sizeof(b->bufs[n][1]), b->names[n][1]);
    }
    return n;
}

static const char *change_name(enum lk_quorum_change c)
{
    static const char *const names[] = {"SAME", "PENDING", "KNOWN", "GAINED", "LOST"};
    return (size_t) c < sizeof(names) / sizeof(names[0]) ? names[c] : "?";
}

static void lk_quorum_count__table(void **state)
{
    (void) state;
    int failures = 0;
    for (size_t i = 0; i < sizeof(count_cases) / sizeof(count_cases[0]); i++) {
        const struct count_case *c = &count_cases[i];
        struct built b;
        size_t count = build(c->peers, &b);
        struct lk_quorum_view view = {
                .self = "a",
                .mode = c->mode,
                .configured_peers = c->configured_peers,
                .witness_configured = c->witness_configured,
                .peers = b.peers,
                .peer_count = count,
                .settled = c->settled,
                .known = c->known,
                .was_quorate = c->was_quorate,
        };
        struct lk_quorum_verdict q;
        memset(&q, 0xff, sizeof(q));
        lk_quorum_count(&view, &q);
        bool none = c->want.none;
        if (q.votes != c->want.votes || q.voters != c->want.voters || q.needed != c->want.needed ||
            q.none != none || q.quorate != c->want.quorate ||
            q.witness_for_self != c->want.witness_for_self || q.change != c->want.change) {
            printf("case '%s':\n  want votes=%u voters=%u needed=%u none=%d quorate=%d "
                   "witness=%d change=%s\n  got  votes=%u voters=%u needed=%u none=%d "
                   "quorate=%d witness=%d change=%s\n",
                   c->name, c->want.votes, c->want.voters, c->want.needed, none, c->want.quorate,
                   c->want.witness_for_self, change_name(c->want.change), q.votes, q.voters,
                   q.needed, q.none, q.quorate, q.witness_for_self, change_name(q.change));
            failures++;
        }
    }
    printf("%zu quorum count cases\n", sizeof(count_cases) / sizeof(count_cases[0]));
    assert_int_equal(failures, 0);
}

static void lk_quorum_witness_vote__table(void **state)
{
    (void) state;
    int failures = 0;
    for (size_t i = 0; i < sizeof(vote_cases) / sizeof(vote_cases[0]); i++) {
        const struct vote_case *c = &vote_cases[i];
        struct built b;
        size_t count = build(c->peers, &b);
        struct lk_quorum_view view = {
                .self = "w",
                .peers = b.peers,
                .peer_count = count,
                .previous_vote = b.previous,
                .previous_count =
                        split(c->previous, b.previous_buf, sizeof(b.previous_buf), b.previous),
        };
        struct lk_witness_vote vote;
        lk_quorum_witness_vote(&view, &vote);
        char got[256] = "";
        if (vote.any) {
            size_t members = 0;
            snprintf(got, sizeof(got), "%s", b.peers[vote.leader].name);
            for (size_t j = 0; j < count; j++) {
                members += lk_quorum_witness_member(&view, &vote, j);
                if (j != vote.leader && lk_quorum_witness_member(&view, &vote, j)) {
                    size_t used = strlen(got);
                    snprintf(got + used, sizeof(got) - used, ",%s", b.peers[j].name);
                }
            }
            if (members != vote.size) {
                printf("case '%s': size %zu but %zu members\n", c->name, vote.size, members);
                failures++;
            }
        }
        if (strcmp(got, c->want) != 0) {
            printf("case '%s':\n  want '%s'\n  got  '%s'\n", c->name, c->want, got);
            failures++;
        }
    }
    printf("%zu witness vote cases\n", sizeof(vote_cases) / sizeof(vote_cases[0]));
    assert_int_equal(failures, 0);
}

static void lk_quorum_witness_member__out_of_range(void **state)
{
    (void) state;
    struct lk_quorum_peer peers[] = {{.name = "a", .alive = true}};
    struct lk_quorum_view view = {.self = "w", .peers = peers, .peer_count = 1};
    struct lk_witness_vote none = {0};
    struct lk_witness_vote vote;
    assert_false(lk_quorum_witness_member(&view, &none, 0));
    lk_quorum_witness_vote(&view, &vote);
    assert_true(vote.any);
    assert_true(lk_quorum_witness_member(&view, &vote, 0));
    assert_false(lk_quorum_witness_member(&view, &vote, 1));
}

static void lk_quorum_mode_none__by_voters(void **state)
{
    (void) state;
    assert_true(lk_quorum_mode_none(LK_QUORUM_MODE_NONE, 5));
    assert_false(lk_quorum_mode_none(LK_QUORUM_MODE_MAJORITY, 1));
    assert_true(lk_quorum_mode_none(LK_QUORUM_MODE_UNSET, 2));
    assert_false(lk_quorum_mode_none(LK_QUORUM_MODE_UNSET, 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_quorum_witness_member__out_of_range),
            cmocka_unit_test(lk_quorum_mode_none__by_voters),
            cmocka_unit_test(lk_quorum_count__table),
            cmocka_unit_test(lk_quorum_witness_vote__table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
