// Fault injection for the system tests (tests/system/test_store_eio.py): an LD_PRELOAD library
// that makes fsync(2) and fdatasync(2) fail with EIO, as a failing disk does, on files whose path
// contains $VSFAULT_MATCH, while the file $VSFAULT_TRIGGER exists. The test arms and disarms the
// fault by creating and removing the trigger file; everything else passes through to libc.
// Test-only: never installed, never linked into the switch.
#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

int armedFor(int fd) {
    const char* trigger = getenv("VSFAULT_TRIGGER");
    const char* match = getenv("VSFAULT_MATCH");
    if (!trigger || !match || access(trigger, F_OK) != 0) return 0;
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n < 0) return 0;
    path[n] = '\0';
    return std::strstr(path, match) != nullptr;
}

using SyncFn = int (*)(int);

int inject(const char* name, int fd) {
    if (armedFor(fd)) {
        errno = EIO;
        return -1;
    }
    auto real = reinterpret_cast<SyncFn>(dlsym(RTLD_NEXT, name));
    return real(fd);
}

}  // namespace

extern "C" int fsync(int fd) { return inject("fsync", fd); }
extern "C" int fdatasync(int fd) { return inject("fdatasync", fd); }

