/* The live stream (web.h): GET /api/v1/stream as server-sent events. Each stream has its
 * own lkd connection running `log --follow` as the caller's role; every event lkd sends
 * goes out as "event: lkevent", followed (at most twice a second) by "event: changed" so
 * the dashboard refetches the status; a ": ping" comment every 15 s keeps proxies from
 * closing it and re-checks the caller's token, so a revoked token's stream ends. At most
 * LK_WEB_STREAMS_MAX streams at once. Events enter from MHD's thread of the connection
 * (lkweb runs a thread per connection, so the reader may wait).
 *
 * It never buffers without bound (an event over the buffer is dropped, said in a comment)
 * and never outlives lkweb's stop: every wait ends on lk_web.quit_fd. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto.h"
#include "web.h"

#define PING_MS     15000
#define CHANGED_MS  500
#define BLOCK_BYTES 65536

struct stream {
    struct lk_web_lkd_stream *lkd;
    struct lk_web_who who;
    char bearer[128];
    bool has_bearer;
    int64_t last_changed_ms; /* when the last "changed" went out */
    bool changed_pending;
    int64_t last_out_ms;
    bool ended;
};

static atomic_int streams;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static ssize_t put(char *buf, size_t max, const char *text)
{
    size_t n = strlen(text);
    if (n > max) {
        return 0;
    }
    memcpy(buf, text, n);
    return (ssize_t) n;
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void) pos;
    struct stream *s = cls;
    if (s->ended) {
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    for (;;) {
        int64_t now = now_ms();
        if (s->changed_pending && now - s->last_changed_ms >= CHANGED_MS) {
            s->changed_pending = false;
            s->last_changed_ms = now;
            s->last_out_ms = now;
            return put(buf, max, "event: changed\ndata: {}\n\n");
        }
        if (now - s->last_out_ms >= PING_MS) {
            if (!lk_web_session_valid(&s->who, s->has_bearer ? s->bearer : NULL)) {
                return MHD_CONTENT_READER_END_OF_STREAM;
            }
            s->last_out_ms = now;
            return put(buf, max, ": ping\n\n");
        }
        int wait = (int) (s->last_out_ms + PING_MS - now);
        if (s->changed_pending) {
            int w = (int) (s->last_changed_ms + CHANGED_MS - now);
            wait = w < wait ? w : wait;
        }
        json_t *msg = NULL;
        int n = lk_web_lkd_next(s->lkd, wait > 0 ? wait : 1, &msg);
        if (n < 0) {
            return MHD_CONTENT_READER_END_OF_STREAM;
        }
        if (n == 0) {
            continue;
        }
        json_t *event = json_object_get(msg, "event");
        if (!event) {
            bool final = json_object_get(msg, LK_KEY_OK) != NULL;
            json_decref(msg);
            if (final) {
                return MHD_CONTENT_READER_END_OF_STREAM;
            }
            continue;
        }
        char *text = json_dumps(event, JSON_COMPACT | JSON_ENSURE_ASCII);
        json_decref(msg);
        s->changed_pending = true;
        if (!text) {
            continue;
        }
        s->last_out_ms = now_ms();
        int len = snprintf(buf, max, "event: lkevent\ndata: %s\n\n", text);
        free(text);
        if (len < 0 || (size_t) len >= max) {
            return put(buf, max, ": an event too large for the stream was left out\n\n");
        }
        return len;
    }
}

static void release(void *cls)
{
    struct stream *s = cls;
    lk_web_lkd_close(s->lkd);
    free(s);
    atomic_fetch_sub(&streams, 1);
}

enum MHD_Result lk_web_stream(struct MHD_Connection *conn, const struct lk_web_who *who,
                              const char *bearer)
{
    if (atomic_fetch_add(&streams, 1) >= LK_WEB_STREAMS_MAX) {
        atomic_fetch_sub(&streams, 1);
        return lk_web_error(conn, 503, LK_EXIT_UNREACHABLE, "too many live streams: at most %d",
                            LK_WEB_STREAMS_MAX);
    }
    struct stream *s = calloc(1, sizeof(*s));
    if (!s) {
        atomic_fetch_sub(&streams, 1);
        return MHD_NO;
    }
    s->who = *who;
    if (bearer && strlen(bearer) < sizeof(s->bearer)) {
        snprintf(s->bearer, sizeof(s->bearer), "%s", bearer);
        s->has_bearer = true;
    }
    struct lk_web_reply r;
    /* n = 0: only what happens from now on; the dashboard reads the past from /events. */
    s->lkd = lk_web_lkd_open(LK_CMD_LOG, json_pack("{s:i, s:b}", "n", 0, "follow", 1), who->role,
                             &r);
    if (!s->lkd) {
        free(s);
        atomic_fetch_sub(&streams, 1);
        return lk_web_error(conn, (unsigned) r.http, r.code, "%s", r.error);
    }
    s->last_out_ms = now_ms();
    s->last_changed_ms = 0;
    struct MHD_Response *resp =
            MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, BLOCK_BYTES, reader, s, release);
    if (!resp) {
        release(s);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "text/event-stream");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    /* The first bytes at once: the client knows the stream is open. */
    s->changed_pending = true;
    return lk_web_queue(conn, 200, resp);
}
