/**
 * Interface names ↔ indexes, as the control plane knows them. `lo` is 1, like Linux; every other name
 * gets the next index the first time a route, rule or query mentions it. (The data plane issue gives
 * interfaces real devices; the indexes stay what the core's next hops and rules store.)
 */
export class Interfaces {
  private byName = new Map<string, number>([["lo", 1]]);
  private byIndex: string[] = ["", "lo"];

  /** Index of `name`, registering it when new. */
  index(name: string): number {
    let i = this.byName.get(name);
    if (i === undefined) {
      if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(name)) throw new Error(`invalid interface name "${name}"`);
      i = this.byIndex.length;
      this.byName.set(name, i);
      this.byIndex.push(name);
    }
    return i;
  }

  /** Index of a known interface, or undefined. */
  find(name: string): number | undefined {
    return this.byName.get(name);
  }

  name(index: number): string | undefined {
    return this.byIndex[index];
  }
}
