/* The hierarchy index: a view's dependencies as adjacency lists of positions, and its
 * connected hierarchies (components), built once from (resources, dependencies) so that
 * hierarchy operations never walk the dependency list by tag comparison at each step.
 *
 * Vertices are the view's resources, at their positions in the view (0 .. count-1),
 * then the tags that dependencies name but the view does not hold (count .. vcount-1),
 * as the walks by tag always followed them. Children and parents of a vertex are listed
 * in the order of the dependency list, so that walks over them meet the vertices in the
 * order the walks over the list did. Pure; the owner of the view owns the index (the
 * daemon's node keeps one and rebuilds it when a definition changed). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

struct lk_hier {
    struct lk_resource *const *resources; /* borrowed: the view's, at build time */
    const struct lk_dep *deps;            /* borrowed */
    size_t count;                         /* resources */
    size_t dep_count;
    size_t vcount;                 /* resources, then tags named only by dependencies */
    size_t *order;                 /* positions sorted by tag, then position; NULL: sorted */
    char (*extra)[LK_TAG_MAX + 1]; /* the tags of vertices count .. vcount-1, sorted */
    size_t *down_start, *down;     /* children of vertex v: down[down_start[v] ..
                                    * down_start[v + 1]), in dependency order */
    size_t *up_start, *up;         /* parents, the same way */
    size_t *nbr_start, *nbr;       /* both, in dependency order (for a dependency naming
                                    * v as parent and as child, twice) */
    size_t *comp;                  /* the component of each vertex */
    size_t comp_count;
    size_t *rank;      /* each vertex's rank among its component's vertices */
    size_t *comp_size; /* the vertices of each component (tags only dependencies name too) */
    size_t *member_start, *members; /* the resources of each component, by position */
    bool built;
    uint64_t serial; /* counts the builds of this struct (kept by lk_hier_done): a user's
                      * cache of facts by component knows the index it was made for */
};

/* Builds the index of resources[0..count) (sorted: in strcmp order of their tags) and
 * deps[0..dep_count); both stay borrowed and must not change while the index is used.
 * An index built before is released first. 0, or -ENOMEM (then the index is empty). */
int lk_hier_build(struct lk_hier *h, struct lk_resource *const *resources, size_t count,
                  bool sorted, const struct lk_dep *deps, size_t dep_count);

/* Releases the index's memory; it can be built again. NULL-safe. */
void lk_hier_done(struct lk_hier *h);

/* Whether h was built from exactly these arrays. */
bool lk_hier_matches(const struct lk_hier *h, struct lk_resource *const *resources, size_t count,
                     const struct lk_dep *deps, size_t dep_count);

/* The vertex of tag (a resource's position, or a tag only dependencies name): true and
 * *ret_vertex, or false when neither the view nor a dependency names it. */
bool lk_hier_vertex(const struct lk_hier *h, const char *tag, size_t *ret_vertex);

/* The children (parents) of vertex v: *ret_n vertices. */
const size_t *lk_hier_children(const struct lk_hier *h, size_t v, size_t *ret_n);
const size_t *lk_hier_parents(const struct lk_hier *h, size_t v, size_t *ret_n);

/* The children and parents of vertex v in one list, in the order of the dependencies
 * that link them (a breadth-first walk over it meets the vertices in the order a walk
 * over the dependency list does): *ret_n vertices. */
const size_t *lk_hier_neighbours(const struct lk_hier *h, size_t v, size_t *ret_n);

/* The resources (positions, ascending) of vertex v's hierarchy: *ret_n of them. */
const size_t *lk_hier_members(const struct lk_hier *h, size_t v, size_t *ret_n);

/* The tag of vertex v. */
const char *lk_hier_tag(const struct lk_hier *h, size_t v);
