/**
 * Native commands (src/backend/nativeKernels/nativeCommands.ts, native/src/commands.cc): a run
 * of them computes what the addon's own calls compute, over arrays named by a table on one heap
 * and, where the call gives one, a region outside it; a command that does not fit — unknown, an
 * array outside its region or too short for its shape, a required array absent — is refused by
 * name before it writes anything.
 */
import { loadNativeKernels, type NativeAddon } from "../../src/backend/nativeKernels/nativeAddon";
import { CommandWriter, renameCommandArrays } from "../../src/backend/nativeKernels/nativeCommands";
import { gemmParams } from "../../src/backend/nativeKernels/nativeMatMul";
import { seededValues } from "../helpers/backends";
import { nativeTest } from "../helpers/nativeKernels";

/** A binary command's ints: `op` over n floats of one shape (one dim, stride 1 each). */
const sameShape = (op: number, n: number) => [
  op,
  1,
  n,
  0,
  0,
  0,
  0,
  0,
  1,
  0,
  0,
  0,
  0,
  0,
  1,
  0,
  0,
  0,
  0,
  0,
];

/** Arrays laid one after another on one heap, and the table naming them. */
function heapOf(lengths: number[]) {
  const total = lengths.reduce((a, b) => a + b, 0);
  const heap = new Uint8Array(4 * total + 64);
  const table = new Int32Array(2 * lengths.length);
  const views: Float32Array[] = [];
  let at = 16;
  lengths.forEach((n, i) => {
    table[2 * i] = at;
    table[2 * i + 1] = n;
    views.push(new Float32Array(heap.buffer, at, n));
    at += 4 * n;
  });
  return { heap, table, views };
}

describe("native commands", () => {
  let addon: NativeAddon;
  beforeAll(() => {
    addon = loadNativeKernels().addon as NativeAddon;
  });

  nativeTest("a run computes what the addon's own calls do, in order", () => {
    const [m, n, k] = [5, 7, 3];
    // a 0, b 1, c 2, bias 3, sum 4, column sums 5, copy 6
    const { heap, table, views } = heapOf([m * k, k * n, m * n, n, m * n, n, 2 * 4]);
    views[0].set(seededValues(m * k, 1));
    views[1].set(seededValues(k * n, 2));
    views[3].set(seededValues(n, 3));
    views[6].fill(-1);
    const commands = new CommandWriter()
      .add("gemm", [0, 1, 2, 3, null], gemmParams({ m, n, k }))
      .add("binary", [2, 2, 4], sameShape(0, m * n))
      .add("columnSums", [2, 5], [1, m, n, 0])
      .add("copyRows", [2, 6], [2, 3, 1, n, 0, 4])
      .add("fill", [6], [1], [0.5])
      .finish();
    addon.runCommands(heap, table, commands, 0, commands.length);

    const expected = new Float32Array(m * n);
    addon.gemm(views[0], views[1], expected, views[3], gemmParams({ m, n, k }));
    expect(Array.from(views[2])).toEqual(Array.from(expected));
    expect(Array.from(views[4])).toEqual(Array.from(expected, (x) => Math.fround(x + x)));
    const sums = new Float32Array(n);
    addon.gemm(new Float32Array(m).fill(1), expected, sums, null, gemmParams({ m: 1, n, k: m }));
    expect(Array.from(views[5])).toEqual(Array.from(sums));
    // Rows 0 and 1 of c from column 1, three wide, four apart; then the first float set.
    const row = (r: number) => Array.from(expected.subarray(r * n + 1, r * n + 4));
    expect(Array.from(views[6])).toEqual([0.5, ...row(0).slice(1), -1, ...row(1), -1]);
  });

  nativeTest("a command that does not fit is refused, naming what is wrong", () => {
    const { heap, table, views } = heapOf([4, 4, 4]);
    const run =
      (commands: Int32Array, t = table) =>
      () =>
        addon.runCommands(heap, t, commands, 0, commands.length);
    const fill = new CommandWriter().add("fill", [2], [4], [7]).finish();
    const add = (arrays: (number | null)[], n = 4) => {
      const second = new CommandWriter().add("binary", arrays, sameShape(0, n)).finish();
      return Int32Array.from([...fill, ...second]);
    };
    expect(run(add([0, 1, 2], 5))).toThrow(
      /command 1 of the run: array 0 holds 4 floats, its shape needs 5/,
    );
    expect(run(add([0, null, 2]))).toThrow(/command 1 of the run: array 1 is required/);
    expect(run(add([0, 3, 2]))).toThrow(/command 1 of the run: array 1 names no table entry/);
    const outside = table.slice();
    outside[2] = heap.length - 8;
    expect(run(add([0, 1, 2]), outside)).toThrow(/array 1 lies outside the heap/);
    const unknown = add([0, 1, 2]);
    unknown[fill.length] = 42;
    expect(run(unknown)).toThrow(/command 1 of the run: unknown operation 42/);
    // The fill before each refused command ran; the refused add wrote nothing.
    expect(Array.from(views[2])).toEqual([7, 7, 7, 7]);
    const whole = add([0, 1, 2]);
    expect(() => addon.runCommands(heap, table, whole, 0, whole.length + 1)).toThrow(
      /range lies outside its commands/,
    );
  });

  nativeTest("arrays in the outside region are read and written there, within its bounds", () => {
    const { heap, table: heapTable, views } = heapOf([4, 4]);
    views[0].set([1, 2, 3, 4]);
    // Entry 2: floats 3..6 of a shared region; entry 3: floats 8..11 (past a 10-float region).
    const region = new Float32Array(new SharedArrayBuffer(4 * 10)).fill(-1);
    const table = Int32Array.from([...heapTable, 3, ~4, 8, ~4]);
    const commands = new CommandWriter()
      .add("binary", [0, 0, 2], sameShape(0, 4))
      .add("binary", [2, 0, 1], sameShape(2, 4))
      .finish();
    addon.runCommands(heap, table, commands, 0, commands.length, region);
    expect(Array.from(region)).toEqual([-1, -1, -1, 2, 4, 6, 8, -1, -1, -1]);
    // Read back from the region: (x + x) · x.
    expect(Array.from(views[1])).toEqual([2, 8, 18, 32]);
    const past = new CommandWriter().add("fill", [3], [4], [0]).finish();
    expect(() => addon.runCommands(heap, table, past, 0, past.length, region)).toThrow(
      /command 0 of the run: array 0 lies outside the outside region/,
    );
    // Without a region, no entry lies in one.
    expect(() => addon.runCommands(heap, table, commands, 0, commands.length)).toThrow(
      /command 0 of the run: array 2 lies outside the outside region/,
    );
    expect(Array.from(region)).toEqual([-1, -1, -1, 2, 4, 6, 8, -1, -1, -1]);
  });

  test("renaming a command's arrays leaves its parameters alone", () => {
    const commands = new CommandWriter()
      .add("gemm", [0, 1, 2, null, 3], [1, 2, 3, 4, 0, 1, 0, 0, 0])
      .add("normForward", [3, 4, 5, 6], [2, 1, 3, 1, 0], [1e-5])
      .finish();
    const renamed = renameCommandArrays(commands, (i) => 10 + i);
    const expected = commands.slice();
    for (const at of [2, 3, 4, 6]) expected[at] += 10;
    // The second command's arrays start after the first's 2 + 5 + 1 + 9 + 1 values.
    for (const at of [20, 21, 22, 23]) expected[at] += 10;
    expect(Array.from(renamed)).toEqual(Array.from(expected));
  });
});
