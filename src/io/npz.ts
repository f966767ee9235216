/**
 * NumPy .npz archives (np.savez / np.savez_compressed): a ZIP of .npy files. `openNpz` reads the
 * directory only; each array is inflated when asked for, so the small label arrays of a
 * FairGenMed file can be read without decoding its image.
 */
import {
  bufferSource,
  fileSource,
  readZipDirectory,
  readZipEntry,
  writeZip,
  type ByteSource,
} from "./zipArchive";
import { encodeNpy, parseNpy, type NpyArray, type NpyData } from "./npy";

export interface NpzArchive {
  /** Array names without the ".npy" suffix. */
  readonly names: readonly string[];
  has(name: string): boolean;
  /** Reads one array; throws naming the archive and the key when it is absent or corrupt. */
  get(name: string): NpyArray;
  close(): void;
}

function open(source: ByteSource, label: string): NpzArchive {
  let entries;
  try {
    entries = readZipDirectory(source, label);
  } catch (error) {
    source.close?.();
    throw error;
  }
  const byName = new Map(entries.map((e) => [e.name.replace(/\.npy$/, ""), e]));
  return {
    names: [...byName.keys()],
    has: (name) => byName.has(name),
    get(name) {
      const entry = byName.get(name);
      if (!entry) {
        throw new Error(`${label}: no array "${name}" (arrays: ${[...byName.keys()].join(", ")})`);
      }
      return parseNpy(readZipEntry(source, entry, label), `${label}:${name}`);
    },
    close: () => source.close?.(),
  };
}

export function openNpz(bytes: Uint8Array, label = "archive.npz"): NpzArchive {
  return open(bufferSource(bytes), label);
}

/** Opens an .npz on disk reading only the byte ranges it needs. Call close() when done. */
export function openNpzFile(path: string): NpzArchive {
  return open(fileSource(path), path);
}

/** Writes arrays as an .npz (deflated like np.savez_compressed when `compress`). */
export function encodeNpz(
  arrays: Record<string, { data: NpyData; shape: readonly number[] }>,
  compress = true,
): Uint8Array {
  return writeZip(
    Object.entries(arrays).map(([name, a]) => ({
      name: `${name}.npy`,
      data: encodeNpy(a.data, a.shape),
    })),
    compress,
  );
}
