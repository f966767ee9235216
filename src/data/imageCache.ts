/**
 * A bounded least-recently-used cache of decoded images, so repeated epochs over a real dataset
 * decode each file once while memory stays bounded.
 */
import type { RasterImage } from "../io/rasterImage";

export interface ImageCache {
  getOrCreate(key: string, make: () => RasterImage): RasterImage;
  readonly size: number;
  readonly hits: number;
  readonly misses: number;
  clear(): void;
}

export function createImageCache(capacity: number): ImageCache {
  if (!Number.isInteger(capacity) || capacity < 0) {
    throw new Error(`cache capacity must be a non-negative integer, got ${capacity}`);
  }
  // A Map iterates in insertion order: re-inserting on a hit makes the first key the LRU one.
  const entries = new Map<string, RasterImage>();
  let hits = 0;
  let misses = 0;
  return {
    getOrCreate(key, make) {
      const found = entries.get(key);
      if (found) {
        hits++;
        entries.delete(key);
        entries.set(key, found);
        return found;
      }
      misses++;
      const image = make();
      if (capacity > 0) {
        entries.set(key, image);
        if (entries.size > capacity) entries.delete(entries.keys().next().value as string);
      }
      return image;
    },
    get size() {
      return entries.size;
    },
    get hits() {
      return hits;
    },
    get misses() {
      return misses;
    },
    clear() {
      entries.clear();
    },
  };
}
