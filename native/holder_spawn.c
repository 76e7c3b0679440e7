// holderSpawn: starts a corral-holder (holder.c) with posix_spawn and hands back its pipes without waiting for it.
// The daemon writes the spawn configuration to `stdin` and reads the holder's one-line report from `stdout` on its
// own event loop (HolderBackend), so a starting holder never blocks the daemon. posix_spawn (vfork-style) costs the
// same whatever the daemon's heap, where child_process.spawn forks it (see pty.c).
// Must never give a holder an fd of the daemon beyond its stdio, nor leak a pipe end when the spawn fails.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <node_api.h>

#include "native_util.h"
#include "spawn_defaults.h"

static bool set_int(napi_env env, napi_value object, const char* name, int32_t value) {
  napi_value number;
  return napi_create_int32(env, value, &number) == napi_ok && napi_set_named_property(env, object, name, number) == napi_ok;
}

// holderSpawn(path, argv) -> { pid, pidfd, stdin, stdout }: the holder runs with an empty environment, stdin and
// stdout on pipes whose other ends are returned (close-on-exec), stderr on /dev/null. The pidfd pins the holder for
// a kill that cannot hit a reused pid. The holder stays our child: the orphan reaper collects it once it exits (it
// is never registered as a direct child); the caller closes the three fds.
static napi_value holder_spawn(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  NAPI_CHECK(env, napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  if (argc != 2) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "holderSpawn(path, argv)");
    return NULL;
  }
  char* path = read_string(env, args[0]);
  char** argv = NULL;
  if (path != NULL) {
    bool is_array = false;
    uint32_t length = 0;
    if (napi_is_array(env, args[1], &is_array) == napi_ok && is_array && napi_get_array_length(env, args[1], &length) == napi_ok) {
      argv = calloc((size_t)length + 1, sizeof(char*));
      for (uint32_t i = 0; argv != NULL && i < length; i++) {
        napi_value item;
        argv[i] = napi_get_element(env, args[1], i, &item) == napi_ok ? read_string(env, item) : NULL;
        if (argv[i] == NULL) {
          free_vector(argv);
          argv = NULL;
        }
      }
    }
    if (argv == NULL) {
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (!pending) {
        napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "argv must be an array of strings");
      }
    }
  }
  napi_value result = NULL;
  int in[2] = {-1, -1};
  int out[2] = {-1, -1};
  int pidfd = -1;
  if (argv != NULL) {
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
      throw_errno(env, "pipe2", errno);
    } else {
      posix_spawnattr_t attr;
      posix_spawn_file_actions_t actions;
      // The holder starts clean: no blocked signal, every disposition default (node ignores SIGPIPE, for one).
      corral_clean_spawnattr(&attr, 0);
      posix_spawn_file_actions_init(&actions);
      posix_spawn_file_actions_adddup2(&actions, in[0], 0);
      posix_spawn_file_actions_adddup2(&actions, out[1], 1);
      posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
      posix_spawn_file_actions_addclosefrom_np(&actions, 3);
      char* no_env[] = {NULL};
      pid_t pid = 0;
      int err = posix_spawn(&pid, path, &actions, &attr, argv, no_env);
      posix_spawn_file_actions_destroy(&actions);
      posix_spawnattr_destroy(&attr);
      close(in[0]);
      close(out[1]);
      in[0] = out[1] = -1;
      if (err != 0) {
        throw_errno(env, "posix_spawn", err);
      } else {
        // Nobody reaps the holder before this returns (the reaper runs on this thread), so the pid is still it.
        pidfd = (int)syscall(SYS_pidfd_open, pid, 0U);
        napi_value object;
        if (napi_create_object(env, &object) != napi_ok || !set_int(env, object, "pid", pid) || !set_int(env, object, "pidfd", pidfd) ||
            !set_int(env, object, "stdin", in[1]) || !set_int(env, object, "stdout", out[0])) {
          throw_napi_failure(env);
          kill(pid, SIGKILL);  // still unreaped, so still the holder; the orphan reaper collects it
        } else {
          result = object;
          in[1] = out[0] = pidfd = -1;  // the caller's now
        }
      }
    }
  }
  for (int i = 0; i < 2; i++) {
    if (in[i] >= 0) {
      close(in[i]);
    }
    if (out[i] >= 0) {
      close(out[i]);
    }
  }
  if (pidfd >= 0) {
    close(pidfd);
  }
  free(path);
  free_vector(argv);
  return result;
}

bool register_holder_spawn_functions(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"holderSpawn", NULL, holder_spawn, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties) == napi_ok;
}
