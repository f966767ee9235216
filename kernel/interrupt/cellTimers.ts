/**
 * Replaces the global timer functions with ones that register each timer made in a cell's async
 * context with CellWork, so an interrupt can clear it. Timers made anywhere else pass straight
 * through; the kernel's own code imports its timers from "node:timers", which stay the originals.
 */
import * as timers from "node:timers";
import type { CellWork, TimerKind } from "./cellWork";

type Callback = (...args: unknown[]) => unknown;

/** Node's timer functions through their loosest signature: arguments pass through as given. */
const node = timers as unknown as Record<string, (...args: unknown[]) => unknown>;

const CLEAR: Record<TimerKind, string> = {
  setTimeout: "clearTimeout",
  setInterval: "clearInterval",
  setImmediate: "clearImmediate",
};

export function installCellTimers(work: CellWork): void {
  const global = globalThis as unknown as Record<string, unknown>;
  for (const [kind, clearName] of Object.entries(CLEAR) as [TimerKind, string][]) {
    const start = node[kind];
    const clear = node[clearName];
    const once = kind !== "setInterval";
    global[kind] = keepProperties(global[kind], (callback: unknown, ...rest: unknown[]) => {
      const cell = work.currentCell();
      // Anything but a function goes to Node as it is, to fail there the way it always does.
      if (!cell || typeof callback !== "function") return start(callback, ...rest);
      const handle = start(
        function (this: unknown, ...args: unknown[]) {
          if (once) work.untrack(handle);
          return (callback as Callback).apply(this, args);
        },
        ...rest,
      ) as object;
      work.track(cell, handle, kind, () => clear(handle));
      return handle;
    });
    global[clearName] = keepProperties(global[clearName], (handle: unknown) => {
      work.untrack(handle);
      clear(handle);
    });
  }
}

/** The replacement keeps the original's extra properties (util.promisify.custom above all). */
function keepProperties<F extends object>(original: unknown, replacement: F): F {
  if (typeof original === "function") {
    for (const key of Object.getOwnPropertySymbols(original)) {
      Object.defineProperty(
        replacement,
        key,
        Object.getOwnPropertyDescriptor(original, key) as PropertyDescriptor,
      );
    }
  }
  return replacement;
}
