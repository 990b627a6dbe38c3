/**
 * Empties an array kept for reuse. `a.length = 0` is a call into V8's runtime (about 65 ns on this machine
 * kind, a few of them in every FIB update); popping a short array stays in compiled code (about 4 ns an
 * element) and keeps its backing store for the next use. Long arrays are cut at once.
 */
export function clearArray(a: unknown[]): void {
  if (a.length > 32) a.length = 0;
  else while (a.length > 0) a.pop();
}
