// The output reader: how the daemon reads its terminals. Quiet, interactive terminals are read on the event loop, one
// read per readable event, so an echo reaches JS after a single wake-up. A terminal that floods is handed to one
// shared reader thread, which drains it as fast as the kernel fills it whatever the JS thread is busy with.
//
// Why a thread for floods: a pty hands out at most ~4 KB per read(2), and the next 4 KB only arrives after a kernel
// worker has moved it into the line discipline. Read from the event loop, every millisecond the JS thread spends
// elsewhere (framing, a WebSocket send, parsing the screen) is a millisecond the writer sits blocked on a full
// terminal: a 200 MB flood reached a WebSocket client at ~30 MB/s. The thread keeps reading into a bounded buffer per
// terminal, and the JS thread takes everything gathered so far in one piece: ~75 MB/s, what the terminal carries.
// Why not the thread for everything: handing a keystroke's echo from the thread to the loop is a second wake-up,
// which took the keystroke round trip from 0.12 to 0.18 ms.
//
// Waiting for the refill: after a read that emptied a full line discipline, the next read would find it empty and
// sleep in the kernel (flush_work) until the kernel worker has refilled it, then be woken: two context switches per
// 4 KB, which on a VM cost more than the copy itself. Instead the thread watches the line discipline's fill level
// (FIONREAD, which does not wait for the worker) for up to REFILL_SPIN_NS, and reads when the worker has put bytes
// there. 200 MB to one WebSocket client: 80-90 → 110-124 MB/s, and less CPU per MB for the whole machine (14.7 →
// 11.6-13.1 ms), also with two busy loops competing for both CPUs. It only watches a terminal that is alone in its
// epoll batch: with several flooding, the others are the better use of the wait. A wait that runs out costs at most
// REFILL_SPIN_NS per full read; giving up watching for the rest of the turn after one measured worse (1.05 against
// 1.14 times the raw node-pty → ws bridge), as floods have short stalls.
//
// The switch: a loop read that fills the line discipline (>= FLOOD_READ_BYTES) moves the terminal to the thread; a
// little output after a quiet spell (FLOOD_QUIET_NS) moves it back. Only one side reads at a time, and every read
// goes through the same buffer, so bytes stay in order across switches.
//
// Bounded: a terminal whose buffer is full is not read until the JS thread takes it (the writer then blocks, exactly
// as with nobody reading), and a paused reader is not read at all. One thread and one epoll set serve every session.
// Safe: nothing touches a reader's fd after close() returns (close waits out a thread read in progress), so the
// caller may close the fd right after; the memory is freed once the thread, libuv and JS are all done with it.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

#include "native_util.h"

// Most bytes taken from one terminal per readiness event: one flooding session cannot starve the others.
#define READ_CHUNK_BYTES (64 * 1024)
// A read this large found the line discipline (nearly) full — its buffer is 4 KB, and a full one reads as 4095 bytes:
// output comes faster than the loop reads it.
#define FLOOD_READ_BYTES 3072
// A terminal goes back to the loop when output comes after at least this long without any: a flood has short lulls
// (the writer between two writes, or starved of CPU), and the thread must keep reading through them.
#define FLOOD_QUIET_NS (100L * 1000 * 1000)
#define MAX_EVENTS 64
// Longest wait for the kernel worker to refill a line discipline the thread has just emptied (see the top of the file).
#define REFILL_SPIN_NS (50L * 1000)


typedef struct output_hub output_hub;

typedef enum { READ_ON_LOOP, READ_ON_THREAD } read_side;

typedef struct output_reader {
  // Set at creation, then only read.
  int fd;
  // A duplicate of fd for the loop's poll handle: libuv allows one poll handle per fd number, and the caller
  // watches fd itself for room to write input.
  int loop_fd;
  uv_poll_t loop_poll;
  size_t max_buffered;
  output_hub* hub;
  napi_env env;
  napi_ref callback;
  napi_ref self;
  napi_async_context context;
  // JS thread only: loop_poll is started.
  bool loop_polling;
  // Everything below is guarded by `lock`.
  read_side side;
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
  // CLOCK_MONOTONIC of the last thread turn that read something (or of the switch to the thread).
  int64_t last_output_ns;
  // In its hub's `ready` or `taking` list.
  bool queued;
  bool closed;
  // The thread will never look at it again (it passed through the graveyard).
  bool thread_released;
  // JS can no longer reach it.
  bool finalized;
  // libuv is done with loop_poll.
  bool poll_closed;
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
  // The loop's read buffer (one per environment: loop reads happen on its JS thread only).
  char scratch[READ_CHUNK_BYTES];
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

// Under `lock`. Frees the reader once the thread, libuv and JS have all let go of it.
static void maybe_free(output_reader* reader) {
  if (reader->thread_released && reader->poll_closed && reader->finalized) {
    free(reader->buffer);
    free(reader);
  }
}

// Under `lock`. Asks epoll for the next readable event when the reader may read again.
static void maybe_arm(output_reader* reader) {
  if (reader->side != READ_ON_THREAD || reader->armed || reader->reading || reader->closed || reader->eof || reader->paused ||
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

// Under `lock`. Records what one read(2) returned; false when nothing more can be read now (nothing there, or the end).
static bool record_read(output_reader* reader, const char* data, ssize_t n, int read_errno) {
  if (n > 0) {
    if (append(reader, data, (size_t)n)) {
      return true;
    }
    reader->eof = true;
    reader->read_error = ENOMEM;
  } else if (read_errno != EAGAIN) {
    // 0 or EIO: every holder of the slave closed it and nothing is left. Anything else is a real failure.
    reader->eof = true;
    reader->read_error = (n < 0 && read_errno != EIO) ? read_errno : 0;
  }
  return false;
}

static int64_t monotonic_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (int64_t)now.tv_sec * 1000000000L + now.tv_nsec;
}

static ssize_t read_once(int fd, char* into, size_t size, int* read_errno) {
  ssize_t n;
  do {
    n = read(fd, into, size);
  } while (n < 0 && errno == EINTR);
  *read_errno = n < 0 ? errno : 0;
  return n;
}

// Outside `lock`, while `reading` keeps the fd open: returns once the line discipline holds bytes again, or after
// REFILL_SPIN_NS if the kernel worker has not refilled it by then.
static void await_refill(int fd) {
  int64_t until = monotonic_ns() + REFILL_SPIN_NS;
  int available = 0;
  while (ioctl(fd, FIONREAD, &available) == 0 && available == 0 && monotonic_ns() < until) {
  }
}

// The thread's turn at one terminal: reads up to READ_CHUNK_BYTES or until it has nothing more. The first read is
// handed to the JS thread at once; the rest of a burst is handed over whole when the turn is done. A turn that finds
// a little output after FLOOD_QUIET_NS without any means the flood is over: the terminal goes back to the loop.
// `alone`: no other terminal is waiting for the thread, so it may wait for this one's refill.
static void drain(output_reader* reader, char* scratch, bool alone) {
  pthread_mutex_lock(&lock);
  reader->armed = false;
  if (reader->side != READ_ON_THREAD || reader->closed || reader->eof || reader->paused ||
      reader->length >= reader->max_buffered) {
    // Paused or full: not read, not re-armed; resume() or the JS thread's take re-arms it.
    pthread_mutex_unlock(&lock);
    return;
  }
  reader->reading = true;
  size_t taken = 0;
  bool awaits_refill = false;
  for (;;) {
    size_t room = reader->max_buffered - reader->length;
    if (room > READ_CHUNK_BYTES - taken) {
      room = READ_CHUNK_BYTES - taken;
    }
    pthread_mutex_unlock(&lock);
    if (awaits_refill) {
      // Whether or not the refill came in time, the read below takes what is there (or waits for the worker).
      await_refill(reader->fd);
    }
    int read_errno = 0;
    ssize_t n = read_once(reader->fd, scratch, room, &read_errno);
    pthread_mutex_lock(&lock);
    if (reader->closed) {
      // close() is waiting for this read to end; what it read has nobody to go to.
      reader->reading = false;
      pthread_cond_broadcast(&reading_done);
      pthread_mutex_unlock(&lock);
      return;
    }
    bool first = taken == 0;
    bool more = record_read(reader, scratch, n, read_errno);
    if (n > 0) {
      taken += (size_t)n;
    }
    // This read emptied a full line discipline: the next one waits for the refill first.
    awaits_refill = alone && n >= FLOOD_READ_BYTES;
    more = more && taken < READ_CHUNK_BYTES && !reader->paused && reader->length < reader->max_buffered;
    if (n > 0 && first && more) {
      queue_ready(reader);
    }
    if (!more) {
      if (taken > 0) {
        int64_t now = monotonic_ns();
        if (read_errno == EAGAIN && taken < FLOOD_READ_BYTES && now - reader->last_output_ns > FLOOD_QUIET_NS) {
          // A little output after a quiet spell: interactive again. The JS thread resumes reading it on the loop
          // when it takes this reader.
          reader->side = READ_ON_LOOP;
        }
        reader->last_output_ns = now;
      }
      if (taken > 0 || reader->eof || reader->side == READ_ON_LOOP) {
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
    maybe_free(reader);
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
      drain(events[i].data.ptr, scratch, count == 1);
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

static void on_loop_readable(uv_poll_t* poll, int status, int events);

// JS thread. Keeps the loop's poll handle started exactly while the loop is the side that reads.
static void update_loop_poll(output_reader* reader) {
  pthread_mutex_lock(&lock);
  bool wanted = reader->side == READ_ON_LOOP && !reader->closed && !reader->eof && !reader->paused;
  pthread_mutex_unlock(&lock);
  if (wanted == reader->loop_polling) {
    return;
  }
  int rc = wanted ? uv_poll_start(&reader->loop_poll, UV_READABLE, on_loop_readable) : uv_poll_stop(&reader->loop_poll);
  if (rc == 0) {
    reader->loop_polling = wanted;
  } else {
    // Cannot happen for a valid fd; end the stream loudly rather than hang it.
    pthread_mutex_lock(&lock);
    reader->eof = true;
    reader->read_error = -rc;
    pthread_mutex_unlock(&lock);
  }
}

// JS thread. Hands everything the reader gathered to its callback (never while holding the lock: a callback may
// pause or close readers).
static void deliver(output_reader* reader) {
  napi_env env = reader->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) {
    return;
  }
  pthread_mutex_lock(&lock);
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
  update_loop_poll(reader);
  if (created && (taken > 0 || eof)) {
    call_back(reader, data, eof, error);
  } else if (!created) {
    throw_napi_failure(env);
  }
  napi_close_handle_scope(env, scope);
}

// JS thread: one read per readable event, like any libuv stream. A read that fills the line discipline hands the
// terminal to the thread.
static void on_loop_readable(uv_poll_t* poll, int status, int events) {
  (void)status;
  (void)events;
  output_reader* reader = poll->data;
  pthread_mutex_lock(&lock);
  if (reader->side != READ_ON_LOOP || reader->closed || reader->eof || reader->paused) {
    pthread_mutex_unlock(&lock);
    update_loop_poll(reader);
    return;
  }
  pthread_mutex_unlock(&lock);
  // Only this thread reads while the side is the loop, so no `reading` mark is needed.
  char* scratch = reader->hub->scratch;
  int read_errno = 0;
  ssize_t n = read_once(reader->loop_fd, scratch, READ_CHUNK_BYTES, &read_errno);
  pthread_mutex_lock(&lock);
  record_read(reader, scratch, n, read_errno);
  if (n >= FLOOD_READ_BYTES && !reader->eof) {
    reader->side = READ_ON_THREAD;
    reader->last_output_ns = monotonic_ns();
    maybe_arm(reader);
  }
  pthread_mutex_unlock(&lock);
  deliver(reader);
}

// Takes what each ready reader gathered, one reader at a time. Only the readers ready when it starts: during a flood
// the thread keeps queueing, and those wait for the next turn of the event loop instead of starving everything else.
static void hub_on_async(uv_async_t* async) {
  output_hub* hub = async->data;
  pthread_mutex_lock(&lock);
  hub->taking = hub->ready;
  hub->ready = NULL;
  pthread_mutex_unlock(&lock);
  for (;;) {
    pthread_mutex_lock(&lock);
    output_reader* reader = hub->taking;
    if (reader != NULL) {
      hub->taking = reader->next;
      reader->next = NULL;
      reader->queued = false;
    }
    pthread_mutex_unlock(&lock);
    if (reader == NULL) {
      return;
    }
    deliver(reader);
  }
}

// The hub itself is not freed: readers still open when the environment ends keep pointing at it, and the thread
// checks `dead` through that pointer. It ends with the process anyway.
static void hub_on_closed(uv_handle_t* handle) {
  (void)handle;
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
  // Takes effect at once: both sides check `paused` before every read, and neither re-arms a paused reader.
  pthread_mutex_lock(&lock);
  reader->paused = true;
  pthread_mutex_unlock(&lock);
  update_loop_poll(reader);
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
  update_loop_poll(reader);
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

static void on_poll_closed(uv_handle_t* handle) {
  output_reader* reader = handle->data;
  pthread_mutex_lock(&lock);
  reader->poll_closed = true;
  maybe_free(reader);
  pthread_mutex_unlock(&lock);
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
  // libuv stops watching at once; the duplicate fd can go now, its close callback frees.
  reader->loop_polling = false;
  uv_close((uv_handle_t*)&reader->loop_poll, on_poll_closed);
  close(reader->loop_fd);
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
  maybe_free(reader);
  pthread_mutex_unlock(&lock);
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
  // Until it is registered below neither the thread nor libuv knows it: on a failure, only the finalizer frees it.
  reader->closed = true;
  reader->thread_released = true;
  reader->poll_closed = true;
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
  uv_loop_t* loop = NULL;
  int error = 0;
  const char* failed = NULL;
  reader->loop_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (reader->loop_fd < 0) {
    error = errno;
    failed = "fcntl(F_DUPFD_CLOEXEC)";
  } else if (napi_get_uv_event_loop(env, &loop) != napi_ok || (error = -uv_poll_init(loop, &reader->loop_poll, reader->loop_fd)) != 0) {
    error = error != 0 ? error : EINVAL;
    failed = "uv_poll_init";
    close(reader->loop_fd);
  } else {
    reader->loop_poll.data = reader;
    reader->poll_closed = false;
    // Registered with the thread but not armed: a terminal starts on the loop. (A hang-up may still be reported
    // once; the thread ignores readers that are not its side.)
    struct epoll_event event = {.events = EPOLLONESHOT, .data.ptr = reader};
    pthread_mutex_lock(&lock);
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event) == 0) {
      reader->side = READ_ON_LOOP;
      reader->closed = false;
      reader->thread_released = false;
    } else {
      error = errno;
      failed = "epoll_ctl(ADD)";
    }
    pthread_mutex_unlock(&lock);
    if (failed != NULL) {
      uv_close((uv_handle_t*)&reader->loop_poll, on_poll_closed);
      close(reader->loop_fd);
    }
  }
  if (failed != NULL) {
    napi_delete_reference(env, reader->callback);
    napi_delete_reference(env, reader->self);
    napi_async_destroy(env, reader->context);
    return throw_errno(env, failed, error);
  }
  update_loop_poll(reader);
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
