/**
 * Executes one `ip` command (`route …` or `rule …`, without the leading `ip`) against a FIB.
 *
 * This layer only talks to the `Fib` control-plane API and an output callback, so the same function
 * serves the command line, a batch file, and (later) a control socket.
 */
import { resolve } from "node:path";
import type { Fib } from "../fib/fib.ts";
import { readCidrListFile } from "../fib/cidr-list.ts";
import { formatIPv4 } from "../fib/ipv4.ts";
import { TABLE_MAIN } from "../fib/types.ts";
import { formatAnswer, formatRoute, formatRule, routeAddText, routeDelText, ruleAddText, ruleDelText } from "./format.ts";
import { parseRouteCommand } from "./parse-route.ts";
import { parseRuleCommand } from "./parse-rule.ts";
import { tableName, q } from "./words.ts";

export interface IpCommandResult {
  /** The command changed the FIB. */
  mutated: boolean;
  /** For a change: the normalised command line to persist (replaying it redoes the change). */
  canonical?: string;
}

/** Runs one command; throws Error (one-line message) on a parse error or a refused change. */
export function runIpCommand(fib: Fib, words: readonly string[], out: (line: string) => void): IpCommandResult {
  const object = words[0];
  const rest = words.slice(1);
  switch (object) {
    case "route":
      return runRoute(fib, rest, out);
    case "rule":
      return runRule(fib, rest, out);
    case undefined:
      throw new Error(`missing command: expected "route …" or "rule …"`);
    default:
      throw new Error(`unknown object ${q(object)}: expected "route" or "rule"`);
  }
}

function runRoute(fib: Fib, words: readonly string[], out: (line: string) => void): IpCommandResult {
  const cmd = parseRouteCommand(words);
  switch (cmd.op) {
    case "add":
      fib.addRoute(cmd.route, cmd.mode);
      return { mutated: true, canonical: routeAddText(cmd.mode, cmd.route) };
    case "del":
      fib.delRoute(cmd.selector);
      return { mutated: true, canonical: routeDelText(cmd.selector) };
    case "show": {
      const showTable = cmd.table === "all";
      const p = cmd.prefix;
      // A prefix selects exactly that prefix (iproute2: `ip route show PREFIX` = `exact PREFIX`): looked up,
      // not filtered out of a dump of the whole table.
      const routes = p ? (cmd.table === "all" ? fib.tableIds() : [cmd.table]).flatMap((t) => fib.routesAt(t, p.addr, p.len)) : fib.routes(cmd.table);
      for (const r of routes) for (const line of formatRoute(r, { showTable })) out(line);
      return { mutated: false };
    }
    case "get":
      out(formatAnswer(cmd.query, fib.get(cmd.query)));
      return { mutated: false };
    case "load": {
      const path = resolve(cmd.file);
      const list = readCidrListFile(path);
      fib.loadCidrList(list.addrs, list.lens, { table: cmd.table, nexthops: cmd.nexthops });
      const hops = cmd.nexthops.map((h) => `nexthop via ${formatIPv4(h.gateway)} dev ${h.dev}`).join(" ");
      return { mutated: true, canonical: `route load ${path}${cmd.table !== TABLE_MAIN ? ` table ${tableName(cmd.table)}` : ""} ${hops}` };
    }
    case "flush": {
      let n = 0;
      if (cmd.table === "all") {
        const ids = fib.tableIds(); // an empty table flushes nothing: no dump of every route to find the others
        fib.transaction(() => {
          for (const id of ids) n += fib.flushTable(id);
        });
      } else n = fib.flushTable(cmd.table);
      if (n === 0) return { mutated: false };
      const t = cmd.table === "all" ? "all" : tableName(cmd.table);
      return { mutated: true, canonical: `route flush table ${t}` };
    }
  }
}

function runRule(fib: Fib, words: readonly string[], out: (line: string) => void): IpCommandResult {
  const cmd = parseRuleCommand(words);
  switch (cmd.op) {
    case "add": {
      const rule = fib.addRule(cmd.rule);
      return { mutated: true, canonical: ruleAddText(rule) };
    }
    case "del":
      fib.delRule(cmd.selector);
      return { mutated: true, canonical: ruleDelText(cmd.selector) };
    case "show":
      for (const r of fib.rules()) out(formatRule(r));
      return { mutated: false };
  }
}
