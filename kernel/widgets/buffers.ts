/**
 * Binary values in widget state travel as raw message buffers, located by `buffer_paths`
 * (ipywidgets' _remove_buffers/_put_buffers): a binary object key is removed, a binary list item
 * is left as null.
 */
export type BufferPath = (string | number)[];

export interface SplitState {
  state: Record<string, unknown>;
  bufferPaths: BufferPath[];
  buffers: Buffer[];
}

function isBinary(value: unknown): value is ArrayBufferView | ArrayBuffer {
  return ArrayBuffer.isView(value) || value instanceof ArrayBuffer;
}

function toBuffer(value: ArrayBufferView | ArrayBuffer): Buffer {
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

export function removeBuffers(state: Record<string, unknown>): SplitState {
  const bufferPaths: BufferPath[] = [];
  const buffers: Buffer[] = [];
  const walk = (value: unknown, path: BufferPath): unknown => {
    if (Array.isArray(value)) {
      return value.map((item, i) => {
        if (isBinary(item)) {
          bufferPaths.push([...path, i]);
          buffers.push(toBuffer(item));
          return null;
        }
        return walk(item, [...path, i]);
      });
    }
    if (typeof value === "object" && value !== null && !isBinary(value)) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        if (isBinary(item)) {
          bufferPaths.push([...path, key]);
          buffers.push(toBuffer(item));
        } else {
          out[key] = walk(item, [...path, key]);
        }
      }
      return out;
    }
    return value;
  };
  return { state: walk(state, []) as Record<string, unknown>, bufferPaths, buffers };
}

/** Puts incoming buffers back into `state` (in place) at their paths. */
export function putBuffers(
  state: Record<string, unknown>,
  paths: unknown,
  buffers: Buffer[],
): void {
  if (!Array.isArray(paths)) return;
  paths.forEach((path, i) => {
    if (!Array.isArray(path) || path.length === 0 || i >= buffers.length) return;
    let target: Record<string | number, unknown> = state;
    for (const key of path.slice(0, -1) as (string | number)[]) {
      if (typeof target[key] !== "object" || target[key] === null) target[key] = {};
      target = target[key] as Record<string | number, unknown>;
    }
    target[path[path.length - 1] as string | number] = buffers[i];
  });
}
