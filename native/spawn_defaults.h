// What every program Corral starts begins with, shared by the addon (pty.c, holder_spawn.c) and corral-holder
// (holder.c): the terminal modes of a fresh terminal emulator, and spawn attributes that reset the signal state the
// spawner had (Node ignores SIGPIPE; the holder blocks SIGCHLD) so the program starts as from a login shell.
#ifndef CORRAL_SPAWN_DEFAULTS_H
#define CORRAL_SPAWN_DEFAULTS_H

#include <spawn.h>
#include <termios.h>

// Canonical input with echo and signals, CR -> NL on input, NL -> CRNL on output, UTF-8 aware erase: what xterm,
// VS Code's node-pty and tmux give a new shell.
void corral_default_terminal_modes(struct termios* t);

// Initialises `attr` with no blocked signal and every signal at its default disposition, plus `extra_flags`
// (e.g. POSIX_SPAWN_SETSID for a program that must lead its own session). The caller destroys it.
void corral_clean_spawnattr(posix_spawnattr_t* attr, short extra_flags);

#endif
