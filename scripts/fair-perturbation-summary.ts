/**
 * Pairs up the JSON files of scripts/fair-perturbation.ts runs (one arm per file, or both) by
 * seed and prints, per seed and on average, the held-out per-group loss gaps and ES-FID of the
 * plain and the perturbed arm. One seed's difference is mostly noise (the FID intervals span
 * hundreds), so the verdict is on the mean paired difference over seeds, with how many seeds
 * agree and a t-interval (two-sided 95 %) on the mean difference.
 *
 * Run: node dist/scripts/fair-perturbation-summary.js run1.json run2.json …
 */
import { readFileSync } from "fs";

interface Arm {
  label: string;
  loss: { overall: number; byAttribute: { attribute: string; gap: number }[] };
  quality?: { overall: { value: number }; byAttribute: { attribute: string; esFid: number }[] };
}

interface RunFile {
  seed: number;
  steps: number;
  learningRate: number;
  fromScratch?: boolean;
  results: Arm[];
}

// Two-sided 95 % Student-t quantiles by degrees of freedom (1–10); beyond that, ≈ normal.
const T_975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228];

function meanInterval(values: number[]): { mean: number; lower: number; upper: number } {
  const n = values.length;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  if (n < 2) return { mean, lower: NaN, upper: NaN };
  const sd = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  const half = (T_975[n - 2] ?? 1.96) * (sd / Math.sqrt(n));
  return { mean, lower: mean - half, upper: mean + half };
}

const arms = new Map<number, { plain?: Arm; perturbed?: Arm }>();
let setting = "";
for (const file of process.argv.slice(2)) {
  const run = JSON.parse(readFileSync(file, "utf8")) as RunFile;
  setting = `${run.steps} steps, lr ${run.learningRate}${run.fromScratch ? ", UNet from scratch" : ""}`;
  const pair = arms.get(run.seed) ?? {};
  for (const arm of run.results) {
    if (arm.label === "plain" || arm.label === "perturbed") pair[arm.label] = arm;
  }
  arms.set(run.seed, pair);
}

const sumGap = (a: Arm) => a.loss.byAttribute.reduce((s, g) => s + g.gap, 0);
const esFid = (a: Arm, attribute: string) =>
  a.quality?.byAttribute.find((q) => q.attribute === attribute)?.esFid ?? NaN;

const rows: { seed: number; plain: Arm; perturbed: Arm }[] = [];
for (const [seed, pair] of [...arms].sort((a, b) => a[0] - b[0])) {
  if (pair.plain && pair.perturbed)
    rows.push({ seed, plain: pair.plain, perturbed: pair.perturbed });
  else console.log(`seed ${seed}: only one arm, left out`);
}
if (rows.length === 0) {
  console.error("no seed has both arms");
  process.exit(2);
}
const attributes = rows[0].plain.quality?.byAttribute.map((q) => q.attribute) ?? [];
console.log(`${setting}; ${rows.length} seeds (perturbed − plain; negative = perturbation better)`);
for (const { seed, plain, perturbed } of rows) {
  const fids = attributes
    .map((a) => `${a} ES-FID ${esFid(plain, a).toFixed(0)} → ${esFid(perturbed, a).toFixed(0)}`)
    .join(", ");
  console.log(
    `seed ${seed}: loss ${plain.loss.overall.toFixed(5)} → ${perturbed.loss.overall.toFixed(5)}; ` +
      `summed gap ${sumGap(plain).toFixed(5)} → ${sumGap(perturbed).toFixed(5)}; ${fids}`,
  );
}
const report = (name: string, differences: number[], digits: number) => {
  const { mean, lower, upper } = meanInterval(differences);
  const better = differences.filter((d) => d < 0).length;
  console.log(
    `${name}: mean difference ${mean.toFixed(digits)} [${lower.toFixed(digits)}, ${upper.toFixed(digits)}], ` +
      `perturbation better in ${better}/${differences.length} seeds`,
  );
};
report(
  "overall held-out loss",
  rows.map((r) => r.perturbed.loss.overall - r.plain.loss.overall),
  5,
);
report(
  "summed loss gap",
  rows.map((r) => sumGap(r.perturbed) - sumGap(r.plain)),
  5,
);
for (const a of attributes) {
  report(
    `${a} ES-FID`,
    rows.map((r) => esFid(r.perturbed, a) - esFid(r.plain, a)),
    1,
  );
}
