/**
 * A cursor over a command's options (`wasmroute run`, `wasmroute lab`): iterate for each option's name,
 * then take its argument with `value()`. Errors are plain one-line `Error`s naming the option.
 */
export class OptionArgs implements Iterable<string> {
  private readonly argv: readonly string[];
  private i = -1;

  constructor(argv: readonly string[]) {
    this.argv = argv;
  }

  *[Symbol.iterator](): Iterator<string> {
    for (this.i++; this.i < this.argv.length; this.i++) yield this.argv[this.i]!;
  }

  /** The argument of the current option (the next word); throws when the command line ends. */
  value(): string {
    const name = this.argv[this.i];
    const v = this.argv[this.i + 1];
    if (v === undefined) throw new Error(`option ${name} needs a value`);
    this.i++;
    return v;
  }

  /** The next word, not taken. */
  peek(): string | undefined {
    return this.argv[this.i + 1];
  }

  /** Takes up to n more words (fewer where the command line ends). */
  take(n: number): string[] {
    const words = this.argv.slice(this.i + 1, this.i + 1 + n);
    this.i += words.length;
    return words;
  }

  /** The current option's argument as a whole number from min to max. */
  count(min: number, max: number): number {
    const name = this.argv[this.i];
    const v = this.value();
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new Error(`${name} wants a whole number from ${min} to ${max}, got "${v}"`);
    return Number(v);
  }
}
