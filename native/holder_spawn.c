// holderSpawn: starts a corral-holder (holder.c) with posix_spawn on a worker thread and hands back a socket connected
// to it without waiting for it. The daemon writes the spawn configuration on it and reads the holder's one-line
// report on its own event loop (HolderBackend), so a starting holder never blocks the daemon. posix_spawn
// (vfork-style) costs the same whatever the daemon's heap, where child_process.spawn forks it (see pty.c).
// Must never give a holder an fd of the daemon beyond its stdio, nor leak a pipe end when the spawn fails.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <node_api.h>

#include "native_util.h"
#include "spawn_defaults.h"

static bool set_int(napi_env env, napi_value object, const char* name, int32_t value) {
  napi_value number;
  return napi_create_int32(env, value, &number) == napi_ok && napi_set_named_property(env, object, name, number) == napi_ok;
}

/** Serialises a holder's spawn (until its pidfd is open) with waitpid_no_hang: see spawn_work. */
pthread_mutex_t corral_reap_lock = PTHREAD_MUTEX_INITIALIZER;

/** One holderSpawn call: its arguments in, the spawned holder's fds (or the failing step and errno) out. */
typedef struct {
  char* path;
  char** argv;
  const char* failed_step;
  int err;
  pid_t pid;
  int pidfd;
  int fd;
  napi_async_work work;
  napi_deferred deferred;
} spawn_job;

// Runs on a libuv worker thread: posix_spawn (vfork-style) blocks its caller until the holder has exec'd, which
// under load is milliseconds the daemon's loop would otherwise stand still for every session started. Under
// corral_reap_lock until the pidfd is open: the holder stays our child, and only waitpid_no_hang (which takes the
// same lock) reaps such a child, so the pid cannot be reaped and reused between posix_spawn and pidfd_open.
static void spawn_work(napi_env env, void* data) {
  (void)env;
  spawn_job* job = data;
  int pair[2] = {-1, -1};
  job->pidfd = job->fd = -1;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    job->failed_step = "socketpair";
    job->err = errno;
  } else {
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t actions;
    // The holder starts clean: no blocked signal, every disposition default (node ignores SIGPIPE, for one).
    corral_clean_spawnattr(&attr, 0);
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pair[1], 0);
    posix_spawn_file_actions_adddup2(&actions, pair[1], 1);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    char* no_env[] = {NULL};
    pthread_mutex_lock(&corral_reap_lock);
    int err = posix_spawn(&job->pid, job->path, &actions, &attr, job->argv, no_env);
    if (err == 0) {
      job->pidfd = (int)syscall(SYS_pidfd_open, job->pid, 0U);
    }
    pthread_mutex_unlock(&corral_reap_lock);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    close(pair[1]);
    if (err != 0) {
      job->failed_step = "posix_spawn";
      job->err = err;
      close(pair[0]);
    } else {
      job->fd = pair[0];
    }
  }
}

static void close_job_fds(spawn_job* job) {
  int fds[2] = {job->pidfd, job->fd};
  for (int i = 0; i < 2; i++) {
    if (fds[i] >= 0) {
      close(fds[i]);
    }
  }
}

static napi_value errno_error(napi_env env, const char* step, int err) {
  throw_errno(env, step, err);
  napi_value error = NULL;
  napi_get_and_clear_last_exception(env, &error);
  return error;
}

// Back on the loop: resolves with { pid, pidfd, fd } or rejects with the errno of the failing step.
static void spawn_done(napi_env env, napi_status status, void* data) {
  spawn_job* job = data;
  napi_value object = NULL;
  bool ok = status == napi_ok && job->failed_step == NULL && napi_create_object(env, &object) == napi_ok &&
            set_int(env, object, "pid", job->pid) && set_int(env, object, "pidfd", job->pidfd) &&
            set_int(env, object, "fd", job->fd);
  if (ok) {
    napi_resolve_deferred(env, job->deferred, object);
  } else {
    if (job->failed_step == NULL && job->pidfd >= 0) {
      // Through the pidfd: by now the reaper may have collected it, and a signal by pid could hit a reused one.
      syscall(SYS_pidfd_send_signal, job->pidfd, SIGKILL, NULL, 0U);
    }
    close_job_fds(job);
    napi_value error = job->failed_step != NULL ? errno_error(env, job->failed_step, job->err) : NULL;
    if (error == NULL) {
      napi_value message;
      napi_create_string_utf8(env, "holderSpawn failed", NAPI_AUTO_LENGTH, &message);
      napi_create_error(env, NULL, message, &error);
    }
    napi_reject_deferred(env, job->deferred, error);
  }
  napi_delete_async_work(env, job->work);
  free(job->path);
  free_vector(job->argv);
  free(job);
}

// holderSpawn(path, argv) -> Promise<{ pid, pidfd, fd }>: the holder runs with an empty environment, stdin and
// stdout on one end of a socket pair whose other end is `fd` (close-on-exec), stderr on /dev/null. The daemon
// writes the configuration and its HELLO on it, reads the READY line, and stays connected through it (no connect
// to the holder's listening socket). The pidfd pins the holder for a kill that cannot hit a reused pid. The holder
// stays our child: the orphan reaper collects it once it exits (it is never registered as a direct child); the
// caller closes both fds.
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
  spawn_job* job = argv == NULL ? NULL : calloc(1, sizeof(spawn_job));
  if (job == NULL) {
    free(path);
    free_vector(argv);
    return argv == NULL ? NULL : throw_errno(env, "calloc", ENOMEM);
  }
  job->path = path;
  job->argv = argv;
  napi_value promise;
  napi_value name;
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "corral:holderSpawn", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, spawn_work, spawn_done, job, &job->work) != napi_ok ||
      napi_queue_async_work(env, job->work) != napi_ok) {
    // (A created promise is left pending: nothing holds it but this failed call, which throws instead.)
    free(path);
    free_vector(argv);
    free(job);
    return throw_napi_failure(env);
  }
  return promise;
}

bool register_holder_spawn_functions(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"holderSpawn", NULL, holder_spawn, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties) == napi_ok;
}
