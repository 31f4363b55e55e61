/* Quorum counting and the witness's vote (see quorum.h). Everything comes in as plain
 * data describing one moment: the voters, who is alive, what each peer reports alive,
 * what the witness votes, the mode, and what was decided before. Nothing here reads a
 * clock, logs, or keeps state between calls: the caller stores the answer and feeds it
 * back (known, was_quorate, previous_vote) next time. */
#include "quorum.h"

#include <string.h>

static bool has_name(const char *const *names, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++) {
        if (names[i] && strcmp(names[i], name) == 0) {
            return true;
        }
    }
    return false;
}

bool lk_quorum_mode_none(enum lk_quorum_mode mode, unsigned voters)
{
    if (mode == LK_QUORUM_MODE_NONE) {
        return true;
    }
    if (mode == LK_QUORUM_MODE_MAJORITY) {
        return false;
    }
    return voters < 3;
}

static enum lk_quorum_change change_of(const struct lk_quorum_view *view, bool quorate)
{
    if (!view->settled) {
        return LK_QUORUM_PENDING; /* still meeting the peers: judged (and logged) at settling */
    }
    if (view->known && quorate == view->was_quorate) {
        return LK_QUORUM_SAME;
    }
    if (!quorate) {
        return LK_QUORUM_LOST;
    }
    return view->known ? LK_QUORUM_GAINED : LK_QUORUM_KNOWN;
}

void lk_quorum_count(const struct lk_quorum_view *view, struct lk_quorum_verdict *ret)
{
    struct lk_quorum_verdict q = {.votes = 1, .voters = 1 + (unsigned) view->configured_peers};
    for (size_t i = 0; i < view->peer_count; i++) {
        const struct lk_quorum_peer *p = &view->peers[i];
        /* A vote only both ways: ALIVE here and hearing this node (quorum.h). */
        q.votes += p->configured && p->alive && !p->witness &&
                   (p->hello || has_name(p->alive_set, p->alive_count, view->self));
    }
    if (view->witness_configured) {
        q.voters++;
        for (size_t i = 0; i < view->peer_count && !q.witness_for_self; i++) {
            const struct lk_quorum_peer *p = &view->peers[i];
            q.witness_for_self =
                    p->witness && p->alive && has_name(p->votes, p->vote_count, view->self);
        }
        q.votes += q.witness_for_self;
    }
    q.needed = q.voters / 2 + 1;
    q.none = lk_quorum_mode_none(view->mode, q.voters);
    q.quorate = q.none || q.votes * 2 > q.voters;
    q.change = change_of(view, q.quorate);
    *ret = q;
}

/* Whether q belongs to p's group: alive, not a witness, and each reports the other. */
static bool mutual(const struct lk_quorum_peer *p, const struct lk_quorum_peer *q)
{
    return q->alive && !q->witness && has_name(p->alive_set, p->alive_count, q->name) &&
           has_name(q->alive_set, q->alive_count, p->name);
}

void lk_quorum_witness_vote(const struct lk_quorum_view *view, struct lk_witness_vote *ret)
{
    struct lk_witness_vote best = {0};
    for (size_t i = 0; i < view->peer_count; i++) {
        const struct lk_quorum_peer *p = &view->peers[i];
        if (!p->alive || p->witness) {
            continue;
        }
        size_t size = 1;
        for (size_t j = 0; j < view->peer_count; j++) {
            size += j != i && mutual(p, &view->peers[j]);
        }
        bool better = !best.any || size > best.size;
        if (best.any && size == best.size) {
            /* A tie: the group voted for before keeps the vote (no flapping), else the
             * smaller name. */
            const char *best_name = view->peers[best.leader].name;
            bool was = has_name(view->previous_vote, view->previous_count, p->name);
            bool best_was = has_name(view->previous_vote, view->previous_count, best_name);
            better = was && !best_was;
            if (was == best_was) {
                better = strcmp(p->name, best_name) < 0;
            }
        }
        if (better) {
            best = (struct lk_witness_vote){.any = true, .leader = i, .size = size};
        }
    }
    *ret = best;
}

bool lk_quorum_witness_member(const struct lk_quorum_view *view, const struct lk_witness_vote *vote,
                              size_t i)
{
    if (!vote->any || i >= view->peer_count) {
        return false;
    }
    return i == vote->leader || mutual(&view->peers[vote->leader], &view->peers[i]);
}
