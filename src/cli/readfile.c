/* Reading a small file a command was given, whole: opened without blocking (a FIFO is
 * refused, never waited on), checked to be a regular file within its bound after opening,
 * read to the end. It never writes, and never prints more than one line. */
#include "readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"

char *lk_read_small_file(const char *prog, const char *what, const char *path, size_t max,
                         bool follow, bool empty_ok, size_t *ret_len)
{
    char reason[128];
    const char *why = NULL;
    char *data = NULL;
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (follow ? 0 : O_NOFOLLOW));
    if (fd < 0) {
        why = errno == ENOENT             ? "no such file"
              : errno == ELOOP && !follow ? "is a symbolic link; give the file it points to"
                                          : strerror(errno);
    } else if (fstat(fd, &st) < 0) {
        why = strerror(errno);
    } else if (!S_ISREG(st.st_mode)) {
        why = "is not a regular file";
    } else if (st.st_size == 0 && !empty_ok) {
        why = "is empty";
    } else if ((unsigned long long) st.st_size > max) {
        snprintf(reason, sizeof(reason), "is too large: %lld bytes, at most %zu",
                 (long long) st.st_size, max);
        why = reason;
    } else if (!(data = malloc((size_t) st.st_size + 1))) {
        why = "out of memory";
    }
    size_t got = 0;
    while (!why && got < (size_t) st.st_size) {
        ssize_t n = read(fd, data + got, (size_t) st.st_size - got);
        if (n <= 0) {
            why = "changed while being read";
            break;
        }
        got += (size_t) n;
    }
    if (fd >= 0) {
        close(fd);
    }
    if (why) {
        free(data);
        lk_fail(prog, 2, "%s '%s': %s", what, path, why);
        return NULL;
    }
    data[got] = '\0';
    *ret_len = got;
    return data;
}
