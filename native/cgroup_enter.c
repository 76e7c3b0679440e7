// corral-cgroup-enter: the first thing a session's program runs. It moves itself into the session's cgroup (one
// cgroup.procs file per hierarchy: one on cgroup v2, pids/memory/freezer/cpu/cpuacct on v1), then execs the
// program in the same process. Every backend starts it the same way (the holder, the native pty, child_process),
// and whatever the program forks afterwards is born inside the cgroup: there is no moment where the program runs,
// or a child of it exists, outside its session's cgroup.
// Must never exec the program when joining any of the cgroups failed (fail closed: exit 125 with the reason on
// stderr, which is the session's terminal or stderr pipe), and must never fork.
//
// A sandboxed session's program is bwrap, which shares the session's process group and would die of the signals
// the group gets (Ctrl-C, Corral's TERM) before the program could handle them: --ignore-group-signals sets them
// to ignored before the exec (corral-sandbox-init, inside, gives the program the defaults back). Done here rather
// than by `env --ignore-signal`: one dynamically linked exec fewer on every sandboxed spawn.
//
// A sandboxed program also gets files opened here, outside the sandbox, at fixed descriptors (--open-read N PATH,
// --open-write N PATH, not close-on-exec): the sandbox's init runs from one (bwrap execs /proc/self/fd/N) and reports
// the program's end into the other, so neither needs a bind mount into the sandbox (each costs bwrap a mountinfo
// walk) and the program never holds a path it could write its own exit report to.
//
// Usage: corral-cgroup-enter [--ignore-group-signals] [--open-read N PATH]... [--open-write N PATH]...
//                            <cgroup.procs path>... -- <program> [args...]
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/** Exit status when the session could not be contained: distinct from the shell's 126/127 (exec failures). */
#define EXIT_NOT_CONTAINED 125

static int join_cgroup(const char* procs_path) {
  int fd = open(procs_path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    return errno;
  }
  // "0" means the writing process, on v1 and v2 alike: no pid to format, no race with our own pid.
  ssize_t n = write(fd, "0", 1);
  int err = n == 1 ? 0 : (n < 0 ? errno : EIO);
  close(fd);
  return err;
}

/** The same set as GROUP_SIGNALS in src/engine/sandbox/bwrapCommand.ts and native/sandbox_init.c. */
static const int GROUP_SIGNALS[] = {SIGINT, SIGQUIT, SIGTERM, SIGHUP};

/** Opens `path` at descriptor `fd_text` (inherited across exec); 0 or an errno. */
static int open_at(const char* fd_text, const char* path, int flags) {
  char* end;
  long want = strtol(fd_text, &end, 10);
  if (*end != '\0' || want < 3 || want > 1000) return EBADF;
  int fd = open(path, flags | O_CLOEXEC, 0600);
  if (fd < 0) return errno;
  if (fd != want) {
    // dup2's copy has no close-on-exec: the one descriptor that crosses the exec.
    int err = dup2(fd, (int)want) < 0 ? errno : 0;
    close(fd);
    return err;
  }
  return fcntl(fd, F_SETFD, 0) < 0 ? errno : 0;
}

int main(int argc, char** argv) {
  int i = 1;
  for (;;) {
    if (i < argc && strcmp(argv[i], "--ignore-group-signals") == 0) {
      for (size_t s = 0; s < sizeof GROUP_SIGNALS / sizeof GROUP_SIGNALS[0]; s++) signal(GROUP_SIGNALS[s], SIG_IGN);
      i++;
    } else if (i + 2 < argc && (strcmp(argv[i], "--open-read") == 0 || strcmp(argv[i], "--open-write") == 0)) {
      int flags = strcmp(argv[i], "--open-read") == 0 ? O_RDONLY : O_WRONLY | O_CREAT | O_TRUNC;
      int err = open_at(argv[i + 1], argv[i + 2], flags);
      if (err != 0) {
        dprintf(2, "corral: cannot open %s for the session (%s); not starting it\n", argv[i + 2], strerror(err));
        return EXIT_NOT_CONTAINED;
      }
      i += 3;
    } else {
      break;
    }
  }
  for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
    int err = join_cgroup(argv[i]);
    if (err != 0) {
      dprintf(2, "corral: cannot place the session in its cgroup (%s: %s); not starting it\n", argv[i], strerror(err));
      return EXIT_NOT_CONTAINED;
    }
  }
  if (i + 1 >= argc) {
    dprintf(2, "usage: corral-cgroup-enter <cgroup.procs>... -- <program> [args...]\n");
    return EXIT_NOT_CONTAINED;
  }
  execvp(argv[i + 1], argv + i + 1);
  int err = errno;
  dprintf(2, "corral: cannot run %s: %s\n", argv[i + 1], strerror(err));
  return err == ENOENT ? 127 : 126;
}
