// Pseudo-terminals without fork(): open a pty pair, start a program in it with posix_spawn (glibc uses
// clone(CLONE_VM|CLONE_VFORK), so the cost does not grow with the daemon's heap the way fork's page-table copy does),
// and watch fds (the master for room to write input, a pidfd for exit) on Node's own event loop with uv_poll.
// Output is read by output_reader.c's thread.
// Must never leave the slave open in the daemon (the master's EIO is how the engine knows output has ended), never
// hand a session an fd of the daemon (everything is close-on-exec, and the child closes 3.. before exec), and never
// call back into JS after a watcher was closed.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

#include "native_util.h"
#include "spawn_defaults.h"

// ---- ptyOpen(cols, rows) -> { fd, path } -------------------------------------------------------------------------

static napi_value pty_open(napi_env env, napi_callback_info info) {
  int32_t cols = 0;
  int32_t rows = 0;
  if (!get_int_arg(env, info, 0, &cols) || !get_int_arg(env, info, 1, &rows)) {
    return NULL;
  }
  // Non-blocking: the reader thread reads until EAGAIN, and input writes never block the JS thread. Close-on-exec: no session inherits a master.
  int fd = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    return throw_errno(env, "posix_openpt", errno);
  }
  char path[64];
  struct termios modes;
  struct winsize size = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
  const char* failed = NULL;
  if (grantpt(fd) != 0) {
    failed = "grantpt";
  } else if (unlockpt(fd) != 0) {
    failed = "unlockpt";
  } else if (ptsname_r(fd, path, sizeof(path)) != 0) {
    failed = "ptsname_r";
  } else if (tcgetattr(fd, &modes) != 0) {
    failed = "tcgetattr";
  } else {
    // Termios set on the master applies to the slave side (the kernel redirects a pty master's mode ioctls).
    corral_default_terminal_modes(&modes);
    if (tcsetattr(fd, TCSANOW, &modes) != 0) {
      failed = "tcsetattr";
    } else if (ioctl(fd, TIOCSWINSZ, &size) != 0) {
      failed = "ioctl(TIOCSWINSZ)";
    }
  }
  if (failed != NULL) {
    int err = errno;
    close(fd);
    return throw_errno(env, failed, err);
  }
  napi_value out;
  napi_value fd_value;
  napi_value path_value;
  NAPI_CHECK(env, napi_create_object(env, &out));
  NAPI_CHECK(env, napi_create_int32(env, fd, &fd_value));
  NAPI_CHECK(env, napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &path_value));
  NAPI_CHECK(env, napi_set_named_property(env, out, "fd", fd_value));
  NAPI_CHECK(env, napi_set_named_property(env, out, "path", path_value));
  return out;
}

// ---- ptyResize(fd, cols, rows) ----------------------------------------------------------------------------------

static napi_value pty_resize(napi_env env, napi_callback_info info) {
  int32_t fd = 0;
  int32_t cols = 0;
  int32_t rows = 0;
  if (!get_int_arg(env, info, 0, &fd) || !get_int_arg(env, info, 1, &cols) || !get_int_arg(env, info, 2, &rows)) {
    return NULL;
  }
  // The kernel sends SIGWINCH to the terminal's foreground process group.
  struct winsize size = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
  if (ioctl(fd, TIOCSWINSZ, &size) != 0) {
    return throw_errno(env, "ioctl(TIOCSWINSZ)", errno);
  }
  return get_undefined(env);
}

// ---- ptySpawn(file, argv, env, cwd, ttyPath) -> pid --------------------------------------------------------------

// Copies a JS array of strings into a NULL-terminated vector (freed with free_vector).
static char** read_string_vector(napi_env env, napi_value array) {
  bool is_array = false;
  uint32_t length = 0;
  if (napi_is_array(env, array, &is_array) != napi_ok || !is_array || napi_get_array_length(env, array, &length) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected an array of strings");
    return NULL;
  }
  char** vector = calloc((size_t)length + 1, sizeof(char*));
  if (vector == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  for (uint32_t i = 0; i < length; i++) {
    napi_value item;
    vector[i] = (napi_get_element(env, array, i, &item) == napi_ok) ? read_string(env, item) : NULL;
    if (vector[i] == NULL) {
      free_vector(vector);
      return NULL;
    }
  }
  return vector;
}

static napi_value pty_spawn(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value args[5];
  NAPI_CHECK(env, napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  if (argc != 5) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "ptySpawn(file, argv, env, cwd, ttyPath)");
    return NULL;
  }
  char* file = read_string(env, args[0]);
  char** argv = file == NULL ? NULL : read_string_vector(env, args[1]);
  char** envp = argv == NULL ? NULL : read_string_vector(env, args[2]);
  char* cwd = envp == NULL ? NULL : read_string(env, args[3]);
  char* tty_path = cwd == NULL ? NULL : read_string(env, args[4]);
  napi_value result = NULL;
  if (tty_path != NULL) {
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t actions;
    // The child starts clean: its own session (so the terminal opened below becomes its controlling terminal and
    // its process group is the session's), no blocked signals, every signal at its default disposition.
    corral_clean_spawnattr(&attr, POSIX_SPAWN_SETSID);
    posix_spawn_file_actions_init(&actions);
    // Runs in the child after setsid: a session leader opening a terminal without O_NOCTTY acquires it as
    // its controlling terminal. Then stdio is that terminal, and nothing else of the daemon stays open.
    posix_spawn_file_actions_addchdir_np(&actions, cwd);
    posix_spawn_file_actions_addopen(&actions, 0, tty_path, O_RDWR, 0);
    posix_spawn_file_actions_adddup2(&actions, 0, 1);
    posix_spawn_file_actions_adddup2(&actions, 0, 2);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    pid_t pid = 0;
    // posix_spawn reports a failed chdir/open/exec in the child as its return value (CLONE_VFORK semantics).
    int err = posix_spawn(&pid, file, &actions, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (err != 0) {
      throw_errno(env, "posix_spawn", err);
    } else if (napi_create_int32(env, pid, &result) != napi_ok) {
      throw_napi_failure(env);
      result = NULL;
    }
  }
  free(file);
  free_vector(argv);
  free_vector(envp);
  free(cwd);
  free(tty_path);
  return result;
}

// ---- waitidPidfd(pidfd) -> { exitCode, signal } | null -----------------------------------------------------------

static napi_value waitid_pidfd(napi_env env, napi_callback_info info) {
  int32_t fd = 0;
  if (!get_int_arg(env, info, 0, &fd)) {
    return NULL;
  }
  siginfo_t status;
  memset(&status, 0, sizeof(status));
  int rc;
  do {
    rc = waitid(P_PIDFD, (id_t)fd, &status, WEXITED | WNOHANG);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    return throw_errno(env, "waitid(P_PIDFD)", errno);
  }
  napi_value out;
  if (status.si_pid == 0) {
    NAPI_CHECK(env, napi_get_null(env, &out));
    return out;
  }
  napi_value exit_code;
  napi_value signal_value;
  NAPI_CHECK(env, napi_create_object(env, &out));
  if (status.si_code == CLD_EXITED) {
    NAPI_CHECK(env, napi_create_int32(env, status.si_status, &exit_code));
    NAPI_CHECK(env, napi_get_null(env, &signal_value));
  } else {
    NAPI_CHECK(env, napi_get_null(env, &exit_code));
    NAPI_CHECK(env, napi_create_int32(env, status.si_status, &signal_value));
  }
  NAPI_CHECK(env, napi_set_named_property(env, out, "exitCode", exit_code));
  NAPI_CHECK(env, napi_set_named_property(env, out, "signal", signal_value));
  return out;
}

// ---- FdWatcher: watchFd(fd, callback(readable, writable)) -> { start(readable, writable), stop(), close() } -------

// Freed only when both libuv is done with the handle (close callback ran) and JS can no longer reach the object
// (finalized): either may come first.
typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_ref self;
  napi_async_context context;
  bool closed;
  bool handle_closed;
  bool finalized;
} fd_watcher;

static void watcher_on_closed(uv_handle_t* handle) {
  fd_watcher* watcher = handle->data;
  watcher->handle_closed = true;
  if (watcher->finalized) {
    free(watcher);
  }
}

static void watcher_release(fd_watcher* watcher) {
  if (watcher->closed) {
    return;
  }
  watcher->closed = true;
  napi_delete_reference(watcher->env, watcher->callback);
  napi_delete_reference(watcher->env, watcher->self);
  napi_async_destroy(watcher->env, watcher->context);
  uv_close((uv_handle_t*)&watcher->poll, watcher_on_closed);
}

static void watcher_on_event(uv_poll_t* poll, int status, int events) {
  fd_watcher* watcher = poll->data;
  if (watcher->closed) {
    return;
  }
  napi_env env = watcher->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) {
    return;
  }
  napi_value callback;
  napi_value receiver;
  napi_value argv[2];
  // An error on the fd (POLLERR; for a pty master, the slave side is gone) is reported as readable: the read
  // that follows returns the real condition (EIO), which is how the caller learns the stream ended.
  bool readable = status < 0 || (events & (UV_READABLE | UV_DISCONNECT)) != 0;
  bool writable = status >= 0 && (events & UV_WRITABLE) != 0;
  if (napi_get_reference_value(env, watcher->callback, &callback) == napi_ok &&
      napi_get_reference_value(env, watcher->self, &receiver) == napi_ok &&
      napi_get_boolean(env, readable, &argv[0]) == napi_ok && napi_get_boolean(env, writable, &argv[1]) == napi_ok) {
    napi_value ignored;
    // make_callback: runs queued microtasks and nextTicks afterwards, like any libuv-driven JS callback in Node.
    if (napi_make_callback(env, watcher->context, receiver, callback, 2, argv, &ignored) != napi_ok) {
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (pending) {
        napi_value error;
        napi_get_and_clear_last_exception(env, &error);
        napi_fatal_exception(env, error);
      }
    }
  }
  napi_close_handle_scope(env, scope);
}

static fd_watcher* unwrap_watcher(napi_env env, napi_callback_info info, size_t* argc, napi_value* argv) {
  napi_value self;
  void* data = NULL;
  if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok || napi_unwrap(env, self, &data) != napi_ok) {
    throw_napi_failure(env);
    return NULL;
  }
  fd_watcher* watcher = data;
  if (watcher->closed) {
    napi_throw_error(env, "ERR_WATCHER_CLOSED", "the fd watcher is closed");
    return NULL;
  }
  return watcher;
}

static napi_value watcher_start(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  fd_watcher* watcher = unwrap_watcher(env, info, &argc, argv);
  if (watcher == NULL) {
    return NULL;
  }
  bool readable = false;
  bool writable = false;
  if (argc != 2 || napi_get_value_bool(env, argv[0], &readable) != napi_ok ||
      napi_get_value_bool(env, argv[1], &writable) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "start(readable, writable)");
    return NULL;
  }
  int events = (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0);
  int rc = events == 0 ? uv_poll_stop(&watcher->poll) : uv_poll_start(&watcher->poll, events, watcher_on_event);
  if (rc != 0) {
    return throw_errno(env, "uv_poll_start", -rc);
  }
  return get_undefined(env);
}

static napi_value watcher_close(napi_env env, napi_callback_info info) {
  napi_value self;
  void* data = NULL;
  NAPI_CHECK(env, napi_get_cb_info(env, info, NULL, NULL, &self, NULL));
  NAPI_CHECK(env, napi_unwrap(env, self, &data));
  // Closing twice is harmless; the fd itself belongs to the caller and stays open.
  watcher_release(data);
  return get_undefined(env);
}

// The JS object can only be collected after close() (until then `self` is a strong reference), so the handle is
// already closing; free now if libuv is done with it, else its close callback frees.
static void watcher_finalize(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  fd_watcher* watcher = data;
  watcher->finalized = true;
  if (watcher->handle_closed) {
    free(watcher);
  }
}

static napi_value watch_fd(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd = 0;
  napi_valuetype type = napi_undefined;
  if (!get_int_arg(env, info, 0, &fd)) {
    return NULL;
  }
  if (argc != 2 || napi_typeof(env, argv[1], &type) != napi_ok || type != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "watchFd(fd, callback)");
    return NULL;
  }
  uv_loop_t* loop = NULL;
  NAPI_CHECK(env, napi_get_uv_event_loop(env, &loop));
  fd_watcher* watcher = calloc(1, sizeof(fd_watcher));
  if (watcher == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  int rc = uv_poll_init(loop, &watcher->poll, fd);
  if (rc != 0) {
    free(watcher);
    return throw_errno(env, "uv_poll_init", -rc);
  }
  // Never wrapped if a call below fails: then only the close callback frees.
  watcher->finalized = false;
  watcher->poll.data = watcher;
  watcher->env = env;
  napi_value self;
  napi_value start;
  napi_value close_fn;
  napi_value resource_name;
  // A failure past this point leaves an initialised handle: close it through uv so libuv forgets it.
  if (napi_create_object(env, &self) != napi_ok ||
      napi_create_function(env, "start", NAPI_AUTO_LENGTH, watcher_start, NULL, &start) != napi_ok ||
      napi_create_function(env, "close", NAPI_AUTO_LENGTH, watcher_close, NULL, &close_fn) != napi_ok ||
      napi_set_named_property(env, self, "start", start) != napi_ok ||
      napi_set_named_property(env, self, "close", close_fn) != napi_ok ||
      napi_create_string_utf8(env, "CorralFdWatcher", NAPI_AUTO_LENGTH, &resource_name) != napi_ok ||
      napi_async_init(env, NULL, resource_name, &watcher->context) != napi_ok ||
      napi_create_reference(env, argv[1], 1, &watcher->callback) != napi_ok ||
      napi_create_reference(env, self, 1, &watcher->self) != napi_ok ||
      napi_wrap(env, self, watcher, watcher_finalize, NULL, NULL) != napi_ok) {
    // Not wrapped, so no finalizer will come: the close callback frees alone.
    watcher->closed = true;
    watcher->finalized = true;
    uv_close((uv_handle_t*)&watcher->poll, watcher_on_closed);
    return throw_napi_failure(env);
  }
  return self;
}

// ---- registration --------------------------------------------------------------------------------------------------

bool register_pty_functions(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"ptyOpen", NULL, pty_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ptyResize", NULL, pty_resize, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ptySpawn", NULL, pty_spawn, NULL, NULL, NULL, napi_enumerable, NULL},
      {"waitidPidfd", NULL, waitid_pidfd, NULL, NULL, NULL, napi_enumerable, NULL},
      {"watchFd", NULL, watch_fd, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties) == napi_ok;
}
