// corral-sandbox-init: pid 1 of a session's sandbox (bwrap --as-pid-1 execs it in place of bwrap's own reaper). It
// forks the program with the session's group signals back at their defaults (the bwrap outside ignores them, see
// bwrapCommand.ts), reaps every orphan the namespace hands it, and when the program ends writes how it ended to a
// status file the daemon reads: bwrap can only pass on an exit code (128+n for a signal), which cannot tell a
// program killed by SIGINT from one that exited with 130. Then it exits with bwrap's own code, and the kernel ends
// everything left in the namespace.
// As pid 1 it is immune to signals it has no handler for (the kernel drops them for a namespace's init), so Ctrl-C
// and Corral's TERM reach the program, not it; a SIGKILL from outside (bwrap's --die-with-parent) still ends it.
// Static, like corral-cgroup-enter: no loader and no libraries to map, and nothing of the host needed inside.
//
// Usage: corral-sandbox-init <status file> -- <program> [args...]
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/** The same distinct status as corral-cgroup-enter: the session could not be started as asked. */
#define EXIT_NOT_STARTED 125

/** Signals the bwrap outside ignores (GROUP_SIGNALS in bwrapCommand.ts): the program gets them as defaults. */
static const int GROUP_SIGNALS[] = {SIGINT, SIGQUIT, SIGTERM, SIGHUP};

static void write_status(const char* path, int status) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return;  // The daemon then reports what bwrap said (the exit code), as without this file.
  }
  if (WIFSIGNALED(status)) {
    dprintf(fd, "signal %d\n", WTERMSIG(status));
  } else {
    dprintf(fd, "exit %d\n", WEXITSTATUS(status));
  }
  close(fd);
}

int main(int argc, char** argv) {
  if (argc < 4 || strcmp(argv[2], "--") != 0) {
    dprintf(2, "usage: corral-sandbox-init <status file> -- <program> [args...]\n");
    return EXIT_NOT_STARTED;
  }
  const char* status_path = argv[1];
  pid_t child = fork();
  if (child < 0) {
    dprintf(2, "corral: cannot start the program in its sandbox: %s\n", strerror(errno));
    return EXIT_NOT_STARTED;
  }
  if (child == 0) {
    for (size_t i = 0; i < sizeof GROUP_SIGNALS / sizeof GROUP_SIGNALS[0]; i++) signal(GROUP_SIGNALS[i], SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execvp(argv[3], argv + 3);
    int err = errno;
    dprintf(2, "corral: cannot run %s: %s\n", argv[3], strerror(err));
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
    write_status(status_path, status);
    // bwrap's own convention, so a reader of the exit code alone sees what it always did.
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  }
}
