/**
 * Dial-a-bias: the proportions of a synthetic cohort, overall and conditional on a finding
 * ("85 % of pleural-effusion cases male"), and the exact per-sample assignment they imply.
 */
import type { Rng } from "../../util/random";
import { resolveAttribute, splitGroup, type SensitiveAttribute } from "../subgroups";
import { validateTarget, type TargetDistribution } from "../targetDistribution";
import type { CohortDefinition, SubjectLabels } from "./cohortDefinition";

export interface CohortMix {
  /** finding → fraction of samples where it is present, in [0, 1]. */
  prevalence?: Readonly<Record<string, number>>;
  /**
   * Attribute, or intersection such as "sex×race", → distribution over its groups across the
   * whole cohort. Unlisted attributes keep the cohort's defaults.
   */
  attributes?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /**
   * finding → attribute (or intersection) → distribution among the finding's positive cases.
   * The negative cases get whatever distribution keeps the overall one; an impossible
   * combination is an error. At most one finding may condition a given attribute.
   */
  givenFinding?: Readonly<
    Record<string, Readonly<Record<string, Readonly<Record<string, number>>>>>
  >;
  /**
   * "exact" (default): counts equal the proportions up to rounding (largest remainder), then
   * shuffled — for building a biased set on purpose. "independent": each sample drawn on its own.
   */
  sampling?: "exact" | "independent";
}

/** One attribute (or intersection) sampled as a unit, possibly conditioned on one finding. */
interface Factor {
  attribute: SensitiveAttribute;
  overall: TargetDistribution;
  given?: { finding: string; positive: TargetDistribution; negative: TargetDistribution };
}

export interface ResolvedMix {
  prevalence: Record<string, number>;
  factors: Factor[];
  sampling: "exact" | "independent";
}

function checkFinding(definition: CohortDefinition, finding: string): void {
  if (!definition.findings.includes(finding)) {
    throw new Error(
      `unknown finding "${finding}" for cohort "${definition.name}" (known: ${definition.findings.join(", ")})`,
    );
  }
}

function productTarget(
  attribute: SensitiveAttribute,
  parts: readonly TargetDistribution[],
): TargetDistribution {
  const out: Record<string, number> = {};
  for (const group of attribute.groups) {
    const split = splitGroup(attribute, group);
    out[group] = (attribute.components ?? [attribute]).reduce(
      (p, c, i) => p * parts[i][split[c.name]],
      1,
    );
  }
  return out;
}

/** Validates a mix against a cohort and fills in defaults. Errors name the offending value. */
export function resolveMix(definition: CohortDefinition, mix: CohortMix = {}): ResolvedMix {
  const prevalence: Record<string, number> = { ...definition.defaultPrevalence };
  for (const [finding, p] of Object.entries(mix.prevalence ?? {})) {
    checkFinding(definition, finding);
    if (typeof p !== "number" || !(p >= 0 && p <= 1)) {
      throw new Error(`prevalence of "${finding}" must be in [0, 1], got ${String(p)}`);
    }
    prevalence[finding] = p;
  }
  const sampling = mix.sampling ?? "exact";
  if (sampling !== "exact" && sampling !== "independent") {
    throw new Error(`sampling must be "exact" or "independent", got "${String(sampling)}"`);
  }

  // Which attribute names are sampled jointly: every key naming an intersection forms one unit.
  const keys = new Set<string>([
    ...Object.keys(mix.attributes ?? {}),
    ...Object.values(mix.givenFinding ?? {}).flatMap((byAttr) => Object.keys(byAttr)),
  ]);
  const unitOf = new Map<string, SensitiveAttribute>();
  for (const key of keys) {
    const attribute = resolveAttribute(definition.attributes, key);
    for (const component of attribute.components ?? [attribute]) {
      const existing = unitOf.get(component.name);
      if (existing && existing.name !== attribute.name) {
        throw new Error(
          `attribute "${component.name}" is given both in "${existing.name}" and in "${attribute.name}"; use one of them`,
        );
      }
      unitOf.set(component.name, attribute);
    }
  }
  const units: SensitiveAttribute[] = [];
  for (const attribute of definition.attributes) {
    const unit = unitOf.get(attribute.name) ?? attribute;
    if (!units.some((u) => u.name === unit.name)) units.push(unit);
  }

  const factors = units.map((unit): Factor => {
    const given = mix.attributes?.[unit.name];
    const overall = given
      ? validateTarget(unit, given)
      : unit.components
        ? productTarget(
            unit,
            unit.components.map((c) => definition.defaultAttributes[c.name]),
          )
        : definition.defaultAttributes[unit.name];
    const factor: Factor = { attribute: unit, overall };
    for (const [finding, byAttr] of Object.entries(mix.givenFinding ?? {})) {
      checkFinding(definition, finding);
      const positiveRaw = byAttr[unit.name];
      if (!positiveRaw) continue;
      if (factor.given) {
        throw new Error(
          `"${unit.name}" is conditioned on both "${factor.given.finding}" and "${finding}"; at most one finding may condition an attribute`,
        );
      }
      const positive = validateTarget(unit, positiveRaw);
      factor.given = {
        finding,
        positive,
        negative: negativeDistribution(unit, overall, positive, finding, prevalence[finding]),
      };
    }
    return factor;
  });
  return { prevalence, factors, sampling };
}

/** P(g | negative) = (P(g) − p·P(g | positive)) / (1 − p), checked to be a distribution. */
function negativeDistribution(
  attribute: SensitiveAttribute,
  overall: TargetDistribution,
  positive: TargetDistribution,
  finding: string,
  p: number,
): TargetDistribution {
  if (p >= 1) return positive;
  const out: Record<string, number> = {};
  for (const group of attribute.groups) {
    const value = (overall[group] - p * positive[group]) / (1 - p);
    if (value < -1e-9 || value > 1 + 1e-9) {
      throw new Error(
        `cannot keep ${attribute.name}=${group} at ${overall[group]} overall with ${positive[group]} among "${finding}" cases (prevalence ${p}): the other cases would need ${value.toFixed(4)}; set the overall ${attribute.name} distribution too`,
      );
    }
    out[group] = Math.min(1, Math.max(0, value));
  }
  return out;
}

/** Splits `n` into integer counts proportional to `weights` (largest remainder). */
export function apportion(n: number, weights: readonly number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  const raw = weights.map((w) => (total > 0 ? (n * w) / total : 0));
  const counts = raw.map(Math.floor);
  let left = n - counts.reduce((a, b) => a + b, 0);
  const order = raw
    .map((r, i) => [r - Math.floor(r), i])
    .sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) counts[order[k][1]]++;
  return counts;
}

function fillExact(
  rng: Rng,
  indices: readonly number[],
  weights: readonly number[],
  out: Int32Array,
) {
  const counts = apportion(indices.length, weights);
  const values: number[] = [];
  counts.forEach((count, value) => {
    for (let k = 0; k < count; k++) values.push(value);
  });
  rng.shuffle(values);
  indices.forEach((index, k) => (out[index] = values[k]));
}

/** Assigns findings and groups to `size` subjects. Deterministic in `rng`. */
export function assignSubjects(
  mix: ResolvedMix,
  findings: readonly string[],
  size: number,
  rng: Rng,
): SubjectLabels[] {
  const all = Array.from({ length: size }, (_, i) => i);
  const findingValues = new Map<string, Int32Array>();
  for (const finding of findings) {
    const values = new Int32Array(size);
    const p = mix.prevalence[finding];
    const stream = rng.fork(`finding:${finding}`);
    if (mix.sampling === "exact") fillExact(stream, all, [1 - p, p], values);
    else for (let i = 0; i < size; i++) values[i] = stream.next() < p ? 1 : 0;
    findingValues.set(finding, values);
  }
  const factorValues = mix.factors.map((factor) => {
    const values = new Int32Array(size);
    const stream = rng.fork(`factor:${factor.attribute.name}`);
    const weightsOf = (t: TargetDistribution) => factor.attribute.groups.map((g) => t[g]);
    const cells: [number[], TargetDistribution][] = [];
    if (factor.given) {
      const f = findingValues.get(factor.given.finding)!;
      cells.push([all.filter((i) => f[i] === 1), factor.given.positive]);
      cells.push([all.filter((i) => f[i] === 0), factor.given.negative]);
    } else {
      cells.push([all, factor.overall]);
    }
    for (const [indices, target] of cells) {
      const weights = weightsOf(target);
      if (mix.sampling === "exact") fillExact(stream, indices, weights, values);
      else for (const i of indices) values[i] = stream.categorical(weights);
    }
    return values;
  });
  return all.map((i) => {
    const attributes: Record<string, string> = {};
    mix.factors.forEach((factor, k) => {
      Object.assign(
        attributes,
        splitGroup(factor.attribute, factor.attribute.groups[factorValues[k][i]]),
      );
    });
    const labels: Record<string, number> = {};
    for (const finding of findings) labels[finding] = findingValues.get(finding)![i];
    return { attributes, labels };
  });
}
