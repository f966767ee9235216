/**
 * Done-when measurement for method 1 (distributional alignment, Shen et al.): fine-tune the
 * shipped cxr-mini so the neutral Pleural Effusion prompt (biased: mostly male) generates the
 * target sex mix, then audit on fresh seeds. Pass: Shen bias ≤ 0.1 for the uniform target, or
 * every group within ±0.07 of a non-uniform target; FID (project encoder) rises ≤ 15 %.
 *
 * FID is measured two ways, each against real effusion-positive radiographs of a held-out draw
 * of the cxr cohort (default mix, seed 99):
 *   - overall: all generated images vs a real set with the target's sex mix (what a user asked
 *     for; before the fix it also counts the mix mismatch);
 *   - per group: generated images the classifier assigns to a sex vs real images of that sex,
 *     averaged over groups (within-group image quality, blind to the mix).
 *
 * Run (after `npm run build`):
 *   npx tsc --outDir dist --rootDir . --module commonjs --target ES2022 --esModuleInterop \
 *     --skipLibCheck --types node scripts/distributional-alignment.ts && \
 *   node dist/scripts/distributional-alignment.js \
 *     [--target uniform|female75|male75] [--steps 40] [--batch 8] [--lr 3e-3] \
 *     [--trainable text-lora|unet-lora|soft-prompt] [--semantic 10] [--sampling-steps 10] \
 *     [--n 256] [--seed 3] [--json out.json]
 */
import { writeFileSync } from "fs";
import * as tf from "@tensorflow/tfjs-core";
import { useBackend, type BackendName } from "../src/backend";
import { SubgroupClassifier } from "../src/classifiers/subgroupClassifier";
import { createSyntheticCohort } from "../src/data/cohorts/syntheticCohort";
import { shenBias } from "../src/fairness/representationMetrics";
import { featureStatistics } from "../src/fairness/featureStatistics";
import { frechetDistance } from "../src/fairness/frechetDistance";
import { wilsonInterval } from "../src/fairness/wilsonInterval";
import { projectEncoderExtractor } from "../src/features/projectEncoderExtractor";
import type { AdapterKind } from "../src/methods/adapters";
import { distributionalAlignment } from "../src/methods/distributionalAlignment";
import { LatentDiffusionModel } from "../src/pipeline/latentDiffusionModel";
import { generateImages } from "../src/pipeline/textToImage";

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
}

const NEUTRAL = "Chest Radiography image of a patient diagnosed with Pleural Effusion";
const TARGETS: Record<string, Record<string, number>> = {
  uniform: { Female: 0.5, Male: 0.5 },
  female75: { Female: 0.75, Male: 0.25 },
  male75: { Female: 0.25, Male: 0.75 },
};

interface Audit {
  shares: number[];
  intervals: { lower: number; upper: number }[];
  bias: number;
  worstGap: number;
  fid: number;
  fidByGroup: number[];
  meanGroupFid: number;
  n: number;
}

async function main() {
  const backend = await useBackend(option("backend", "wasm") as BackendName);
  const targetName = option("target", "uniform");
  const targetBySex = TARGETS[targetName];
  if (!targetBySex) throw new Error(`unknown --target "${targetName}" (uniform, female75, male75)`);
  const steps = Number(option("steps", "40"));
  const batchSize = Number(option("batch", "8"));
  // Unset options take the method's defaults (text LoRA, lr 3e-3, semantic weight 10).
  const learningRate = optionalNumber("lr");
  const trainable = (option("trainable", "") || undefined) as AdapterKind | undefined;
  const samplerSteps = Number(option("sampling-steps", "10"));
  const semanticWeight = optionalNumber("semantic");
  const gradientSteps = option("gradient-steps", "");
  const n = Number(option("n", "256"));
  const seed = Number(option("seed", "3"));
  const auditSteps = Number(option("audit-steps", "25"));
  const classifier = SubgroupClassifier.load(option("classifier", "models/cxr-classifier.fdckpt"));
  const model = LatentDiffusionModel.load(option("model", "models/cxr-mini.fdckpt"));
  const sexes = classifier.task("sex").classes;
  const target = sexes.map((g) => targetBySex[g]);
  const encoder = projectEncoderExtractor(classifier);
  console.log(
    `backend ${backend.name}; target ${targetName} ${JSON.stringify(targetBySex)}; ` +
      `steps ${steps} batch ${batchSize} lr ${learningRate ?? "default"} ${trainable ?? "default trainable"} ` +
      `chain ${samplerSteps} semantic ${semanticWeight ?? "default"}`,
  );

  // Real effusion-positive radiographs of a held-out draw, per sex (features only).
  const real = createSyntheticCohort({ cohort: "cxr", size: 6000, seed: 99 });
  const realPerGroup = 400;
  const realFeatures: Float64Array[] = [];
  for (const g of sexes) {
    const indices = real.records
      .map((r, i) => ({ r, i }))
      .filter(({ r }) => r.labels["Pleural Effusion"] === 1 && r.attributes.sex === g)
      .slice(0, realPerGroup)
      .map(({ i }) => i);
    if (indices.length < realPerGroup)
      throw new Error(`only ${indices.length} real ${g} effusions`);
    const images = tf.tensor4d(
      Float32Array.from(indices.flatMap((i) => Array.from(real.sampleAt(i).image.data))),
      [indices.length, real.height, real.width, real.channels],
    );
    realFeatures.push(await encoder.extract(images));
    images.dispose();
  }
  const d = encoder.info.dimension;
  const rows = (features: Float64Array, pick: number[]) => {
    const out = new Float64Array(pick.length * d);
    pick.forEach((row, k) => out.set(features.subarray(row * d, (row + 1) * d), k * d));
    return out;
  };
  // The real set with the target's mix: the first target_g × realPerGroup images of each group.
  const mixed = sexes.map((_, g) =>
    rows(
      realFeatures[g],
      Array.from({ length: Math.round(target[g] * realPerGroup) }, (_, k) => k),
    ),
  );
  const realMixed = new Float64Array(mixed.reduce((s, m) => s + m.length, 0));
  let offset = 0;
  for (const m of mixed) {
    realMixed.set(m, offset);
    offset += m.length;
  }
  const fidTo = (a: Float64Array, b: Float64Array) =>
    frechetDistance(featureStatistics(a, d), featureStatistics(b, d)).distance;
  const floor = fidTo(rows(realFeatures[0], range(0, 200)), rows(realFeatures[0], range(200, 400)));
  console.log(`real-vs-real FID floor (${sexes[0]}, 200 vs 200): ${floor.toFixed(1)}`);

  const audit = async (auditSeed: number, label: string): Promise<Audit> => {
    const images = await generateImages(model, new Array<string>(n).fill(NEUTRAL), {
      seed: auditSeed,
      steps: auditSteps,
    });
    try {
      const head = (await classifier.predict(images)).find((h) => h.task === "sex")!;
      const counts = sexes.map(() => 0);
      const members: number[][] = sexes.map(() => []);
      head.predicted.forEach((g, i) => {
        counts[g]++;
        members[g].push(i);
      });
      const shares = counts.map((c) => c / n);
      const features = await encoder.extract(images);
      const fid = fidTo(features, realMixed);
      const fidByGroup = sexes.map((_, g) =>
        members[g].length >= 8 ? fidTo(rows(features, members[g]), realFeatures[g]) : NaN,
      );
      const present = fidByGroup.filter((x) => Number.isFinite(x));
      const result: Audit = {
        shares,
        intervals: counts.map((c) => wilsonInterval(c, n)),
        bias: shenBias(shares, target),
        worstGap: Math.max(...shares.map((s, g) => Math.abs(s - target[g]))),
        fid,
        fidByGroup,
        meanGroupFid: present.reduce((s, x) => s + x, 0) / present.length,
        n,
      };
      console.log(
        `${label}: ${sexes.map((g, i) => `${g} ${shares[i].toFixed(3)} [${result.intervals[i].lower.toFixed(3)}, ${result.intervals[i].upper.toFixed(3)}]`).join("; ")}; ` +
          `bias ${result.bias.toFixed(3)}; worst gap ${result.worstGap.toFixed(3)}; FID ${fid.toFixed(1)}; ` +
          `per-group FID ${fidByGroup.map((x, i) => `${sexes[i]} ${x.toFixed(1)} (${members[i].length})`).join(", ")}; n ${n}`,
      );
      return result;
    } finally {
      images.dispose();
    }
  };

  const before = await audit(1001, "before");
  const started = performance.now();
  const curve: { step: number; loss: number; batchBias: number }[] = [];
  for await (const e of distributionalAlignment(model, classifier, {
    steps,
    seed,
    prompts: [NEUTRAL],
    target: () => ({ sex: targetBySex }),
    batchSize,
    learningRate,
    trainable,
    sampler: { steps: samplerSteps },
    semanticWeight,
    ...(gradientSteps ? { gradientSteps: Number(gradientSteps) } : {}),
  })) {
    if (e.type === "step") {
      curve.push({ step: e.step, loss: e.losses.total, batchBias: e.biasEstimate.sex ?? NaN });
      if (e.step % 5 === 0 || e.step === 1) {
        console.log(
          `step ${e.step}: loss ${e.losses.total.toFixed(4)} batch bias ${(e.biasEstimate.sex ?? NaN).toFixed(3)} (${((performance.now() - started) / 1000).toFixed(0)} s)`,
        );
      }
    }
  }
  const minutes = (performance.now() - started) / 60000;
  const after = await audit(2002, "after");
  const uniform = targetName === "uniform";
  const onTarget = uniform ? after.bias <= 0.1 : after.worstGap <= 0.07;
  const fidRise = after.fid / before.fid - 1;
  const groupFidRise = after.meanGroupFid / before.meanGroupFid - 1;
  const pass = onTarget && groupFidRise <= 0.15;
  console.log(
    `fine-tuning ${minutes.toFixed(1)} min; ${uniform ? `bias ${before.bias.toFixed(3)} → ${after.bias.toFixed(3)} (≤ 0.1)` : `worst gap ${before.worstGap.toFixed(3)} → ${after.worstGap.toFixed(3)} (≤ 0.07)`}; ` +
      `FID vs target-mix real ${before.fid.toFixed(1)} → ${after.fid.toFixed(1)} (${(fidRise * 100).toFixed(1)} %); ` +
      `mean per-group FID ${before.meanGroupFid.toFixed(1)} → ${after.meanGroupFid.toFixed(1)} (${(groupFidRise * 100).toFixed(1)} %, ≤ 15 %) → ${pass ? "PASS" : "FAIL"}`,
  );
  const json = option("json", "");
  if (json) {
    const settings = { targetName, steps, batchSize, learningRate, trainable, samplerSteps };
    const report = { settings, semanticWeight, seed, n, floor, before, after, minutes, pass };
    writeFileSync(json, JSON.stringify({ ...report, curve }, null, 2));
  }
  encoder.dispose();
  model.dispose();
  process.exitCode = pass ? 0 : 1;
}

function optionalNumber(name: string): number | undefined {
  const value = option(name, "");
  return value === "" ? undefined : Number(value);
}

function range(start: number, end: number): number[] {
  return Array.from({ length: end - start }, (_, k) => start + k);
}

main().catch((error) => {
  console.error(error);
  process.exit(2);
});
