// Minimal typings for the untyped npm LPM/CIDR libraries driven by npm-peers.ts.

declare module 'cidr-matcher' {
  class CIDRMatcher {
    constructor(classes?: string[]);
    addNetworkClass(cidr: string): void;
    removeNetworkClass(cidr: string): void;
    contains(addr: string): boolean;
    containsAny(addrs: string[]): boolean;
  }
  export = CIDRMatcher;
}

declare module 'longest-prefix-match' {
  class LongestPrefixMatch {
    constructor();
    length: number;
    reset(): void;
    /** prefix is "a.b.c.d/len"; payload is returned by getMatch. */
    addPrefix(prefix: string, payload: unknown): void;
    /** Payloads of the most specific containing prefix (all containing ones if all). */
    getMatch(prefix: string, all?: boolean): unknown[];
    getLessSpecificMatch(prefix: string): unknown[];
  }
  export = LongestPrefixMatch;
}
