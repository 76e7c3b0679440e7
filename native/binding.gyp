{
  "targets": [
    {
      "target_name": "corral_native",
      "sources": ["corral_native.c", "native_util.c", "pty.c", "output_reader.c", "holder_spawn.c", "spawn_defaults.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Werror"]
    },
    {
      "target_name": "corral-holder",
      "type": "executable",
      "sources": ["holder.c", "spawn_defaults.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-O2"],
      "ldflags": ["-static"]
    },
    {
      "target_name": "corral-cgroup-enter",
      "type": "executable",
      "sources": ["cgroup_enter.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-O2"],
      "ldflags": ["-static"]
    },
    {
      "target_name": "corral-sandbox-init",
      "type": "executable",
      "sources": ["sandbox_init.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-O2"],
      "ldflags": ["-static"]
    }
  ]
}
