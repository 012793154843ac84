/* Makes every fsync and fdatasync of a process take FSYNC_DELAY_US microseconds longer
 * (default 2000), as on a disk whose syncs are slow (network block storage, a busy HDD): the
 * regime where commits, not CPU, bound the updates a second. `bench_flow.py --slow-fsync-ms 2`
 * builds and preloads it by itself; by hand:
 *
 *   gcc -shared -fPIC -O2 -o /tmp/slow_fsync.so benchmarks/slow_fsync.c -ldl
 *   LD_PRELOAD=/tmp/slow_fsync.so FSYNC_DELAY_US=2000 \
 *       .venv/bin/python benchmarks/bench_flow.py --sizes "" --floods 0
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

static useconds_t delay(void) {
    const char *text = getenv("FSYNC_DELAY_US");
    return text ? (useconds_t)atoi(text) : 2000;
}

int fsync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    int result = real(fd);
    usleep(delay());
    return result;
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    int result = real(fd);
    usleep(delay());
    return result;
}
