/**
 * fairdiff's wasm training kernels against the cpu backend's reference kernels over a grid of
 * shapes, strides and paddings (and dilations where the kernel has them).
 */
import { maxAbsDiff, onBackend, runOn, seededValues } from "../helpers/backends";
import { backend_util } from "@tensorflow/tfjs-core";

type Pad = "same" | "valid" | number;
interface Case {
  batch: number;
  size: [number, number];
  inC: number;
  outC: number;
  k: [number, number];
  stride: [number, number];
  pad: Pad;
}

const cases: Case[] = [];
for (const size of [
  [7, 7],
  [8, 6],
  [16, 16],
] as [number, number][])
  for (const k of [
    [1, 1],
    [3, 3],
    [2, 3],
    [5, 5],
  ] as [number, number][])
    for (const stride of [
      [1, 1],
      [2, 2],
      [2, 1],
      [3, 3],
    ] as [number, number][])
      for (const pad of ["same", "valid", 1] as Pad[]) {
        if (pad === "valid" && (k[0] > size[0] || k[1] > size[1])) continue;
        cases.push({ batch: 2, size, inC: 3, outC: 4, k, stride, pad });
      }

function describe_(c: Case): string {
  return `x ${c.batch}x${c.size}x${c.inC} k ${c.k} s ${c.stride} pad ${c.pad}`;
}

async function compare(kernel: string, build: () => Parameters<typeof runOn>) {
  const cpu = await onBackend("cpu", () => runOn(...build()));
  const wasm = await onBackend("wasm", () => runOn(...build()));
  expect(wasm.shape).toEqual(cpu.shape);
  return maxAbsDiff(wasm.values, cpu.values);
}

describe("wasm Conv2DBackpropFilter / Conv2DBackpropInput match cpu", () => {
  test(`${cases.length} cases of shape, stride and padding`, async () => {
    let worstFilter = 0;
    let worstInput = 0;
    for (const c of cases) {
      const xShape = [c.batch, c.size[0], c.size[1], c.inC] as [number, number, number, number];
      const filterShape = [c.k[0], c.k[1], c.inC, c.outC] as [number, number, number, number];
      const info = backend_util.computeConv2DInfo(xShape, filterShape, c.stride, 1, c.pad);
      const dyShape = info.outShape;
      const x = seededValues(
        xShape.reduce((a, b) => a * b),
        1,
      );
      const w = seededValues(
        filterShape.reduce((a, b) => a * b),
        2,
      );
      const dy = seededValues(
        dyShape.reduce((a, b) => a * b),
        3,
      );
      const common = {
        strides: c.stride,
        pad: c.pad,
        dataFormat: "NHWC",
        dimRoundingMode: undefined,
      };
      const dFilter = await compare("Conv2DBackpropFilter", () => [
        "Conv2DBackpropFilter",
        { x: { values: x, shape: xShape }, dy: { values: dy, shape: dyShape } },
        { ...common, filterShape },
      ]);
      const dInput = await compare("Conv2DBackpropInput", () => [
        "Conv2DBackpropInput",
        { dy: { values: dy, shape: dyShape }, filter: { values: w, shape: filterShape } },
        { ...common, inputShape: xShape },
      ]);
      if (dFilter > 1e-4 || dInput > 1e-4)
        throw new Error(`${describe_(c)}: filter ${dFilter} input ${dInput}`);
      worstFilter = Math.max(worstFilter, dFilter);
      worstInput = Math.max(worstInput, dInput);
    }
    expect(worstFilter).toBeLessThanOrEqual(1e-4);
    expect(worstInput).toBeLessThanOrEqual(1e-4);
  });

  test("depthwise gradients (with dilations) match cpu", async () => {
    for (const dilation of [1, 2]) {
      for (const stride of dilation === 1 ? [1, 2] : [1]) {
        const xShape = [2, 9, 9, 3];
        const fShape = [3, 3, 3, 2];
        const info = backend_util.computeConv2DInfo(
          xShape as [number, number, number, number],
          fShape as [number, number, number, number],
          stride,
          dilation,
          "same",
          undefined,
          true,
        );
        const dyShape = info.outShape;
        const x = seededValues(162 * 3, 4);
        const f = seededValues(54, 5);
        const dy = seededValues(
          dyShape.reduce((a, b) => a * b),
          6,
        );
        const attrs = { strides: stride, dilations: dilation, pad: "same" };
        const dF = await compare("DepthwiseConv2dNativeBackpropFilter", () => [
          "DepthwiseConv2dNativeBackpropFilter",
          { x: { values: x, shape: xShape }, dy: { values: dy, shape: dyShape } },
          { ...attrs, filterShape: fShape },
        ]);
        const dI = await compare("DepthwiseConv2dNativeBackpropInput", () => [
          "DepthwiseConv2dNativeBackpropInput",
          { dy: { values: dy, shape: dyShape }, filter: { values: f, shape: fShape } },
          { ...attrs, inputShape: xShape },
        ]);
        expect(dF).toBeLessThanOrEqual(1e-4);
        expect(dI).toBeLessThanOrEqual(1e-4);
      }
    }
  });

  test("UnsortedSegmentSum matches cpu, including out-of-range ids", async () => {
    const x = seededValues(6 * 5, 7);
    const ids = new Int32Array([0, 2, 2, 4, -1, 9]);
    const d = await compare("UnsortedSegmentSum", () => [
      "UnsortedSegmentSum",
      { x: { values: x, shape: [6, 5] }, segmentIds: { values: ids, shape: [6], dtype: "int32" } },
      { numSegments: 5 },
    ]);
    expect(d).toBeLessThanOrEqual(1e-6);
  });

  test("BatchMatMul with every transpose combination (and batch broadcasting) matches cpu", async () => {
    const shapes: Array<[number[], number[]]> = [
      [
        [2, 3, 5],
        [2, 5, 4],
      ],
      [
        [1, 6, 7],
        [3, 7, 2],
      ],
      [
        [4, 1, 9],
        [4, 9, 3],
      ],
    ];
    for (const [aShape, bShape] of shapes) {
      for (const transposeA of [false, true]) {
        for (const transposeB of [false, true]) {
          const swap = (s: number[], t: boolean) =>
            t ? [...s.slice(0, -2), s[s.length - 1], s[s.length - 2]] : s;
          const a = {
            values: seededValues(
              aShape.reduce((x, y) => x * y),
              8,
            ),
            shape: swap(aShape, transposeA),
          };
          const b = {
            values: seededValues(
              bShape.reduce((x, y) => x * y),
              9,
            ),
            shape: swap(bShape, transposeB),
          };
          const d = await compare("BatchMatMul", () => [
            "BatchMatMul",
            { a, b },
            { transposeA, transposeB },
          ]);
          expect(d).toBeLessThanOrEqual(1e-5);
        }
      }
    }
  });
});
