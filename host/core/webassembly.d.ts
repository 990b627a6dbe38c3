// The part of the WebAssembly JS API the host uses (Node 20's @types/node does not declare it, and
// lib.dom would bring browser globals that do not exist here).
declare namespace WebAssembly {
  class Module {
    constructor(bytes: BufferSource);
    static imports(m: Module): { module: string; name: string; kind: string }[];
    static exports(m: Module): { name: string; kind: string }[];
    static customSections(m: Module, name: string): ArrayBuffer[];
  }
  type Imports = Record<string, Record<string, unknown>>;
  class Instance {
    constructor(module: Module, imports?: Imports);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    constructor(desc: { initial: number; maximum?: number; shared?: boolean });
    readonly buffer: ArrayBuffer;
    grow(pages: number): number;
  }
}
