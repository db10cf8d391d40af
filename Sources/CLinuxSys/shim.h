#ifndef CLINUXSYS_SHIM_H
#define CLINUXSYS_SHIM_H
// Linux-only calls that Swift's Glibc module does not export.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <signal.h>
#include <spawn.h>
#include <pthread.h>

// accept4 is declared only under _GNU_SOURCE; declare it here so the shim
// does not depend on how the Glibc module was built.
extern int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags);
// pipe2 likewise: a pipe whose ends are close-on-exec from the start, so a
// child spawned by another thread meanwhile cannot inherit them.
extern int pipe2(int pipefd[2], int flags);
// glibc 2.34+: close every descriptor from `from` up in the child, so it
// inherits none the parent opened without O_CLOEXEC (a library's file, a
// socket): only the standard three the spawn sets up.
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);
// pthread_setname_np likewise (_GNU_SOURCE): threads named for `top -H`
// and `perf`.
extern int pthread_setname_np(pthread_t thread, const char *name);
// getrandom(2) likewise (<sys/random.h>): the kernel's CSPRNG in one call,
// without opening /dev/urandom.
extern ssize_t getrandom(void *buffer, size_t length, unsigned int flags);


// The CPU's spin-wait hint (x86 `pause`, ARM `yield`): a thread spinning
// for a lock tells the core so, and leaves the other hyperthread room.
static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield");
#endif
}

#endif
