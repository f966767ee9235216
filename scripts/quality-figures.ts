/**
 * The quality audit's figures for the shipped cxr-mini model: FID overall and per group (sex,
 * race) with the project encoder and the radiomic extractor, ES-FID, bootstrap intervals, the
 * real-vs-real floor at the same sample sizes, and clinical semantic correlation.
 *
 * Real images: a held-out draw of the cxr-mini cohort (same renderer and mix as training, another
 * seed). Generated: one image per real image from its own prompt. A second held-out draw stands
 * in for a perfect generator: its per-group FID is the floor that sampling noise alone gives.
 * Group figures are computed with every group subsampled to the smallest group's size
 * (`equalGroupSizes`), so the rare group is not penalised for its n.
 *
 * Run (no ts-node needed):
 *   npx tsc -p tsconfig.json && npx tsc --outDir dist --rootDir . --module commonjs \
 *     --target ES2022 --esModuleInterop --skipLibCheck --types node scripts/quality-figures.ts \
 *     && node dist/scripts/quality-figures.js [--n 700] [--steps 25] [--model file] [--json out.json]
 */
import { writeFileSync } from "fs";
import {
  auditQuality,
  heldOutRealSamples,
  labelledImagesFromPrompts,
  labelledImagesFromSamples,
  type LabelledImages,
} from "../src/audit";
import type { QualityAudit } from "../src/audit/qualityTypes";
import { useBackend } from "../src/backend";
import { cohortDefinition } from "../src/data";
import {
  defaultFeatureExtractor,
  radiomicExtractor,
  shippedModelPath,
  type FeatureExtractor,
} from "../src/features";
import type { RasterImage } from "../src/io/rasterImage";
import { LatentDiffusionModel } from "../src/pipeline/latentDiffusionModel";
import { CXR_MINI } from "../src/pipeline/presets";
import { generateImages } from "../src/pipeline/textToImage";

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

async function generate(model: LatentDiffusionModel, prompts: string[], steps: number) {
  const rasters: RasterImage[] = [];
  const chunk = 32;
  for (let start = 0; start < prompts.length; start += chunk) {
    const images = await generateImages(model, prompts.slice(start, start + chunk), {
      seed: 7,
      firstIndex: start,
      steps,
      guidanceScale: 3,
    });
    const [n, h, w] = images.shape;
    const values = (await images.data()) as Float32Array;
    images.dispose();
    for (let i = 0; i < n; i++) {
      rasters.push({
        width: w,
        height: h,
        channels: 1,
        data: values.slice(i * h * w, (i + 1) * h * w),
      });
    }
    process.stderr.write(`\rgenerated ${rasters.length}/${prompts.length}`);
  }
  process.stderr.write("\n");
  return rasters;
}

function summary(label: string, audit: QualityAudit): string {
  const fmt = (v: number) => (Number.isFinite(v) ? v.toPrecision(4) : "NaN");
  const lines = [
    `${label} — ${audit.extractor.name} (d = ${audit.extractor.dimension}): FID ${fmt(audit.overall.value)} ` +
      `[${fmt(audit.overall.interval?.lower ?? NaN)}, ${fmt(audit.overall.interval?.upper ?? NaN)}] ` +
      `(n ${audit.overall.nGenerated} vs ${audit.overall.nReal})`,
  ];
  for (const q of audit.byAttribute) {
    const groups = q.groups.map((g, k) => {
      const f = q.perGroup[k];
      return `${g} ${fmt(f.value)} [${fmt(f.interval?.lower ?? NaN)}, ${fmt(f.interval?.upper ?? NaN)}] (n ${f.nReal})`;
    });
    lines.push(`  ${q.attribute}: ${groups.join("; ")}; ES-FID ${fmt(q.esFid)}`);
  }
  for (const c of audit.clinical ?? []) {
    lines.push(
      `  clinical ${c.finding}: AUC ${fmt(c.auc)} [${fmt(c.aucInterval?.lower ?? NaN)}, ${fmt(c.aucInterval?.upper ?? NaN)}] ` +
        `(train ${c.nTrainGenerated} generated, test ${c.nTestReal} real)`,
    );
    for (const a of c.byAttribute) {
      lines.push(
        `    ${a.attribute}: ${a.groups.map((g, k) => `${g} ${fmt(a.auc[k])} (n ${a.n[k]})`).join("; ")}; ES-AUC ${fmt(a.esAuc)}`,
      );
    }
  }
  return lines.join("\n");
}

async function main() {
  await useBackend("wasm");
  const n = option("n", 700);
  const steps = option("steps", 25);
  const jsonAt = process.argv.indexOf("--json");
  const modelAt = process.argv.indexOf("--model");
  const modelFile = modelAt >= 0 ? process.argv[modelAt + 1] : shippedModelPath("cxr-mini.fdckpt");
  const model = LatentDiffusionModel.load(modelFile);
  console.log(`model ${modelFile}`);
  const attributes = cohortDefinition("cxr").attributes.filter((a) => a.name !== "ageBand");
  const realSamples = heldOutRealSamples(CXR_MINI, { size: n, seed: 2025 });
  const real = labelledImagesFromSamples(realSamples);
  const secondDraw = labelledImagesFromSamples(
    heldOutRealSamples(CXR_MINI, { size: n, seed: 2026 }),
  );
  const started = performance.now();
  const prompts = realSamples.map((s) => s.prompt);
  const generated: LabelledImages = labelledImagesFromPrompts(
    await generate(model, prompts, steps),
    prompts,
    attributes,
    ["Pleural Effusion"],
  );
  const generationSeconds = (performance.now() - started) / 1000;
  console.log(
    `${n} images generated (DDIM ${steps} steps, guidance 3) in ${generationSeconds.toFixed(0)} s`,
  );

  const results: Record<string, QualityAudit> = {};
  const extractors: [string, () => FeatureExtractor][] = [
    ["encoder", () => defaultFeatureExtractor()],
    ["radiomic", () => radiomicExtractor()],
  ];
  for (const [name, make] of extractors) {
    for (const [versus, set] of [
      ["generated", generated],
      ["second real draw", secondDraw],
    ] as const) {
      const extractor = make();
      const audit = await auditQuality(null, {
        real,
        generated: set,
        seed: 11,
        extractor,
        attributes,
        equalGroupSizes: true,
        bootstrap: { resamples: 200 },
        clinical: versus === "generated" && name === "encoder" ? { epochs: 10 } : undefined,
      });
      extractor.dispose();
      results[`${name} / ${versus}`] = audit;
      console.log(summary(`${versus} vs real`, audit));
    }
  }
  if (jsonAt >= 0) {
    writeFileSync(process.argv[jsonAt + 1], JSON.stringify({ n, steps, results }, null, 1));
  }
  model.dispose();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
