/**
 * Empties an array kept for reuse. `a.length = 0` is a call into V8's runtime that also drops the array's
 * backing store, so the next push allocates again (about 65 ns for the pair on this machine kind, several in
 * every FIB update); popping a short array stays in compiled code (about 4 ns an element) and keeps its
 * store. Long arrays are cut at once.
 */
export function clearArray(a: unknown[]): void {
  if (a.length > 32) a.length = 0;
  else while (a.length > 0) a.pop();
}
