// Benchmark baselines: adapters that drive npm CIDR/LPM libraries the way their users
// would (CIDR and dotted-quad strings included), behind one build/lookup interface.
/// <reference path="./npm-peers.d.ts" />
import CIDRMatcher from 'cidr-matcher';
import LongestPrefixMatch from 'longest-prefix-match';
import { Netmask } from 'netmask';
import { formatIPv4 } from '../../host/fib/ipv4.ts';

export interface NpmPeer {
  readonly name: string;
  /** True if lookup only answers "covered by some prefix" (1) or not (0). */
  readonly membershipOnly: boolean;
  /** Load routes (replacing any previous table); later duplicates win. */
  build(addrs: Uint32Array, lens: Uint8Array, values: Uint32Array): void;
  /** Value of the longest match, 0 if none (membership-only: 1/0). */
  lookup(addr: number): number;
}

/** Canonical "a.b.c.d/len" (host bits cleared). */
export function cidrToString(addr: number, len: number): string {
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  return `${formatIPv4((addr & mask) >>> 0)}/${len}`;
}

/** cidr-matcher: membership only; linear range scan after ip6addr parsing of the query. */
export function cidrMatcherPeer(): NpmPeer {
  let m = new CIDRMatcher();
  return {
    name: 'cidr-matcher',
    membershipOnly: true,
    build(addrs, lens) {
      const cidrs: string[] = [];
      for (let i = 0; i < addrs.length; i++) cidrs.push(cidrToString(addrs[i], lens[i]));
      m = new CIDRMatcher(cidrs);
    },
    lookup(addr) {
      return m.contains(formatIPv4(addr)) ? 1 : 0;
    },
  };
}

/**
 * netmask: true LPM by linear scan of Netmask blocks sorted most-specific first; the
 * first block whose contains(dotted-quad) is true is the longest match.
 */
export function netmaskScanPeer(): NpmPeer {
  let blocks: Netmask[] = [];
  let vals: number[] = [];
  return {
    name: 'netmask (scan)',
    membershipOnly: false,
    build(addrs, lens, values) {
      const byCidr = new Map<string, number>(); // dedupe: later duplicate wins
      for (let i = 0; i < addrs.length; i++) byCidr.set(cidrToString(addrs[i], lens[i]), values[i]);
      const entries = [...byCidr].map(([cidr, v]) => ({ block: new Netmask(cidr), v }));
      entries.sort((x, y) => y.block.bitmask - x.block.bitmask);
      blocks = entries.map((e) => e.block);
      vals = entries.map((e) => e.v);
    },
    lookup(addr) {
      const ip = formatIPv4(addr);
      for (let i = 0; i < blocks.length; i++) if (blocks[i].contains(ip)) return vals[i];
      return 0;
    },
  };
}

interface LpmPayload {
  len: number;
  value: number;
}

/**
 * longest-prefix-match: binary-string trie; getMatch("a.b.c.d/32") returns the payload
 * bucket of the most specific prefix (several entries if a prefix was added twice), so
 * pick the longest, last-added one. The library never matches a /0 (its trie root
 * bucket is skipped by getMatch), so the adapter keeps the default route aside and
 * falls back to it, as a user would have to.
 */
export function longestPrefixMatchPeer(): NpmPeer {
  let lpm = new LongestPrefixMatch();
  let defaultRoute = 0;
  return {
    name: 'longest-prefix-match',
    membershipOnly: false,
    build(addrs, lens, values) {
      lpm = new LongestPrefixMatch();
      defaultRoute = 0;
      for (let i = 0; i < addrs.length; i++) {
        if (lens[i] === 0) defaultRoute = values[i];
        else lpm.addPrefix(cidrToString(addrs[i], lens[i]), { len: lens[i], value: values[i] });
      }
    },
    lookup(addr) {
      const bucket = lpm.getMatch(`${formatIPv4(addr)}/32`) as LpmPayload[];
      let best: LpmPayload | undefined;
      for (const p of bucket) if (best === undefined || p.len >= best.len) best = p;
      return best === undefined ? defaultRoute : best.value;
    },
  };
}

/** Fresh instances of every npm peer adapter. */
export function createNpmPeers(): NpmPeer[] {
  return [cidrMatcherPeer(), netmaskScanPeer(), longestPrefixMatchPeer()];
}
