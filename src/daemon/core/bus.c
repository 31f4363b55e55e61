/* The bus: a fixed table of subscribers per topic, filled by main.c at start, and the
 * publications that walk it.
 *
 * Events enter from any module that changed something (lk_bus_changed, lk_bus_event,
 * lk_bus_committed, lk_bus_defined, lk_bus_ran) or wants lkd to stop (lk_bus_stop_request), and
 * from main.c when it stops (lk_bus_stopping). The bus never decides, never allocates after
 * lk_bus_new, and includes no other daemon module: it is the layer's floor. */
#include "bus.h"

#include <errno.h>
#include <stdlib.h>

#define MAX_SUBSCRIBERS 8

enum topic {
    TOPIC_CHANGED,
    TOPIC_EVENT,
    TOPIC_COMMITTED,
    TOPIC_DEFINED,
    TOPIC_OWNERS,
    TOPIC_RAN,
    TOPIC_STOP,
    TOPIC_STOPPING,
    TOPIC_COUNT,
};

struct subscriber {
    union {
        lk_bus_changed_cb changed;
        lk_bus_event_cb event;
        lk_bus_committed_cb committed;
        lk_bus_defined_cb defined;
        lk_bus_owners_cb owners;
        lk_bus_ran_cb ran;
        lk_bus_stop_cb stop;
        lk_bus_stopping_cb stopping;
    } cb;
    void *userdata;
};

struct lk_bus {
    struct subscriber subs[TOPIC_COUNT][MAX_SUBSCRIBERS];
    size_t count[TOPIC_COUNT];
};

struct lk_bus *lk_bus_new(void)
{
    return calloc(1, sizeof(struct lk_bus));
}

struct lk_bus *lk_bus_free(struct lk_bus *bus)
{
    free(bus);
    return NULL;
}

/* The free slot of topic, or NULL (errno-style reason in *ret_err). */
static struct subscriber *slot(struct lk_bus *bus, enum topic topic, bool have_cb, int *ret_err)
{
    if (!bus || !have_cb) {
        *ret_err = -EINVAL;
        return NULL;
    }
    if (bus->count[topic] >= MAX_SUBSCRIBERS) {
        *ret_err = -ENOSPC;
        return NULL;
    }
    struct subscriber *s = &bus->subs[topic][bus->count[topic]++];
    *ret_err = 0;
    return s;
}

#define SUBSCRIBE(topic, member)                                                                   \
    do {                                                                                           \
        int err;                                                                                   \
        struct subscriber *s = slot(bus, (topic), cb != NULL, &err);                               \
        if (!s) {                                                                                  \
            return err;                                                                            \
        }                                                                                          \
        s->cb.member = cb;                                                                         \
        s->userdata = userdata;                                                                    \
        return 0;                                                                                  \
    } while (0)

int lk_bus_on_changed(struct lk_bus *bus, lk_bus_changed_cb cb, void *userdata)
{
    SUBSCRIBE(TOPIC_CHANGED, changed);
}

int lk_bus_on_event(struct lk_bus *bus, lk_bus_event_cb cb, void *userdata)
{
    SUBSCRIBE(TOPIC_EVENT, event);
}

int lk_bus_on_committed(struct lk_bus *bus, lk_bus_committed_cb cb, void *userdata)
{
    SUBSCRIBE(TOPIC_COMMITTED, committed);
}

int lk_bus_on_defined(struct lk_bus *bus, lk_bus_defined_cb cb, void *userdata)
{
    SUBSCRIBE(TOPIC_DEFINED, defined);
}

int lk_bus_on_owners(struct lk_bus *bus, lk_bus_owners_cb cb, void *userdata)
{
    SUBSCRIBE(TOPIC_OWNERS, owners);
}

int lk_bus_on_ran(struct lk_bus *bus, lk_bus_ran_cb cb, void *userdata)
{
    SUBSCRIBE(TOPIC_RAN, ran);
}

int lk_bus_on_stop(struct lk_bus *bus, lk_bus_stop_cb cb, void *userdata)
{
    SUBSCRIBE(TOPIC_STOP, stop);
}

int lk_bus_on_stopping(struct lk_bus *bus, lk_bus_stopping_cb cb, void *userdata)
{
    SUBSCRIBE(TOPIC_STOPPING, stopping);
}

/* Subscribers are only added at start, so the count read before the walk stays valid
 * while a subscriber publishes on another topic (or this one) from inside its call. */
#define PUBLISH(topic, member, ...)                                                                \
    do {                                                                                           \
        if (!bus) {                                                                                \
            return;                                                                                \
        }                                                                                          \
        for (size_t i = 0; i < bus->count[topic]; i++) {                                           \
            const struct subscriber *s = &bus->subs[topic][i];                                     \
            s->cb.member(s->userdata, __VA_ARGS__);                                                \
        }                                                                                          \
    } while (0)

void lk_bus_changed(struct lk_bus *bus, const char *tag)
{
    PUBLISH(TOPIC_CHANGED, changed, tag);
}

void lk_bus_event(struct lk_bus *bus, const struct lk_event_record *e)
{
    PUBLISH(TOPIC_EVENT, event, e);
}

void lk_bus_committed(struct lk_bus *bus, const char *const *tags, size_t count)
{
    PUBLISH(TOPIC_COMMITTED, committed, tags, count);
}

void lk_bus_defined(struct lk_bus *bus, const char *tag)
{
    PUBLISH(TOPIC_DEFINED, defined, tag);
}

void lk_bus_owners(struct lk_bus *bus, bool records)
{
    PUBLISH(TOPIC_OWNERS, owners, records);
}

void lk_bus_ran(struct lk_bus *bus, const struct lk_bus_run *run)
{
    PUBLISH(TOPIC_RAN, ran, run);
}

void lk_bus_stop_request(struct lk_bus *bus, enum lk_bus_stop why)
{
    PUBLISH(TOPIC_STOP, stop, why);
}

void lk_bus_stopping(struct lk_bus *bus, enum lk_bus_stop why)
{
    PUBLISH(TOPIC_STOPPING, stopping, why);
}
