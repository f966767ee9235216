/**
 * Cost of gradients through the DDIM sampling chain as the number of steps grows: the
 * checkpointed pass's peak memory stays flat while one tape's grows, and the adjusted gradient's
 * norm levels off (its per-step coefficient shrinks as 1/steps).
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  DdimSamplingChain,
  disposeChainGradients,
  disposeTrace,
  type ChainGradients,
} from "../../src/methods/samplingChainGradient";
import { chainTestBed } from "./fixtures";

const bed = chainTestBed();

function peakBytes(f: () => ChainGradients): Promise<number> {
  return tf.profile(() => disposeChainGradients(f())).then((info) => info.peakBytes);
}

test("checkpointing: peak memory does not grow with the steps; the single tape's does", async () => {
  const s = bed.setup(1);
  const peaks: Record<string, number[]> = { checkpointed: [], taped: [] };
  for (const steps of [2, 8]) {
    const chain = await DdimSamplingChain.create(steps, bed.model.config.noise);
    peaks.checkpointed.push(
      await peakBytes(() => {
        const trace = chain.run(s.denoiser, s.start, s.conditioning);
        try {
          return chain.backward(s.denoiser, trace, s.conditioning, s.cotangent, "exact");
        } finally {
          disposeTrace(trace);
        }
      }),
    );
    peaks.taped.push(
      await peakBytes(() =>
        chain.tapedGradients(
          s.denoiser,
          s.start,
          s.conditioning,
          (z0) => tf.sum(tf.mul(z0, s.cotangent)) as tf.Scalar,
          "exact",
        ),
      ),
    );
  }
  expect(peaks.checkpointed[1] / peaks.checkpointed[0]).toBeLessThan(1.1);
  expect(peaks.taped[1] / peaks.taped[0]).toBeGreaterThan(2.5);
  s.dispose();
});

test("gradient norms over 2, 4, 8, 16 steps: the adjusted chain's stays bounded", async () => {
  const s = bed.setup(1);
  const norms: number[] = [];
  for (const steps of [2, 4, 8, 16]) {
    const chain = await DdimSamplingChain.create(steps, bed.model.config.noise);
    const trace = chain.run(s.denoiser, s.start, s.conditioning);
    const g = chain.backward(s.denoiser, trace, s.conditioning, s.cotangent, "adjusted");
    norms.push(tf.norm(g.conditioning).dataSync()[0]);
    disposeChainGradients(g);
    disposeTrace(trace);
  }
  // Σ_k over n steps of a coefficient that is O(1/n): the adjusted norm levels off.
  expect(norms[3] / norms[2]).toBeLessThan(1.6);
  expect(Math.max(...norms) / Math.min(...norms)).toBeLessThan(20);
  s.dispose();
});
