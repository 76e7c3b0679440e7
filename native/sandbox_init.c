// corral-sandbox-init: pid 1 of a session's sandbox (bwrap --as-pid-1 execs it in place of bwrap's own reaper). It
// forks the program with the session's group signals back at their defaults (the bwrap outside ignores them, see
// bwrapCommand.ts), reaps every orphan the namespace hands it, and when the program ends writes how it ended to a
// status file the daemon reads: bwrap can only pass on an exit code (128+n for a signal), which cannot tell a
// program killed by SIGINT from one that exited with 130. Then it exits with bwrap's own code, and the kernel ends
// everything left in the namespace.
// Nothing of it is mounted in the sandbox: corral-cgroup-enter opened its binary and the status file outside, at
// descriptors bwrap inherits; bwrap execs it as /proc/self/fd/<exe fd>, and the program gets neither descriptor.
// As pid 1 it is immune to signals it has no handler for (the kernel drops them for a namespace's init), so Ctrl-C
// and Corral's TERM reach the program, not it; a SIGKILL from outside (bwrap's --die-with-parent) still ends it.
// Static, like corral-cgroup-enter: no loader and no libraries to map, and nothing of the host needed inside.
//
// Usage: corral-sandbox-init <exe fd> <status fd> -- <program> [args...]
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/** The same distinct status as corral-cgroup-enter: the session could not be started as asked. */
#define EXIT_NOT_STARTED 125

/** Signals the bwrap outside ignores (GROUP_SIGNALS in bwrapCommand.ts): the program gets them as defaults. */
static const int GROUP_SIGNALS[] = {SIGINT, SIGQUIT, SIGTERM, SIGHUP};

/** A descriptor number from argv; -1 when it is not one. */
static int parse_fd(const char* text) {
  char* end;
  long fd = strtol(text, &end, 10);
  return *end == '\0' && fd >= 3 && fd <= 1000 ? (int)fd : -1;
}

static void write_status(int fd, int status) {
  // A failed write leaves the file empty: the daemon then reports what bwrap said (the exit code).
  if (WIFSIGNALED(status)) {
    dprintf(fd, "signal %d\n", WTERMSIG(status));
  } else {
    dprintf(fd, "exit %d\n", WEXITSTATUS(status));
  }
  close(fd);
}

int main(int argc, char** argv) {
  int exe_fd = argc > 2 ? parse_fd(argv[1]) : -1;
  int status_fd = argc > 2 ? parse_fd(argv[2]) : -1;
  if (argc < 5 || exe_fd < 0 || status_fd < 0 || strcmp(argv[3], "--") != 0) {
    dprintf(2, "usage: corral-sandbox-init <exe fd> <status fd> -- <program> [args...]\n");
    return EXIT_NOT_STARTED;
  }
  close(exe_fd);
  pid_t child = fork();
  if (child < 0) {
    dprintf(2, "corral: cannot start the program in its sandbox: %s\n", strerror(errno));
    return EXIT_NOT_STARTED;
  }
  if (child == 0) {
    close(status_fd);
    for (size_t i = 0; i < sizeof GROUP_SIGNALS / sizeof GROUP_SIGNALS[0]; i++) signal(GROUP_SIGNALS[i], SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execvp(argv[4], argv + 4);
    int err = errno;
    dprintf(2, "corral: cannot run %s: %s\n", argv[4], strerror(err));
    _exit(err == ENOENT ? 127 : 126);
  }
  for (;;) {
    int status;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      return EXIT_NOT_STARTED;  // ECHILD before the program was seen: cannot happen, it is our child.
    }
    if (pid != child) continue;  // an orphan reparented to us
    write_status(status_fd, status);
    // bwrap's own convention, so a reader of the exit code alone sees what it always did.
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  }
}
