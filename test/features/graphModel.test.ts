/**
 * A TensorFlow.js graph model loaded from disk (no network, no tfjs-node) as a feature
 * extractor: the hand-made fixture (Placeholder → Reshape → MatMul by a Const → Relu) gives the
 * hand-computed matmul, and every way the folder or the input can be wrong is a clear error.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import { fileSystemModelHandler, graphModelExtractor } from "../../src/features";
import {
  FIXTURE_DIR,
  FIXTURE_FEATURES,
  FIXTURE_SIDE,
  fixtureModelJson,
  fixtureShard,
  fixtureWeight,
  writeGraphModelFixture,
} from "../fixtures/graph-model/graphModelFixture";

const FLAT = FIXTURE_SIDE * FIXTURE_SIDE;

function images(n: number): Float32Array {
  return Float32Array.from({ length: n * FLAT }, (_, i) => ((i * 7) % 13) / 12);
}

/** x · W by hand, then ReLU unless `raw`. */
function expected(values: Float32Array, n: number, raw = false): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < FIXTURE_FEATURES; j++) {
      let s = 0;
      for (let k = 0; k < FLAT; k++) s += values[i * FLAT + k] * fixtureWeight(k, j);
      out.push(raw ? s : Math.max(0, s));
    }
  }
  return out;
}

let scratch: string;

beforeAll(async () => {
  await useBackend("wasm");
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-graph-model-"));
});

afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function copyOfFixture(name: string): string {
  const dir = path.join(scratch, name);
  writeGraphModelFixture(dir);
  return dir;
}

test("the committed fixture is what its generator writes", () => {
  const committed = JSON.parse(fs.readFileSync(path.join(FIXTURE_DIR, "model.json"), "utf8"));
  expect(committed).toEqual(fixtureModelJson());
  expect(
    fs.readFileSync(path.join(FIXTURE_DIR, "group1-shard1of1.bin")).equals(fixtureShard()),
  ).toBe(true);
});

test("features equal the hand-computed matmul + ReLU, and the pre-ReLU node on request", async () => {
  const extractor = await graphModelExtractor(FIXTURE_DIR, { batchSize: 2 });
  expect(extractor.info).toMatchObject({
    name: "graph-model:graph-model",
    kind: "graph-model",
    dimension: FIXTURE_FEATURES,
  });
  const n = 5; // batches of 2, 2, 1
  const values = images(n);
  const input = tf.tensor4d(values, [n, FIXTURE_SIDE, FIXTURE_SIDE, 1]);
  const before = tf.memory().numTensors;
  const features = await extractor.extract(input);
  expect(tf.memory().numTensors).toBe(before);
  const want = expected(values, n);
  expect(want.some((v) => v === 0)).toBe(true); // the ReLU clips something
  expect(features).toHaveLength(n * FIXTURE_FEATURES);
  features.forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));

  const raw = await graphModelExtractor(FIXTURE_DIR, { outputNode: "matmul", name: "fixture-raw" });
  expect(raw.info.name).toBe("fixture-raw");
  const rawFeatures = await raw.extract(input);
  const rawWant = expected(values, n, true);
  expect(rawWant.some((v) => v < 0)).toBe(true);
  rawFeatures.forEach((v, i) => expect(v).toBeCloseTo(rawWant[i], 5));
  input.dispose();
  extractor.dispose();
  raw.dispose();
});

test("inputSize resizes, inputRange rescales, RGB is reduced to luma for a grayscale model", async () => {
  const big = tf.fill([2, 8, 8, 1], 0.5) as tf.Tensor4D;
  const resizing = await graphModelExtractor(FIXTURE_DIR, { inputSize: 4, inputRange: [-1, 1] });
  // A constant 0.5 image maps to 0 in [−1, 1]: every feature is 0.
  expect(Array.from(await resizing.extract(big))).toEqual(new Array(2 * FIXTURE_FEATURES).fill(0));
  const rgb = tf.tile(tf.tensor4d(images(1), [1, 4, 4, 1]), [1, 1, 1, 3]) as tf.Tensor4D;
  const plain = await graphModelExtractor(FIXTURE_DIR);
  const fromRgb = await plain.extract(rgb);
  expected(images(1), 1).forEach((v, i) => expect(fromRgb[i]).toBeCloseTo(v, 5));
  await expect(plain.extract(big)).rejects.toThrow(
    /images are 8×8, the graph model needs 4×4; pass inputSize/,
  );
  const twoChannels = tf.zeros([1, 4, 4, 2]) as tf.Tensor4D;
  await expect(plain.extract(twoChannels)).rejects.toThrow(
    /images have 2 channels, the graph model needs 1/,
  );
  await expect(graphModelExtractor(FIXTURE_DIR, { inputSize: 8 })).rejects.toThrow(
    /inputSize 8 does not fit the model's input 4×4/,
  );
  tf.dispose([big, rgb, twoChannels]);
  resizing.dispose();
  plain.dispose();
});

test("a missing folder, a corrupt model.json and a missing or short shard are named", async () => {
  await expect(graphModelExtractor(path.join(scratch, "nowhere"))).rejects.toThrow(
    /graph model folder .*nowhere does not exist/,
  );
  const empty = path.join(scratch, "empty");
  fs.mkdirSync(empty);
  await expect(graphModelExtractor(empty)).rejects.toThrow(/no model.json at .*empty/);

  const corrupt = copyOfFixture("corrupt");
  fs.writeFileSync(path.join(corrupt, "model.json"), '{"modelTopology": {"node": [');
  await expect(graphModelExtractor(corrupt)).rejects.toThrow(
    /corrupt.model\.json is not valid JSON/,
  );
  fs.writeFileSync(path.join(corrupt, "model.json"), '{"format": "graph-model"}');
  await expect(graphModelExtractor(corrupt)).rejects.toThrow(/has no modelTopology/);

  const noShard = copyOfFixture("no-shard");
  fs.rmSync(path.join(noShard, "group1-shard1of1.bin"));
  await expect(graphModelExtractor(noShard)).rejects.toThrow(
    /weight shard .*no-shard.group1-shard1of1\.bin \(listed in .*model\.json\) is missing/,
  );

  const short = copyOfFixture("short-shard");
  fs.writeFileSync(path.join(short, "group1-shard1of1.bin"), fixtureShard().subarray(0, 100));
  await expect(graphModelExtractor(short)).rejects.toThrow(/hold 100 bytes, but .* need 328/);

  // The handler also takes the model.json path itself.
  const artifacts = await fileSystemModelHandler(path.join(FIXTURE_DIR, "model.json")).load!();
  expect(artifacts.weightSpecs?.map((w) => w.name)).toEqual(["flat_shape", "weights"]);
});

test("a model whose input is not an image batch is refused", async () => {
  const dir = copyOfFixture("flat-input");
  const json = fixtureModelJson() as {
    modelTopology: { node: { attr: Record<string, unknown> }[] };
  };
  json.modelTopology.node[0].attr.shape = { shape: { dim: [{ size: "-1" }, { size: "16" }] } };
  fs.writeFileSync(path.join(dir, "model.json"), JSON.stringify(json));
  await expect(graphModelExtractor(dir)).rejects.toThrow(
    /input "images" has shape \[-1, 16\]; fairdiff feeds \[n, height, width, channels\] images/,
  );
});
