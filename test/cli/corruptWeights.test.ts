/**
 * Issue #19, through the built command line: a model with a NaN text embedding is refused by
 * `fairdiff audit` and `fairdiff sample` (exit 1, the file and tensor named) instead of reporting
 * nonsense or writing black images; `fairdiff finetune` with a learning rate of 1e30 stops with the
 * step and the last good state named and writes no model.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { useBackend } from "../../src/backend";
import type { ClassificationTask } from "../../src/classifiers/classificationTask";
import { SubgroupClassifier } from "../../src/classifiers/subgroupClassifier";
import { SubgroupClassifierNetwork } from "../../src/classifiers/subgroupClassifierNetwork";
import { loadCheckpoint } from "../../src/io/checkpoint";
import { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { testWhen } from "../helpers/requirements";
import { readRawCheckpoint, rehash, values, writeRawCheckpoint } from "../io/rawCheckpoint";

const ROOT = path.resolve(__dirname, "../..");
const BUILT_CLI = path.join(ROOT, "dist/src/cli/main.js");
/** The build holds the checked weights (a build from before them would not). */
const BUILT_CHECKS = path.join(ROOT, "dist/src/parallel/nonFiniteStep.js");
const PROMPT = "Chest radiograph of a male patient with pleural effusion";

let dir: string;
beforeAll(async () => {
  await useBackend("wasm");
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-corrupt-weights-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function fairdiff(...args: string[]) {
  return spawnSync(process.execPath, [BUILT_CLI, ...args, "--backend", "wasm"], {
    cwd: dir,
    encoding: "utf8",
    timeout: 60000,
  });
}

testWhen(fs.existsSync(BUILT_CHECKS), "the built CLI with checked weights (npm run build)")(
  "audit and sample refuse the shipped model with its embedding overwritten by NaN",
  () => {
    // A consistent file (hash recomputed), as a buggy tool that saved NaN weights would write.
    const raw = readRawCheckpoint(path.join(ROOT, "models/cxr-mini.fdckpt"));
    values(raw, "text.tokenEmbedding").fill(Number.NaN);
    rehash(raw, "text.tokenEmbedding");
    writeRawCheckpoint(path.join(dir, "nan.fdckpt"), raw);
    const count = values(raw, "text.tokenEmbedding").length;
    const refusal = `nan.fdckpt: tensor "text.tokenEmbedding" has ${count} non-finite values (NaN/Inf); refusing to load corrupt weights`;

    const audit = fairdiff("audit", "-m", "nan.fdckpt", "-n", "4", "--steps", "3");
    expect(audit.status).toBe(1);
    expect(audit.stderr).toContain(`fairdiff: --model "nan.fdckpt": ${refusal}`);
    expect(fs.existsSync(path.join(dir, "report.html"))).toBe(false);

    const sample = fairdiff(
      ...["sample", "-m", "nan.fdckpt", "--prompt", PROMPT],
      ...["-n", "2", "--steps", "2", "-o", "g.png"],
    );
    expect(sample.status).toBe(1);
    expect(sample.stderr).toContain(refusal);
    expect(fs.existsSync(path.join(dir, "g.png"))).toBe(false);
  },
  60000,
);

testWhen(fs.existsSync(BUILT_CHECKS), "the built CLI with checked weights (npm run build)")(
  "finetune with a learning rate of 1e30 stops naming the step and the last state, writing no model",
  async () => {
    const model = LatentDiffusionModel.create([PROMPT], {
      imageSize: 16,
      imageChannels: 1,
      autoencoder: { blockChannels: [8, 8, 8], normGroups: 4, latentChannels: 4 },
      unet: { blockChannels: [8, 16], attentionLevels: [true, true], heads: 2, normGroups: 4 },
      textEncoder: { width: 8, layers: 1, heads: 2, mlpRatio: 2 },
    });
    await model.save(path.join(dir, "tiny.fdckpt"));
    model.dispose();
    const tasks: ClassificationTask[] = [
      { name: "sex", kind: "attribute", classes: ["Female", "Male"] },
    ];
    const classifier = new SubgroupClassifier(
      new SubgroupClassifierNetwork(
        { imageSize: 16, imageChannels: 1, channels: [4, 8] },
        tasks,
        1,
      ),
      [1],
    );
    await classifier.save(path.join(dir, "classifier.fdckpt"));
    classifier.dispose();

    const result = fairdiff(
      "finetune",
      ...["-m", "tiny.fdckpt", "-c", "classifier.fdckpt", "--prompt", PROMPT],
      ...["--lr", "1e30", "--steps", "3", "--checkpoint-every", "1", "--batch-size", "2"],
      ...["--sampling-steps", "2", "--eval-images", "2", "--eval-steps", "1", "-o", "x.fdckpt"],
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /fairdiff: step 2: the (loss is \S+|gradient norm is \S+|update would make weights NaN\/Inf) \(learning rate [0-9.e]+ too high\?\); stopped without saving — the last good state is in x\.fdckpt\.state\.fdckpt \(step 1\)/,
    );
    expect(fs.existsSync(path.join(dir, "x.fdckpt"))).toBe(false);
    // The state written after step 1 is intact (it loads: hashes match, values finite).
    const state = loadCheckpoint<{ step: number }>(path.join(dir, "x.fdckpt.state.fdckpt"));
    expect(state.metadata.step).toBe(1);
  },
  60000,
);
