/**
 * The native near-heap-limit watch (native/src/heapGuard.cc): when V8 is about to abort on a full
 * heap, it lends a little more and the kernel hears of it on the next event-loop turn, in time to
 * stop the cell that filled it. Garbage-collection events alone can come too late: V8 may reach
 * the limit in the collection that would have reported it.
 */
import { builtAddonPath } from "../src/backend/nativeKernels/nativeAddon";

interface HeapGuardAddon {
  watchHeapLimit(onNearLimit: (limitBytes: number) => void): void;
  unwatchHeapLimit(): void;
}

/**
 * Starts watching; `onNearLimit` gets the limit the heap reached. Returns what stops watching, or
 * undefined where the guard was not built (no compiler at install, FAIRDIFF_NATIVE=0) or does not
 * load.
 */
export function watchHeapLimit(
  onNearLimit: (limitBytes: number) => void,
): (() => void) | undefined {
  const file = builtAddonPath("fairdiff_heap_guard.node");
  if (!file) return undefined;
  let guard: HeapGuardAddon;
  try {
    guard = require(file) as HeapGuardAddon;
  } catch {
    // Built for another Node (a copied folder): the collections' alarm still stands.
    return undefined;
  }
  try {
    guard.watchHeapLimit(onNearLimit);
  } catch {
    // One watcher a process (another kernel in this process has it).
    return undefined;
  }
  return () => guard.unwatchHeapLimit();
}
