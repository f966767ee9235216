/**
 * Loads a TensorFlow.js model (model.json + weight shards) from a folder on disk, with no
 * network and no tfjs-node: a tfjs `IOHandler` that reads model.json, reads every shard its
 * weightsManifest lists, checks the bytes add up, and returns the concatenated weights. Every
 * way the folder can be wrong gets an error naming the file.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";

const BYTES_PER_DTYPE: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

/** Bytes one manifest entry takes in its shard (quantised entries use their stored dtype). */
function entryBytes(entry: tf.io.WeightsManifestEntry, source: string): number {
  const stored = entry.quantization?.dtype ?? entry.dtype;
  const size = BYTES_PER_DTYPE[stored];
  if (size === undefined) {
    throw new Error(
      `${source}: weight "${entry.name}" has dtype "${stored}", which fairdiff cannot read`,
    );
  }
  return entry.shape.reduce((a, b) => a * b, 1) * size;
}

/** `location` is a folder holding model.json, or the path of a .json model file. */
export function fileSystemModelHandler(location: string): tf.io.IOHandler {
  const modelFile = location.endsWith(".json") ? location : path.join(location, "model.json");
  const folder = path.dirname(modelFile);
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      if (!fs.existsSync(modelFile)) {
        throw new Error(
          fs.existsSync(folder)
            ? `no model.json at ${modelFile}`
            : `graph model folder ${folder} does not exist`,
        );
      }
      let modelJson: tf.io.ModelJSON;
      try {
        modelJson = JSON.parse(await fs.promises.readFile(modelFile, "utf8")) as tf.io.ModelJSON;
      } catch (error) {
        throw new Error(`${modelFile} is not valid JSON: ${(error as Error).message}`);
      }
      if (typeof modelJson !== "object" || modelJson === null || !modelJson.modelTopology) {
        throw new Error(`${modelFile} has no modelTopology: not a TensorFlow.js model.json`);
      }
      if (modelJson.weightsManifest !== undefined && !Array.isArray(modelJson.weightsManifest)) {
        throw new Error(`${modelFile}: weightsManifest must be an array of weight groups`);
      }
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const buffers: ArrayBuffer[] = [];
        for (const [g, group] of manifest.entries()) {
          if (!Array.isArray(group.paths) || !Array.isArray(group.weights)) {
            throw new Error(
              `${modelFile}: weightsManifest[${g}] needs "paths" and "weights" arrays`,
            );
          }
          let groupBytes = 0;
          for (const shard of group.paths) {
            const shardFile = path.resolve(folder, shard);
            if (!fs.existsSync(shardFile)) {
              throw new Error(`weight shard ${shardFile} (listed in ${modelFile}) is missing`);
            }
            const bytes = await fs.promises.readFile(shardFile);
            groupBytes += bytes.byteLength;
            buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
          }
          const needed = group.weights.reduce(
            (sum, entry) => sum + entryBytes(entry, modelFile),
            0,
          );
          if (groupBytes !== needed) {
            throw new Error(
              `weight shards ${group.paths.join(", ")} hold ${groupBytes} bytes, but the weights ${modelFile} lists for them need ${needed}`,
            );
          }
          specs.push(...group.weights);
        }
        return [specs, tf.io.concatenateArrayBuffers(buffers)];
      });
    },
  };
}
