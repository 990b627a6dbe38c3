/** The FIB's refusals: a Linux errno with the message iproute2 would print for it. */

const ERRNO_TEXT: Record<number, string> = {
  2: "No such file or directory",
  3: "No such process",
  13: "Permission denied",
  17: "File exists",
  19: "No such device",
  22: "Invalid argument",
  101: "Network is unreachable",
  113: "No route to host",
};

/** A refused change or query, with the Linux errno and the message iproute2 would print. */
export class FibError extends Error {
  errno: number;
  constructor(errno: number, message?: string) {
    super(message ?? `RTNETLINK answers: ${ERRNO_TEXT[errno] ?? `errno ${errno}`}`);
    this.errno = errno;
  }
}
