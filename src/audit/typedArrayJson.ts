/**
 * Typed arrays in JSON without loss: the little-endian bytes as base64, with the element type
 * and count, so a float32 probability or a float64 feature (NaN and ±Infinity included) comes
 * back bit for bit. A plain number list would round-trip too, at 2–3× the size, and would lose
 * NaN and ±Infinity.
 */
import * as os from "node:os";

export type TypedArrayKind = "float32" | "float64" | "int32";

type TypedArrayOf<K extends TypedArrayKind> = K extends "float32"
  ? Float32Array
  : K extends "float64"
    ? Float64Array
    : Int32Array;

export interface EncodedArray {
  dtype: TypedArrayKind;
  length: number;
  base64: string;
}

const BYTES: Record<TypedArrayKind, number> = { float32: 4, float64: 8, int32: 4 };
const LITTLE_ENDIAN = os.endianness() === "LE";
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function swapped(bytes: Buffer, size: number): Buffer {
  const copy = Buffer.from(bytes);
  return size === 8 ? copy.swap64() : copy.swap32();
}

export function encodeArray(values: Float32Array | Float64Array | Int32Array): EncodedArray {
  const dtype: TypedArrayKind =
    values instanceof Float32Array
      ? "float32"
      : values instanceof Float64Array
        ? "float64"
        : "int32";
  let bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  if (!LITTLE_ENDIAN) bytes = swapped(bytes, BYTES[dtype]);
  return { dtype, length: values.length, base64: bytes.toString("base64") };
}

/**
 * The array a JSON value encodes, checked: the element type `dtype`, and `length` elements when
 * given. `path` names the field in the error ("part.representation[2].heads[0].predicted").
 */
export function decodeArray<K extends TypedArrayKind>(
  value: unknown,
  dtype: K,
  path: string,
  length?: number,
): TypedArrayOf<K> {
  const o = value as Partial<EncodedArray> | null;
  if (typeof o !== "object" || o === null || Array.isArray(o)) {
    throw new Error(`${path} should be an encoded ${dtype} array { dtype, length, base64 }`);
  }
  if (o.dtype !== dtype) {
    throw new Error(`${path}.dtype should be "${dtype}", got ${JSON.stringify(o.dtype)}`);
  }
  if (!Number.isInteger(o.length) || (o.length as number) < 0) {
    throw new Error(`${path}.length should be a count, got ${JSON.stringify(o.length)}`);
  }
  if (length !== undefined && o.length !== length) {
    throw new Error(`${path} has ${o.length} values; expected ${length}`);
  }
  if (typeof o.base64 !== "string" || !BASE64.test(o.base64)) {
    throw new Error(`${path}.base64 should be base64 text`);
  }
  const size = BYTES[dtype];
  let bytes = Buffer.from(o.base64, "base64");
  if (bytes.length !== (o.length as number) * size) {
    throw new Error(
      `${path} holds ${bytes.length} bytes; ${o.length} ${dtype} values are ${(o.length as number) * size}`,
    );
  }
  if (!LITTLE_ENDIAN) bytes = swapped(bytes, size);
  // A copy into fresh, aligned memory: Buffer slices may start at any byte offset.
  const aligned = new ArrayBuffer(bytes.length);
  new Uint8Array(aligned).set(bytes);
  const out =
    dtype === "float32"
      ? new Float32Array(aligned)
      : dtype === "float64"
        ? new Float64Array(aligned)
        : new Int32Array(aligned);
  return out as TypedArrayOf<K>;
}
