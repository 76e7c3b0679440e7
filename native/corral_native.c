// Linux process primitives Node lacks: child subreaper, non-blocking waitpid, pidfd open/signal, clock ticks, flock,
// resource limits (the daemon's own descriptor and stack limits);
// the pseudo-terminal primitives live in pty.c and are registered here too.
// Must never reap or signal anything the caller did not name explicitly, and never hide an errno.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <math.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <node_api.h>

#include "native_util.h"

// Fixes malloc's mmap and trim thresholds at 128 KiB (glibc's starting values). glibc otherwise raises the mmap
// threshold each time a large mmapped block is freed (up to 32 MiB), so later large buffers (a socket's read, a
// journal batch, a parser's) come from the main heap instead, and a burst of sessions leaves that heap fragmented:
// free, but resident for good. Fixed thresholds keep large blocks mmapped (returned when freed) and let free() trim
// the heap's top. Measured: the daemon's RSS after 1,000 short sessions +131 MiB before, +4 MiB after (issue 18).
// Returns false without glibc (nothing to tune there).
static napi_value fix_malloc_thresholds(napi_env env, napi_callback_info info) {
  (void)info;
  bool fixed = false;
#ifdef __GLIBC__
  fixed = mallopt(M_MMAP_THRESHOLD, 128 * 1024) == 1 && mallopt(M_TRIM_THRESHOLD, 128 * 1024) == 1;
#endif
  napi_value out;
  NAPI_CHECK(env, napi_get_boolean(env, fixed, &out));
  return out;
}

static napi_value set_child_subreaper(napi_env env, napi_callback_info info) {
  (void)info;
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    return throw_errno(env, "prctl(PR_SET_CHILD_SUBREAPER)", errno);
  }
  napi_value undefined;
  NAPI_CHECK(env, napi_get_undefined(env, &undefined));
  return undefined;
}

static napi_value is_child_subreaper(napi_env env, napi_callback_info info) {
  (void)info;
  int flag = 0;
  if (prctl(PR_GET_CHILD_SUBREAPER, &flag, 0, 0, 0) != 0) {
    return throw_errno(env, "prctl(PR_GET_CHILD_SUBREAPER)", errno);
  }
  napi_value out;
  NAPI_CHECK(env, napi_get_boolean(env, flag != 0, &out));
  return out;
}

static napi_value waitpid_no_hang(napi_env env, napi_callback_info info) {
  int32_t pid = 0;
  if (!get_int_arg(env, info, 0, &pid)) {
    return NULL;
  }
  if (pid == 0) {
    // waitpid(0) would reap any child of our group: the caller must name one process.
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "waitpidNoHang needs a specific pid");
    return NULL;
  }
  int status = 0;
  pid_t result;
  pthread_mutex_lock(&corral_reap_lock);
  do {
    result = waitpid(pid, &status, WNOHANG);
  } while (result < 0 && errno == EINTR);
  int wait_errno = errno;
  pthread_mutex_unlock(&corral_reap_lock);
  errno = wait_errno;
  if (result < 0) {
    return throw_errno(env, "waitpid", errno);
  }
  napi_value out;
  if (result == 0) {
    NAPI_CHECK(env, napi_get_null(env, &out));
    return out;
  }
  napi_value pid_value;
  napi_value exit_code;
  napi_value signal_value;
  NAPI_CHECK(env, napi_create_object(env, &out));
  NAPI_CHECK(env, napi_create_int32(env, result, &pid_value));
  if (WIFEXITED(status)) {
    NAPI_CHECK(env, napi_create_int32(env, WEXITSTATUS(status), &exit_code));
  } else {
    NAPI_CHECK(env, napi_get_null(env, &exit_code));
  }
  if (WIFSIGNALED(status)) {
    NAPI_CHECK(env, napi_create_int32(env, WTERMSIG(status), &signal_value));
  } else {
    NAPI_CHECK(env, napi_get_null(env, &signal_value));
  }
  NAPI_CHECK(env, napi_set_named_property(env, out, "pid", pid_value));
  NAPI_CHECK(env, napi_set_named_property(env, out, "exitCode", exit_code));
  NAPI_CHECK(env, napi_set_named_property(env, out, "signal", signal_value));
  return out;
}

static napi_value pidfd_open(napi_env env, napi_callback_info info) {
  int32_t pid = 0;
  if (!get_int_arg(env, info, 0, &pid)) {
    return NULL;
  }
  if (pid == 0) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "pidfdOpen needs a pid > 0");
    return NULL;
  }
  // pidfds are always close-on-exec, so a spawned session never inherits one.
  long fd = syscall(SYS_pidfd_open, (pid_t)pid, 0U);
  if (fd < 0) {
    return throw_errno(env, "pidfd_open", errno);
  }
  napi_value out;
  NAPI_CHECK(env, napi_create_int32(env, (int32_t)fd, &out));
  return out;
}

static napi_value pidfd_send_signal(napi_env env, napi_callback_info info) {
  int32_t fd = 0;
  int32_t signo = 0;
  if (!get_int_arg(env, info, 0, &fd) || !get_int_arg(env, info, 1, &signo)) {
    return NULL;
  }
  if (syscall(SYS_pidfd_send_signal, fd, signo, NULL, 0U) != 0) {
    return throw_errno(env, "pidfd_send_signal", errno);
  }
  napi_value undefined;
  NAPI_CHECK(env, napi_get_undefined(env, &undefined));
  return undefined;
}

static napi_value clock_ticks_per_second(napi_env env, napi_callback_info info) {
  (void)info;
  long ticks = sysconf(_SC_CLK_TCK);
  if (ticks <= 0) {
    return throw_errno(env, "sysconf(_SC_CLK_TCK)", errno != 0 ? errno : EINVAL);
  }
  napi_value out;
  NAPI_CHECK(env, napi_create_int32(env, (int32_t)ticks, &out));
  return out;
}

static napi_value page_size(napi_env env, napi_callback_info info) {
  (void)info;
  long size = sysconf(_SC_PAGESIZE);
  if (size <= 0) {
    return throw_errno(env, "sysconf(_SC_PAGESIZE)", errno != 0 ? errno : EINVAL);
  }
  napi_value out;
  NAPI_CHECK(env, napi_create_int32(env, (int32_t)size, &out));
  return out;
}

// flock(LOCK_EX | LOCK_NB): true when taken, false when another open file holds it. The kernel drops the lock when
// the last fd of that open file closes, so a daemon that dies never leaves a stale lock behind.
static napi_value flock_exclusive(napi_env env, napi_callback_info info) {
  int32_t fd = 0;
  if (!get_int_arg(env, info, 0, &fd)) {
    return NULL;
  }
  bool taken = true;
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) {
      return throw_errno(env, "flock", errno);
    }
    taken = false;
  }
  napi_value out;
  NAPI_CHECK(env, napi_get_boolean(env, taken, &out));
  return out;
}

// The resources a caller may name: the daemon raises its descriptor limit and reads the stack limit (exec's E2BIG).
static bool resource_arg(napi_env env, napi_callback_info info, int* resource) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "a resource name is required");
    return false;
  }
  char* name = read_string(env, argv[0]);
  if (name == NULL) {
    return false;
  }
  bool known = true;
  if (strcmp(name, "nofile") == 0) {
    *resource = RLIMIT_NOFILE;
  } else if (strcmp(name, "stack") == 0) {
    *resource = RLIMIT_STACK;
  } else {
    known = false;
  }
  free(name);
  if (!known) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "resource must be \"nofile\" or \"stack\"");
  }
  return known;
}

static napi_value limit_value(napi_env env, rlim_t value) {
  napi_value out;
  // RLIM_INFINITY (and anything past 2^53) reads as Infinity: no JS number names it exactly.
  double number = value == RLIM_INFINITY || value > (rlim_t)9007199254740991ULL ? INFINITY : (double)value;
  if (napi_create_double(env, number, &out) != napi_ok) {
    return throw_napi_failure(env);
  }
  return out;
}

// getrlimit(resource): { soft, hard }, Infinity for RLIM_INFINITY.
static napi_value get_resource_limit(napi_env env, napi_callback_info info) {
  int resource = 0;
  if (!resource_arg(env, info, &resource)) {
    return NULL;
  }
  struct rlimit limit;
  if (getrlimit(resource, &limit) != 0) {
    return throw_errno(env, "getrlimit", errno);
  }
  napi_value out;
  NAPI_CHECK(env, napi_create_object(env, &out));
  napi_value soft = limit_value(env, limit.rlim_cur);
  napi_value hard = limit_value(env, limit.rlim_max);
  if (soft == NULL || hard == NULL) {
    return NULL;
  }
  NAPI_CHECK(env, napi_set_named_property(env, out, "soft", soft));
  NAPI_CHECK(env, napi_set_named_property(env, out, "hard", hard));
  return out;
}

// setrlimit(resource) with a new soft limit and the hard limit unchanged; EINVAL past the hard limit (or, for
// nofile, past /proc/sys/fs/nr_open), EPERM where the process may not.
static napi_value set_soft_resource_limit(napi_env env, napi_callback_info info) {
  int resource = 0;
  if (!resource_arg(env, info, &resource)) {
    return NULL;
  }
  size_t argc = 2;
  napi_value argv[2];
  double soft = 0;
  NAPI_CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2 || napi_get_value_double(env, argv[1], &soft) != napi_ok || isnan(soft) || soft < 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "the soft limit must be a non-negative number");
    return NULL;
  }
  struct rlimit limit;
  if (getrlimit(resource, &limit) != 0) {
    return throw_errno(env, "getrlimit", errno);
  }
  limit.rlim_cur = isinf(soft) ? RLIM_INFINITY : (rlim_t)soft;
  if (setrlimit(resource, &limit) != 0) {
    return throw_errno(env, "setrlimit", errno);
  }
  return get_undefined(env);
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor properties[] = {
      {"setChildSubreaper", NULL, set_child_subreaper, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fixMallocThresholds", NULL, fix_malloc_thresholds, NULL, NULL, NULL, napi_enumerable, NULL},
      {"isChildSubreaper", NULL, is_child_subreaper, NULL, NULL, NULL, napi_enumerable, NULL},
      {"waitpidNoHang", NULL, waitpid_no_hang, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pidfdOpen", NULL, pidfd_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pidfdSendSignal", NULL, pidfd_send_signal, NULL, NULL, NULL, napi_enumerable, NULL},
      {"clockTicksPerSecond", NULL, clock_ticks_per_second, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pageSize", NULL, page_size, NULL, NULL, NULL, napi_enumerable, NULL},
      {"flockExclusive", NULL, flock_exclusive, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getResourceLimit", NULL, get_resource_limit, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setSoftResourceLimit", NULL, set_soft_resource_limit, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties) != napi_ok ||
      !register_pty_functions(env, exports) || !register_output_reader_functions(env, exports) ||
      !register_holder_spawn_functions(env, exports)) {
    return throw_napi_failure(env);
  }
  return exports;
}
