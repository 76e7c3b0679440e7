// corral-holder: owns one session's program and its terminal (or pipes) apart from the daemon, so the daemon can
// exit, crash or be replaced while the program keeps running, and a new daemon reattaches (issue 14).
// Must never lose or reorder an output byte (past its cap it stops reading, and the program blocks), never let a
// process that is not the daemon drive the session, and never outlive its session.
//
// Why one holder per session (dtach, abduco, shpool's per-session shell) and not one holder per node passing
// terminal fds to the daemon over a Unix socket (SCM_RIGHTS):
//   - Blast radius: a holder that crashes loses one session; a per-node holder that crashes loses them all.
//   - No fd-passing protocol: the daemon never owns a session fd, so it has nothing to hand back and forth on a
//     restart, and nothing to lose if it dies in the middle of a hand-over. A per-node holder would also need to
//     keep draining every terminal while no daemon is attached, i.e. re-implement this buffer anyway, for all.
//   - Reaping: a per-session holder is the child subreaper of exactly one tree, so "no children left" means "this
//     session's tree is gone" with no bookkeeping; a per-node one must attribute every orphan to a session.
//   - Parallel by construction: a flooding session costs its own holder's CPU, it does not delay the others.
//   - Cost: one small process per session and one extra copy of each output byte through a socket. Measured with
//     bench/holderBench.ts (2 cores at load ~13, so wall times are noisy): an idle holder is 652 KiB RSS, 126 KiB
//     PSS, 68 KiB private (statically linked, no threads; a tmux server is ~3.9 MiB RSS, +4..12 KiB per extra
//     session); a 200 MiB flood ran at 0.79-1.22x the direct backend's rate; spawn -> first output took ~10 ms
//     against ~1.8 ms direct (two processes start in sequence, the holder then the program, and the first output
//     crosses the socket).
//   What per node would win: one process in all, and no copy through a socket (the daemon reads the terminal
//   itself). Neither outweighs losing every session when that one process fails.
//
// How it runs: the daemon runs `corral-holder <label>` with the spawn configuration on stdin (holder_protocol.h;
// the secret never appears in argv or environ), and waits for its report on stdout. The holder calls setsid()
// (signals to the daemon's process group never reach it) and PR_SET_CHILD_SUBREAPER (setsid
// and double-fork escapees of the program re-parent to it), listens on <dataDir>/holders/<id>.sock (dir 0700,
// socket 0600), starts the program in a new pty or pipes (its own session, pgid = its pid), prints one READY line
// and detaches from the spawner's stdio. Then one poll loop, no threads:
//   - reads output into a per-channel buffer of unacknowledged bytes numbered from 0, up to a cap; at the cap it
//     stops reading (flow control), streams DATA to the attached daemon, frees what the daemon ACKs;
//   - writes queued INPUT, resizes, pauses, signals on the daemon's commands;
//   - reaps every child (signalfd SIGCHLD), records the program's exit status;
//   - exits once the daemon sent RELEASE, the program has exited and no descendant is left;
//   - ends the session and exits if its socket's file is deleted while no daemon is attached (check_abandoned).
// Frames are documented in holder_protocol.h.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "holder_protocol.h"
#include "spawn_defaults.h"

/** Output is read into chunks of this size: the largest DATA frame, and the granularity in which ACKs free memory. */
#define CHUNK_BYTES (64 * 1024)
/** Largest spawn configuration: argv + environment beyond this would not pass execve's ARG_MAX (2 MiB) anyway. */
#define MAX_CONFIG_BYTES (8 * 1024 * 1024)
/** Largest frame a daemon may send: the TS side splits input into frames of at most 1 MiB. */
#define MAX_IN_PAYLOAD (1024 * 1024 + 64)
/**
 * Input accepted but not yet taken by the program. The daemon's own input queue is unbounded in the other backends;
 * past this much the connection is dropped as misbehaving rather than letting the holder grow without end.
 */
#define MAX_PENDING_INPUT (64 * 1024 * 1024)
/** DATA is copied into the connection's send buffer only while it holds less than this: bounds the copy per session. */
#define OUT_HIGH_WATER (256 * 1024)
/** Connections that have not sent a valid HELLO yet; the oldest goes when one more arrives. */
#define MAX_PENDING_CONNECTIONS 4
/** How long a connection may take to send its HELLO. */
#define HELLO_DEADLINE_MS 5000
/** Reads per channel per loop turn: enough to empty a pty's 4 KiB line discipline several times, fair to the rest. */
#define READS_PER_TURN 16

// ---- small helpers ----------------------------------------------------------------------------------------------

typedef struct {
  char* data;
  size_t start;
  size_t len;  // bytes from start
  size_t cap;
} bytes;

static bool bytes_reserve(bytes* b, size_t more) {
  if (b->start > 0 && b->start + b->len + more > b->cap) {
    memmove(b->data, b->data + b->start, b->len);
    b->start = 0;
  }
  if (b->len + more <= b->cap) {
    return true;
  }
  size_t cap = b->cap == 0 ? 4096 : b->cap;
  while (cap < b->len + more) {
    cap *= 2;
  }
  char* data = realloc(b->data, cap);
  if (data == NULL) {
    return false;
  }
  b->data = data;
  b->cap = cap;
  return true;
}

static bool bytes_append(bytes* b, const void* data, size_t n) {
  if (!bytes_reserve(b, n)) {
    return false;
  }
  memcpy(b->data + b->start + b->len, data, n);
  b->len += n;
  return true;
}

static void bytes_consume(bytes* b, size_t n) {
  b->start += n;
  b->len -= n;
  if (b->len == 0) {
    b->start = 0;
  }
  // A drained buffer that grew for a burst goes back to the allocator.
  if (b->len == 0 && b->cap > 64 * 1024) {
    free(b->data);
    b->data = NULL;
    b->cap = 0;
  }
}

static void bytes_free(bytes* b) {
  free(b->data);
  memset(b, 0, sizeof(*b));
}

static void put_u16(uint8_t* p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}
static void put_u32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; i++) {
    p[i] = (uint8_t)(v >> (24 - 8 * i));
  }
}
static void put_u64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; i++) {
    p[i] = (uint8_t)(v >> (56 - 8 * i));
  }
}
static uint16_t get_u16(const uint8_t* p) {
  return (uint16_t)((p[0] << 8) | p[1]);
}
static uint32_t get_u32(const uint8_t* p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static uint64_t get_u64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) {
    v = (v << 8) | p[i];
  }
  return v;
}

static int64_t monotonic_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), or 0 when it cannot be read. */
static uint64_t process_start_time(pid_t pid, pid_t* ppid_out, pid_t* pgid_out) {
  char path[64];
  char buf[1024];
  snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return 0;
  }
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) {
    return 0;
  }
  buf[n] = '\0';
  // comm may contain spaces and ')': fields resume after the last ')'.
  char* p = strrchr(buf, ')');
  if (p == NULL) {
    return 0;
  }
  p += 2;  // state is field 3
  uint64_t start = 0;
  for (int field = 3; field <= 22 && p != NULL && *p != '\0'; field++) {
    if (field == 4 && ppid_out != NULL) {
      *ppid_out = (pid_t)strtol(p, NULL, 10);
    } else if (field == 5 && pgid_out != NULL) {
      *pgid_out = (pid_t)strtol(p, NULL, 10);
    } else if (field == 22) {
      start = strtoull(p, NULL, 10);
    }
    p = strchr(p, ' ');
    if (p != NULL) {
      p++;
    }
  }
  return start;
}

static void set_nonblocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) {
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  }
}

// ---- configuration (stdin) ----------------------------------------------------------------------------------------

enum session_kind { KIND_PTY = 0, KIND_PIPE = 1 };

typedef struct {
  int kind;
  uint16_t cols;
  uint16_t rows;
  uint64_t retain_cap;
  uint8_t secret[HOLDER_SECRET_BYTES];
  char* socket_path;
  char* cwd;
  char* file;
  char** argv;
  char** envp;
} holder_config;

typedef struct {
  const uint8_t* p;
  size_t left;
  bool ok;
} reader;

static const uint8_t* take(reader* r, size_t n) {
  if (!r->ok || r->left < n) {
    r->ok = false;
    return NULL;
  }
  const uint8_t* p = r->p;
  r->p += n;
  r->left -= n;
  return p;
}

static char* take_string(reader* r) {
  const uint8_t* len = take(r, 4);
  if (len == NULL) {
    return NULL;
  }
  uint32_t n = get_u32(len);
  const uint8_t* data = take(r, n);
  if (data == NULL || memchr(data, 0, n) != NULL) {
    r->ok = false;
    return NULL;
  }
  char* s = malloc((size_t)n + 1);
  if (s == NULL) {
    r->ok = false;
    return NULL;
  }
  memcpy(s, data, n);
  s[n] = '\0';
  return s;
}

static char** take_vector(reader* r) {
  const uint8_t* count = take(r, 4);
  if (count == NULL) {
    return NULL;
  }
  uint32_t n = get_u32(count);
  // Each string needs at least its 4-byte length: a count beyond that is a lie, not an allocation to attempt.
  if (n > r->left / 4) {
    r->ok = false;
    return NULL;
  }
  char** v = calloc((size_t)n + 1, sizeof(char*));
  if (v == NULL) {
    r->ok = false;
    return NULL;
  }
  for (uint32_t i = 0; i < n && r->ok; i++) {
    v[i] = take_string(r);
  }
  return v;
}

/** Reads exactly `n` bytes from stdin; false on EOF or an error before that. */
static bool read_exactly(void* into, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(STDIN_FILENO, (uint8_t*)into + got, n - got);
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r <= 0) {
      if (r == 0) {
        errno = EINVAL;
      }
      return false;
    }
    got += (size_t)r;
  }
  return true;
}

/**
 * Reads the configuration from stdin ("CHC2", u32 length, then that many bytes: stdin stays open, as it is the
 * spawning daemon's connection when the holder was started on a socket pair) and parses it; false when it is
 * malformed or too large.
 */
static bool read_config(holder_config* config) {
  uint8_t prefix[8];
  if (!read_exactly(prefix, sizeof(prefix)) || memcmp(prefix, HOLDER_CONFIG_MAGIC, 4) != 0) {
    errno = EINVAL;
    return false;
  }
  uint32_t length = get_u32(prefix + 4);
  if (length > MAX_CONFIG_BYTES) {
    errno = E2BIG;
    return false;
  }
  bytes in = {0};
  if (!bytes_reserve(&in, length) || !read_exactly(in.data, length)) {
    return false;
  }
  in.len = length;
  reader r = {.p = (const uint8_t*)in.data, .left = in.len, .ok = true};
  const uint8_t* head = take(&r, 1 + 2 + 2 + 8 + HOLDER_SECRET_BYTES);
  if (head == NULL) {
    errno = EINVAL;
    return false;
  }
  config->kind = head[0];
  config->cols = get_u16(head + 1);
  config->rows = get_u16(head + 3);
  config->retain_cap = get_u64(head + 5);
  memcpy(config->secret, head + 13, HOLDER_SECRET_BYTES);
  config->socket_path = take_string(&r);
  config->cwd = take_string(&r);
  config->file = take_string(&r);
  config->argv = take_vector(&r);
  config->envp = take_vector(&r);
  bytes_free(&in);
  if (!r.ok || r.left != 0 || (config->kind != KIND_PTY && config->kind != KIND_PIPE) || config->retain_cap == 0 ||
      config->argv == NULL || config->argv[0] == NULL) {
    errno = EINVAL;
    return false;
  }
  return true;
}

// ---- start-up failures: one line on stdout, the spawner reads it --------------------------------------------------

static const char* failed_socket_path = NULL;

static void fail(const char* step, int err) {
  const char* name = strerrorname_np(err);
  dprintf(STDOUT_FILENO, "ERROR %s %s\n", step, name != NULL ? name : "EUNKNOWN");
  if (failed_socket_path != NULL) {
    unlink(failed_socket_path);
  }
  _exit(1);
}

// ---- the session's state ------------------------------------------------------------------------------------------

typedef struct chunk {
  struct chunk* next;
  uint64_t start;  // offset of data[0]
  size_t len;
  char data[CHUNK_BYTES];
} chunk;

typedef struct {
  bool present;
  bool ended;          // EOF / EIO / error / force-closed: nothing more will be read
  bool dormant;        // a pty the program closed while it runs on: not read (and kept open) until it exits
  int fd;              // -1 once closed
  uint64_t read_end;   // offset after the last byte read
  uint64_t acked;      // the daemon journalled everything before this
  uint64_t send_pos;   // the next offset to queue to the attached daemon
  bool closed_sent;    // CLOSED queued to the attached daemon
  chunk* head;         // retained bytes [acked.., read_end), in chunks
  chunk* tail;
} channel;

typedef struct {
  int fd;
  int64_t deadline_ms;  // pending connections only
  bytes in;
  bytes out;
} connection;

static holder_config config;
static channel channels[HOLDER_CHANNELS];
static int input_fd = -1;  // pty master (same fd as channel 0) or the stdin pipe's write end
static bytes pending_input;
static bool end_input_requested = false;
static bool paused = false;
static pid_t program_pid = 0;
static uint64_t program_start = 0;
static pid_t holder_pid = 0;
static uint64_t holder_start = 0;
static int exit_kind = 0;  // 0 running, 1 exited, 2 killed by a signal
static int exit_value = 0;
static bool children_left = true;
static bool released = false;
static int listen_fd = -1;
/** The socket's file (O_PATH): its link count drops to 0 when the file is deleted, and a rename keeps it at 1. */
static int socket_file_fd = -1;
/** When the socket's file was last looked at, and when an abandoned session's grace for SIGTERM ends (0: not yet). */
static int64_t next_abandon_check_ms = 0;
static int64_t abandon_kill_ms = 0;
static int signal_fd = -1;
static connection client = {.fd = -1};
static bool exit_sent = false;
static connection pending[MAX_PENDING_CONNECTIONS];

// ---- output buffer ------------------------------------------------------------------------------------------------

static uint64_t retained(const channel* ch) {
  return ch->read_end - ch->acked;
}

static bool wants_read(const channel* ch) {
  return ch->present && !ch->ended && !ch->dormant && ch->fd >= 0 && !paused && retained(ch) < config.retain_cap;
}

static void close_channel_fd(int index) {
  channel* ch = &channels[index];
  if (ch->fd < 0) {
    return;
  }
  // The pty master is also the input fd: input to a closed terminal has nowhere to go.
  if (ch->fd == input_fd) {
    input_fd = -1;
    bytes_free(&pending_input);
  }
  close(ch->fd);
  ch->fd = -1;
}

static void end_channel(int index) {
  channels[index].ended = true;
  close_channel_fd(index);
}

/** Reads what the channel has, up to the cap. EIO on a pty master and 0 on a pipe both mean: no writer is left. */
static void read_channel(int index) {
  channel* ch = &channels[index];
  for (int turn = 0; turn < READS_PER_TURN && wants_read(ch); turn++) {
    if (ch->tail == NULL || ch->tail->len == CHUNK_BYTES) {
      chunk* c = malloc(sizeof(chunk));
      if (c == NULL) {
        return;  // retried on the next turn; the program waits meanwhile
      }
      c->next = NULL;
      c->start = ch->read_end;
      c->len = 0;
      if (ch->tail == NULL) {
        ch->head = c;
      } else {
        ch->tail->next = c;
      }
      ch->tail = c;
    }
    size_t room = CHUNK_BYTES - ch->tail->len;
    uint64_t allowed = config.retain_cap - retained(ch);
    if (room > allowed) {
      room = (size_t)allowed;
    }
    ssize_t n = read(ch->fd, ch->tail->data + ch->tail->len, room);
    if (n > 0) {
      ch->tail->len += (size_t)n;
      ch->read_end += (uint64_t)n;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      return;
    }
    // A program that closed its terminal and runs on (`exec </dev/null >/dev/null 2>&1; sleep 100`): EIO says no
    // process holds the terminal now, not that the session ended. Closing the master would hang the program up;
    // the terminal stays open, unread (its POLLHUP would spin the loop), until the program exits, then it is read
    // once more for what a process that reopened /dev/tty wrote meanwhile.
    if (n < 0 && errno == EIO && config.kind == KIND_PTY && exit_kind == 0) {
      ch->dormant = true;
      return;
    }
    // 0 (pipe EOF), EIO (every slave fd closed) or a real error: output ends either way.
    end_channel(index);
    return;
  }
}

/** Forgets retained bytes before `offset` (clamped to what was read). */
static void acknowledge(int index, uint64_t offset) {
  channel* ch = &channels[index];
  if (offset > ch->read_end) {
    offset = ch->read_end;
  }
  if (offset <= ch->acked) {
    return;
  }
  ch->acked = offset;
  if (ch->send_pos < offset) {
    ch->send_pos = offset;
  }
  // A fully acknowledged tail goes too: the next read starts a new chunk at read_end.
  while (ch->head != NULL && ch->head->start + ch->head->len <= ch->acked) {
    chunk* done = ch->head;
    ch->head = done->next;
    if (ch->tail == done) {
      ch->tail = NULL;
    }
    free(done);
  }
}

// ---- frames out ---------------------------------------------------------------------------------------------------

static bool frame_header(bytes* out, uint8_t type, uint32_t length) {
  uint8_t header[HOLDER_FRAME_HEADER_BYTES];
  header[0] = type;
  put_u32(header + 1, length);
  return bytes_append(out, header, sizeof(header));
}

static bool queue_frame(connection* c, uint8_t type, const void* payload, uint32_t length) {
  return frame_header(&c->out, type, length) && bytes_append(&c->out, payload, length);
}

static void queue_exit(void) {
  uint8_t payload[6];
  payload[0] = (uint8_t)exit_kind;
  put_u32(payload + 1, (uint32_t)exit_value);
  // As a subreaper, no child left means no descendant left: the daemon can skip its own sweep of the tree.
  payload[5] = children_left ? 1 : 0;
  queue_frame(&client, FRAME_EXIT, payload, sizeof(payload));
  exit_sent = true;
}

static void queue_welcome(void) {
  uint8_t p[2 + 4 + 8 + 4 + 8 + 1 + 1 + 4 + HOLDER_CHANNELS * 17 + 1];
  put_u16(p, HOLDER_PROTOCOL_VERSION);
  put_u32(p + 2, (uint32_t)holder_pid);
  put_u64(p + 6, holder_start);
  put_u32(p + 14, (uint32_t)program_pid);
  put_u64(p + 18, program_start);
  p[26] = (uint8_t)config.kind;
  p[27] = (uint8_t)exit_kind;
  put_u32(p + 28, (uint32_t)exit_value);
  for (int i = 0; i < HOLDER_CHANNELS; i++) {
    uint8_t* q = p + 32 + i * 17;
    q[0] = (uint8_t)((channels[i].present ? 1 : 0) | (channels[i].ended ? 2 : 0));
    put_u64(q + 1, channels[i].read_end);
    put_u64(q + 9, channels[i].acked);
  }
  // 1: like EXIT's tree byte, children were left (meaningless while the program runs); 2: a daemon closed the
  // program's stdin (END_INPUT), which a reattaching daemon must keep refusing input for.
  p[32 + HOLDER_CHANNELS * 17] = (uint8_t)((children_left ? 1 : 0) | (end_input_requested ? 2 : 0));
  queue_frame(&client, FRAME_WELCOME, p, sizeof(p));
  exit_sent = exit_kind != 0;
}

/** Copies unsent output into the send buffer as DATA frames (round robin over channels), then CLOSED frames. */
static void pump_output(void) {
  if (client.fd < 0) {
    return;
  }
  bool progress = true;
  while (client.out.len < OUT_HIGH_WATER && progress) {
    progress = false;
    for (int i = 0; i < HOLDER_CHANNELS; i++) {
      channel* ch = &channels[i];
      if (!ch->present || ch->send_pos >= ch->read_end) {
        continue;
      }
      chunk* c = ch->head;
      while (c != NULL && c->start + c->len <= ch->send_pos) {
        c = c->next;
      }
      if (c == NULL) {
        continue;  // cannot happen: send_pos >= acked, and everything from acked is retained
      }
      size_t from = (size_t)(ch->send_pos - c->start);
      size_t n = c->len - from;
      uint8_t head[9];
      head[0] = (uint8_t)i;
      put_u64(head + 1, ch->send_pos);
      if (!frame_header(&client.out, FRAME_DATA, (uint32_t)(9 + n)) || !bytes_append(&client.out, head, 9) ||
          !bytes_append(&client.out, c->data + from, n)) {
        return;
      }
      ch->send_pos += n;
      progress = true;
    }
  }
  for (int i = 0; i < HOLDER_CHANNELS; i++) {
    channel* ch = &channels[i];
    if (ch->present && ch->ended && !ch->closed_sent && ch->send_pos == ch->read_end) {
      uint8_t p[9];
      p[0] = (uint8_t)i;
      put_u64(p + 1, ch->read_end);
      queue_frame(&client, FRAME_CLOSED, p, sizeof(p));
      ch->closed_sent = true;
    }
  }
}

// ---- connections --------------------------------------------------------------------------------------------------

static void drop_connection(connection* c) {
  if (c->fd >= 0) {
    close(c->fd);
  }
  bytes_free(&c->in);
  bytes_free(&c->out);
  c->fd = -1;
}

static void flush_client(void) {
  while (client.fd >= 0 && client.out.len > 0) {
    ssize_t n = send(client.fd, client.out.data + client.out.start, client.out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      bytes_consume(&client.out, (size_t)n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      return;
    } else {
      drop_connection(&client);  // the daemon went away; the session carries on
      return;
    }
  }
}

static bool constant_time_equal(const uint8_t* a, const uint8_t* b, size_t n) {
  volatile uint8_t diff = 0;
  for (size_t i = 0; i < n; i++) {
    diff |= (uint8_t)(a[i] ^ b[i]);
  }
  return diff == 0;
}

/** A pending connection sent a valid HELLO: it becomes the client, replacing any other. */
static void accept_daemon(connection* c, const uint8_t* payload) {
  if (client.fd >= 0) {
    bytes_free(&client.out);
    frame_header(&client.out, FRAME_REPLACED, 0);
    flush_client();
    drop_connection(&client);
  }
  client = *c;
  memset(c, 0, sizeof(*c));
  c->fd = -1;
  bytes_free(&client.out);
  paused = false;
  exit_sent = false;
  queue_welcome();
  for (int i = 0; i < HOLDER_CHANNELS; i++) {
    channel* ch = &channels[i];
    uint64_t resume = get_u64(payload + 2 + HOLDER_SECRET_BYTES + 8 * i);
    if (resume > ch->read_end) {
      resume = ch->read_end;  // the daemon cannot have more than was read; send from the end
    }
    if (resume < ch->acked) {
      // Bytes the daemon asked for but acknowledged before: gone. Say which, then continue from what is retained.
      uint8_t gap[17];
      gap[0] = (uint8_t)i;
      put_u64(gap + 1, resume);
      put_u64(gap + 9, ch->acked);
      queue_frame(&client, FRAME_GAP, gap, sizeof(gap));
      resume = ch->acked;
    }
    acknowledge(i, resume);
    ch->send_pos = resume;
    ch->closed_sent = false;
  }
}

/** Sends `signo` to every live descendant (of pgid `pgid` when > 0); each proven ours through a pidfd. */
static void signal_tree(int signo, pid_t pgid) {
  pid_t stack[4096];
  size_t depth = 0;
  stack[depth++] = holder_pid;
  while (depth > 0) {
    pid_t parent = stack[--depth];
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)parent, (int)parent);
    FILE* f = fopen(path, "re");
    if (f == NULL) {
      continue;
    }
    int pid = 0;
    while (fscanf(f, "%d", &pid) == 1) {
      int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0U);
      if (pidfd < 0) {
        continue;  // gone already
      }
      // The pidfd pins whatever process holds the pid now; it is the session's only if its parent is still the one
      // we found it under (a recycled pid would be some other process's child).
      pid_t ppid = 0;
      pid_t its_pgid = 0;
      process_start_time(pid, &ppid, &its_pgid);
      if (ppid == parent) {
        if (pgid <= 0 || its_pgid == pgid) {
          syscall(SYS_pidfd_send_signal, pidfd, signo, NULL, 0U);
        }
        if (depth < sizeof(stack) / sizeof(stack[0])) {
          stack[depth++] = pid;
        }
      }
      close(pidfd);
    }
    fclose(f);
  }
}

static void do_signal(int scope, int signo) {
  bool running = exit_kind == 0;  // not reaped yet, so its pid (and pgid) cannot have been recycled
  if (scope == SIGNAL_PROGRAM) {
    if (running) {
      kill(program_pid, signo);
    }
  } else if (scope == SIGNAL_GROUP) {
    if (running) {
      kill(-program_pid, signo);
    } else {
      signal_tree(signo, program_pid);
    }
  } else {
    signal_tree(signo, 0);
  }
}

static void write_input(void);

/** Handles one frame from the attached daemon; false drops the connection (protocol error). */
static bool handle_frame(uint8_t type, const uint8_t* p, uint32_t n) {
  switch (type) {
    case FRAME_INPUT:
      if (pending_input.len + n > MAX_PENDING_INPUT) {
        return false;
      }
      if (input_fd >= 0 && !end_input_requested) {
        bytes_append(&pending_input, p, n);
        write_input();
      }
      return true;
    case FRAME_END_INPUT:
      // A terminal has no separate stdin (EOF is the caller's Ctrl-D): only a pipe is closed.
      if (config.kind == KIND_PIPE) {
        end_input_requested = true;
        write_input();
      }
      return true;
    case FRAME_RESIZE: {
      if (n != 4) {
        return false;
      }
      struct winsize size = {.ws_col = get_u16(p), .ws_row = get_u16(p + 2)};
      if (config.kind == KIND_PTY && channels[0].fd >= 0) {
        ioctl(channels[0].fd, TIOCSWINSZ, &size);
      }
      return true;
    }
    case FRAME_PAUSE:
      paused = true;
      return true;
    case FRAME_RESUME:
      paused = false;
      return true;
    case FRAME_SIGNAL:
      if (n != 2 || p[0] > SIGNAL_TREE || p[1] == 0 || p[1] >= NSIG) {
        return false;
      }
      do_signal(p[0], p[1]);
      return true;
    case FRAME_ACK:
      if (n != 9 || p[0] >= HOLDER_CHANNELS) {
        return false;
      }
      acknowledge(p[0], get_u64(p + 1));
      return true;
    case FRAME_FORCE_CLOSE:
      for (int i = 0; i < HOLDER_CHANNELS; i++) {
        if (channels[i].present && !channels[i].ended) {
          end_channel(i);
        }
      }
      return true;
    case FRAME_RELEASE:
      released = true;
      return true;
    default:
      return false;
  }
}

/** Reads what a connection sent; returns false when it is gone. Calls back for each complete frame. */
static bool read_connection(connection* c, size_t max_payload, bool (*on_frame)(connection*, uint8_t, const uint8_t*, uint32_t)) {
  for (;;) {
    if (!bytes_reserve(&c->in, 65536)) {
      return false;
    }
    ssize_t n = recv(c->fd, c->in.data + c->in.start + c->in.len, c->in.cap - c->in.start - c->in.len, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && errno == EAGAIN) {
      return true;
    }
    if (n <= 0) {
      return false;
    }
    c->in.len += (size_t)n;
    while (c->in.len >= HOLDER_FRAME_HEADER_BYTES) {
      const uint8_t* head = (const uint8_t*)c->in.data + c->in.start;
      uint32_t length = get_u32(head + 1);
      if (length > max_payload) {
        return false;
      }
      if (c->in.len < HOLDER_FRAME_HEADER_BYTES + (size_t)length) {
        break;
      }
      if (!on_frame(c, head[0], head + HOLDER_FRAME_HEADER_BYTES, length)) {
        return false;
      }
      // on_frame may have moved the connection (HELLO turns a pending one into the client): stop reading it here.
      if (c->fd < 0) {
        return true;
      }
      bytes_consume(&c->in, HOLDER_FRAME_HEADER_BYTES + length);
    }
  }
}

static bool on_client_frame(connection* c, uint8_t type, const uint8_t* p, uint32_t n) {
  (void)c;
  return handle_frame(type, p, n);
}

static bool on_pending_frame(connection* c, uint8_t type, const uint8_t* p, uint32_t n) {
  if (type != FRAME_HELLO || n != 2 + HOLDER_SECRET_BYTES + 8 * HOLDER_CHANNELS || get_u16(p) != HOLDER_PROTOCOL_VERSION ||
      !constant_time_equal(p + 2, config.secret, HOLDER_SECRET_BYTES)) {
    return false;
  }
  uint8_t hello[2 + HOLDER_SECRET_BYTES + 8 * HOLDER_CHANNELS];
  memcpy(hello, p, sizeof(hello));
  // Bytes after the HELLO (commands sent without waiting for WELCOME) move with the connection.
  bytes_consume(&c->in, HOLDER_FRAME_HEADER_BYTES + n);
  accept_daemon(c, hello);
  // Process what already followed the HELLO.
  while (client.fd >= 0 && client.in.len >= HOLDER_FRAME_HEADER_BYTES) {
    const uint8_t* head = (const uint8_t*)client.in.data + client.in.start;
    uint32_t length = get_u32(head + 1);
    if (length > MAX_IN_PAYLOAD) {
      drop_connection(&client);
      break;
    }
    if (client.in.len < HOLDER_FRAME_HEADER_BYTES + (size_t)length) {
      break;
    }
    if (!handle_frame(head[0], head + HOLDER_FRAME_HEADER_BYTES, length)) {
      drop_connection(&client);
      break;
    }
    bytes_consume(&client.in, HOLDER_FRAME_HEADER_BYTES + length);
  }
  return true;
}

static void accept_connections(void) {
  for (;;) {
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      return;  // EAGAIN, or EMFILE and friends: the next turn tries again
    }
    // Owner only: the socket's mode already says so; the peer's credentials make sure.
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != getuid()) {
      close(fd);
      continue;
    }
    int slot = 0;
    for (int i = 0; i < MAX_PENDING_CONNECTIONS; i++) {
      if (pending[i].fd < 0) {
        slot = i;
        break;
      }
      if (pending[i].deadline_ms < pending[slot].deadline_ms) {
        slot = i;
      }
    }
    drop_connection(&pending[slot]);
    pending[slot].fd = fd;
    pending[slot].deadline_ms = monotonic_ms() + HELLO_DEADLINE_MS;
  }
}

// ---- input --------------------------------------------------------------------------------------------------------

static void write_input(void) {
  while (input_fd >= 0 && pending_input.len > 0) {
    ssize_t n = write(input_fd, pending_input.data + pending_input.start, pending_input.len);
    if (n > 0) {
      bytes_consume(&pending_input, (size_t)n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      return;
    } else {
      // EIO (terminal without a program side) or EPIPE (stdin closed by the program): input has nowhere to go.
      bytes_free(&pending_input);
      if (config.kind == KIND_PIPE) {
        close(input_fd);
        input_fd = -1;
      }
      return;
    }
  }
  if (end_input_requested && config.kind == KIND_PIPE && input_fd >= 0 && pending_input.len == 0) {
    close(input_fd);
    input_fd = -1;
  }
}

// ---- children -----------------------------------------------------------------------------------------------------

static void reap_children(void) {
  struct signalfd_siginfo info;
  while (read(signal_fd, &info, sizeof(info)) == sizeof(info)) {
    // Drained: SIGCHLDs coalesce, the waitpid loop below collects every child that ended.
  }
  for (;;) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      if (pid == program_pid) {
        exit_kind = WIFSIGNALED(status) ? 2 : 1;
        exit_value = WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status);
        // The terminal it had closed is read again: to its end (EIO) or on, if something reopened it.
        for (int i = 0; i < HOLDER_CHANNELS; i++) {
          channels[i].dormant = false;
        }
      }
      continue;
    }
    if (pid < 0 && errno == EINTR) {
      continue;
    }
    children_left = !(pid < 0 && errno == ECHILD);
    return;
  }
}

// ---- start-up -----------------------------------------------------------------------------------------------------

/** True when a socket file exists at `addr` but no process listens on it (ECONNREFUSED). */
static bool stale_socket(const struct sockaddr_un* addr) {
  int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (probe < 0) {
    return false;
  }
  bool stale = connect(probe, (const struct sockaddr*)addr, sizeof(*addr)) != 0 && errno == ECONNREFUSED;
  close(probe);
  return stale;
}

/** Creates the socket's directory (0700) and listens on the socket (0600). */
static void listen_on_socket(void) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(config.socket_path) >= sizeof(addr.sun_path)) {
    fail("socket-path", ENAMETOOLONG);
  }
  strcpy(addr.sun_path, config.socket_path);
  char dir[sizeof(addr.sun_path)];
  strcpy(dir, config.socket_path);
  char* slash = strrchr(dir, '/');
  if (slash != NULL && slash != dir) {
    *slash = '\0';
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
      fail("mkdir", errno);
    }
    struct stat st;
    if (stat(dir, &st) != 0) {
      fail("stat", errno);
    }
    // A directory someone else owns, or one others can enter, would let them race us for the socket's name.
    if (st.st_uid != getuid() || (st.st_mode & 0077) != 0) {
      fail("holders-dir-permissions", EPERM);
    }
  }
  listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd < 0) {
    fail("socket", errno);
  }
  mode_t old = umask(0177);
  int rc = bind(listen_fd, (struct sockaddr*)&addr, sizeof(addr));
  if (rc != 0 && errno == EADDRINUSE && stale_socket(&addr)) {
    // Left by a holder that was killed (SIGKILL leaves the file): nobody listens, the name is free to take.
    unlink(config.socket_path);
    rc = bind(listen_fd, (struct sockaddr*)&addr, sizeof(addr));
  }
  umask(old);
  if (rc != 0) {
    fail("bind", errno);
  }
  failed_socket_path = config.socket_path;
  if (chmod(config.socket_path, 0600) != 0) {
    fail("chmod", errno);
  }
  if (listen(listen_fd, 8) != 0) {
    fail("listen", errno);
  }
  // Without it the holder could not tell that no daemon can ever reach it again (see check_abandoned).
  socket_file_fd = open(config.socket_path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
}

static void spawn_program(void) {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  // The program starts clean: its own session (pgid = its pid), no blocked signal, every signal at its default
  // (the holder blocks SIGCHLD and ignores SIGPIPE for itself).
  corral_clean_spawnattr(&attr, POSIX_SPAWN_SETSID);
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addchdir_np(&actions, config.cwd);
  int child_ends[3] = {-1, -1, -1};
  if (config.kind == KIND_PTY) {
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (master < 0) {
      fail("posix_openpt", errno);
    }
    char path[64];
    struct termios modes;
    struct winsize size = {.ws_row = config.rows, .ws_col = config.cols};
    if (grantpt(master) != 0 || unlockpt(master) != 0 || ptsname_r(master, path, sizeof(path)) != 0 ||
        tcgetattr(master, &modes) != 0) {
      fail("pty", errno);
    }
    corral_default_terminal_modes(&modes);
    if (tcsetattr(master, TCSANOW, &modes) != 0 || ioctl(master, TIOCSWINSZ, &size) != 0) {
      fail("pty-modes", errno);
    }
    // Opened by the program after setsid, without O_NOCTTY: it becomes the controlling terminal. The holder never
    // opens the slave, so EIO on the master means the last program-side fd is gone.
    posix_spawn_file_actions_addopen(&actions, 0, path, O_RDWR, 0);
    posix_spawn_file_actions_adddup2(&actions, 0, 1);
    posix_spawn_file_actions_adddup2(&actions, 0, 2);
    channels[0] = (channel){.present = true, .fd = master};
    input_fd = master;
  } else {
    int in[2];
    int out[2];
    int err[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
      fail("pipe", errno);
    }
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    child_ends[0] = in[0];
    child_ends[1] = out[1];
    child_ends[2] = err[1];
    set_nonblocking(in[1]);
    set_nonblocking(out[0]);
    set_nonblocking(err[0]);
    input_fd = in[1];
    channels[1] = (channel){.present = true, .fd = out[0]};
    channels[2] = (channel){.present = true, .fd = err[0]};
  }
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  int err = posix_spawn(&program_pid, config.file, &actions, &attr, config.argv, config.envp);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  for (int i = 0; i < 3; i++) {
    if (child_ends[i] >= 0) {
      close(child_ends[i]);
    }
  }
  if (err != 0) {
    fail("spawn", err);
  }
  program_start = process_start_time(program_pid, NULL, NULL);
}

static void start(void) {
  if (!read_config(&config)) {
    fail("config", errno);
  }
  // Nothing of the spawner but stdio: every other fd goes.
  syscall(SYS_close_range, 3U, ~0U, 0U);
  // No fork: the spawner (holder_spawn.c, posix_spawn) leaves us running as its child, not a group leader, so
  // setsid() works; the daemon's orphan reaper collects us once we exit, and a later daemon finds us re-parented.
  if (setsid() < 0) {
    fail("setsid", errno);
  }
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    fail("subreaper", errno);
  }
  holder_pid = getpid();
  holder_start = process_start_time(holder_pid, NULL, NULL);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  signal_fd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd < 0) {
    fail("signalfd", errno);
  }
  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  for (int i = 0; i < MAX_PENDING_CONNECTIONS; i++) {
    pending[i].fd = -1;
  }
  listen_on_socket();
  spawn_program();
  // The holder pins no mount point and no terminal of its spawner.
  if (chdir("/") != 0) {
    fail("chdir", errno);
  }
  dprintf(STDOUT_FILENO, "READY %d %llu %d %llu\n", (int)holder_pid, (unsigned long long)holder_start,
          (int)program_pid, (unsigned long long)program_start);
  // Started on a socket pair (holder_spawn.c): the spawning daemon stays connected through it, with no connect to
  // the listening socket. It is a pending connection like any other: nothing is accepted on it before its HELLO
  // (which the daemon sent right after the configuration).
  struct stat st;
  if (fstat(STDIN_FILENO, &st) == 0 && S_ISSOCK(st.st_mode)) {
    int fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
    if (fd >= 0) {
      set_nonblocking(fd);
      pending[0].fd = fd;
      pending[0].deadline_ms = monotonic_ms() + HELLO_DEADLINE_MS;
    }
  }
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd >= 0) {
    dup2(null_fd, STDIN_FILENO);
    dup2(null_fd, STDOUT_FILENO);
    dup2(null_fd, STDERR_FILENO);
    close(null_fd);
  }
}

// ---- the loop -----------------------------------------------------------------------------------------------------

/** Exits for good once the daemon released the session and the program and every descendant are gone. */
static void maybe_finish(void) {
  if (!released || exit_kind == 0) {
    return;
  }
  if (children_left) {
    // The daemon has what it needs; nothing of the session may outlive it.
    signal_tree(SIGKILL, 0);
    return;
  }
  for (int i = 0; i < HOLDER_CHANNELS; i++) {
    close_channel_fd(i);
  }
  flush_client();
  unlink(config.socket_path);
  _exit(0);
}

/**
 * A holder whose socket's file was deleted (its data dir removed, or the holders dir cleared) can never be reached
 * by a daemon again: nothing could read its output, stop its program or collect its exit. Rather than keep the
 * program running unseen forever (or linger after it ended), it ends the session's tree as a stop would — SIGTERM,
 * SIGKILL after a grace — and exits. Looked at only while no daemon is attached, every ABANDON_CHECK_MS.
 */
#define ABANDON_CHECK_MS 5000
#define ABANDON_GRACE_MS 3000

static int abandon_timeout(int64_t now) {
  if (client.fd >= 0 || socket_file_fd < 0) {
    return -1;
  }
  int64_t at = abandon_kill_ms > 0 ? abandon_kill_ms : next_abandon_check_ms;
  return at <= now ? 0 : (int)(at - now);
}

static void check_abandoned(int64_t now) {
  if (client.fd >= 0 || socket_file_fd < 0) {
    return;
  }
  if (abandon_kill_ms > 0) {
    if (now >= abandon_kill_ms) {
      signal_tree(SIGKILL, 0);
      abandon_kill_ms = now + ABANDON_CHECK_MS;  // again later for anything that escaped in between
    }
    return;
  }
  if (now < next_abandon_check_ms) {
    return;
  }
  next_abandon_check_ms = now + ABANDON_CHECK_MS;
  struct stat st;
  if (fstat(socket_file_fd, &st) != 0 || st.st_nlink > 0) {
    return;
  }
  released = true;  // nobody is left to release it
  signal_tree(SIGTERM, 0);
  abandon_kill_ms = now + ABANDON_GRACE_MS;
}

enum { SLOT_LISTEN, SLOT_SIGNAL, SLOT_CLIENT, SLOT_CH0, SLOT_CH1, SLOT_CH2, SLOT_INPUT, SLOT_PENDING };

int main(int argc, char** argv) {
  (void)argc;
  (void)argv;
  start();
  bool child_signal = true;  // reap once at start: the program may already be gone
  for (;;) {
    if (child_signal) {
      reap_children();
      child_signal = false;
    }
    if (exit_kind != 0 && client.fd >= 0 && !exit_sent) {
      queue_exit();
    }
    pump_output();
    flush_client();
    maybe_finish();
    struct pollfd fds[SLOT_PENDING + MAX_PENDING_CONNECTIONS];
    fds[SLOT_LISTEN] = (struct pollfd){.fd = listen_fd, .events = POLLIN};
    fds[SLOT_SIGNAL] = (struct pollfd){.fd = signal_fd, .events = POLLIN};
    fds[SLOT_CLIENT] = (struct pollfd){.fd = client.fd, .events = (short)(POLLIN | (client.out.len > 0 ? POLLOUT : 0))};
    for (int i = 0; i < HOLDER_CHANNELS; i++) {
      // A channel that may not be read is left out: its POLLHUP would otherwise wake the loop forever.
      fds[SLOT_CH0 + i] = (struct pollfd){.fd = wants_read(&channels[i]) ? channels[i].fd : -1, .events = POLLIN};
    }
    bool input_waiting = input_fd >= 0 && pending_input.len > 0;
    if (input_waiting && config.kind == KIND_PTY && fds[SLOT_CH0].fd >= 0) {
      fds[SLOT_CH0].events |= POLLOUT;
      fds[SLOT_INPUT] = (struct pollfd){.fd = -1};
    } else {
      fds[SLOT_INPUT] = (struct pollfd){.fd = input_waiting ? input_fd : -1, .events = POLLOUT};
    }
    int64_t now = monotonic_ms();
    check_abandoned(now);
    int timeout = abandon_timeout(now);
    for (int i = 0; i < MAX_PENDING_CONNECTIONS; i++) {
      fds[SLOT_PENDING + i] = (struct pollfd){.fd = pending[i].fd, .events = POLLIN};
      if (pending[i].fd >= 0) {
        int64_t left = pending[i].deadline_ms - now;
        int wait = left < 0 ? 0 : (int)left;
        timeout = timeout < 0 || wait < timeout ? wait : timeout;
      }
    }
    int ready = poll(fds, SLOT_PENDING + MAX_PENDING_CONNECTIONS, timeout);
    if (ready < 0) {
      continue;  // EINTR
    }
    child_signal = (fds[SLOT_SIGNAL].revents & POLLIN) != 0;
    for (int i = 0; i < HOLDER_CHANNELS; i++) {
      if (fds[SLOT_CH0 + i].fd >= 0 && (fds[SLOT_CH0 + i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        read_channel(i);
      }
    }
    if ((fds[SLOT_INPUT].fd >= 0 && fds[SLOT_INPUT].revents != 0) || (fds[SLOT_CH0].revents & POLLOUT) != 0) {
      write_input();
    }
    if (client.fd >= 0 && fds[SLOT_CLIENT].fd == client.fd && (fds[SLOT_CLIENT].revents & POLLOUT) != 0) {
      flush_client();
    }
    if (client.fd >= 0 && fds[SLOT_CLIENT].fd == client.fd && (fds[SLOT_CLIENT].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      if (!read_connection(&client, MAX_IN_PAYLOAD, on_client_frame)) {
        drop_connection(&client);
      }
    }
    now = monotonic_ms();
    for (int i = 0; i < MAX_PENDING_CONNECTIONS; i++) {
      connection* c = &pending[i];
      if (c->fd < 0 || fds[SLOT_PENDING + i].fd != c->fd) {
        continue;
      }
      if ((fds[SLOT_PENDING + i].revents & (POLLIN | POLLHUP | POLLERR)) != 0 &&
          !read_connection(c, 2 + HOLDER_SECRET_BYTES + 8 * HOLDER_CHANNELS, on_pending_frame)) {
        drop_connection(c);  // wrong secret, not a HELLO, or hung up: no effect on the session
      } else if (c->fd >= 0 && c->deadline_ms <= now) {
        drop_connection(c);
      }
    }
    if ((fds[SLOT_LISTEN].revents & POLLIN) != 0) {
      accept_connections();
    }
  }
}
