// holderSpawn: starts a corral-holder (holder.c) with posix_spawn, hands it its configuration on stdin and returns
// the line it prints once the session runs. posix_spawn (vfork-style) costs the same whatever the daemon's heap,
// where child_process.spawnSync forks it (see pty.c).
// Must never leave a holder that failed to start unreaped, nor give a holder an fd of the daemon beyond its stdio.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <node_api.h>

#include "native_util.h"
#include "spawn_defaults.h"

/** The holder's report is one short line; anything longer is not a holder talking. */
#define MAX_REPORT_BYTES 4096

static int64_t now_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void write_all(int fd, const char* data, size_t length) {
  while (length > 0) {
    ssize_t n = write(fd, data, length);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;  // EPIPE: the holder died before reading it all; its (missing) report says why
    }
    data += n;
    length -= (size_t)n;
  }
}

// Reads stdout until EOF (the holder lets go of it after its report) or the deadline; returns the length read.
static size_t read_report(int fd, char* report, int64_t deadline) {
  size_t length = 0;
  for (;;) {
    int left = (int)(deadline - now_ms());
    if (left <= 0) {
      return length;
    }
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int ready = poll(&p, 1, left);
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready <= 0) {
      return length;
    }
    char scratch[256];
    char* into = length < MAX_REPORT_BYTES ? report + length : scratch;
    size_t room = length < MAX_REPORT_BYTES ? MAX_REPORT_BYTES - length : sizeof(scratch);
    ssize_t n = read(fd, into, room);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return length;
    }
    if (into != scratch) {
      length += (size_t)n;
    }
  }
}

// holderSpawn(path, argv, config: Buffer, timeoutMs) -> the holder's stdout ("READY ..." or "ERROR ..."; "" if none)
static napi_value holder_spawn(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value args[4];
  NAPI_CHECK(env, napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  void* config = NULL;
  size_t config_length = 0;
  bool is_buffer = false;
  int32_t timeout_ms = 0;
  if (argc != 4 || napi_is_buffer(env, args[2], &is_buffer) != napi_ok || !is_buffer ||
      napi_get_buffer_info(env, args[2], &config, &config_length) != napi_ok || !get_int_arg(env, info, 3, &timeout_ms)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "holderSpawn(path, argv, config: Buffer, timeoutMs)");
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
        int64_t deadline = now_ms() + timeout_ms;
        write_all(in[1], config, config_length);
        close(in[1]);
        in[1] = -1;
        char* report = malloc(MAX_REPORT_BYTES);
        size_t length = report == NULL ? 0 : read_report(out[0], report, deadline);
        // A running holder stays our child (the orphan reaper collects it when it exits). One that failed exits
        // right after its ERROR line and is reaped here; one that said nothing by the deadline is ended first.
        bool ready = length >= 6 && memcmp(report, "READY ", 6) == 0;
        if (!ready) {
          if (length == 0) {
            kill(pid, SIGKILL);
          }
          int status = 0;
          while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
          }
        }
        if (napi_create_string_latin1(env, report == NULL ? "" : report, length, &result) != napi_ok) {
          throw_napi_failure(env);
          result = NULL;
        }
        free(report);
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
