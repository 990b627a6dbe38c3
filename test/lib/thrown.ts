/** The message of the Error that `f` throws; fails the test when `f` returns instead. */
export function thrown(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("did not throw");
}
