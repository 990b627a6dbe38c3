/**
 * Sysctl names as procps-ng's sysctl(8) reads, prints and orders them (shared by the interface, neighbour
 * and route-cache knobs).
 */
/**
 * Splits a sysctl name into path components as procps-ng's sysctl(8) does: when the first separator is
 * "/", "/" separates and "." is literal (`net/ipv4/conf/eth0.10/rp_filter`); otherwise "." separates and
 * a "/" stands for a literal "." (`net.ipv4.conf.eth0/10.rp_filter`).
 */
export function sysctlPath(name: string): string[] {
  const t = name.trim();
  const slash = t.indexOf("/");
  const dot = t.indexOf(".");
  if (slash >= 0 && (dot < 0 || slash < dot)) return t.split("/");
  return t.split(".").map((c) => c.replaceAll("/", "."));
}

/** The dotted name sysctl(8) prints for a path: "." inside a component is shown as "/". */
export function sysctlName(path: readonly string[]): string {
  return path.map((c) => c.replaceAll(".", "/")).join(".");
}

/** Orders names as `sysctl -a` lists them: component by component, bytewise (readdir of /proc/sys). */
export function compareSysctlNames(a: string, b: string): number {
  const pa = sysctlPath(a);
  const pb = sysctlPath(b);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    if (pa[i] !== pb[i]) return pa[i]! < pb[i]! ? -1 : 1;
  }
  return pa.length - pb.length;
}
