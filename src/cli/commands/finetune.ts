/**
 * `fairdiff finetune`: fine-tune a model toward a target subgroup distribution with one of the
 * three mitigation methods (align: Shen et al.; subgroup: Han et al.; perturb: FairDiffusion),
 * with a progress bar, evaluation lines every k steps, a resumable state file (Ctrl-C saves it)
 * and the tuned model written atomically.
 */
import type { BackendRequest } from "../../backend";
import { backendFlag } from "../backendOption";
import { Option, type Command } from "commander";
import { useBackend, describeBackend } from "../../backend";
import { SubgroupClassifier } from "../../classifiers/subgroupClassifier";
import type { MethodEvaluationEvent, MethodEvent, MethodName } from "../../methods/methodEvents";
import type { MethodEvaluationOptions } from "../../methods/periodicEvaluation";
import type { TargetSlots } from "../../methods/optimalTransportTargets";
import { componentAttributes, PRIOR_CAPTION_SOURCES, startFix } from "../../methods/startFix";
import { LatentDiffusionModel } from "../../pipeline/latentDiffusionModel";
import { resetDenoiser } from "../../pipeline/resetDenoiser";
import { checkOutputFile } from "../../io/outputPath";
import { checkImageCount } from "../imageBudget";
import { interruptOnCtrlC } from "../interrupt";
import {
  choiceOption,
  collect,
  integerOption,
  optionalChoice,
  optionalInteger,
  optionalNumber,
  SAMPLER_STEP_RANGE,
  SEED_RANGE,
  STEP_RANGE,
} from "../optionValues";
import { ProgressBar } from "../progressBar";
import { NEUTRAL_EFFUSION_PROMPT } from "../../data/cohorts/chestRadiograph";
import { SEMANTIC_FEATURE_KINDS } from "../../methods/alignmentLoss";
import { CHANGED_REFERENCES, PRIOR_CHAINS } from "../../methods/alignmentOptions";
import { parseTargetSpecs, targetsForClassifier } from "../targetOption";
import { DEFAULT_CLASSIFIER } from "./evaluate";
import { DEFAULT_MODEL } from "./sample";

export const METHODS: readonly MethodName[] = ["align", "subgroup", "perturb"];

/** "sex Female 0.50 [0.34, 0.66] Male 0.50 [0.34, 0.66] bias 0.000 (target 0.50/0.50, n 32)". */
export function formatEvaluation(event: MethodEvaluationEvent): string[] {
  return event.attributes.map((a) => {
    const groups = a.groups
      .map(
        (g, i) =>
          `${g} ${a.proportions[i].toFixed(2)} [${a.intervals[i].lower.toFixed(2)}, ${a.intervals[i].upper.toFixed(2)}]`,
      )
      .join(" ");
    const target = a.target.map((t) => t.toFixed(2)).join("/");
    return `  ${a.attribute}: ${groups}  bias ${a.bias.toFixed(3)} (target ${target}, n ${a.n})`;
  });
}

interface FinetuneOptions {
  backend?: BackendRequest;
  method: string;
  model: string;
  classifier: string;
  prompt?: string[];
  target?: string[];
  steps: string;
  batchSize?: string;
  lr?: string;
  seed: string;
  out: string;
  state?: string;
  checkpointEvery: string;
  evaluateEvery?: string;
  evalImages: string;
  evalSteps: string;
  trainable: string;
  rank?: string;
  gradient: string;
  samplingSteps?: string;
  gradientSteps?: string;
  guidance?: string;
  fairnessWeight?: string;
  semanticWeight?: string;
  semanticFeatures?: string;
  changedTargetFactor?: string;
  changedReference?: string;
  priorWeight?: string;
  priorCaptions?: string;
  priorChain?: string;
  distillWeight?: string;
  distillGuidance?: string;
  teacherGuidanceScale?: string;
  assignmentFeedback?: string;
  holdWeight?: string;
  threshold?: string;
  targetSlots: string;
  cohortSize?: string;
  fromScratch?: boolean;
  consistencyWeight?: string;
  confidenceWeight?: string;
  ema?: string;
  restart?: boolean;
}

/** Images per optimisation step: each keeps its sampling chain's activations for the gradient. */
const BATCH_RANGE = {
  min: 1,
  max: 256,
  maxReason: "each image keeps its activations for the gradient",
};

/** `--prompt`, repeatable, as finetune and sweep take it. */
export function promptFlag(): Option {
  return new Option(
    "--prompt <text>",
    `prompt to debias (repeatable; default "${NEUTRAL_EFFUSION_PROMPT}")`,
  ).argParser(collect);
}

/** `--target`, repeatable, as finetune and sweep take it. */
export function targetFlag(): Option {
  return new Option(
    "--target <spec>",
    "target distribution, e.g. sex=Female:0.5,Male:0.5 (repeatable; default sex uniform)",
  ).argParser(collect);
}

export function registerFinetuneCommand(program: Command): void {
  program
    .command("finetune")
    .description("fine-tune a model toward a target subgroup distribution (resumable)")
    .option(
      "--method <name>",
      "align (Shen et al.), subgroup (Han et al.) or perturb (FairDiffusion)",
      "align",
    )
    .option("-m, --model <file>", "model checkpoint", DEFAULT_MODEL)
    .option("-c, --classifier <file>", "subgroup classifier checkpoint", DEFAULT_CLASSIFIER)
    .addOption(promptFlag())
    .addOption(targetFlag())
    .option("--steps <n>", "fine-tuning steps", "40")
    .option("--batch-size <n>", "images per step (method default)")
    .option("--lr <x>", "learning rate (method default)")
    .option("--seed <n>", "seed", "0")
    .requiredOption("-o, --out <file>", "tuned model to write (.fdckpt)")
    .option("--state <file>", "training-state file to resume from (default <out>.state.fdckpt)")
    .option("--checkpoint-every <n>", "write the state file every n steps", "10")
    .option(
      "--restart",
      "start over, replacing a state file written by an earlier run (with other settings)",
    )
    .option("--evaluate-every <k>", "audit the model every k steps (default: start and end only)")
    .option("--eval-images <n>", "images per prompt in each evaluation", "32")
    .option("--eval-steps <n>", "DDIM steps of the evaluation images", "25")
    .option("--trainable <kind>", "align: text-lora or unet-lora", "text-lora")
    .option("--rank <n>", "LoRA rank")
    .option("--gradient <mode>", "align: adjusted or exact chain gradient", "adjusted")
    .option("--sampling-steps <n>", "align/subgroup: DDIM steps of the tuned sampler")
    .option(
      "--gradient-steps <n>",
      "align: sampler steps back-propagated per step (random, unbiased; default all)",
    )
    .option("--guidance <scale>", "align/subgroup: guidance scale of the tuned sampler")
    .option("--fairness-weight <w>", "align: weight of the classifier's cross-entropy (default 1)")
    .option("--semantic-weight <w>", "align: weight of the semantic-preservation term")
    .option(
      "--semantic-features <kind>",
      "align: classifier, classifier-blind (without the targeted attributes), pixels (standardised, compared by correlation) or images (mean squared difference)",
    )
    .option(
      "--changed-target-factor <f>",
      "align: the semantic weight's share for images whose target differs from what they show (default 0.2)",
    )
    .option(
      "--changed-reference <kind>",
      "align: what an image that must change group is kept close to: neutral (the original image, default) or prompted (the original model's image for the prompt naming its target)",
    )
    .option(
      "--prior-weight <w>",
      "align: weight of the term keeping what prompts naming the patient's groups draw (default 0: off)",
    )
    .option(
      "--prior-captions <source>",
      "align: what the prior term holds: prompt (the tuned prompt naming each group, default) or training (the model's training captions, every finding)",
    )
    .option(
      "--prior-chain <chain>",
      "align: where the prior term holds its prompts: tuned (the tuned prompt's chain, default) or original (each held prompt's own chain, the original model's)",
    )
    .option(
      "--distill-weight <w>",
      "align: weight of the term teaching the prompt what the original model draws for the prompt naming each image's target groups (default 0: off)",
    )
    .option(
      "--distill-guidance <s>",
      "align: classifier-guidance scale steering the distillation's teacher toward each image's target groups, also those a prompt cannot name, such as age (default 0.1; 0: off)",
    )
    .option(
      "--teacher-guidance-scale <s>",
      "align: classifier-free guidance scale of the distillation's teacher, its chain and prediction for the named prompts (default: --guidance's)",
    )
    .option(
      "--assignment-feedback <gain>",
      "align: steer the distillation's assignment by the tuned model's measured shares, gain × its shortfall per group, so the model ends on the target (default 2 with --distill-weight above 0; 0: off)",
    )
    .option(
      "--hold-weight <w>",
      "align: weight of the term keeping each image's untargeted attributes (default 0: off)",
    )
    .option("--threshold <c>", "align: confidence below which an image gets no fairness loss")
    .option(
      "--target-slots <mode>",
      "align: stratified or iid target slots for attributes with more than two groups",
      "stratified",
    )
    .option(
      "--consistency-weight <λ>",
      "subgroup: weight of the consistency term (default 1; 0.25 reaches joint sex+race targets, at a cost in FID)",
    )
    .option("--confidence-weight <γ>", "subgroup: weight of the per-image entropy term (default 0)")
    .option("--ema <decay>", "end on a moving average of the tuned weights (e.g. 0.95)")
    .option("--cohort-size <n>", "perturb: training examples rendered from the model's preset")
    .option(
      "--from-scratch",
      "perturb: re-initialise the UNet (seeded) and train it anew; default --lr becomes 5e-4",
    )
    .addOption(backendFlag())
    .action(async (opts: FinetuneOptions) => {
      const method = choiceOption("--method", opts.method, METHODS);
      const targetSpecs = parseTargetSpecs(opts.target ?? ["sex=Female:0.5,Male:0.5"]);
      const prompts = opts.prompt ?? [NEUTRAL_EFFUSION_PROMPT];
      const steps = integerOption("--steps", opts.steps, STEP_RANGE);
      const seed = integerOption("--seed", opts.seed, SEED_RANGE);
      if (opts.fromScratch && method !== "perturb") {
        throw new Error(`--from-scratch applies to --method perturb only, not "${method}"`);
      }
      const stateFile = opts.state ?? `${opts.out}.state.fdckpt`;
      checkOutputFile("--out", opts.out);
      checkOutputFile(opts.state === undefined ? "the state file (--state)" : "--state", stateFile);
      const evalImages = integerOption("--eval-images", opts.evalImages, { min: 2 });
      const evaluation: MethodEvaluationOptions = {
        every: optionalInteger("--evaluate-every", opts.evaluateEvery, { min: 1 }) ?? steps,
        prompts,
        imagesPerPrompt: evalImages,
        seed: seed + 1000,
        attributes: componentAttributes(targetSpecs),
        generation: { steps: integerOption("--eval-steps", opts.evalSteps, SAMPLER_STEP_RANGE) },
      };
      const common = {
        steps,
        seed,
        batchSize: optionalInteger("--batch-size", opts.batchSize, BATCH_RANGE),
        // A fresh UNet learns at the preset's training rate, not the fine-tuning default.
        learningRate:
          optionalNumber("--lr", opts.lr, { above: 0 }) ?? (opts.fromScratch ? 5e-4 : undefined),
        stateFile,
        restart: opts.restart === true,
        checkpointEvery: integerOption("--checkpoint-every", opts.checkpointEvery, { min: 1 }),
        evaluation,
      };
      // Every value is checked before the models load.
      const tuning = tuningSettings(opts);

      console.error(describeBackend(await useBackend(opts.backend)));
      const model = LatentDiffusionModel.load(opts.model);
      const { imageSize, imageChannels } = model.config;
      const perImage = `${imageSize}×${imageSize}×${imageChannels} float32 pixels and the classifier's copy`;
      checkImageCount(
        "--eval-images",
        evalImages,
        imageSize * imageSize * imageChannels * 12,
        perImage,
      );
      if (tuning.cohortSize !== undefined) {
        checkImageCount(
          "--cohort-size",
          tuning.cohortSize,
          imageSize * imageSize * imageChannels * 12,
          perImage,
        );
      }
      for (const prompt of prompts) {
        for (const note of model.tokenizer.promptNotes(prompt)) console.error(`note: ${note}`);
      }
      if (opts.fromScratch) await resetDenoiser(model, seed);
      const classifier = SubgroupClassifier.load(opts.classifier);
      const target = targetsForClassifier(targetSpecs, classifier);
      const interrupt = interruptOnCtrlC("finishing the current step, then saving state…");
      try {
        const events = startFix(method, model, classifier, {
          ...common,
          ...tuning,
          prompts,
          target,
          classifier,
          signal: interrupt.signal,
        });
        const { aborted, saved } = await showEvents(events, method, steps);
        model.info = {
          ...model.info,
          finetune: {
            method,
            target,
            prompts,
            steps,
            seed,
            fromScratch: opts.fromScratch === true,
            complete: !aborted,
          },
        };
        if (aborted) {
          console.error(
            saved
              ? `stopped at step ${saved.step}; state saved to ${saved.file}: re-run the same command to resume`
              : "stopped before the first step finished; nothing saved yet",
          );
        } else {
          await model.save(opts.out);
          console.error(`wrote ${opts.out}`);
        }
      } finally {
        interrupt.close();
        model.dispose();
        classifier.dispose();
      }
    });
}

/** What a saved checkpoint can hold the training of (a soft prompt is not a model weight). */
export const CHECKPOINT_TRAINABLE = ["text-lora", "unet-lora"] as const;

/** Refuses each given flag unless the term it belongs to has a weight above 0. */
function requireTermOn(
  flags: readonly (readonly [string, unknown])[],
  term: { flag: string; value: number | undefined; off: string },
): void {
  if (term.value !== undefined && term.value > 0) return;
  for (const [flag, value] of flags) {
    if (value !== undefined) {
      throw new Error(
        `${flag} ${String(value)} needs ${term.flag} above 0 (got ${term.value ?? `none: ${term.off}`})`,
      );
    }
  }
}

/** Method-specific settings, parsed and checked. */
function tuningSettings(opts: FinetuneOptions) {
  if (opts.trainable === "soft-prompt") {
    throw new Error(
      "--trainable soft-prompt cannot be saved as a model checkpoint; use the library (distributionalAlignment) for soft prompts",
    );
  }
  const priorWeight = optionalNumber("--prior-weight", opts.priorWeight, { min: 0 });
  const priorCaptions = optionalChoice(
    "--prior-captions",
    opts.priorCaptions,
    PRIOR_CAPTION_SOURCES,
  );
  const priorChain = optionalChoice("--prior-chain", opts.priorChain, PRIOR_CHAINS);
  // Checked here, not only in the library, so the message names the flags before the model loads.
  requireTermOn(
    [
      ["--prior-captions", priorCaptions],
      ["--prior-chain", priorChain],
    ],
    {
      flag: "--prior-weight",
      value: priorWeight,
      off: "the prior term is off",
    },
  );
  const distillWeight = optionalNumber("--distill-weight", opts.distillWeight, { min: 0 });
  const assignmentFeedback = optionalNumber("--assignment-feedback", opts.assignmentFeedback, {
    min: 0,
  });
  const teacherGuidanceScale = optionalNumber(
    "--teacher-guidance-scale",
    opts.teacherGuidanceScale,
    { above: 0 },
  );
  requireTermOn(
    [
      // A gain of 0 turns the feedback off, which needs no distillation.
      ["--assignment-feedback", assignmentFeedback === 0 ? undefined : assignmentFeedback],
      ["--teacher-guidance-scale", teacherGuidanceScale],
    ],
    { flag: "--distill-weight", value: distillWeight, off: "the distillation is off" },
  );
  return {
    trainable: choiceOption("--trainable", opts.trainable, CHECKPOINT_TRAINABLE),
    gradient: choiceOption("--gradient", opts.gradient, ["adjusted", "exact"] as const),
    rank: optionalInteger("--rank", opts.rank, { min: 1, max: 256 }),
    sampler: {
      steps: optionalInteger("--sampling-steps", opts.samplingSteps, SAMPLER_STEP_RANGE),
      guidanceScale: optionalNumber("--guidance", opts.guidance, { above: 0 }),
    },
    gradientSteps: optionalInteger("--gradient-steps", opts.gradientSteps, SAMPLER_STEP_RANGE),
    fairnessWeight: optionalNumber("--fairness-weight", opts.fairnessWeight, { min: 0 }),
    semanticWeight: optionalNumber("--semantic-weight", opts.semanticWeight, { min: 0 }),
    threshold: optionalNumber("--threshold", opts.threshold, { min: 0, max: 1 }),
    semanticFeatures: optionalChoice(
      "--semantic-features",
      opts.semanticFeatures,
      SEMANTIC_FEATURE_KINDS,
    ),
    changedTargetFactor: optionalNumber("--changed-target-factor", opts.changedTargetFactor, {
      min: 0,
      max: 1,
    }),
    changedReference: optionalChoice(
      "--changed-reference",
      opts.changedReference,
      CHANGED_REFERENCES,
    ),
    priorWeight,
    priorCaptions,
    priorChain,
    distillWeight,
    distillGuidance: optionalNumber("--distill-guidance", opts.distillGuidance, { min: 0 }),
    teacherGuidanceScale,
    assignmentFeedback,
    holdWeight: optionalNumber("--hold-weight", opts.holdWeight, { min: 0 }),
    targetSlots: choiceOption<TargetSlots>("--target-slots", opts.targetSlots, [
      "stratified",
      "iid",
    ]),
    cohortSize: optionalInteger("--cohort-size", opts.cohortSize, { min: 1 }),
    consistencyWeight: optionalNumber("--consistency-weight", opts.consistencyWeight, { min: 0 }),
    confidenceWeight: optionalNumber("--confidence-weight", opts.confidenceWeight, { min: 0 }),
    emaDecay: optionalNumber("--ema", opts.ema, { min: 0, below: 1 }),
  } as const;
}

/** Progress bar per step, evaluation lines; whether the run was aborted, and its last state. */
async function showEvents(
  events: AsyncGenerator<MethodEvent, unknown>,
  method: MethodName,
  steps: number,
): Promise<{ aborted: boolean; saved?: { file: string; step: number } }> {
  const bar = new ProgressBar(`finetune ${method}`, steps);
  let aborted = false;
  let saved: { file: string; step: number } | undefined;
  for await (const event of events) {
    if (event.type === "step") {
      // Methods 1 and 2 classify their batch (a bias estimate); Method 3 reports per-group loss
      // gaps instead.
      const bias = Object.entries(event.biasEstimate).map(([a, b]) => `${a} ${b.toFixed(2)}`);
      const gaps = Object.entries(event.losses)
        .filter(([name]) => name.startsWith("gap:"))
        .map(([name, gap]) => `${name.slice(4)} ${gap.toFixed(4)}`);
      const detail =
        bias.length > 0
          ? ` batch bias ${bias.join(" ")}`
          : gaps.length > 0
            ? ` loss gap ${gaps.join(" ")}`
            : "";
      bar.update(event.step, `loss ${event.losses.total.toFixed(4)}${detail}`);
    } else if (event.type === "evaluation") {
      console.error(
        `evaluation at step ${event.step} (${(event.elapsedMs / 1000).toFixed(1)} s, ${(100 * event.evaluationShare).toFixed(0)} % of the run so far):`,
      );
      for (const line of formatEvaluation(event)) console.error(line);
    } else if (event.type === "checkpoint") {
      saved = { file: event.file, step: event.step };
    } else if (event.type === "done") {
      aborted = event.aborted;
    }
  }
  return { aborted, saved };
}
