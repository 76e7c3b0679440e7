// The output reader: one thread that drains every pty master the daemon reads, so a terminal is emptied as fast as
// the kernel fills it, whatever the JS thread is busy with.
//
// Why a thread: a pty hands out at most ~4 KB per read(2), and the next 4 KB only arrives after a kernel worker has
// moved it into the line discipline. Read from the event loop, every millisecond the JS thread spends elsewhere
// (framing, a WebSocket send, parsing the screen) is a millisecond the writer sits blocked on a full terminal — a
// 200 MB flood ran at a third of what the terminal can carry. Here the thread keeps reading into a bounded buffer
// per terminal, and the JS thread takes everything gathered so far in one piece whenever it gets to it: the busier
// the daemon, the larger and fewer its chunks. One thread and one epoll set serve every session, so a daemon with
// hundreds of sessions still has one extra thread.
//
// Bounded: a terminal whose buffer is full is not read until the JS thread takes it (the writer then blocks, exactly
// as with nobody reading), and a paused reader is not read at all. Safe: the thread never touches a reader after
// close() returns (close waits out a read in progress), so the caller may close the fd right after; the memory is
// freed once both the thread and JS are done with it.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

#include "native_util.h"

// Most bytes taken from one terminal per readiness event: one flooding session cannot starve the others.
#define READ_CHUNK_BYTES (64 * 1024)
#define MAX_EVENTS 64


typedef struct output_hub output_hub;

typedef struct output_reader {
  // Set at creation, then only read.
  int fd;
  size_t max_buffered;
  output_hub* hub;
  napi_env env;
  napi_ref callback;
  napi_ref self;
  napi_async_context context;
  // Everything below is guarded by `lock`.
  char* buffer;
  size_t length;
  size_t capacity;
  // errno of a failed read other than EIO (which is the normal end of a terminal).
  int read_error;
  // Read said EIO, 0 or failed: nothing more will be read.
  bool eof;
  bool eof_delivered;
  bool paused;
  // Registered for one readiness event (EPOLLONESHOT): the thread re-arms it after each read.
  bool armed;
  // The thread is reading it outside the lock: close() waits for that to end.
  bool reading;
  // In its hub's `ready` or `taking` list.
  bool queued;
  bool closed;
  // The thread will never look at it again (it passed through the graveyard).
  bool thread_released;
  // JS can no longer reach it.
  bool finalized;
  // Link in the hub's ready list or in the graveyard.
  struct output_reader* next;
} output_reader;

// One per JS environment: how the thread wakes that environment's event loop.
struct output_hub {
  uv_async_t async;
  napi_env env;
  // Guarded by `lock`: readers with something to hand over, and the batch the JS thread is handing over now.
  output_reader* ready;
  output_reader* taking;
  bool dead;
  // JS thread only.
  size_t open_readers;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t reading_done = PTHREAD_COND_INITIALIZER;
static pthread_once_t thread_once = PTHREAD_ONCE_INIT;
static int thread_start_error = 0;
static int epoll_fd = -1;
// Written by close() so the thread frees closed readers even when no terminal has anything to say.
static int wake_fd = -1;
// Closed readers waiting for the thread to let go of them (guarded by `lock`).
static output_reader* graveyard = NULL;

// ---- the thread --------------------------------------------------------------------------------------------------

static void free_reader(output_reader* reader) {
  free(reader->buffer);
  free(reader);
}

// Under `lock`. Asks epoll for the next readable event when the reader may read again.
static void maybe_arm(output_reader* reader) {
  if (reader->armed || reader->reading || reader->closed || reader->eof || reader->paused ||
      reader->length >= reader->max_buffered) {
    return;
  }
  struct epoll_event event = {.events = EPOLLIN | EPOLLONESHOT, .data.ptr = reader};
  if (epoll_ctl(epoll_fd, EPOLL_CTL_MOD, reader->fd, &event) == 0) {
    reader->armed = true;
  } else {
    // Cannot happen for a registered fd; if it does, end the stream loudly rather than hang it.
    reader->read_error = errno;
    reader->eof = true;
  }
}

// Under `lock`. Hands the reader to its JS thread (once; later data joins what is already waiting).
static void queue_ready(output_reader* reader) {
  if (reader->queued || reader->hub->dead) {
    return;
  }
  reader->queued = true;
  reader->next = reader->hub->ready;
  reader->hub->ready = reader;
  uv_async_send(&reader->hub->async);
}

static bool append(output_reader* reader, const char* data, size_t size) {
  if (reader->length + size > reader->capacity) {
    size_t capacity = reader->capacity == 0 ? READ_CHUNK_BYTES : reader->capacity;
    while (capacity < reader->length + size) {
      capacity *= 2;
    }
    char* grown = realloc(reader->buffer, capacity);
    if (grown == NULL) {
      return false;
    }
    reader->buffer = grown;
    reader->capacity = capacity;
  }
  memcpy(reader->buffer + reader->length, data, size);
  reader->length += size;
  return true;
}

// Reads one terminal for one readiness event, up to READ_CHUNK_BYTES or until it has nothing more. The first read
// is handed to the JS thread at once (an echo or a prompt must not wait for the rest); the rest of a burst is handed
// over whole when the event is done.
static void drain(output_reader* reader, char* scratch) {
  pthread_mutex_lock(&lock);
  reader->armed = false;
  if (reader->closed || reader->eof || reader->paused || reader->length >= reader->max_buffered) {
    // Paused or full: not read, not re-armed; resume() or the JS thread's take re-arms it.
    pthread_mutex_unlock(&lock);
    return;
  }
  reader->reading = true;
  size_t taken = 0;
  for (;;) {
    size_t room = reader->max_buffered - reader->length;
    if (room > READ_CHUNK_BYTES - taken) {
      room = READ_CHUNK_BYTES - taken;
    }
    pthread_mutex_unlock(&lock);

    ssize_t n;
    do {
      n = read(reader->fd, scratch, room);
    } while (n < 0 && errno == EINTR);
    int read_errno = n < 0 ? errno : 0;

    pthread_mutex_lock(&lock);
    if (reader->closed) {
      // close() is waiting for this read to end; what it read has nobody to go to.
      reader->reading = false;
      pthread_cond_broadcast(&reading_done);
      pthread_mutex_unlock(&lock);
      return;
    }
    bool more = false;
    if (n > 0) {
      bool first = taken == 0;
      taken += (size_t)n;
      if (append(reader, scratch, (size_t)n)) {
        more = taken < READ_CHUNK_BYTES && !reader->paused && reader->length < reader->max_buffered;
      } else {
        reader->eof = true;
        reader->read_error = ENOMEM;
      }
      // The first read after quiet goes out at once (an echo, a prompt); the rest of a burst is handed over whole.
      if (first || !more) {
        queue_ready(reader);
      }
    } else if (read_errno != EAGAIN) {
      // 0 or EIO: every holder of the slave closed it and nothing is left. Anything else is a real failure.
      reader->eof = true;
      reader->read_error = (n < 0 && read_errno != EIO) ? read_errno : 0;
      queue_ready(reader);
    }
    if (!more) {
      if (taken > 0) {
        queue_ready(reader);
      }
      reader->reading = false;
      maybe_arm(reader);
      pthread_mutex_unlock(&lock);
      return;
    }
  }
}

// Frees what close() left behind: none of these can be in an epoll event any more (they were removed from the
// set before being listed, and the events of the previous epoll_wait are all handled).
static void release_graveyard(void) {
  pthread_mutex_lock(&lock);
  output_reader* reader = graveyard;
  graveyard = NULL;
  while (reader != NULL) {
    output_reader* next = reader->next;
    reader->thread_released = true;
    if (reader->finalized) {
      free_reader(reader);
    }
    reader = next;
  }
  pthread_mutex_unlock(&lock);
}

static void* reader_thread(void* unused) {
  (void)unused;
  static char scratch[READ_CHUNK_BYTES];
  struct epoll_event events[MAX_EVENTS];
  for (;;) {
    release_graveyard();
    int count = epoll_wait(epoll_fd, events, MAX_EVENTS, -1);
    for (int i = 0; i < count; i++) {
      if (events[i].data.ptr == NULL) {
        uint64_t ignored;
        ssize_t n = read(wake_fd, &ignored, sizeof(ignored));
        (void)n;
        continue;
      }
      drain(events[i].data.ptr, scratch);
    }
  }
  return NULL;
}

static void start_thread(void) {
  epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epoll_fd < 0 || wake_fd < 0) {
    thread_start_error = errno;
    return;
  }
  struct epoll_event wake = {.events = EPOLLIN, .data.ptr = NULL};
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &wake) != 0) {
    thread_start_error = errno;
    return;
  }
  // Every signal blocked: process signals (SIGCHLD, SIGTERM...) belong to Node's own handling on its threads.
  sigset_t all;
  sigset_t previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  pthread_t thread;
  thread_start_error = pthread_create(&thread, &attr, reader_thread, NULL);
  pthread_attr_destroy(&attr);
  pthread_sigmask(SIG_SETMASK, &previous, NULL);
}

// ---- the JS thread -----------------------------------------------------------------------------------------------

static void call_back(output_reader* reader, napi_value data, bool eof, int error) {
  napi_env env = reader->env;
  napi_value callback;
  napi_value receiver;
  napi_value argv[3];
  if (napi_get_reference_value(env, reader->callback, &callback) != napi_ok ||
      napi_get_reference_value(env, reader->self, &receiver) != napi_ok || napi_get_boolean(env, eof, &argv[1]) != napi_ok) {
    return;
  }
  argv[0] = data;
  if (error == 0) {
    napi_get_null(env, &argv[2]);
  } else {
    const char* name = strerrorname_np(error);
    napi_create_string_utf8(env, name != NULL ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &argv[2]);
  }
  napi_value ignored;
  // make_callback: queued microtasks and nextTicks run afterwards, as after any libuv-driven JS callback.
  if (napi_make_callback(env, reader->context, receiver, callback, 3, argv, &ignored) != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value exception;
      napi_get_and_clear_last_exception(env, &exception);
      napi_fatal_exception(env, exception);
    }
  }
}

// Takes what each ready reader gathered, one reader at a time, and calls its callback without holding the lock
// (a callback may pause or close readers). Only the readers ready when it starts: during a flood the thread keeps
// queueing, and those wait for the next turn of the event loop instead of starving everything else.
static void hub_on_async(uv_async_t* async) {
  output_hub* hub = async->data;
  napi_env env = hub->env;
  pthread_mutex_lock(&lock);
  hub->taking = hub->ready;
  hub->ready = NULL;
  pthread_mutex_unlock(&lock);
  for (;;) {
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) {
      return;
    }
    pthread_mutex_lock(&lock);
    output_reader* reader = hub->taking;
    if (reader == NULL) {
      pthread_mutex_unlock(&lock);
      napi_close_handle_scope(env, scope);
      return;
    }
    hub->taking = reader->next;
    reader->next = NULL;
    reader->queued = false;
    napi_value data = NULL;
    void* ignored = NULL;
    bool created = napi_create_buffer_copy(env, reader->length, reader->buffer, &ignored, &data) == napi_ok;
    size_t taken = reader->length;
    reader->length = 0;
    // After a flood the buffer goes back to the allocator; while one lasts, it is reused.
    if (taken <= READ_CHUNK_BYTES && reader->capacity > READ_CHUNK_BYTES) {
      free(reader->buffer);
      reader->buffer = NULL;
      reader->capacity = 0;
    }
    bool eof = reader->eof && !reader->eof_delivered;
    reader->eof_delivered = reader->eof;
    int error = reader->read_error;
    // It may have been parked full.
    maybe_arm(reader);
    pthread_mutex_unlock(&lock);
    if (created && (taken > 0 || eof)) {
      call_back(reader, data, eof, error);
    } else if (!created) {
      throw_napi_failure(env);
    }
    napi_close_handle_scope(env, scope);
  }
}

static void hub_on_closed(uv_handle_t* handle) {
  free(handle->data);
}

static void hub_cleanup(void* data) {
  output_hub* hub = data;
  pthread_mutex_lock(&lock);
  hub->dead = true;
  pthread_mutex_unlock(&lock);
  uv_close((uv_handle_t*)&hub->async, hub_on_closed);
}

static output_hub* hub_for(napi_env env) {
  void* data = NULL;
  if (napi_get_instance_data(env, &data) == napi_ok && data != NULL) {
    return data;
  }
  uv_loop_t* loop = NULL;
  output_hub* hub = calloc(1, sizeof(output_hub));
  if (hub == NULL || napi_get_uv_event_loop(env, &loop) != napi_ok || uv_async_init(loop, &hub->async, hub_on_async) != 0) {
    free(hub);
    return NULL;
  }
  hub->env = env;
  hub->async.data = hub;
  // Keeps the loop alive only while a reader is open.
  uv_unref((uv_handle_t*)&hub->async);
  napi_set_instance_data(env, hub, NULL, NULL);
  napi_add_env_cleanup_hook(env, hub_cleanup, hub);
  return hub;
}

static output_reader* unwrap_reader(napi_env env, napi_callback_info info) {
  napi_value self;
  void* data = NULL;
  if (napi_get_cb_info(env, info, NULL, NULL, &self, NULL) != napi_ok || napi_unwrap(env, self, &data) != napi_ok) {
    throw_napi_failure(env);
    return NULL;
  }
  return data;
}

static napi_value reader_pause(napi_env env, napi_callback_info info) {
  output_reader* reader = unwrap_reader(env, info);
  if (reader == NULL) {
    return NULL;
  }
  // Takes effect at once: the thread checks `paused` before every read and does not re-arm a paused reader.
  pthread_mutex_lock(&lock);
  reader->paused = true;
  pthread_mutex_unlock(&lock);
  return get_undefined(env);
}

static napi_value reader_resume(napi_env env, napi_callback_info info) {
  output_reader* reader = unwrap_reader(env, info);
  if (reader == NULL) {
    return NULL;
  }
  pthread_mutex_lock(&lock);
  reader->paused = false;
  maybe_arm(reader);
  pthread_mutex_unlock(&lock);
  return get_undefined(env);
}

static bool unlink_reader(output_reader** list, output_reader* reader) {
  for (output_reader** link = list; *link != NULL; link = &(*link)->next) {
    if (*link == reader) {
      *link = reader->next;
      return true;
    }
  }
  return false;
}

static napi_value reader_close(napi_env env, napi_callback_info info) {
  output_reader* reader = unwrap_reader(env, info);
  if (reader == NULL) {
    return NULL;
  }
  pthread_mutex_lock(&lock);
  if (reader->closed) {
    pthread_mutex_unlock(&lock);
    return get_undefined(env);
  }
  reader->closed = true;
  epoll_ctl(epoll_fd, EPOLL_CTL_DEL, reader->fd, NULL);
  if (reader->queued) {
    if (!unlink_reader(&reader->hub->ready, reader)) {
      unlink_reader(&reader->hub->taking, reader);
    }
    reader->queued = false;
  }
  // After this the thread never touches the fd again: the caller may close it (and the number be reused) at once.
  while (reader->reading) {
    pthread_cond_wait(&reading_done, &lock);
  }
  reader->next = graveyard;
  graveyard = reader;
  pthread_mutex_unlock(&lock);
  uint64_t one = 1;
  ssize_t n = write(wake_fd, &one, sizeof(one));
  (void)n;
  napi_delete_reference(env, reader->callback);
  napi_delete_reference(env, reader->self);
  napi_async_destroy(env, reader->context);
  if (--reader->hub->open_readers == 0) {
    uv_unref((uv_handle_t*)&reader->hub->async);
  }
  return get_undefined(env);
}

static void reader_finalize(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  output_reader* reader = data;
  pthread_mutex_lock(&lock);
  reader->finalized = true;
  bool release = reader->thread_released;
  pthread_mutex_unlock(&lock);
  if (release) {
    free_reader(reader);
  }
}

// readOutput(fd, maxBufferedBytes, callback(data, eof, error)) -> { pause(), resume(), close() }
static napi_value read_output(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  NAPI_CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd = 0;
  int32_t max_buffered = 0;
  napi_valuetype type = napi_undefined;
  if (!get_int_arg(env, info, 0, &fd) || !get_int_arg(env, info, 1, &max_buffered)) {
    return NULL;
  }
  if (argc != 3 || napi_typeof(env, argv[2], &type) != napi_ok || type != napi_function || max_buffered <= 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "readOutput(fd, maxBufferedBytes > 0, callback)");
    return NULL;
  }
  pthread_once(&thread_once, start_thread);
  if (thread_start_error != 0) {
    return throw_errno(env, "output reader thread", thread_start_error);
  }
  output_hub* hub = hub_for(env);
  if (hub == NULL) {
    napi_throw_error(env, "ENOMEM", "cannot set up the output reader's event-loop handle");
    return NULL;
  }
  output_reader* reader = calloc(1, sizeof(output_reader));
  if (reader == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  reader->fd = fd;
  reader->max_buffered = (size_t)max_buffered;
  reader->hub = hub;
  reader->env = env;
  // Until it is registered below the thread cannot know it: on a failure, only the finalizer frees it.
  reader->closed = true;
  reader->thread_released = true;
  napi_value self;
  napi_value pause_fn;
  napi_value resume_fn;
  napi_value close_fn;
  napi_value resource_name;
  if (napi_create_object(env, &self) != napi_ok || napi_wrap(env, self, reader, reader_finalize, NULL, NULL) != napi_ok) {
    free(reader);
    return throw_napi_failure(env);
  }
  if (napi_create_function(env, "pause", NAPI_AUTO_LENGTH, reader_pause, NULL, &pause_fn) != napi_ok ||
      napi_create_function(env, "resume", NAPI_AUTO_LENGTH, reader_resume, NULL, &resume_fn) != napi_ok ||
      napi_create_function(env, "close", NAPI_AUTO_LENGTH, reader_close, NULL, &close_fn) != napi_ok ||
      napi_set_named_property(env, self, "pause", pause_fn) != napi_ok ||
      napi_set_named_property(env, self, "resume", resume_fn) != napi_ok ||
      napi_set_named_property(env, self, "close", close_fn) != napi_ok ||
      napi_create_string_utf8(env, "CorralOutputReader", NAPI_AUTO_LENGTH, &resource_name) != napi_ok) {
    return throw_napi_failure(env);
  }
  if (napi_async_init(env, NULL, resource_name, &reader->context) != napi_ok) {
    return throw_napi_failure(env);
  }
  if (napi_create_reference(env, argv[2], 1, &reader->callback) != napi_ok) {
    napi_async_destroy(env, reader->context);
    return throw_napi_failure(env);
  }
  if (napi_create_reference(env, self, 1, &reader->self) != napi_ok) {
    napi_delete_reference(env, reader->callback);
    napi_async_destroy(env, reader->context);
    return throw_napi_failure(env);
  }
  pthread_mutex_lock(&lock);
  reader->closed = false;
  reader->thread_released = false;
  reader->armed = true;
  struct epoll_event event = {.events = EPOLLIN | EPOLLONESHOT, .data.ptr = reader};
  int rc = epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event);
  int error = errno;
  if (rc != 0) {
    reader->closed = true;
    reader->thread_released = true;
    reader->armed = false;
  }
  pthread_mutex_unlock(&lock);
  if (rc != 0) {
    napi_delete_reference(env, reader->callback);
    napi_delete_reference(env, reader->self);
    napi_async_destroy(env, reader->context);
    return throw_errno(env, "epoll_ctl(ADD)", error);
  }
  if (reader->hub->open_readers++ == 0) {
    uv_ref((uv_handle_t*)&reader->hub->async);
  }
  return self;
}

bool register_output_reader_functions(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"readOutput", NULL, read_output, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties) == napi_ok;
}
