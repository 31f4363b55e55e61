/* The dashboard's files (web.h): GET / is index.html, GET /ui/NAME a file of lk_web.ui
 * (the installed datadir/openkeeper/web, or --ui DIR). Each path segment must be a plain
 * name (letters, digits, '.', '_', '-'; not starting with '.'), so no path leaves the
 * folder; the file is opened without following a final link, must be a regular file, and
 * goes out with the content type of its extension. Events enter from web_http.c.
 *
 * It never lists a folder and never serves a file outside lk_web.ui. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto.h"
#include "web.h"

#define STATIC_MAX_SIZE (16 * 1024 * 1024)

static const struct {
    const char *ext, *type;
} types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".json", "application/json"},
        {".woff2", "font/woff2"},
        {".txt", "text/plain; charset=utf-8"},
};

static const char *type_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcmp(dot, types[i].ext) == 0) {
            return types[i].type;
        }
    }
    return "application/octet-stream";
}

/* Whether rel ("a/b.css") is made of plain names only. */
static bool plain_path(const char *rel)
{
    if (!rel[0] || strlen(rel) > 256) {
        return false;
    }
    bool start = true;
    for (const char *p = rel; *p; p++) {
        char c = *p;
        if (c == '/') {
            if (start) {
                return false; /* an empty segment */
            }
            start = true;
            continue;
        }
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || (c == '.' && !start);
        if (!ok) {
            return false;
        }
        start = false;
    }
    return !start;
}

enum MHD_Result lk_web_static(struct MHD_Connection *conn, const char *url)
{
    const char *rel = NULL;
    if (strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0) {
        rel = "index.html";
    } else if (strncmp(url, "/ui/", 4) == 0) {
        rel = url + 4;
    }
    if (!rel || !plain_path(rel)) {
        return lk_web_error(conn, 404, LK_EXIT_USAGE, "not found");
    }
    char path[8192];
    snprintf(path, sizeof(path), "%s/%s", lk_web.ui, rel);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > STATIC_MAX_SIZE) {
        if (fd >= 0) {
            close(fd);
        }
        return lk_web_error(conn, 404, LK_EXIT_USAGE, "not found");
    }
    struct MHD_Response *resp = MHD_create_response_from_fd((size_t) st.st_size, fd);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", type_of(rel));
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    return lk_web_queue(conn, 200, resp);
}
