{
  "targets": [
    {
      "target_name": "corral_native",
      "sources": ["corral_native.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Werror"]
    }
  ]
}
