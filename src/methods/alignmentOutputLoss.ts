/**
 * The part of a Method 1 step at the sampling chain's output (alignmentStep.ts): the loss at z_0
 * and its gradient back through the decoder, the whole chain and the text encoder.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { encodeGuidance } from "../pipeline/guidedSampler";
import { createRng } from "../util/random";
import type { AlignmentAttribute } from "./alignmentAttributes";
import { alignmentLoss, latentsToUnitImages } from "./alignmentLoss";
import type { AlignmentStepInputs } from "./alignmentStep";
import { textConditioningGradients, type guidedDenoiser } from "./guidedDenoiser";
import type { ReferenceImages } from "./originalReferences";
import { disposeChainGradients, type DdimSamplingChain } from "./samplingChainGradient";

export interface OutputLossInputs {
  labels: Int32Array[];
  weights: Float32Array;
  reference: ReferenceImages | undefined;
  projection: tf.Tensor2D | undefined;
  held: AlignmentAttribute[];
}

/**
 * The loss at the chain's output z_0 (cross-entropy, semantic and hold terms), its parts, and its
 * gradient through the sampling chain (checkpointed) and the text encoder, one per trained
 * variable in `adapters.variables`' order (the caller frees them).
 */
export async function outputLossGradients(
  inputs: AlignmentStepInputs,
  trace: ReturnType<DdimSamplingChain["run"]>,
  context: ReturnType<typeof encodeGuidance>,
  denoiser: ReturnType<typeof guidedDenoiser>,
  terms: OutputLossInputs,
): Promise<{
  losses: { total: number; fairness: number; semantic: number; preservation: number };
  gradients: tf.Tensor[];
}> {
  const { adapters, classifier, chain, settings, attributes, prompts } = inputs;
  const { labels, weights, reference, projection, held } = terms;
  const model = adapters.model;
  // The parts are kept off the tape's tidy and read after it: WebGPU allows only async reads.
  let parts: tf.Tensor[] = [];
  const { value, grads } = tf.engine().gradients(
    () => {
      const loss = alignmentLoss(latentsToUnitImages(model, trace.output), {
        classifier,
        attributes,
        labels,
        fairnessWeight: settings.fairnessWeight,
        semanticWeights: weights,
        originalFeatures: reference?.features,
        features: settings.semanticFeatures,
        featureProjection: projection,
        held: reference && {
          attributes: held,
          labels: reference.held,
          weight: settings.holdWeight,
        },
      });
      parts = [tf.keep(loss.fairness), tf.keep(loss.semantic), tf.keep(loss.preservation)];
      return loss.total;
    },
    [trace.output],
    undefined,
    true,
  );
  const [total, fairness, semantic, preservation] = await Promise.all(
    [value, ...parts].map(async (t) => (await t.data())[0]),
  );
  tf.dispose([value, ...parts]);
  const latentGradient = (grads[0] ?? tf.zerosLike(trace.output)) as tf.Tensor4D;
  const subset =
    settings.gradientSteps < chain.steps
      ? createRng(inputs.targetRngSeed)
          .fork("gradient-steps")
          .shuffle(chain.timesteps.map((_, k) => k))
          .slice(0, settings.gradientSteps)
      : undefined;
  const chainGradients = chain.backward(
    denoiser,
    trace,
    context.embeddings,
    latentGradient,
    settings.gradient,
    { subset },
  );
  latentGradient.dispose();
  try {
    const text = adapters.textVariables;
    const textGradients =
      text.length > 0
        ? textConditioningGradients(model.textEncoder, prompts, text, chainGradients.conditioning)
        : [];
    const byVariable = new Map<tf.Variable, tf.Tensor>();
    text.forEach((v, i) => byVariable.set(v, textGradients[i]));
    adapters.unetVariables.forEach((v, i) =>
      byVariable.set(v, chainGradients.variables[i].clone()),
    );
    return {
      losses: { total, fairness, semantic, preservation },
      gradients: adapters.variables.map((v) => byVariable.get(v) as tf.Tensor),
    };
  } finally {
    disposeChainGradients(chainGradients);
  }
}
