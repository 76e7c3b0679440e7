// The wire format between the daemon and a session holder (native/holder.c). Mirrored, constant for constant, in
// src/engine/backends/holderProtocol.ts: change both together and bump HOLDER_PROTOCOL_VERSION.
//
// Every frame: u8 type, u32 payload length (big-endian), payload. Integers are big-endian; offsets are u64.
// Channels: 0 pty, 1 stdout, 2 stderr. Offsets count the bytes of one channel from 0, for the session's life.
//
// Daemon -> holder
//   HELLO       u16 version, u8[32] secret, u64 resume[3]  first frame of a connection, nothing else is accepted
//                                                          before it. resume[c] = the daemon's journal end on
//                                                          channel c: acknowledges everything before it, and
//                                                          DATA starts there.
//   INPUT       bytes                                      to the terminal / stdin, queued in order
//   END_INPUT   -                                          closes the program's stdin once queued input is written
//                                                          (pipe kind; a terminal has no separate stdin)
//   RESIZE      u16 cols, u16 rows                         TIOCSWINSZ (the kernel sends SIGWINCH)
//   PAUSE       -                                          stop reading output (the program blocks when the kernel
//   RESUME      -                                          buffer fills); a new HELLO resumes
//   SIGNAL      u8 scope, u8 signo                         scope 0 program, 1 its process group, 2 every
//                                                          descendant of the holder (the whole tree, escapees too)
//   ACK         u8 channel, u64 offset                     everything before offset is journalled: forget it
//   FORCE_CLOSE -                                          stop waiting for EOF (the tree is known dead): queued
//                                                          bytes are still sent, then CLOSED
//   RELEASE     -                                          the daemon has everything: once the program has exited,
//                                                          the holder kills what is left of the tree, removes its
//                                                          socket and exits
// Holder -> daemon
//   WELCOME     u16 version, u32 holder pid, u64 holder start, u32 program pid, u64 program start, u8 kind
//               (0 pty, 1 pipe), u8 exit (0 running, 1 exited, 2 killed by a signal), i32 exit value (code or
//               signo), then per channel c in 0..2: u8 flags (1 present, 2 ended), u64 next offset, u64 acked,
//               then u8 flags: 1 children left (as EXIT's tree), 2 input ended (END_INPUT was received);
//               a holder of the first version ends before it
//   DATA        u8 channel, u64 offset, bytes              offsets are continuous per channel
//   EXIT        u8 exit (1 exited, 2 signal), i32 value,   the program was reaped (sent once per connection, unless
//               u8 tree (0 no descendant left, 1 some)     WELCOME already carried it). tree: whether the holder
//                                                          still had children when it sent it (a holder of the
//                                                          first version sends no tree byte: unknown)
//   CLOSED      u8 channel, u64 end offset                 EOF/EIO: every byte of the channel was sent before it
//   GAP         u8 channel, u64 from, u64 to               the daemon asked for bytes no longer retained (cannot
//                                                          happen when it only acknowledges what it journalled)
//   REPLACED    -                                          another daemon connected; this connection ends
#ifndef CORRAL_HOLDER_PROTOCOL_H
#define CORRAL_HOLDER_PROTOCOL_H

#define HOLDER_PROTOCOL_VERSION 1
#define HOLDER_SECRET_BYTES 32
#define HOLDER_CHANNELS 3
#define HOLDER_FRAME_HEADER_BYTES 5

enum holder_frame_type {
  FRAME_HELLO = 0x01,
  FRAME_INPUT = 0x02,
  FRAME_END_INPUT = 0x03,
  FRAME_RESIZE = 0x04,
  FRAME_PAUSE = 0x05,
  FRAME_RESUME = 0x06,
  FRAME_SIGNAL = 0x07,
  FRAME_ACK = 0x08,
  FRAME_FORCE_CLOSE = 0x09,
  FRAME_RELEASE = 0x0a,

  FRAME_WELCOME = 0x81,
  FRAME_DATA = 0x82,
  FRAME_EXIT = 0x83,
  FRAME_CLOSED = 0x84,
  FRAME_GAP = 0x85,
  FRAME_REPLACED = 0x86,
};

enum holder_signal_scope { SIGNAL_PROGRAM = 0, SIGNAL_GROUP = 1, SIGNAL_TREE = 2 };

// The spawn configuration the daemon writes to the holder's stdin:
//   "CHC2", u32 length of the rest, then: u8 kind, u16 cols, u16 rows, u64 retain cap (bytes per channel),
//   u8[32] secret, str socket path, str cwd, str file, u32 argc + str * argc, u32 envc + str * envc
//   (str = u32 length + bytes)
// The holder answers on stdout with one line, then lets go of the spawner's stdio:
//   "READY <holder pid> <holder start> <program pid> <program start>\n"  or  "ERROR <step> <errno name>\n"
// When stdin and stdout are one socket (the daemon's spawn: a socket pair), that socket then becomes a pending
// connection, as if accepted on the listening socket: the daemon's HELLO (sent right after the configuration) makes
// it the client, and frames follow the READY line on it.
#define HOLDER_CONFIG_MAGIC "CHC2"

#endif
