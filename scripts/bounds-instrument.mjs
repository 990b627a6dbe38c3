// bounds-instrument.mjs — the checked build's whole-module layer (issue #7): a post-compile Binaryen pass
// that routes every load, store, memory.copy and memory.fill of the core through a check of the address
// range against the memory the core may legally touch, and traps with which function, which address and
// how many bytes when it may not. scripts/build.mjs runs it on the "checked" target; test/checked-build
// .test.ts runs uncheckedAccesses() on the result.
//
// Legal memory (anything else is a wild pointer):
// ┌───────────────────────────┬──────────────────────────────────────────────────────────────────────┐
// │ 0 .. 15                   │ null guard: traps (a null pointer plus a small field offset)          │
// │ 16 .. 31                  │ the host-visible fib_route() answer (assembly/index.ts header)       │
// │ 32 .. memoryBase          │ traps (nothing lives there)                                          │
// │ memoryBase .. top         │ static data (memory.data segments and zero-filled statics up to      │
// │                           │ __heap_base), then every arena block ever handed out                 │
// │ top .. memory.size        │ traps: memory the allocator has not handed out (util/arena.ts `top`, │
// │                           │ read live through the global that the mem_top export returns)        │
// └───────────────────────────┴──────────────────────────────────────────────────────────────────────┘
//
// Why not Binaryen's own safe-heap pass: it checks ptr == 0 (not a null page), alignment (frames are
// read at odd addresses on purpose, so every be32 would fault), and an upper bound loaded from memory
// through emscripten's emscripten_get_sbrk_ptr; our top is a wasm global, there is no lower bound for the
// gap between the header and the static data, and its segfault() import says nothing about where. The
// pass below is small, and names the function of every faulting site.
//
// Each instrumented site passes a site number: function index · 8 + kind (KINDS). The function names,
// by index, go into a custom section (SECTION) so the host can say where a fault happened.
import binaryen from "binaryen";

export const CHECK = "wasmroute_bounds_check";
export const CHECK_COPY = "wasmroute_bounds_check_copy";
export const CHECK_FILL = "wasmroute_bounds_check_fill";
export const FAULT = "wasmroute_bounds_fault";
export const HELPERS = [CHECK, CHECK_COPY, CHECK_FILL];
export const SECTION = "wasmroute.bounds";
export const KINDS = ["load", "store", "memory.copy source", "memory.copy destination", "memory.fill"];
export const HEADER = [16, 32];

const B = binaryen;
const { i32, i64, none } = B;

/** The child expressions of e, for every expression kind AssemblyScript emits; throws on others. */
function children(e) {
  const id = B.getExpressionId(e);
  // Leaves first: getExpressionInfo fails on an unreachable in this binaryen.js.
  if (id === B.NopId || id === B.ConstId || id === B.LocalGetId || id === B.GlobalGetId || id === B.MemorySizeId || id === B.UnreachableId) return [];
  const info = B.getExpressionInfo(e);
  const pick = (...fields) => fields.map((f) => info[f]).filter((c) => c);
  switch (info.id) {
    case B.BlockId: return info.children;
    case B.IfId: return pick("condition", "ifTrue", "ifFalse");
    case B.LoopId: return pick("body");
    case B.BreakId: case B.SwitchId: return pick("condition", "value");
    case B.CallId: return info.operands;
    case B.CallIndirectId: return [info.target, ...info.operands];
    case B.LocalSetId: case B.GlobalSetId: case B.DropId: case B.ReturnId: case B.UnaryId: return pick("value");
    case B.LoadId: case B.SIMDLoadId: return pick("ptr");
    case B.SIMDLoadStoreLaneId: return pick("ptr", "vec");
    case B.StoreId: return pick("ptr", "value");
    case B.BinaryId: return pick("left", "right");
    case B.SelectId: return pick("ifTrue", "ifFalse", "condition");
    case B.MemoryGrowId: return pick("delta");
    case B.MemoryCopyId: return pick("dest", "source", "size");
    case B.MemoryFillId: return pick("dest", "value", "size");
    case B.SIMDExtractId: return pick("vec");
    case B.SIMDReplaceId: return pick("vec", "value");
    case B.SIMDShuffleId: return pick("left", "right");
    case B.SIMDTernaryId: return pick("a", "b", "c");
    case B.SIMDShiftId: return pick("vec", "shift");
    default: throw new Error(`bounds-instrument: expression kind ${info.id} is not handled (a memory access it cannot see?)`);
  }
}

/** Bytes a SIMD load (splat, extend, zero) or a lane load/store touches, by its op. */
function simdBytes(op) {
  const O = B.Operations;
  const table = new Map([
    [O.Load8SplatVec128, 1], [O.Load16SplatVec128, 2], [O.Load32SplatVec128, 4], [O.Load64SplatVec128, 8],
    [O.Load8x8SVec128, 8], [O.Load8x8UVec128, 8], [O.Load16x4SVec128, 8], [O.Load16x4UVec128, 8],
    [O.Load32x2SVec128, 8], [O.Load32x2UVec128, 8], [O.Load32ZeroVec128, 4], [O.Load64ZeroVec128, 8],
    [O.Load8LaneVec128, 1], [O.Load16LaneVec128, 2], [O.Load32LaneVec128, 4], [O.Load64LaneVec128, 8],
    [O.Store8LaneVec128, 1], [O.Store16LaneVec128, 2], [O.Store32LaneVec128, 4], [O.Store64LaneVec128, 8],
  ]);
  const n = table.get(op);
  if (n === undefined) throw new Error(`bounds-instrument: SIMD memory op ${op} is not known`);
  return n;
}

/** Calls visit(e, parentChain) on every expression of body, children first. */
function walk(body, visit) {
  const stack = [[body, false]];
  while (stack.length) {
    const [e, done] = stack.pop();
    if (done) {
      visit(e);
      continue;
    }
    stack.push([e, true]);
    for (const c of children(e)) stack.push([c, false]);
  }
}

function functions(module) {
  const out = [];
  for (let i = 0; i < module.getNumFunctions(); i++) {
    const ref = module.getFunctionByIndex(i);
    out.push({ ref, index: i, ...B.getFunctionInfo(ref) });
  }
  return out;
}

/** The global that the exported function `name` returns (its body is a global.get, maybe in a block). */
function globalReturnedBy(module, name) {
  const exp = module.getExport(name);
  if (!exp) throw new Error(`bounds-instrument: the module exports no ${name}()`);
  let e = B.getFunctionInfo(module.getFunction(B.getExportInfo(exp).value)).body;
  for (;;) {
    const info = B.getExpressionInfo(e);
    if (info.id === B.GlobalGetId) return info.name;
    if (info.id === B.ReturnId && info.value) e = info.value;
    else if (info.id === B.BlockId && info.children.length === 1) e = info.children[0];
    else throw new Error(`bounds-instrument: ${name}() is not a plain read of a global`);
  }
}

/** Adds the fault import and the three checkers. */
function addHelpers(module, topGlobal, memoryBase) {
  const m = module;
  m.addFunctionImport(FAULT, "wasmroute", "bounds_fault", B.createType([i32, i32, i32, i32, i32]), none);
  const top = () => m.i64.extend_u(m.global.get(topGlobal, i32));
  const u64 = (x) => m.i64.extend_u(x);
  // (p, offset, size, site) → p; the access is [p + offset, p + offset + size), computed in 64 bits.
  const ea = () => m.local.get(4, i64);
  const end = () => m.i64.add(ea(), u64(m.local.get(2, i32)));
  const inside = (lo, hi) => m.i32.and(m.i64.ge_u(ea(), lo), m.i64.le_u(end(), hi));
  m.addFunction(CHECK, B.createType([i32, i32, i32, i32]), i32, [i64], m.block(null, [
    m.local.set(4, m.i64.add(u64(m.local.get(0, i32)), u64(m.local.get(1, i32)))),
    m.if(inside(m.i64.const(BigInt(memoryBase)), top()), m.return(m.local.get(0, i32))),
    m.if(inside(m.i64.const(BigInt(HEADER[0])), m.i64.const(BigInt(HEADER[1]))), m.return(m.local.get(0, i32))),
    m.call(FAULT, [m.local.get(3, i32), m.local.get(0, i32), m.local.get(1, i32), m.local.get(2, i32), m.global.get(topGlobal, i32)], none),
    m.unreachable(),
  ], i32));
  // (dest, src, size, site of the destination) → size; the source's site is one kind below.
  m.addFunction(CHECK_COPY, B.createType([i32, i32, i32, i32]), i32, [], m.block(null, [
    m.if(m.local.get(2, i32), m.block(null, [
      m.drop(m.call(CHECK, [m.local.get(0, i32), m.i32.const(0), m.local.get(2, i32), m.local.get(3, i32)], i32)),
      m.drop(m.call(CHECK, [m.local.get(1, i32), m.i32.const(0), m.local.get(2, i32), m.i32.sub(m.local.get(3, i32), m.i32.const(1))], i32)),
    ])),
    m.local.get(2, i32),
  ], i32));
  // (dest, size, site) → size
  m.addFunction(CHECK_FILL, B.createType([i32, i32, i32]), i32, [], m.block(null, [
    m.if(m.local.get(1, i32), m.drop(m.call(CHECK, [m.local.get(0, i32), m.i32.const(0), m.local.get(1, i32), m.local.get(2, i32)], i32))),
    m.local.get(1, i32),
  ], i32));
}

/**
 * Instruments every memory access of every function of module (in place). memoryBase: where the static
 * data starts (asconfig). Returns the counts of instrumented sites by kind.
 */
export function instrument(module, { memoryBase }) {
  for (let s = 0; s < module.getNumDataSegments(); s++) {
    const off = B._BinaryenGetDataSegmentByteOffset(module.ptr, module.getDataSegmentByIndex(s));
    if (off < memoryBase) throw new Error(`bounds-instrument: data segment ${s} at ${off}, below memoryBase ${memoryBase}`);
  }
  const funcs = functions(module);
  const topGlobal = globalReturnedBy(module, "mem_top");
  addHelpers(module, topGlobal, memoryBase);
  const counts = { load: 0, store: 0, copy: 0, fill: 0 };
  const m = module;
  for (const f of funcs) {
    if (!f.body) continue; // an import
    const site = (kind) => m.i32.const(f.index * 8 + kind);
    walk(f.body, (e) => {
      const id = B.getExpressionId(e);
      if (id === B.LoadId || id === B.StoreId) {
        const store = id === B.StoreId;
        const W = store ? B.Store : B.Load;
        W.setPtr(e, m.call(CHECK, [W.getPtr(e), m.i32.const(W.getOffset(e)), m.i32.const(W.getBytes(e)), site(store ? 1 : 0)], i32));
        counts[store ? "store" : "load"]++;
      } else if (id === B.MemoryCopyId) {
        const d = B._BinaryenFunctionAddVar(f.ref, i32);
        const s = B._BinaryenFunctionAddVar(f.ref, i32);
        const size = B.MemoryCopy.getSize(e);
        B.MemoryCopy.setDest(e, m.local.tee(d, B.MemoryCopy.getDest(e), i32));
        B.MemoryCopy.setSource(e, m.local.tee(s, B.MemoryCopy.getSource(e), i32));
        B.MemoryCopy.setSize(e, m.call(CHECK_COPY, [m.local.get(d, i32), m.local.get(s, i32), size, site(3)], i32));
        counts.copy++;
      } else if (id === B.MemoryFillId) {
        const d = B._BinaryenFunctionAddVar(f.ref, i32);
        B.MemoryFill.setDest(e, m.local.tee(d, B.MemoryFill.getDest(e), i32));
        B.MemoryFill.setSize(e, m.call(CHECK_FILL, [m.local.get(d, i32), B.MemoryFill.getSize(e), site(4)], i32));
        counts.fill++;
      } else if (id === B.SIMDLoadId || id === B.SIMDLoadStoreLaneId) {
        const info = B.getExpressionInfo(e);
        const store = id === B.SIMDLoadStoreLaneId && B._BinaryenSIMDLoadStoreLaneIsStore(e);
        const check = m.call(CHECK, [info.ptr, m.i32.const(info.offset), m.i32.const(simdBytes(info.op)), site(store ? 1 : 0)], i32);
        if (id === B.SIMDLoadId) B._BinaryenSIMDLoadSetPtr(e, check);
        else B._BinaryenSIMDLoadStoreLaneSetPtr(e, check);
        counts[store ? "store" : "load"]++;
      } else if (id === B.AtomicRMWId || id === B.AtomicCmpxchgId || id === B.MemoryInitId) {
        throw new Error(`bounds-instrument: ${f.name} has a memory access of kind ${id} that this pass does not check`);
      }
    });
  }
  const names = funcs.map((f) => f.name);
  module.addCustomSection(SECTION, new TextEncoder().encode(JSON.stringify({ functions: names, memoryBase, header: HEADER, kinds: KINDS })));
  if (!module.validate()) throw new Error("bounds-instrument: the instrumented module does not validate");
  return counts;
}

/** Every memory access of module outside the checkers that does not go through one: [{ func, kind }]. */
export function uncheckedAccesses(module) {
  const out = [];
  const counts = { load: 0, store: 0, copy: 0, fill: 0 };
  const isCallTo = (e, name) => B.getExpressionId(e) === B.CallId && B.getExpressionInfo(e).target === name;
  for (const f of functions(module)) {
    if (!f.body || HELPERS.includes(f.name)) continue;
    walk(f.body, (e) => {
      if (children(e).length === 0) return; // a leaf: no access
      const info = B.getExpressionInfo(e);
      if (info.id === B.LoadId || info.id === B.StoreId || info.id === B.SIMDLoadId || info.id === B.SIMDLoadStoreLaneId) {
        const kind = info.id === B.StoreId || (info.id === B.SIMDLoadStoreLaneId && B._BinaryenSIMDLoadStoreLaneIsStore(e)) ? "store" : "load";
        if (isCallTo(info.ptr, CHECK)) counts[kind]++;
        else out.push({ func: f.name, kind });
      } else if (info.id === B.MemoryCopyId) {
        if (isCallTo(info.size, CHECK_COPY)) counts.copy++;
        else out.push({ func: f.name, kind: "memory.copy" });
      } else if (info.id === B.MemoryFillId) {
        if (isCallTo(info.size, CHECK_FILL)) counts.fill++;
        else out.push({ func: f.name, kind: "memory.fill" });
      } else if (info.id === B.AtomicRMWId || info.id === B.AtomicCmpxchgId || info.id === B.MemoryInitId) {
        out.push({ func: f.name, kind: `expression kind ${info.id}` });
      }
    });
  }
  return { unchecked: out, checked: counts };
}
