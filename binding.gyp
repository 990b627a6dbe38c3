{
  "targets": [
    {
      "target_name": "wrio",
      "sources": ["host/io/native/wrio.c", "host/io/native/uring.c", "host/io/native/privilege.c", "host/io/native/packet_ring.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
