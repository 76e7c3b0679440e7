// Helpers shared by the addon's C files (see native_util.h).
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "native_util.h"

napi_value throw_napi_failure(napi_env env) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) {
    const napi_extended_error_info* info = NULL;
    napi_get_last_error_info(env, &info);
    const char* message = (info != NULL && info->error_message != NULL) ? info->error_message : "N-API call failed";
    napi_throw_error(env, NULL, message);
  }
  return NULL;
}

napi_value throw_errno(napi_env env, const char* syscall_name, int err) {
  const char* name = strerrorname_np(err);
  if (name == NULL) {
    name = "EUNKNOWN";
  }
  char message[160];
  snprintf(message, sizeof(message), "%s failed: %s (%s)", syscall_name, strerror(err), name);
  napi_value code_value;
  napi_value message_value;
  napi_value error;
  napi_value errno_value;
  napi_value syscall_value;
  if (napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code_value) != napi_ok ||
      napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &message_value) != napi_ok ||
      napi_create_error(env, code_value, message_value, &error) != napi_ok ||
      napi_create_int32(env, err, &errno_value) != napi_ok ||
      napi_set_named_property(env, error, "errno", errno_value) != napi_ok ||
      napi_create_string_utf8(env, syscall_name, NAPI_AUTO_LENGTH, &syscall_value) != napi_ok ||
      napi_set_named_property(env, error, "syscall", syscall_value) != napi_ok) {
    return throw_napi_failure(env);
  }
  napi_throw(env, error);
  return NULL;
}

bool get_int_arg(napi_env env, napi_callback_info info, size_t index, int32_t* out) {
  size_t argc = 8;
  napi_value argv[8];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    throw_napi_failure(env);
    return false;
  }
  napi_valuetype type = napi_undefined;
  if (index >= argc || napi_typeof(env, argv[index], &type) != napi_ok || type != napi_number) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected a number argument");
    return false;
  }
  if (napi_get_value_int32(env, argv[index], out) != napi_ok) {
    throw_napi_failure(env);
    return false;
  }
  if (*out < 0) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "expected a non-negative integer");
    return false;
  }
  return true;
}


char* read_string(napi_env env, napi_value value) {
  size_t length = 0;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected a string");
    return NULL;
  }
  char* copy = malloc(length + 1);
  if (copy == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  size_t copied = 0;
  if (napi_get_value_string_utf8(env, value, copy, length + 1, &copied) != napi_ok) {
    free(copy);
    throw_napi_failure(env);
    return NULL;
  }
  // A C string ends at the first NUL: an argument or variable holding one would be silently cut.
  if (strlen(copy) != copied) {
    free(copy);
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "strings passed to a program must not contain NUL bytes");
    return NULL;
  }
  return copy;
}

void free_vector(char** vector) {
  if (vector == NULL) {
    return;
  }
  for (char** item = vector; *item != NULL; item++) {
    free(*item);
  }
  free(vector);
}

napi_value get_undefined(napi_env env) {
  napi_value undefined = NULL;
  if (napi_get_undefined(env, &undefined) != napi_ok) {
    return throw_napi_failure(env);
  }
  return undefined;
}
