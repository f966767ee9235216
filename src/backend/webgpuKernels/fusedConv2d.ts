/**
 * The fused convolution's backward on WebGPU in two dispatches: dx with tfjs-webgpu's own
 * Conv2DBackpropInput, and the filter's gradient with the bias's (and, for a ResBlock's time
 * shift, each sample's) in one of ours — a thread per filter weight over every sample and
 * output position, as tfjs's filter-gradient program loops, the threads of the first tap also
 * summing dy. Composed (fusedKernels/fusedConv2d.ts), the sums were one or two more products.
 */
import {
  backend_util,
  util,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { KernelScope } from "../backendScope";
import { convolutionAttrs, FUSED_CONV_GRAD, type ConvAttrs } from "../fusedKernels/fusedConv2d";
import {
  encodeDispatch,
  gpuTensor,
  int32Uniforms,
  workgroupsFor,
  type WebgpuBackendInternals,
} from "./encodeDispatch";

const WORKGROUP = 64;

const filterGradCode = (perSample: boolean) => () => `
@group(0) @binding(0) var<storage, read> x : array<f32>;
@group(0) @binding(1) var<storage, read> dy : array<f32>;
@group(0) @binding(2) var<storage, read_write> dFilter : array<f32>;
@group(0) @binding(3) var<storage, read_write> dBias : array<f32>;
${perSample ? "@group(0) @binding(4) var<storage, read_write> dShift : array<f32>;" : ""}
struct Uniforms {
  batch : i32, inHeight : i32, inWidth : i32, inChannels : i32, outHeight : i32, outWidth : i32,
  outChannels : i32, kernelHeight : i32, kernelWidth : i32, stride : i32, padTop : i32,
  padLeft : i32, rowStride : i32,
};
@group(0) @binding(${perSample ? 5 : 4}) var<uniform> uniforms : Uniforms;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id : vec3<u32>) {
  let index = i32(id.x) + i32(id.y) * uniforms.rowStride;
  let co = index % uniforms.outChannels;
  let ci = (index / uniforms.outChannels) % uniforms.inChannels;
  let kw = (index / (uniforms.outChannels * uniforms.inChannels)) % uniforms.kernelWidth;
  let kh = index / (uniforms.outChannels * uniforms.inChannels * uniforms.kernelWidth);
  if (kh >= uniforms.kernelHeight) { return; }
  // The first tap's threads, one per output channel, also sum dy (the bias's gradient).
  let first = kh == 0 && kw == 0 && ci == 0;
  var weight = 0.0;
  var bias = 0.0;
  for (var b = 0; b < uniforms.batch; b = b + 1) {
    var sample = 0.0;
    for (var oh = 0; oh < uniforms.outHeight; oh = oh + 1) {
      let xr = kh + oh * uniforms.stride - uniforms.padTop;
      for (var ow = 0; ow < uniforms.outWidth; ow = ow + 1) {
        let g = dy[((b * uniforms.outHeight + oh) * uniforms.outWidth + ow) * uniforms.outChannels + co];
        if (first) { sample = sample + g; }
        let xc = kw + ow * uniforms.stride - uniforms.padLeft;
        if (xr >= 0 && xr < uniforms.inHeight && xc >= 0 && xc < uniforms.inWidth) {
          let xv = x[((b * uniforms.inHeight + xr) * uniforms.inWidth + xc) * uniforms.inChannels + ci];
          weight = weight + xv * g;
        }
      }
    }
    if (first) {
      bias = bias + sample;
      ${perSample ? "dShift[b * uniforms.outChannels + co] = sample;" : ""}
    }
  }
  dFilter[index] = weight;
  if (first) { dBias[co] = bias; }
}`;

const backward: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, x, filter } = inputs as Record<string, TensorInfo>;
  const a = attrs as unknown as ConvAttrs;
  const webgpu = backend as unknown as WebgpuBackendInternals;
  const convolution = convolutionAttrs(a.stride);
  const scope = KernelScope.of(backend, "webgpu");
  const dx = scope.run(
    "Conv2DBackpropInput",
    { dy, filter },
    { ...convolution, inputShape: x.shape },
  );
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    convolution.strides,
    1,
    convolution.pad,
    undefined,
    false,
    "channelsLast",
  );
  const [n, , , outChannels] = dy.shape;
  const perSample = a.addend === "shift";
  const dFilter = gpuTensor(webgpu, filter.shape, "float32");
  const dBias = gpuTensor(webgpu, [outChannels], "float32");
  const dShift = perSample ? [gpuTensor(webgpu, [n, outChannels], "float32")] : [];
  const workgroups = workgroupsFor(webgpu, util.sizeFromShape(filter.shape), WORKGROUP);
  encodeDispatch(webgpu, {
    key: `fairdiffConvFilterGrad_${perSample}`,
    code: filterGradCode(perSample),
    buffers: [x, dy, dFilter, dBias, ...dShift],
    uniforms: int32Uniforms([
      n,
      info.inHeight,
      info.inWidth,
      info.inChannels,
      info.outHeight,
      info.outWidth,
      outChannels,
      info.filterHeight,
      info.filterWidth,
      a.stride,
      info.padInfo.top,
      info.padInfo.left,
      workgroups[0] * WORKGROUP,
    ]),
    workgroups,
  });
  // A residual's gradient is dy itself: a reshape shares its buffer, no copy.
  const dResidual = a.addend === "residual" ? [scope.reshape(dy, dy.shape)] : [];
  const [dxKept, ...dResidualKept] = scope.closeKeeping([dx, ...dResidual]);
  return [dxKept, dFilter, dBias, ...dShift, ...dResidualKept];
};

export const fusedConvGradWebgpuConfig: KernelConfig = {
  kernelName: FUSED_CONV_GRAD,
  backendName: "webgpu",
  kernelFunc: backward,
};
