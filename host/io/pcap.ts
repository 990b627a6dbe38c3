/**
 * pcap files (the classic libpcap format, link type Ethernet): write what a port receives and sends so
 * tcpdump can read it (`--capture IF=FILE`), and read a capture back to replay it into a port
 * (`--pcap-in IF=FILE`). Both byte orders and microsecond or nanosecond timestamps are read; files are
 * written little-endian with microseconds, snaplen 262144.
 */
import { openSync, writeSync, closeSync, readFileSync } from "node:fs";

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
const LINKTYPE_ETHERNET = 1;
const SNAPLEN = 262144;

export class PcapWriter {
  private fd: number;
  private head = Buffer.alloc(16);

  constructor(path: string) {
    this.fd = openSync(path, "w");
    const h = Buffer.alloc(24);
    h.writeUInt32LE(MAGIC_US, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeInt32LE(0, 8); // thiszone
    h.writeUInt32LE(0, 12); // sigfigs
    h.writeUInt32LE(SNAPLEN, 16);
    h.writeUInt32LE(LINKTYPE_ETHERNET, 20);
    writeSync(this.fd, h);
  }

  /** Appends one frame seen at timeMs (ms since the epoch). */
  write(frame: Uint8Array, timeMs: number): void {
    const sec = Math.floor(timeMs / 1000);
    this.head.writeUInt32LE(sec >>> 0, 0);
    this.head.writeUInt32LE(Math.round((timeMs - sec * 1000) * 1000) >>> 0, 4);
    const n = Math.min(frame.length, SNAPLEN);
    this.head.writeUInt32LE(n, 8);
    this.head.writeUInt32LE(frame.length, 12);
    writeSync(this.fd, this.head);
    writeSync(this.fd, frame, 0, n);
  }

  /** Appends n frames laid out as ports lay them out (frame i at offset + i·slot, length lens[i]). */
  writeBatch(buf: Uint8Array, offset: number, slot: number, lens: Int32Array, n: number, timeMs: number): void {
    for (let i = 0; i < n; i++) this.write(buf.subarray(offset + i * slot, offset + i * slot + lens[i]!), timeMs);
  }

  close(): void {
    closeSync(this.fd);
  }
}

export interface PcapFrame {
  timeMs: number;
  data: Uint8Array;
  /** Length on the wire (larger than data when the capture was cut at its snaplen). */
  origLen: number;
}

/** Every frame of an Ethernet pcap file. Errors name the file and what is wrong, on one line. */
export function readPcap(path: string): PcapFrame[] {
  const b = readFileSync(path);
  if (b.length < 24) throw new Error(`${path}: not a pcap file (${b.length} bytes, the header alone is 24)`);
  let le: boolean;
  if (b.readUInt32LE(0) === MAGIC_US || b.readUInt32LE(0) === MAGIC_NS) le = true;
  else if (b.readUInt32BE(0) === MAGIC_US || b.readUInt32BE(0) === MAGIC_NS) le = false;
  else throw new Error(`${path}: not a pcap file (magic 0x${b.readUInt32BE(0).toString(16)}; pcapng is not read)`);
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const nano = u32(0) === MAGIC_NS;
  const linktype = u32(20) & 0xffff;
  if (linktype !== LINKTYPE_ETHERNET) throw new Error(`${path}: link type ${linktype} is not Ethernet (1)`);
  const out: PcapFrame[] = [];
  let o = 24;
  while (o < b.length) {
    if (o + 16 > b.length) throw new Error(`${path}: truncated record header at byte ${o}`);
    const sec = u32(o);
    const frac = u32(o + 4);
    const incl = u32(o + 8);
    const orig = u32(o + 12);
    if (incl > SNAPLEN * 4 || o + 16 + incl > b.length) throw new Error(`${path}: truncated record at byte ${o} (${incl} bytes announced)`);
    out.push({ timeMs: sec * 1000 + (nano ? frac / 1e6 : frac / 1e3), data: new Uint8Array(b.subarray(o + 16, o + 16 + incl)), origLen: orig });
    o += 16 + incl;
  }
  return out;
}
