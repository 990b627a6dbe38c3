// The reload worker's entry (reload-prepare.ts): registers tsx for this thread, then serves reloads.
import { register } from "tsx/esm/api";
register();
const { serveReloads } = await import("./reload-prepare.ts");
serveReloads();
