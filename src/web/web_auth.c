/* Who is asking (web.h): a Bearer token (curl, Prometheus) or the browser's session cookie,
 * each checked with lkd (web.token.check) at every request, so a revoked token stops at
 * once and its sessions end at their next request; the sessions (random ids, 12 h, in this
 * process's memory only) and the CSRF checks of unsafe methods (Origin against Host, and
 * the session's X-CSRF-Token). Events enter from the HTTP threads; the table has a lock.
 *
 * It never decides what a role may do (lkd does, with the request's "as") and never
 * writes a token anywhere: a session keeps its token in memory to re-check it. */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "proto.h"
#include "web.h"
#include "webtoken.h"

#define SESSIONS_MAX  1024
#define SESSION_SECS  (12 * 3600)
#define COOKIE_NAME   "lk_session"
#define RANDOM_B64LEN 43 /* 32 bytes */

struct session {
    char id[RANDOM_B64LEN + 1]; /* "" = free */
    char csrf[RANDOM_B64LEN + 1];
    char token[LK_WEBTOKEN_LEN + 1];
    int64_t created;
};

static struct session sessions[SESSIONS_MAX];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec;
}

static void random_b64(char *out)
{
    unsigned char buf[32];
    randombytes_buf(buf, sizeof(buf));
    sodium_bin2base64(out, RANDOM_B64LEN + 1, buf, sizeof(buf),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static const char *str_or(const json_t *j)
{
    const char *s = json_string_value(j);
    return s ? s : "";
}

static bool same(const char *a, const char *b)
{
    size_t n = strlen(a);
    return n == strlen(b) && sodium_memcmp(a, b, n) == 0;
}

/* The live session with this id (lock held), or NULL; an expired one is dropped. */
static struct session *find(const char *id)
{
    if (!id || strlen(id) != RANDOM_B64LEN) {
        return NULL;
    }
    for (size_t i = 0; i < SESSIONS_MAX; i++) {
        if (sessions[i].id[0] && same(sessions[i].id, id)) {
            if (now_s() - sessions[i].created >= SESSION_SECS) {
                sodium_memzero(&sessions[i], sizeof(sessions[i]));
                return NULL;
            }
            return &sessions[i];
        }
    }
    return NULL;
}

int lk_web_session_new(const char *token, struct lk_web_who *who)
{
    pthread_mutex_lock(&lock);
    struct session *s = NULL;
    for (size_t i = 0; i < SESSIONS_MAX; i++) {
        if (!sessions[i].id[0] || now_s() - sessions[i].created >= SESSION_SECS) {
            s = &sessions[i];
            break;
        }
        if (!s || sessions[i].created < s->created) {
            s = &sessions[i]; /* full: the oldest goes */
        }
    }
    random_b64(s->id);
    random_b64(s->csrf);
    snprintf(s->token, sizeof(s->token), "%s", token);
    s->created = now_s();
    snprintf(who->session, sizeof(who->session), "%s", s->id);
    snprintf(who->csrf, sizeof(who->csrf), "%s", s->csrf);
    pthread_mutex_unlock(&lock);
    return 0;
}

void lk_web_session_drop(const char *id)
{
    pthread_mutex_lock(&lock);
    struct session *s = find(id);
    if (s) {
        sodium_memzero(s, sizeof(*s));
    }
    pthread_mutex_unlock(&lock);
}

/* Asks lkd whether token is valid: 200 with who's role, name and id, 401, or lkd's 503/504. */
static int check_token(const char *token, struct lk_web_who *who, char *err, size_t size);

/* check_token behind the rates (conn's address or the token's): 429 without asking lkd. */
static int limited_check(struct MHD_Connection *conn, const char *token, struct lk_web_who *who,
                         char *err, size_t size)
{
    bool known = false;
    int wait = lk_web_limit_token(conn, token, &known);
    if (wait) {
        who->retry_after = wait;
        snprintf(err, size, "too many requests: try again in %d s", wait);
        return 429;
    }
    int status = check_token(token, who, err, size);
    if (status == 401 && known) {
        lk_web_limit_learn(token, "", false);
    } else if (status == 200 && !known) {
        lk_web_limit_learn(token, who->role, true);
    }
    return status;
}

static int check_token(const char *token, struct lk_web_who *who, char *err, size_t size)
{
    if (!lk_webtoken_is_token(token)) {
        snprintf(err, size, "invalid or revoked token");
        return 401;
    }
    struct lk_web_reply r;
    lk_web_lkd_call(LK_CMD_WEB_TOKEN_CHECK, json_pack("{s:s}", "token", token), NULL,
                    lk_web.lkd_timeout_ms, &r);
    int status = r.http;
    if (status == 200) {
        const char *role = json_string_value(json_object_get(r.data, "role"));
        snprintf(who->role, sizeof(who->role), "%s", role ? role : "guest");
        snprintf(who->name, sizeof(who->name), "%s", str_or(json_object_get(r.data, "name")));
        snprintf(who->id, sizeof(who->id), "%s", str_or(json_object_get(r.data, "id")));
    } else if (r.code == LK_EXIT_DENIED) {
        status = 401;
        snprintf(err, size, "invalid or revoked token");
    } else {
        snprintf(err, size, "%s", r.error);
    }
    lk_web_reply_clear(&r);
    return status;
}

/* A 401 (err set) that the address pays for, or 429 past its rate. */
static int unauthenticated(struct MHD_Connection *conn, struct lk_web_who *who, char *err,
                           size_t size)
{
    int wait = lk_web_limit_address(conn);
    if (wait) {
        who->retry_after = wait;
        snprintf(err, size, "too many requests: try again in %d s", wait);
        return 429;
    }
    return 401;
}

int lk_web_auth(struct MHD_Connection *conn, struct lk_web_who *who, char *err, size_t size)
{
    memset(who, 0, sizeof(*who));
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    if (auth) {
        if (strncasecmp(auth, "Bearer ", 7) != 0) {
            snprintf(err, size, "unsupported authorization: 'Bearer TOKEN' expected");
            return unauthenticated(conn, who, err, size);
        }
        return limited_check(conn, auth + 7, who, err, size);
    }
    const char *id = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, COOKIE_NAME);
    char token[LK_WEBTOKEN_LEN + 1] = "";
    pthread_mutex_lock(&lock);
    struct session *s = find(id);
    if (s) {
        snprintf(token, sizeof(token), "%s", s->token);
        snprintf(who->session, sizeof(who->session), "%s", s->id);
        snprintf(who->csrf, sizeof(who->csrf), "%s", s->csrf);
    }
    pthread_mutex_unlock(&lock);
    if (!token[0]) {
        snprintf(err, size, "%s",
                 id ? "session expired or ended: log in again"
                    : "authentication required: a Bearer token or a session");
        return unauthenticated(conn, who, err, size);
    }
    who->cookie = true;
    int status = limited_check(conn, token, who, err, size);
    sodium_memzero(token, sizeof(token));
    if (status == 401) {
        lk_web_session_drop(who->session); /* its token was revoked: the session ends */
        snprintf(err, size, "the session's token was revoked: log in again");
    }
    return status;
}

bool lk_web_session_valid(const struct lk_web_who *who, const char *bearer)
{
    struct lk_web_who w;
    char err[256];
    if (!who->cookie) {
        return bearer && check_token(bearer, &w, err, sizeof(err)) != 401;
    }
    char token[LK_WEBTOKEN_LEN + 1] = "";
    pthread_mutex_lock(&lock);
    struct session *s = find(who->session);
    if (s) {
        snprintf(token, sizeof(token), "%s", s->token);
    }
    pthread_mutex_unlock(&lock);
    if (!token[0]) {
        return false;
    }
    bool ok = check_token(token, &w, err, sizeof(err)) != 401;
    if (!ok) {
        lk_web_session_drop(who->session);
    }
    return ok;
}

int lk_web_csrf_check(struct MHD_Connection *conn, const struct lk_web_who *who, char *err,
                      size_t size)
{
    const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
    if (origin) {
        char want[512];
        snprintf(want, sizeof(want), "%s://%s", lk_web.tls ? "https" : "http", host ? host : "");
        if (!host || strcmp(origin, want) != 0) {
            snprintf(err, size, "cross-origin request refused: Origin does not match Host");
            return -1;
        }
    }
    if (who && who->cookie) {
        const char *csrf = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-CSRF-Token");
        if (!csrf || !same(csrf, who->csrf)) {
            snprintf(err, size, "missing or wrong X-CSRF-Token header");
            return -1;
        }
    }
    return 0;
}
