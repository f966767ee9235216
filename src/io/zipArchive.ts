/**
 * Just enough ZIP to read and write .npz: the central directory (with ZIP64 sizes and offsets,
 * which numpy writes for large arrays), stored and deflated entries (node's zlib), CRC-32
 * checks. Reads go through a byte-range source so one entry of a large file can be read alone.
 */
import { closeSync, fstatSync, openSync, readSync } from "fs";
import { deflateRawSync, inflateRawSync } from "zlib";

export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
  close?(): void;
}

export function bufferSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read: (offset, length) => bytes.subarray(offset, offset + length),
  };
}

export function fileSource(path: string): ByteSource {
  const fd = openSync(path, "r");
  const size = fstatSync(fd).size;
  return {
    size,
    read(offset, length) {
      const out = new Uint8Array(length);
      const got = readSync(fd, out, 0, length, offset);
      return out.subarray(0, got);
    },
    close: () => closeSync(fd),
  };
}

export interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly crc32: number;
  readonly localHeaderOffset: number;
}

let crcTable: Uint32Array | undefined;
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Lists a ZIP archive's entries from its central directory. `name` appears in errors. */
export function readZipDirectory(source: ByteSource, name: string): ZipEntry[] {
  const tailLength = Math.min(source.size, 22 + 65535 + 20);
  const tail = source.read(source.size - tailLength, tailLength);
  const tv = viewOf(tail);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${name}: not a ZIP/npz archive (no end of central directory)`);
  let entries = tv.getUint16(eocd + 10, true);
  let dirSize = tv.getUint32(eocd + 12, true);
  let dirOffset = tv.getUint32(eocd + 16, true);
  // ZIP64 end-of-central-directory locator sits just before the classic record.
  if (eocd >= 20 && tv.getUint32(eocd - 20, true) === 0x07064b50) {
    const at = Number(tv.getBigUint64(eocd - 20 + 8, true));
    const z = viewOf(source.read(at, 56));
    if (z.getUint32(0, true) !== 0x06064b50) throw new Error(`${name}: corrupt ZIP64 record`);
    entries = Number(z.getBigUint64(32, true));
    dirSize = Number(z.getBigUint64(40, true));
    dirOffset = Number(z.getBigUint64(48, true));
  }
  const dir = source.read(dirOffset, dirSize);
  if (dir.length < dirSize) throw new Error(`${name}: truncated archive (central directory)`);
  const dv = viewOf(dir);
  const out: ZipEntry[] = [];
  let p = 0;
  for (let e = 0; e < entries; e++) {
    if (p + 46 > dir.length || dv.getUint32(p, true) !== 0x02014b50) {
      throw new Error(`${name}: corrupt central directory at entry ${e}`);
    }
    const method = dv.getUint16(p + 10, true);
    const crc = dv.getUint32(p + 16, true);
    let compressedSize = dv.getUint32(p + 20, true);
    let size = dv.getUint32(p + 24, true);
    const nameLength = dv.getUint16(p + 28, true);
    const extraLength = dv.getUint16(p + 30, true);
    const commentLength = dv.getUint16(p + 32, true);
    let localHeaderOffset = dv.getUint32(p + 42, true);
    const entryName = new TextDecoder().decode(dir.subarray(p + 46, p + 46 + nameLength));
    // ZIP64 extra field: 64-bit values for each 32-bit field that is saturated, in order.
    let x = p + 46 + nameLength;
    const extraEnd = x + extraLength;
    while (x + 4 <= extraEnd) {
      const id = dv.getUint16(x, true);
      const len = dv.getUint16(x + 2, true);
      if (id === 0x0001) {
        let q = x + 4;
        if (size === 0xffffffff) {
          size = Number(dv.getBigUint64(q, true));
          q += 8;
        }
        if (compressedSize === 0xffffffff) {
          compressedSize = Number(dv.getBigUint64(q, true));
          q += 8;
        }
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = Number(dv.getBigUint64(q, true));
      }
      x += 4 + len;
    }
    out.push({ name: entryName, method, compressedSize, size, crc32: crc, localHeaderOffset });
    p = extraEnd + commentLength;
  }
  return out;
}

/** Reads and (if deflated) inflates one entry, checking its CRC-32. */
export function readZipEntry(source: ByteSource, entry: ZipEntry, name: string): Uint8Array {
  const where = `${name}:${entry.name}`;
  const local = viewOf(source.read(entry.localHeaderOffset, 30));
  if (local.byteLength < 30 || local.getUint32(0, true) !== 0x04034b50) {
    throw new Error(`${where}: corrupt local header`);
  }
  const start =
    entry.localHeaderOffset + 30 + local.getUint16(26, true) + local.getUint16(28, true);
  const raw = source.read(start, entry.compressedSize);
  if (raw.length < entry.compressedSize) throw new Error(`${where}: truncated entry`);
  let data: Uint8Array;
  if (entry.method === 0) data = raw;
  else if (entry.method === 8) {
    try {
      data = new Uint8Array(inflateRawSync(raw));
    } catch (error) {
      throw new Error(`${where}: corrupt deflate data (${(error as Error).message})`);
    }
  } else {
    throw new Error(
      `${where}: unsupported compression method ${entry.method} (only stored and deflate)`,
    );
  }
  if (data.length !== entry.size || crc32(data) !== entry.crc32) {
    throw new Error(`${where}: CRC or size mismatch, the archive is corrupt`);
  }
  return data;
}

/** Writes a ZIP archive (no ZIP64: entries and archive must stay under 4 GiB). */
export function writeZip(
  files: { name: string; data: Uint8Array }[],
  compress: boolean,
): Uint8Array {
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const file of files) {
    const nameBytes = new TextEncoder().encode(file.name);
    const body = compress ? new Uint8Array(deflateRawSync(file.data)) : file.data;
    const crc = crc32(file.data);
    const local = new Uint8Array(30 + nameBytes.length);
    const lv = viewOf(local);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, compress ? 8 : 0, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, body.length, true);
    lv.setUint32(22, file.data.length, true);
    lv.setUint16(26, nameBytes.length, true);
    local.set(nameBytes, 30);
    const header = new Uint8Array(46 + nameBytes.length);
    const hv = viewOf(header);
    hv.setUint32(0, 0x02014b50, true);
    hv.setUint16(4, 20, true);
    hv.setUint16(6, 20, true);
    hv.setUint16(10, compress ? 8 : 0, true);
    hv.setUint32(16, crc, true);
    hv.setUint32(20, body.length, true);
    hv.setUint32(24, file.data.length, true);
    hv.setUint16(28, nameBytes.length, true);
    hv.setUint32(42, offset, true);
    header.set(nameBytes, 46);
    chunks.push(local, body);
    central.push(header);
    offset += local.length + body.length;
  }
  const dirSize = central.reduce((n, c) => n + c.length, 0);
  const end = new Uint8Array(22);
  const ev = viewOf(end);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, files.length, true);
  ev.setUint16(10, files.length, true);
  ev.setUint32(12, dirSize, true);
  ev.setUint32(16, offset, true);
  const all = [...chunks, ...central, end];
  const out = new Uint8Array(all.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of all) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
