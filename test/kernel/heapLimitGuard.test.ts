/**
 * The native near-heap-limit guard on its own, in a Node with a 64 MB heap: a loop that keeps
 * what it allocates would make V8 abort the process; with the guard, V8 lends more heap, the
 * callback runs on a later turn with the limit reached, and once the loop lets go the process
 * carries on and exits normally.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { builtAddonPath } from "../../src/backend/nativeKernels/nativeAddon";
import { testWhen } from "../helpers/requirements";

const GUARD = path.join(__dirname, "..", "..", "dist", "kernel", "heapLimitGuard.js");

/** Fills the heap 2 MB a turn until told the limit was reached (or `watch` is false: never). */
function fillUntilWarned(watch: boolean): string {
  return `
const v8 = require("node:v8");
const { watchHeapLimit } = require(${JSON.stringify(GUARD)});
let hoard = [];
let reached = 0;
const stop = ${watch} ? watchHeapLimit((bytes) => { reached = bytes; hoard = []; }) : undefined;
(async () => {
  while (!reached) {
    hoard.push(new Array(250_000).fill(Math.random()));
    await new Promise((r) => setTimeout(r, 0));
  }
  // A full collection before unwatching: a marking cycle begun while the hoard was live would
  // otherwise still count it, and reach the lent limit with no watcher left.
  globalThis.gc();
  const afterwards = new Array(2_000_000).fill(1.5).length;
  stop?.();
  const limit = v8.getHeapStatistics().heap_size_limit;
  console.log(JSON.stringify({ reached, afterwards, limit }));
})();`;
}

const run = (watch: boolean) =>
  spawnSync(
    process.execPath,
    ["--max-old-space-size=64", "--expose-gc", "-e", fillUntilWarned(watch)],
    {
      encoding: "utf8",
      timeout: 60_000,
    },
  );

testWhen(
  builtAddonPath("fairdiff_heap_guard.node") !== undefined,
  "the native heap guard (`npm run build:native` with a C++ compiler)",
)(
  "a heap filled to V8's limit is reported instead of aborting the process",
  () => {
    const guarded = run(true);
    expect(guarded.stderr).toBe("");
    expect(guarded.status).toBe(0);
    const { reached, afterwards } = JSON.parse(guarded.stdout) as Record<string, number>;
    // The callback saw the 64 MB limit (V8 counts a few pages more or less).
    expect(reached / 2 ** 20).toBeGreaterThanOrEqual(56);
    expect(reached / 2 ** 20).toBeLessThanOrEqual(80);
    expect(afterwards).toBe(2_000_000);
    // The same loop unguarded dies of it: what the guard is for.
    const unguarded = run(false);
    expect(unguarded.status).not.toBe(0);
    expect(unguarded.stderr).toMatch(/heap limit|out of memory/i);
  },
  90_000,
);
