/** Widget buffers arrive as DataView (or ArrayBuffer); views want typed arrays over them. */
export type Binary = DataView | ArrayBuffer | ArrayBufferView;

export function toFloat64(value: Binary): Float64Array {
  if (value instanceof ArrayBuffer) return new Float64Array(value.slice(0));
  // Copy: the buffer's offset need not be 8-byte aligned.
  const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength).slice();
  return new Float64Array(bytes.buffer);
}

export function toUint8(value: Binary): Uint8Array {
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}
