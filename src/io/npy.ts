/**
 * NumPy .npy arrays (format versions 1–3): numeric dtypes of either byte order, booleans and
 * fixed-width unicode strings. Object (pickled) arrays are refused with an error, never
 * unpickled. Also writes .npy, for fixtures and exports.
 */

export type NpyData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | string[];

export interface NpyArray {
  /** NumPy descr, e.g. "<f4", "|u1", "<U26". */
  readonly dtype: string;
  readonly shape: readonly number[];
  /** C order (row-major) values; 64-bit integers are returned as Float64Array. */
  readonly data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

function parseHeader(
  text: string,
  name: string,
): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new Error(`${name}: malformed .npy header ${JSON.stringify(text.trim())}`);
  }
  const shape = shapeText
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`${name}: bad shape (${shapeText}) in .npy header`);
  }
  return { descr, fortran: fortran === "True", shape };
}

/** Parses one .npy file; `name` (e.g. "data_00001.npz:slo_fundus") appears in every error. */
export function parseNpy(bytes: Uint8Array, name = "array.npy"): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new Error(`${name}: not a .npy array (bad magic)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  if (major < 1 || major > 3) throw new Error(`${name}: unsupported .npy version ${major}`);
  const headerText = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(
    bytes.subarray(headerStart, headerStart + headerLength),
  );
  const { descr, fortran, shape } = parseHeader(headerText, name);
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = headerStart + headerLength;
  const order = descr[0];
  const kind = descr[1];
  const size = Number(descr.slice(2));
  if (kind === "O") throw new Error(`${name}: object (pickled) arrays are not supported`);
  const little = order !== ">";
  const needed = count * (kind === "U" ? 4 * size : size);
  if (bytes.length - offset < needed) {
    throw new Error(`${name}: truncated data (${bytes.length - offset} of ${needed} bytes)`);
  }
  let data: NpyData;
  if (kind === "U") {
    data = [];
    for (let i = 0; i < count; i++) {
      let s = "";
      for (let k = 0; k < size; k++) {
        const cp = view.getUint32(offset + (i * size + k) * 4, little);
        if (cp === 0) break;
        s += String.fromCodePoint(cp);
      }
      data.push(s);
    }
  } else if (kind === "S") {
    data = [];
    for (let i = 0; i < count; i++) {
      const raw = bytes.subarray(offset + i * size, offset + (i + 1) * size);
      const end = raw.indexOf(0);
      data.push(new TextDecoder("latin1").decode(end >= 0 ? raw.subarray(0, end) : raw));
    }
  } else {
    data = readNumbers(view, offset, count, kind, size, little, name);
  }
  if (fortran && shape.length > 1) data = toRowMajor(data, shape);
  return { dtype: descr, shape, data };
}

function readNumbers(
  view: DataView,
  offset: number,
  count: number,
  kind: string,
  size: number,
  little: boolean,
  name: string,
): NpyData {
  const key = `${kind}${size}`;
  const read = (make: (n: number) => NpyData, get: (at: number) => number): NpyData => {
    const out = make(count) as Exclude<NpyData, string[]>;
    for (let i = 0; i < count; i++) out[i] = get(offset + i * size);
    return out;
  };
  switch (key) {
    case "b1":
    case "u1":
      return read(
        (n) => new Uint8Array(n),
        (at) => view.getUint8(at),
      );
    case "i1":
      return read(
        (n) => new Int8Array(n),
        (at) => view.getInt8(at),
      );
    case "i2":
      return read(
        (n) => new Int16Array(n),
        (at) => view.getInt16(at, little),
      );
    case "u2":
      return read(
        (n) => new Uint16Array(n),
        (at) => view.getUint16(at, little),
      );
    case "i4":
      return read(
        (n) => new Int32Array(n),
        (at) => view.getInt32(at, little),
      );
    case "u4":
      return read(
        (n) => new Uint32Array(n),
        (at) => view.getUint32(at, little),
      );
    case "i8":
      return read(
        (n) => new Float64Array(n),
        (at) => Number(view.getBigInt64(at, little)),
      );
    case "u8":
      return read(
        (n) => new Float64Array(n),
        (at) => Number(view.getBigUint64(at, little)),
      );
    case "f4":
      return read(
        (n) => new Float32Array(n),
        (at) => view.getFloat32(at, little),
      );
    case "f8":
      return read(
        (n) => new Float64Array(n),
        (at) => view.getFloat64(at, little),
      );
    default:
      throw new Error(`${name}: unsupported dtype "${kind}${size}"`);
  }
}

function toRowMajor(data: NpyData, shape: readonly number[]): NpyData {
  const count = data.length;
  const out: NpyData = Array.isArray(data)
    ? new Array<string>(count)
    : new (data.constructor as new (n: number) => Exclude<NpyData, string[]>)(count);
  const index = new Array<number>(shape.length).fill(0);
  for (let f = 0; f < count; f++) {
    // f walks Fortran order (first axis fastest); compute the C-order position.
    let c = 0;
    for (let d = 0; d < shape.length; d++) c = c * shape[d] + index[d];
    (out as unknown as unknown[])[c] = (data as unknown as unknown[])[f];
    for (let d = 0; d < shape.length; d++) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

const DESCR_OF: [new (n: number) => unknown, string][] = [
  [Float32Array, "<f4"],
  [Float64Array, "<f8"],
  [Int8Array, "|i1"],
  [Uint8Array, "|u1"],
  [Int16Array, "<i2"],
  [Uint16Array, "<u2"],
  [Int32Array, "<i4"],
  [Uint32Array, "<u4"],
];

/** Encodes a C-order array as .npy version 1.0 (little-endian; strings as "<U{n}"). */
export function encodeNpy(data: NpyData, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) {
    throw new Error(`encodeNpy: ${data.length} values do not fill shape (${shape.join(", ")})`);
  }
  let descr: string;
  let body: Uint8Array;
  if (Array.isArray(data)) {
    const width = Math.max(1, ...data.map((s) => [...s].length));
    descr = `<U${width}`;
    const view = new DataView(new ArrayBuffer(count * width * 4));
    data.forEach((s, i) =>
      [...s].forEach((ch, k) => view.setUint32((i * width + k) * 4, ch.codePointAt(0)!, true)),
    );
    body = new Uint8Array(view.buffer);
  } else {
    descr = DESCR_OF.find(([type]) => data instanceof type)![1];
    body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const total = 10 + header.length + 1;
  header += " ".repeat((64 - (total % 64)) % 64) + "\n";
  const out = new Uint8Array(10 + header.length + body.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(body, 10 + header.length);
  return out;
}
