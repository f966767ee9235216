/**
 * The shape of a tfjs-webgpu program (what `WebGPUBackend.runWebGPUProgram` runs): our fused
 * kernels write their WGSL against it. `main(index)` is called once per output element; the
 * inputs are `array<f32>` storage buffers named by `variableNames`, `uniforms.size` is the output
 * size, and `setOutputAtIndex(index, value)` writes the result.
 */
import type { TensorInfo } from "@tensorflow/tfjs-core";

export interface WebgpuProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  size: boolean;
  uniforms?: string;
  getUserCode(): string;
}

export interface ProgramUniform {
  type: "float32" | "int32";
  data: number[];
}

export interface WebgpuBackendLike {
  device: { limits: { maxStorageBuffersPerShaderStage: number } };
  runWebGPUProgram(
    program: WebgpuProgram,
    inputs: TensorInfo[],
    outputDtype: "float32",
    uniforms?: ProgramUniform[],
  ): TensorInfo;
  disposeData(dataId: object): void;
}

const WORKGROUP = 64;

/**
 * An elementwise program: one invocation per element of an output of `shape`; `helpers` are WGSL
 * functions the body calls.
 */
export function elementwiseProgram(
  shaderKey: string,
  variableNames: string[],
  shape: number[],
  uniforms: string,
  body: string,
  helpers = "",
): WebgpuProgram {
  const size = shape.reduce((n, d) => n * d, 1);
  return {
    variableNames,
    outputShape: [...shape],
    shaderKey,
    dispatchLayout: { x: shape.map((_, i) => i) },
    dispatch: [Math.ceil(size / WORKGROUP), 1, 1],
    workgroupSize: [WORKGROUP, 1, 1],
    size: true,
    uniforms,
    getUserCode: () => `
      ${helpers}
      fn main(index : i32) {
        if (index < uniforms.size) {
          ${body}
        }
      }
    `,
  };
}
