/**
 * Prometheus metrics of a running router (#6): `wasmroute run --metrics HOST:PORT` (off by default;
 * a bare PORT listens on 127.0.0.1) serves GET /metrics in the Prometheus text format (0.0.4), built
 * with prom-client on a registry of its own. Every value is read from the router when scraped:
 *
 *   wasmroute_rt_cache_<field>_total           counter  each /proc/net/stat/rt_cache counter (in_hit, in_slow_tot,
 *                                                       …, out_hlist_search), summed over workers
 *   wasmroute_route_cache_entries{state}       gauge    hashed (what `ip route show cache` lists) and allocated
 *                                                       (what GC and max_size see; the file's `entries`)
 *   wasmroute_route_cache_garbage_entries      gauge    unhashed entries still referenced (§7.3)
 *   wasmroute_route_cache_limit_entries{limit} gauge    gc_thresh and max_size as configured
 *   wasmroute_route_cache_buckets              gauge    rhash_entries
 *   wasmroute_interface_{rx,tx}_{frames,bytes}_total{interface}, wasmroute_interface_tx_errors_total{interface}
 *   wasmroute_interface_drops_total{interface} counter  frames dropped that came in on the port (core dp_port_drops)
 *   wasmroute_interface_rx_{missed,length_errors,multicast}_total{interface}  counter  `ip -s -s link`'s RX missed,
 *                                                       length errors and mcast (host/router/links.ts)
 *   wasmroute_interface_rx_batches_total{interface,frames}  counter  receive batches handed to the core, by frames
 *                                                       per batch (1, 2-3, 4-7, …, 128-255, 256+): a router that
 *                                                       keeps up takes small batches, one that falls behind full ones
 *   wasmroute_drops_total{reason}              counter  the WrDrop reasons of /proc/net/netstat
 *   wasmroute_snmp_total{block,counter}        counter  the Ip, IpExt, Icmp and Udp MIB counters of /proc/net/snmp
 *   wasmroute_neigh_entries                    gauge    neighbour table entries
 *   wasmroute_alarm_events_total{alarm}        counter  dst_cache_overflow, cache_full, emergency_rebuild, caching_disabled
 *   wasmroute_alarm{alarm}                     gauge    1 while raised: overflow (a cache overflow or a full cache
 *                                                       within the last 60 s), leak (the leak alarm),
 *                                                       caching_disabled (the cache's state)
 *   wasmroute_route_cache_leak_held_entries    gauge    entries held while the leak alarm is raised (else 0)
 *   wasmroute_gc_step_seconds{kind}            histogram wall time of each GC step: garbage_collect
 *                                                       (rt_garbage_collect's sweep), check_expire (the
 *                                                       periodic scan), dst_gc_task (the garbage reaper),
 *                                                       timed by the host around the core's GC probe
 *   wasmroute_sync_routes{table,netns}         gauge    routes mirrored by --sync-from-kernel (host/router/kernel-sync.ts)
 *   wasmroute_sync_up{table,netns}             gauge    1 while that mirror is in sync, 0 while it reconnects
 *   process_* and nodejs_*                             prom-client's default process metrics
 *
 * The core's counters are u32 (rt_cache) or u64 (MIB): a wrapped u32 shows as a counter reset.
 */
import { createServer, type Server } from "node:http";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Router } from "./router.ts";
import { RX_BATCH_CLASSES, type PortReport } from "./dataplane.ts";
import { RT_CACHE_FIELD_NAMES } from "../cache/stat.ts";
import { readSnmp, SNMP_BLOCKS, SNMP_OFFSETS, WRDROP_FIELDS, DROP_REASONS } from "./snmp.ts";

/** How long after a cache overflow or a full cache the overflow alarm stays raised (ms). */
export const OVERFLOW_ALARM_HOLD_MS = 60_000;

/** GC step histogram buckets (s): 10 µs … 100 ms; the target is no step over 1 ms (issue #3). */
export const GC_STEP_BUCKETS = [1e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 1e-1];

/** MIB blocks exported (IcmpMsg's 512 per-type counters and TcpExt are left to nstat). */
const SNMP_EXPORTED = ["Ip", "IpExt", "Icmp", "Udp"] as const;

/** "9101" → 127.0.0.1:9101; "0.0.0.0:9101"; "[::1]:9101". Throws a one-line Error. */
export function parseListenAddress(text: string): { host: string; port: number } {
  const m = /^(?:(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new Error(`--metrics wants [HOST:]PORT (e.g. 127.0.0.1:9101), got "${text}"`);
  const host = m[1] === undefined ? "127.0.0.1" : m[1].replace(/^\[|\]$/g, "");
  return { host, port };
}

/** The registry with every metric of the router (collected at scrape time). */
export function routerRegistry(router: Router): Registry {
  const reg = new Registry();
  const registers = [reg];
  /** A counter whose value is copied from the router at each scrape. */
  const mirror = (name: string, help: string, labelNames: string[], read: () => [Record<string, string>, number][]) =>
    new Counter({
      name,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const [labels, v] of read()) this.inc(labels, Math.max(0, v));
      },
    });
  const gauge = (name: string, help: string, labelNames: string[], read: () => [Record<string, string>, number][]) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const [labels, v] of read()) this.set(labels, v);
      },
    });

  // One read of the counters per scrape, shared by the metrics of that scrape.
  let snap: { at: number; rt: Uint32Array; snmp: BigUint64Array; drops: Uint32Array } | undefined;
  const read = () => {
    const t = Date.now();
    if (!snap || t - snap.at > 50) {
      snap = { at: t, rt: router.cache.counters(), snmp: readSnmp(router.fib.core), drops: router.portDrops() };
    }
    return snap;
  };

  RT_CACHE_FIELD_NAMES.forEach((field, i) => {
    if (field === "entries") return;
    mirror(`wasmroute_rt_cache_${field}_total`, `/proc/net/stat/rt_cache ${field}`, [], () => [[{}, read().rt[i]!]]);
  });
  gauge("wasmroute_route_cache_entries", "Route cache entries: hashed (listed by ip route show cache) and allocated (what GC and max_size count)", ["state"], () => [
    [{ state: "hashed" }, router.cache.hashed],
    [{ state: "allocated" }, router.cache.allocated],
  ]);
  gauge("wasmroute_route_cache_garbage_entries", "Unhashed route cache entries still referenced", [], () => [[{}, router.cache.garbage]]);
  gauge("wasmroute_route_cache_limit_entries", "gc_thresh and max_size", ["limit"], () => {
    const p = router.routeSysctls.params();
    return [
      [{ limit: "gc_thresh" }, p.gcThresh],
      [{ limit: "max_size" }, p.maxSize],
    ];
  });
  gauge("wasmroute_route_cache_buckets", "Route cache hash buckets (rhash_entries)", [], () => [[{}, router.cache.buckets]]);

  const ports = () => router.dp.stats();
  const perPort = (f: (s: PortReport) => number) => () => ports().map((p): [Record<string, string>, number] => [{ interface: p.name }, f(p)]);
  mirror("wasmroute_interface_rx_frames_total", "Frames received on the port", ["interface"], perPort((p) => p.stats.rxFrames));
  mirror("wasmroute_interface_rx_bytes_total", "Bytes received on the port", ["interface"], perPort((p) => p.stats.rxBytes));
  mirror("wasmroute_interface_tx_frames_total", "Frames sent on the port", ["interface"], perPort((p) => p.stats.txFrames));
  mirror("wasmroute_interface_tx_bytes_total", "Bytes sent on the port", ["interface"], perPort((p) => p.stats.txBytes));
  mirror("wasmroute_interface_tx_errors_total", "Frames the device refused or had no room for", ["interface"], perPort((p) => p.stats.txErrors));
  mirror("wasmroute_interface_drops_total", "Frames received on the port and dropped", ["interface"], perPort((p) => read().drops[p.ifindex] ?? 0));
  mirror("wasmroute_interface_rx_missed_total", "Frames lost before the router took them: a full receive ring, buffer or tap queue", ["interface"], perPort((p) => p.losses.missed));
  mirror("wasmroute_interface_rx_multicast_total", "Frames received to a multicast MAC (broadcast not included)", ["interface"], perPort((p) => p.stats.rxMulticast));
  mirror("wasmroute_interface_rx_length_errors_total", "Frames that arrived cut, longer than the room they were read into", ["interface"], perPort((p) => p.losses.cut));
  mirror("wasmroute_interface_rx_batches_total", "Receive batches handed to the core, by frames per batch", ["interface", "frames"], () =>
    ports().flatMap((p) => RX_BATCH_CLASSES.map((frames, k): [Record<string, string>, number] => [{ interface: p.name, frames }, p.rxBatches[k]!])));

  mirror("wasmroute_drops_total", "Frames dropped, by reason (WrDrop in /proc/net/netstat)", ["reason"], () => {
    const s = read().snmp;
    const out: [Record<string, string>, number][] = [];
    WRDROP_FIELDS.forEach((reason, i) => {
      const v = Number(s[SNMP_OFFSETS.WrDrop + i]!);
      if (i < DROP_REASONS.length || v > 0) out.push([{ reason }, v]);
    });
    return out;
  });
  mirror("wasmroute_snmp_total", "MIB counters of /proc/net/snmp (Ip, IpExt, Icmp, Udp)", ["block", "counter"], () => {
    const s = read().snmp;
    const out: [Record<string, string>, number][] = [];
    for (const b of SNMP_BLOCKS) {
      if (!(SNMP_EXPORTED as readonly string[]).includes(b.block)) continue;
      b.fields.forEach((counter, i) => out.push([{ block: b.block, counter }, Number(s[SNMP_OFFSETS[b.block] + i]!)]));
    }
    return out;
  });
  gauge("wasmroute_neigh_entries", "Neighbour table entries", [], () => [[{}, router.neigh.arpStat()[0]!]]);

  mirror("wasmroute_alarm_events_total", "Alarm events: drops at dst cache overflow, uncached forwards with a full cache, emergency rebuilds, caching disabled", ["alarm"], () => {
    const a = router.alarms;
    return [
      [{ alarm: "dst_cache_overflow" }, a.overflow],
      [{ alarm: "cache_full" }, a.uncached],
      [{ alarm: "emergency_rebuild" }, a.rebuild],
      [{ alarm: "caching_disabled" }, a.disabled],
    ];
  });
  gauge("wasmroute_alarm", "1 while the alarm is raised", ["alarm"], () => {
    const a = router.alarms;
    const now = router.clockMs();
    const recent = (at: number) => (at !== 0 && ((now - at) >>> 0) < OVERFLOW_ALARM_HOLD_MS ? 1 : 0);
    return [
      [{ alarm: "overflow" }, Math.max(recent(a.overflowAt), recent(a.uncachedAt))],
      [{ alarm: "leak" }, router.leakAlarm ? 1 : 0],
      [{ alarm: "caching_disabled" }, router.cache.state().cachingDisabled ? 1 : 0],
    ];
  });
  gauge("wasmroute_route_cache_leak_held_entries", "Entries held unhashed while the leak alarm is raised", [], () => [[{}, router.leakAlarm?.held ?? 0]]);

  const gcSteps = new Histogram({
    name: "wasmroute_gc_step_seconds",
    help: "Wall time of each route cache GC step (rt_garbage_collect sweep, rt_check_expire scan, dst garbage reaper)",
    labelNames: ["kind"],
    buckets: GC_STEP_BUCKETS,
    registers,
  });
  router.gcSteps.onStep((s) => gcSteps.observe({ kind: s.kind }, s.seconds));
  const sources = () => router.routeSources.map((x) => x.status());
  gauge("wasmroute_sync_routes", "Routes mirrored from a kernel table (--sync-from-kernel)", ["table", "netns"], () => sources().map((x) => [{ table: x.table, netns: x.netns }, x.routes]));
  gauge("wasmroute_sync_up", "1 while the mirror of a kernel table is in sync, 0 while it reconnects", ["table", "netns"], () => sources().map((x) => [{ table: x.table, netns: x.netns }, x.synced ? 1 : 0]));

  collectDefaultMetrics({ register: reg });
  return reg;
}

/** The HTTP endpoint: GET /metrics; anything else is 404. */
export class MetricsServer {
  readonly registry: Registry;
  private readonly server: Server;
  /** The address bound (the port is the real one when 0 was asked). */
  host = "";
  port = 0;

  private constructor(registry: Registry) {
    this.registry = registry;
    this.server = createServer((req, res) => {
      const url = (req.url ?? "/").split("?")[0];
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { allow: "GET, HEAD" }).end();
        return;
      }
      if (url !== "/metrics") {
        res.writeHead(404, { "content-type": "text/plain" }).end("wasmroute: metrics are at /metrics\n");
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": this.registry.contentType }).end(req.method === "HEAD" ? undefined : text),
        (e: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(`${e instanceof Error ? e.message : String(e)}\n`),
      );
    });
  }

  static async start(router: Router, listen: { host: string; port: number }): Promise<MetricsServer> {
    const m = new MetricsServer(routerRegistry(router));
    await new Promise<void>((resolve, reject) => {
      m.server.once("error", reject);
      m.server.listen(listen.port, listen.host, () => {
        m.server.off("error", reject);
        resolve();
      });
    }).catch((e: unknown) => {
      throw new Error(`--metrics ${listen.host}:${listen.port}: ${e instanceof Error ? e.message : String(e)}`);
    });
    const a = m.server.address();
    if (a && typeof a === "object") {
      m.host = a.address;
      m.port = a.port;
    }
    return m;
  }

  get url(): string {
    return `http://${this.host.includes(":") ? `[${this.host}]` : this.host}:${this.port}/metrics`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
