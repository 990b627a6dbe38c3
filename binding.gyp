{
  "targets": [
    {
      "target_name": "wrio",
      "sources": ["host/io/native/wrio.c", "host/io/native/uring.c", "host/io/native/privilege.c", "host/io/native/packet_ring.c", "host/io/native/netns.c", "host/io/native/port_counters.c", "host/io/native/watch.c", "host/io/native/area.c", "host/io/native/tap_mshot.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
