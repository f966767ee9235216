/**
 * fromPretrained: a shipped name or a checkpoint path, as diffusers' from_pretrained; the model
 * and classifier remember the file (`source`), and an audit's manifest names it without being
 * told — but only while the weights are still the file's (a fine-tuned model is not that file).
 */
import * as tf from "@tensorflow/tfjs-core";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { classifierIdentity, modelIdentity } from "../../src/audit/runManifest";
import { sha256File } from "../../src/audit/runFingerprints";
import { useBackend } from "../../src/backend";
import { SubgroupClassifier } from "../../src/classifiers/subgroupClassifier";
import { shippedModelPath } from "../../src/features/packageRoot";
import { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { pretrainedCheckpointPath } from "../../src/pipeline/pretrainedSource";
import { tinyExamples, tinyModel } from "./tinyModel";

let dir: string;

beforeAll(async () => {
  await useBackend("wasm");
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-pretrained-"));
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("the names fromPretrained takes", () => {
  test("a shipped name, with or without .fdckpt, is the file in models/", () => {
    expect(pretrainedCheckpointPath("cxr-mini")).toBe(shippedModelPath("cxr-mini.fdckpt"));
    expect(pretrainedCheckpointPath("cxr-classifier.fdckpt")).toBe(
      shippedModelPath("cxr-classifier.fdckpt"),
    );
  });

  test("an existing file is taken as it is, made absolute", () => {
    const relative = path.relative(process.cwd(), shippedModelPath("cxr-classifier.fdckpt"));
    expect(pretrainedCheckpointPath(relative)).toBe(shippedModelPath("cxr-classifier.fdckpt"));
  });

  test("anything else is an error that lists the shipped names", () => {
    expect(() => pretrainedCheckpointPath("cxr-maxi")).toThrow(
      /no checkpoint "cxr-maxi": not a file, and not a shipped model \(shipped: "cxr-classifier", "cxr-mini"\)/,
    );
    expect(() => pretrainedCheckpointPath(path.join(dir, "missing.fdckpt"))).toThrow(
      /no checkpoint ".*missing\.fdckpt": not a file \(shipped:/,
    );
    expect(() => pretrainedCheckpointPath("")).toThrow(/needs a model name or a file/);
  });
});

describe("the shipped model and classifier", () => {
  let model: LatentDiffusionModel;
  let classifier: SubgroupClassifier;

  beforeAll(async () => {
    model = await LatentDiffusionModel.fromPretrained("cxr-mini");
    classifier = await SubgroupClassifier.fromPretrained("cxr-classifier");
  });

  afterAll(() => {
    model?.dispose();
    classifier?.dispose();
  });

  test("remember their files, and load the same weights as load(file)", async () => {
    const modelFile = shippedModelPath("cxr-mini.fdckpt");
    expect(model.source?.file).toBe(modelFile);
    expect(model.source?.sha256).toBe(sha256File(modelFile));
    expect(model.info.preset).toBe("cxr-mini");
    const loaded = LatentDiffusionModel.load(modelFile);
    try {
      expect((await modelIdentity(model)).weightsSha256).toBe(
        (await modelIdentity(loaded)).weightsSha256,
      );
      expect(loaded.source).toEqual(model.source);
    } finally {
      loaded.dispose();
    }
    expect(classifier.source?.file).toBe(shippedModelPath("cxr-classifier.fdckpt"));
    expect(classifier.tasks.map((t) => t.name)).toEqual(expect.arrayContaining(["sex", "race"]));
  });

  test("the manifest names the files unasked, as if given", async () => {
    const unasked = await modelIdentity(model);
    expect(unasked.file).toBe("cxr-mini.fdckpt");
    expect(unasked).toEqual(await modelIdentity(model, shippedModelPath("cxr-mini.fdckpt")));
    const classifierUnasked = await classifierIdentity(classifier);
    expect(classifierUnasked.file).toBe("cxr-classifier.fdckpt");
    expect(classifierUnasked).toEqual(
      await classifierIdentity(classifier, shippedModelPath("cxr-classifier.fdckpt")),
    );
  });
});

describe("a model whose weights left its file", () => {
  test("is recorded by its weights alone, until saved to a new file", async () => {
    const file = path.join(dir, "tiny.fdckpt");
    const original = tinyModel(tinyExamples(8));
    expect(original.source).toBeUndefined();
    expect((await modelIdentity(original)).file).toBeUndefined();
    await original.save(file);
    original.dispose();

    const model = await LatentDiffusionModel.fromPretrained(file);
    try {
      expect(model.source?.file).toBe(file);
      expect((await modelIdentity(model)).file).toBe("tiny.fdckpt");
      // One weight nudged, as a fine-tuning step would: no longer the file's weights.
      const [, weight] = model.unet.namedParameters()[0];
      tf.tidy(() => weight.assign(tf.add(weight, 1e-3)));
      const changed = await modelIdentity(model);
      expect(changed.file).toBeUndefined();
      expect(changed.sha256).toBeUndefined();
      // Saved, it is that new file.
      const tuned = path.join(dir, "tuned.fdckpt");
      await model.save(tuned);
      expect(model.source?.file).toBe(tuned);
      const saved = await modelIdentity(model);
      expect(saved.file).toBe("tuned.fdckpt");
      expect(saved.sha256).toBe(sha256File(tuned));
      expect(saved.weightsSha256).toBe(changed.weightsSha256);
    } finally {
      model.dispose();
    }
  });

  test("a classifier saved and loaded names its file; nudged, it does not", async () => {
    const shipped = SubgroupClassifier.load(shippedModelPath("cxr-classifier.fdckpt"));
    const file = path.join(dir, "classifier.fdckpt");
    try {
      await shipped.save(file);
      expect((await classifierIdentity(shipped)).file).toBe("classifier.fdckpt");
      const [, weight] = shipped.network.namedParameters()[0];
      tf.tidy(() => weight.assign(tf.mul(weight, 2)));
      expect((await classifierIdentity(shipped)).file).toBeUndefined();
    } finally {
      shipped.dispose();
    }
  });
});
