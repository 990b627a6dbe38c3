// The control socket's raw protocol as a test sees it: one request line, then the server's messages
// ({"stdout"} pieces, {"stderr"}, and last {"exit"}), each a JSON line, collected until the exit.
import { connect } from "node:net";

export interface ControlMessage {
  stdout?: string;
  stderr?: string;
  exit?: number;
}

/** Sends argv to the router listening on `sock` and resolves with every message of its answer. */
export function rawControlMessages(sock: string, argv: readonly string[]): Promise<ControlMessage[]> {
  return new Promise((resolve, reject) => {
    const s = connect(sock);
    const got: ControlMessage[] = [];
    let buf = "";
    s.setEncoding("utf8");
    s.on("error", reject);
    s.on("connect", () => s.write(`${JSON.stringify({ argv })}\n`));
    s.on("data", (chunk: string) => {
      buf += chunk;
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const m = JSON.parse(buf.slice(0, nl)) as ControlMessage;
        buf = buf.slice(nl + 1);
        got.push(m);
        if (m.exit !== undefined) {
          s.destroy();
          resolve(got);
        }
      }
    });
  });
}
