#ifndef CLINUXSYS_SHIM_H
#define CLINUXSYS_SHIM_H
// Linux-only calls that Swift's Glibc module does not export.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <signal.h>

// accept4 is declared only under _GNU_SOURCE; declare it here so the shim
// does not depend on how the Glibc module was built.
extern int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags);
// pipe2 likewise: a pipe whose ends are close-on-exec from the start, so a
// child spawned by another thread meanwhile cannot inherit them.
extern int pipe2(int pipefd[2], int flags);

#endif
