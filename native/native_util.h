// Helpers shared by the addon's C files: errors as JS exceptions with errno names, argument reading.
#ifndef CORRAL_NATIVE_UTIL_H
#define CORRAL_NATIVE_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <node_api.h>

// Returns NULL from the calling function when a N-API call fails (a JS exception is then pending).
#define NAPI_CHECK(env, call)                                                  \
  do {                                                                         \
    if ((call) != napi_ok) {                                                   \
      return throw_napi_failure(env);                                          \
    }                                                                          \
  } while (0)

// Throws the pending N-API failure as a JS Error (unless one is already pending); returns NULL.
napi_value throw_napi_failure(napi_env env);
// Throws an Error whose .code is the errno name (ESRCH, ECHILD, EPERM...), .errno the number; returns NULL.
napi_value throw_errno(napi_env env, const char* syscall_name, int err);
// Reads argument `index` as a non-negative int32 (pids, fds, signal numbers, sizes); false with a JS exception.
bool get_int_arg(napi_env env, napi_callback_info info, size_t index, int32_t* out);
// A malloc'd copy of a JS string (NULL with a JS exception when it is not a string or holds a NUL byte).
char* read_string(napi_env env, napi_value value);
// Frees a NULL-terminated vector of malloc'd strings (NULL is fine).
void free_vector(char** vector);
napi_value get_undefined(napi_env env);

// pty.c
bool register_pty_functions(napi_env env, napi_value exports);
// output_reader.c
bool register_output_reader_functions(napi_env env, napi_value exports);
// holder_spawn.c
bool register_holder_spawn_functions(napi_env env, napi_value exports);
// Held while a holder is spawned (until its pidfd is open) and around every waitpid of a named child: the pid of a
// child spawned on a worker thread cannot be reaped, then reused, before its pidfd pins it.
extern pthread_mutex_t corral_reap_lock;

#endif
