/**
 * How KID figures are shown. KID's magnitude depends on the feature extractor: about 1e-3 … 1
 * on Inception-like features (hence the usual "KID ×10³"), about 1e5 … 1e6 on the project
 * encoder's unnormalised 64 features. So every set of figures shown together (one report, one
 * comparison table, one live plot) gets one engineering scale, chosen from its largest value,
 * and says it in its label: "KID ×10³" means the numbers shown are KID × 10³, "KID ×10⁻³" that
 * they are KID × 10⁻³. Within a set, figures compare at a glance; the label carries the unit.
 */
import { fixed } from "./reportText";

export interface KidScale {
  /** Shown value = KID × 10^power; a multiple of 3. */
  power: number;
  /** "KID ×10³", "KID", "KID ×10⁻³" … */
  label: string;
}

const SUPERSCRIPT: Record<string, string> = {
  "-": "⁻",
  "0": "⁰",
  "1": "¹",
  "2": "²",
  "3": "³",
  "4": "⁴",
  "5": "⁵",
  "6": "⁶",
  "7": "⁷",
  "8": "⁸",
  "9": "⁹",
};

function superscript(n: number): string {
  return [...String(n)].map((c) => SUPERSCRIPT[c]).join("");
}

/** The scale whose shown values put the largest |value| in [1, 1000) (×10³ when none is finite). */
export function kidScale(values: Iterable<number>): KidScale {
  let largest = 0;
  for (const v of values) if (Number.isFinite(v)) largest = Math.max(largest, Math.abs(v));
  // "+ 0" turns -0 into 0.
  const power = largest === 0 ? 3 : -3 * Math.floor(Math.log10(largest) / 3) + 0;
  return { power, label: power === 0 ? "KID" : `KID ×10${superscript(power)}` };
}

/** Every KID value of a quality audit: its estimates and interval ends. */
export function kidValuesOf(quality: {
  overallKid?: KidLike;
  byAttribute: readonly { perGroupKid?: readonly KidLike[] }[];
}): number[] {
  const figures = [quality.overallKid, ...quality.byAttribute.flatMap((g) => g.perGroupKid ?? [])];
  return figures.flatMap((f) =>
    f ? [f.value, ...(f.interval ? [f.interval.lower, f.interval.upper] : [])] : [],
  );
}

interface KidLike {
  value: number;
  interval?: { lower: number; upper: number };
}

/** Decimals that give the largest of the shown `values` three significant digits (0 to 4). */
function decimals(values: number[]): number {
  const largest = Math.max(0, ...values.filter(Number.isFinite).map(Math.abs));
  if (largest === 0) return 2;
  return Math.min(4, Math.max(0, 2 - Math.floor(Math.log10(largest))));
}

/** A KID on `scale` with three significant digits: 0.001234 on ×10³ → "1.23"; NaN → "n/a". */
export function kidValue(value: number, scale: KidScale): string {
  const shown = value * 10 ** scale.power;
  return fixed(shown, decimals([shown]));
}

/** A KID with its interval on `scale`, one number of decimals for all three: "1.23 [0.45, 2.01]". */
export function kidWithInterval(kid: KidLike, scale: KidScale): string {
  if (!kid.interval) return kidValue(kid.value, scale);
  const factor = 10 ** scale.power;
  const shown = [kid.value, kid.interval.lower, kid.interval.upper].map((v) => v * factor);
  const digits = decimals(shown);
  return `${fixed(shown[0], digits)} [${fixed(shown[1], digits)}, ${fixed(shown[2], digits)}]`;
}
