/* lcdrcp: LifeKeeper's remote copy (LCD(1M)): `lcdrcp FILE... NODE:PATH` writes each file on
 * NODE (remote.put through this node's lkd, forwarded over the comm paths) at PATH, or in
 * PATH under its own name when PATH is a directory there (always, for several files), with
 * the source's mode, atomically. Exit statuses are LCDI's: 9 when NODE cannot be reached, 1
 * when refused or a file cannot be read, 2 for a syntax error. Called from a resource's
 * script (LK_TAG set), NODE must be one the resource is extended to.
 *
 * It never follows a FIFO or a device (opened without blocking, checked after fstat). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "lcdi.h"
#include "validate.h"

#define PROG     "lcdrcp"
#define FILE_MAX (4 * 1024 * 1024)

/* The file's content as base64 (caller frees) and its mode, or NULL after printing why. */
static char *read_file(const char *path, unsigned *ret_mode)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    struct stat st;
    if (fd < 0) {
        lk_fail(PROG, LCDI_SYSCALL, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        lk_fail(PROG, LCDI_ILLEGAL, "'%s' is not a regular file", path);
        return NULL;
    }
    if (st.st_size > FILE_MAX) {
        close(fd);
        lk_fail(PROG, LCDI_ILLEGAL, "'%s' is larger than 4 MiB", path);
        return NULL;
    }
    size_t len = (size_t) st.st_size, got = 0;
    unsigned char *buf = malloc(len ? len : 1);
    while (buf && got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n <= 0) {
            break;
        }
        got += (size_t) n;
    }
    close(fd);
    if (!buf || got != len) {
        free(buf);
        lk_fail(PROG, LCDI_SYSCALL, "cannot read '%s'", path);
        return NULL;
    }
    size_t b64_len = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64_len);
    if (b64) {
        sodium_bin2base64(b64, b64_len, buf, len, sodium_base64_VARIANT_ORIGINAL);
    }
    free(buf);
    *ret_mode = (unsigned) (st.st_mode & 0777);
    return b64;
}

int main(int argc, char **argv)
{
    struct lcdi l;
    lcdi_init(&l, PROG, "usage: " PROG " [--root DIR] FILE... NODE:PATH",
              "\n"
              "Copies each FILE to NODE (written atomically, its permission bits kept): to PATH,\n"
              "or into the directory PATH when several files are given or PATH is a directory.\n"
              "Needs `remote-exec = on` in the cluster settings and the admin role; every use is\n"
              "logged on both nodes.\n"
              "\n"
              "  --root DIR    the node's root directory; default: $LKROOT, else the default\n"
              "  --version     the version\n"
              "  --help        this help\n"
              "\n"
              "Exit status: 0 ok, 1 failed or refused, 2 syntax error, 5 illegal argument,\n"
              "9 NODE not reachable.\n");
    int c = lcdi_getopt(&l, argc, argv, "", false);
    if (c == LCDI_OPT_EXIT) {
        return l.exit;
    }
    if (c != -1) {
        return lcdi_syntax(&l, "unknown option");
    }
    argc -= optind - 1; /* the files and the destination as argv[1..argc-1] */
    argv += optind - 1;
    if (argc < 3) {
        return lcdi_syntax(&l, "FILE... NODE:PATH expected");
    }
    const char *dest = argv[argc - 1];
    const char *colon = strchr(dest, ':');
    if (!colon || colon == dest || !colon[1]) {
        return lk_fail(PROG, LCDI_SYNTAX, "the destination must be NODE:PATH, not '%s'", dest);
    }
    char node[256];
    snprintf(node, sizeof(node), "%.*s", (int) (colon - dest), dest);
    char err[256];
    if (lk_validate_tag(node, "node name", err, sizeof(err)) < 0) {
        return lk_fail(PROG, LCDI_ILLEGAL, "%s", err);
    }
    const char *path = colon + 1;
    if (path[0] != '/') {
        return lk_fail(PROG, LCDI_ILLEGAL, "the destination path '%s' must be absolute", path);
    }
    const char *tag = getenv("LK_TAG");
    bool several = argc > 3;
    for (int i = 1; i < argc - 1; i++) {
        unsigned mode = 0;
        char *b64 = read_file(argv[i], &mode);
        if (!b64) {
            return LCDI_SYSCALL;
        }
        char copy[4096];
        snprintf(copy, sizeof(copy), "%s", argv[i]);
        json_t *args = json_pack("{s:s,s:s,s:i,s:s,s:b}", "path", path, "data", b64, "mode",
                                 (int) mode, "name", basename(copy), "dir", several);
        free(b64);
        if (!args) {
            return lk_fail(PROG, LCDI_ILLEGAL, "a file name or path is not valid UTF-8");
        }
        if (tag && tag[0]) {
            json_object_set_new(args, "tag", json_string(tag));
        }
        json_t *data = NULL;
        l.dest = node;
        l.usage_is_syntax = true;
        int r = lcdi_ask(&l, LK_CMD_REMOTE_PUT, args, &data);
        json_decref(data);
        if (r != LCDI_OK) {
            return r;
        }
    }
    return LCDI_OK;
}
