/**
 * Any TensorFlow.js graph model on disk as a feature extractor (e.g. a converted Inception or a
 * medical foundation-model encoder a user has), loaded through the file-system IOHandler — no
 * network, no tfjs-node. Features are the named output node's activations, flattened per image.
 *
 * Input adaptation, stated so figures can be reproduced: images in [0, 1] are mapped linearly to
 * `inputRange`; resized (bilinear) to `inputSize` only when it is given; grayscale is tiled to
 * three channels for an RGB model and RGB reduced to BT.601 luma for a grayscale one. Any other
 * mismatch with the model's input shape is an error.
 */
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { loadGraphModel, type GraphModel } from "@tensorflow/tfjs-converter";
import { assertImageBatch, type FeatureExtractor } from "./featureExtractor";
import { fileSystemModelHandler } from "./fileSystemModelHandler";

export interface GraphModelExtractorOptions {
  /** Output node whose activations are the features (default: the model's first output). */
  outputNode?: string;
  /** Resize images to inputSize × inputSize before the model (default: no resizing). */
  inputSize?: number;
  /** The value range the model expects (default [0, 1]). */
  inputRange?: [number, number];
  /** Stable id for the figures (default "graph-model:<folder>[:<outputNode>]"). */
  name?: string;
  /** Images per model call (default 32). */
  batchSize?: number;
}

function fixedSize(size: number | undefined | null): number | undefined {
  return size === undefined || size === null || size < 0 ? undefined : size;
}

export async function graphModelExtractor(
  location: string,
  options: GraphModelExtractorOptions = {},
): Promise<FeatureExtractor> {
  const { inputSize } = options;
  if (inputSize !== undefined && (!Number.isInteger(inputSize) || inputSize < 1)) {
    throw new Error(`inputSize must be a positive integer, got ${inputSize}`);
  }
  const [low, high] = options.inputRange ?? [0, 1];
  if (!Number.isFinite(low) || !Number.isFinite(high) || low === high) {
    throw new Error(`inputRange must be two different finite numbers, got [${low}, ${high}]`);
  }
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
  }
  const model: GraphModel = await loadGraphModel(fileSystemModelHandler(location));
  try {
    if (model.inputs.length !== 1) {
      throw new Error(
        `${location}: the graph model has ${model.inputs.length} inputs (${model.inputs.map((i) => i.name).join(", ")}); a feature extractor needs exactly one image input`,
      );
    }
    const input = model.inputs[0];
    const inputShape = input.shape ?? [-1, -1, -1, -1];
    if (inputShape.length !== 4) {
      throw new Error(
        `${location}: input "${input.name}" has shape [${inputShape.join(", ")}]; fairdiff feeds [n, height, width, channels] images`,
      );
    }
    const outputNode = options.outputNode ?? model.outputs[0]?.name;
    if (!outputNode) throw new Error(`${location}: the graph model has no output node`);
    const modelHeight = fixedSize(inputShape[1]);
    const modelWidth = fixedSize(inputShape[2]);
    const modelChannels = fixedSize(inputShape[3]);
    if (
      inputSize !== undefined &&
      ((modelHeight !== undefined && modelHeight !== inputSize) ||
        (modelWidth !== undefined && modelWidth !== inputSize))
    ) {
      throw new Error(
        `${location}: inputSize ${inputSize} does not fit the model's input ${modelHeight}×${modelWidth}`,
      );
    }
    const height = inputSize ?? modelHeight;
    const width = inputSize ?? modelWidth;
    if (height === undefined || width === undefined) {
      throw new Error(
        `${location}: input "${input.name}" has a free height or width; pass inputSize so every image gets the same size`,
      );
    }
    const channels = modelChannels ?? 1;
    const name =
      options.name ??
      `graph-model:${path.basename(path.resolve(location))}` +
        (options.outputNode ? `:${options.outputNode}` : "");

    const prepare = (batch: tf.Tensor4D): tf.Tensor4D =>
      tf.tidy(() => {
        const [, h, w, c] = batch.shape;
        let x: tf.Tensor4D = batch;
        if (h !== height || w !== width) {
          if (inputSize === undefined) {
            throw new Error(
              `${name}: images are ${h}×${w}, the graph model needs ${height}×${width}; pass inputSize to resize them`,
            );
          }
          x = tf.image.resizeBilinear(x, [height, width]);
        }
        if (c !== channels) {
          if (c === 1 && channels === 3) x = tf.tile(x, [1, 1, 1, 3]);
          else if (c === 3 && channels === 1) {
            x = tf.sum(tf.mul(x, tf.tensor1d([0.299, 0.587, 0.114])), -1, true) as tf.Tensor4D;
          } else {
            throw new Error(
              `${name}: images have ${c} channels, the graph model needs ${channels}`,
            );
          }
        }
        return low === 0 && high === 1
          ? tf.clone(x)
          : (tf.add(tf.mul(x, high - low), low) as tf.Tensor4D);
      });

    // Synchronous execution unless the graph has control flow or dynamic shapes, which only
    // executeAsync runs (execute says so in its error).
    let asynchronous = false;
    const execute = async (input: tf.Tensor4D): Promise<tf.Tensor | tf.Tensor[]> => {
      if (!asynchronous) {
        try {
          return model.execute(input, outputNode);
        } catch (error) {
          if (!/executeAsync/.test((error as Error).message)) throw error;
          asynchronous = true;
        }
      }
      return model.executeAsync(input, outputNode);
    };

    const run = async (batch: tf.Tensor4D): Promise<{ values: Float32Array; perImage: number }> => {
      const prepared = prepare(batch);
      let output: tf.Tensor | tf.Tensor[];
      try {
        output = await execute(prepared);
      } finally {
        prepared.dispose();
      }
      const tensor = Array.isArray(output) ? output[0] : output;
      try {
        if (tensor.rank < 1 || tensor.shape[0] !== batch.shape[0]) {
          throw new Error(
            `${name}: output "${outputNode}" has shape [${tensor.shape.join(", ")}], not one row per image`,
          );
        }
        const values = (await tensor.data()) as Float32Array;
        return { values, perImage: tensor.size / batch.shape[0] };
      } finally {
        tf.dispose(output);
      }
    };

    // One zero image tells the feature dimension (and checks the graph runs at all).
    const probeImage = tf.zeros([1, height, width, channels]) as tf.Tensor4D;
    let dimension: number;
    try {
      dimension = (await run(probeImage)).perImage;
    } finally {
      probeImage.dispose();
    }

    return {
      info: {
        name,
        kind: "graph-model",
        dimension,
        description:
          `TensorFlow.js graph model ${path.resolve(location)}, output "${outputNode}" ` +
          `(${dimension} values), input ${height}×${width}×${channels} in [${low}, ${high}]` +
          (inputSize !== undefined ? ", images resized bilinearly" : ""),
      },
      async extract(images: tf.Tensor4D): Promise<Float64Array> {
        assertImageBatch(images, name);
        const n = images.shape[0];
        const out = new Float64Array(n * dimension);
        for (let start = 0; start < n; start += batchSize) {
          const count = Math.min(batchSize, n - start);
          const batch = images.slice([start, 0, 0, 0], [count, -1, -1, -1]) as tf.Tensor4D;
          try {
            const { values, perImage } = await run(batch);
            if (perImage !== dimension) {
              throw new Error(
                `${name}: output "${outputNode}" gave ${perImage} values per image, ${dimension} at load time`,
              );
            }
            out.set(values, start * dimension);
          } finally {
            batch.dispose();
          }
        }
        return out;
      },
      dispose(): void {
        model.dispose();
      },
    };
  } catch (error) {
    model.dispose();
    throw error;
  }
}
