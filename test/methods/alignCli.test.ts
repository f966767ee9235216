/**
 * `fairdiff finetune`: --target parsing fails naming the bad value; bad options fail before the
 * models load; a one-step `--method align` run on a tiny model and classifier writes a tuned
 * model that loads, records the run, and prints evaluation lines.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Command } from "commander";
import { useBackend } from "../../src/backend";
import type { ClassificationTask } from "../../src/classifiers/classificationTask";
import { SubgroupClassifier } from "../../src/classifiers/subgroupClassifier";
import { SubgroupClassifierNetwork } from "../../src/classifiers/subgroupClassifierNetwork";
import { registerFinetuneCommand } from "../../src/cli/commands/finetune";
import { parseTargetSpecs } from "../../src/cli/targetOption";
import { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { PROMPTS } from "../models/tinyModels";

let dir: string;

beforeAll(async () => {
  await useBackend("wasm");
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-finetune-"));
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** One training step, two images, two sampler steps, two-image evaluations. */
const ONE_SMALL_STEP = [
  "--steps",
  "1",
  "--batch-size",
  "2",
  "--sampling-steps",
  "2",
  "--eval-images",
  "2",
  "--eval-steps",
  "2",
];

function finetune(args: string[]): Promise<unknown> {
  const program = new Command().exitOverride();
  registerFinetuneCommand(program);
  return program.parseAsync(["finetune", ...args], { from: "user" });
}

test("--target values parse into attribute → group → probability, or fail naming the part", () => {
  // The same parser as `fairdiff audit`: ";" joins several, "*" stands for "×".
  expect(
    parseTargetSpecs([
      "sex=Female:0.25,Male:0.75;race=Asian:0.2,Black:0.3,White:0.5",
      "sex*race=Female*White:0.5,Male×Black:0.5",
    ]),
  ).toEqual({
    sex: { Female: 0.25, Male: 0.75 },
    race: { Asian: 0.2, Black: 0.3, White: 0.5 },
    "sex×race": { "Female×White": 0.5, "Male×Black": 0.5 },
  });
  expect(() => parseTargetSpecs(["sex"])).toThrow(/must look like sex=Female:0.5,Male:0.5/);
  expect(() => parseTargetSpecs(["sex=Female=0.5"])).toThrow(
    /"Female=0.5" must look like Group:0.5/,
  );
  expect(() => parseTargetSpecs(["sex=Female:half,Male:0.5"])).toThrow(/"Female:half"/);
  expect(() => parseTargetSpecs(["sex=Female:0.5,Female:0.5"])).toThrow(/group "Female" twice/);
  expect(() => parseTargetSpecs(["sex=Male:1", "sex=Female:1"])).toThrow(/gives "sex" twice/);
});

test("bad options fail before any model is loaded", async () => {
  const out = path.join(dir, "never.fdckpt");
  const missing = path.join(dir, "missing.fdckpt");
  const base = ["--model", missing, "--classifier", missing, "--out", out];
  await expect(finetune(["--method", "retrain", ...base])).rejects.toThrow(
    /--method must be "align", "subgroup" or "perturb", got "retrain"/,
  );
  await expect(finetune([...base, "--steps", "0"])).rejects.toThrow(
    /--steps must be an integer ≥ 1/,
  );
  await expect(finetune([...base, "--gradient", "approx"])).rejects.toThrow(
    /--gradient must be "adjusted" or "exact", got "approx"/,
  );
  await expect(finetune([...base, "--hold-weight", "-1"])).rejects.toThrow(
    /--hold-weight must be a number ≥ 0, got "-1"/,
  );
  await expect(finetune([...base, "--changed-reference", "sideways"])).rejects.toThrow(
    /--changed-reference must be "neutral" or "prompted", got "sideways"/,
  );
  await expect(finetune([...base, "--fairness-weight", "heavy"])).rejects.toThrow(
    /--fairness-weight must be a number ≥ 0, got "heavy"/,
  );
  await expect(finetune([...base, "--prior-weight", "-2"])).rejects.toThrow(
    /--prior-weight must be a number ≥ 0, got "-2"/,
  );
  await expect(finetune([...base, "--prior-captions", "everything"])).rejects.toThrow(
    /--prior-captions must be "prompt" or "training", got "everything"/,
  );
  await expect(finetune([...base, "--prior-captions", "training"])).rejects.toThrow(
    /--prior-captions training needs --prior-weight above 0 \(got none: the prior term is off\)/,
  );
  await expect(finetune([...base, "--prior-chain", "own"])).rejects.toThrow(
    /--prior-chain must be "tuned" or "original", got "own"/,
  );
  await expect(finetune([...base, "--prior-chain", "original"])).rejects.toThrow(
    /--prior-chain original needs --prior-weight above 0 \(got none: the prior term is off\)/,
  );
  await expect(finetune([...base, "--distill-weight", "much"])).rejects.toThrow(
    /--distill-weight must be a number ≥ 0, got "much"/,
  );
  await expect(finetune([...base, "--distill-guidance", "-0.5"])).rejects.toThrow(
    /--distill-guidance must be a number ≥ 0, got "-0.5"/,
  );
  await expect(finetune([...base, "--assignment-feedback", "-1"])).rejects.toThrow(
    /--assignment-feedback must be a number ≥ 0, got "-1"/,
  );
  await expect(finetune([...base, "--assignment-feedback", "2"])).rejects.toThrow(
    /--assignment-feedback 2 needs --distill-weight above 0 \(got none: the distillation is off\)/,
  );
  await expect(
    finetune([...base, "--assignment-feedback", "2", "--distill-weight", "0"]),
  ).rejects.toThrow(/--assignment-feedback 2 needs --distill-weight above 0 \(got 0\)/);
  await expect(finetune([...base, "--teacher-guidance-scale", "0"])).rejects.toThrow(
    /--teacher-guidance-scale must be a number > 0, got "0"/,
  );
  await expect(finetune([...base, "--teacher-guidance-scale", "1.5"])).rejects.toThrow(
    /--teacher-guidance-scale 1.5 needs --distill-weight above 0 \(got none: the distillation is off\)/,
  );
  await expect(finetune([...base, "--semantic-features", "clip"])).rejects.toThrow(
    /--semantic-features must be "classifier", "classifier-blind", "pixels" or "images", got "clip"/,
  );
  await expect(finetune([...base, "--trainable", "unet"])).rejects.toThrow(
    /--trainable must be "text-lora" or "unet-lora", got "unet"/,
  );
  await expect(finetune([...base, "--trainable", "soft-prompt"])).rejects.toThrow(
    /soft-prompt cannot be saved/,
  );
  await expect(finetune([...base, "--target", "sex=Female:0.5,Male"])).rejects.toThrow(
    /"Male" must look like Group:0.5/,
  );
  await expect(finetune([...base, "--from-scratch"])).rejects.toThrow(
    /--from-scratch applies to --method perturb only, not "align"/,
  );
  await expect(finetune([...base, "--ema", "1"])).rejects.toThrow(
    /--ema must be a number ≥ 0 and < 1, got "1"/,
  );
  await expect(finetune([...base, "--consistency-weight", "-1"])).rejects.toThrow(
    /--consistency-weight must be a number ≥ 0, got "-1"/,
  );
  await expect(finetune([...base, "--confidence-weight", "x"])).rejects.toThrow(
    /--confidence-weight must be a number ≥ 0, got "x"/,
  );
  expect(fs.existsSync(out)).toBe(false);
});

test("a one-step align run writes a tuned model that loads and records the run; subgroup dispatches too", async () => {
  const modelFile = path.join(dir, "tiny.fdckpt");
  const classifierFile = path.join(dir, "tiny-classifier.fdckpt");
  const out = path.join(dir, "tuned.fdckpt");
  const model = LatentDiffusionModel.create(PROMPTS, {
    imageSize: 16,
    imageChannels: 1,
    autoencoder: { blockChannels: [8, 8, 8], normGroups: 4, latentChannels: 4 },
    unet: { blockChannels: [8, 16], attentionLevels: [true, true], heads: 2, normGroups: 4 },
    textEncoder: { width: 8, layers: 1, heads: 2, mlpRatio: 2 },
  });
  await model.save(modelFile);
  model.dispose();
  const tasks: ClassificationTask[] = [
    { name: "sex", kind: "attribute", classes: ["Female", "Male"] },
  ];
  const classifier = new SubgroupClassifier(
    new SubgroupClassifierNetwork({ imageSize: 16, imageChannels: 1, channels: [4, 8] }, tasks, 1),
    [1],
  );
  await classifier.save(classifierFile);
  classifier.dispose();

  const tinyModels = ["--model", modelFile, "--classifier", classifierFile, "--prompt", PROMPTS[0]];
  const written = await captureOutput(() =>
    finetune([
      ...tinyModels,
      "--target",
      "sex=Female:0.25,Male:0.75",
      ...ONE_SMALL_STEP,
      "--out",
      out,
    ]),
  );
  const text = written.join("\n");
  expect(text).toMatch(/finetune align .* 1\/1 loss/);
  expect(text).toMatch(/evaluation at step 0/);
  expect(text).toMatch(/evaluation at step 1/);
  expect(text).toMatch(/sex: Female .* bias .* \(target 0\.25\/0\.75, n 2\)/);
  expect(text).toMatch(/wrote .*tuned\.fdckpt/);
  const tuned = LatentDiffusionModel.load(out);
  expect(tuned.info.finetune).toMatchObject({
    method: "align",
    steps: 1,
    target: { sex: { Female: 0.25, Male: 0.75 } },
    complete: true,
  });
  tuned.dispose();
  expect(fs.existsSync(`${out}.state.fdckpt`)).toBe(true);

  // The options that name a prompt's groups reach the method, which refuses this prompt's format.
  for (const flags of [
    ["--changed-reference", "prompted"],
    ["--prior-weight", "3"],
    ["--distill-weight", "1"],
  ]) {
    const never = path.join(dir, "never-named.fdckpt");
    await expect(
      captureOutput(() =>
        finetune([
          ...tinyModels,
          "--target",
          "sex=Female:0.5,Male:0.5",
          ...ONE_SMALL_STEP,
          ...flags,
          "--out",
          never,
        ]),
      ),
    ).rejects.toThrow(
      /must be ("neutral"|0) for these prompts \(prompt "Chest radiograph of a male/,
    );
    expect(fs.existsSync(never)).toBe(false);
  }

  // The same command dispatches to method 2 (subgroup-aligned tuning).
  const subgroupOut = path.join(dir, "tuned-subgroup.fdckpt");
  const subgroupText = (
    await captureOutput(() =>
      finetune([
        "--method",
        "subgroup",
        ...tinyModels,
        ...ONE_SMALL_STEP,
        "--ema",
        "0.9",
        "--consistency-weight",
        "0.5",
        "--confidence-weight",
        "0.25",
        "--out",
        subgroupOut,
      ]),
    )
  ).join("\n");
  expect(subgroupText).toMatch(/finetune subgroup .* 1\/1 loss/);
  const subgroupModel = LatentDiffusionModel.load(subgroupOut);
  expect(subgroupModel.info.finetune).toMatchObject({ method: "subgroup", complete: true });
  expect(subgroupModel.info.subgroupTuning).toMatchObject({
    emaDecay: 0.9,
    consistencyWeight: 0.5,
    confidenceWeight: 0.25,
  });
  subgroupModel.dispose();
}, 180000);

/** Runs `f` with stderr and console.error captured; returns what they wrote. */
async function captureOutput(f: () => Promise<unknown>): Promise<string[]> {
  const written: string[] = [];
  const spy = jest.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    written.push(String(chunk));
    return true;
  });
  const log = jest.spyOn(console, "error").mockImplementation((...parts: unknown[]) => {
    written.push(parts.join(" "));
  });
  try {
    await f();
  } finally {
    spy.mockRestore();
    log.mockRestore();
  }
  return written;
}
