/**
 * The comparison's one table, derived from the rows' audit reports: per row, the representation
 * bias of every audited attribute against the target (targeted attributes first), FID overall
 * and per group of each targeted attribute, ES-FID, KID (one scale for the table) where measured, the clinical AUC and
 * ES-AUC, the near-copy share where measured, and the cost. The HTML page, the Markdown and the
 * plain text all render this one table.
 */
import type { AuditReportData } from "../audit/auditReportSchema";
import { kidScale, kidValue, kidValuesOf, kidWithInterval, type KidScale } from "../audit/kidScale";
import type { Interval } from "../fairness/interval";
import type { ComparisonRow, FixComparisonData } from "./fixComparison";

export interface ComparisonColumn {
  /** Short heading. */
  heading: string;
  /** What the column holds, in a sentence (a tooltip, a table note). */
  description: string;
}

export interface ComparisonTable {
  columns: ComparisonColumn[];
  /** One line per comparison row: its label, then one cell per column. */
  rows: { fix: ComparisonRow["fix"]; label: string; cells: string[] }[];
  notes: string[];
}

/** Three significant digits, no exponent for the magnitudes these metrics take. */
export function formatFigure(value: number): string {
  if (!Number.isFinite(value)) return "–";
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return value.toFixed(0);
  if (magnitude >= 10) return value.toFixed(1);
  if (magnitude >= 1 || magnitude === 0) return value.toFixed(2);
  return value.toPrecision(2);
}

function withInterval(interval: Interval | undefined, digits = 3): string {
  if (!interval) return "–";
  const f = (x: number) => x.toFixed(digits);
  return `${f(interval.estimate)} [${f(interval.lower)}, ${f(interval.upper)}]`;
}

function figureWithInterval(value: number, interval?: { lower: number; upper: number }): string {
  if (!interval) return formatFigure(value);
  return `${formatFigure(value)} [${formatFigure(interval.lower)}, ${formatFigure(interval.upper)}]`;
}

function attributeOrder(data: FixComparisonData): { name: string; targeted: boolean }[] {
  const targeted = Object.keys(data.settings.target);
  const audited = data.settings.attributes.filter((a) => !targeted.includes(a));
  return [
    ...targeted.map((name) => ({ name, targeted: true })),
    ...audited.map((name) => ({ name, targeted: false })),
  ];
}

function biasOf(report: AuditReportData, attribute: string): Interval | undefined {
  const first = report.representation[0];
  return [...first.attributes, ...first.intersections].find((a) => a.attribute === attribute)?.bias;
}

function groupFigures(report: AuditReportData, attribute: string): string {
  const q = report.quality?.byAttribute.find((g) => g.attribute === attribute);
  if (!q) return "–";
  return q.groups.map((g, i) => `${g} ${formatFigure(q.perGroup[i].value)}`).join(" · ");
}

function groupKids(report: AuditReportData, attribute: string, scale: KidScale): string {
  const q = report.quality?.byAttribute.find((g) => g.attribute === attribute);
  if (!q?.perGroupKid) return "–";
  return q.groups.map((g, i) => `${g} ${kidValue(q.perGroupKid![i].value, scale)}`).join(" · ");
}

function esFidOf(report: AuditReportData, attribute: string): string {
  const q = report.quality?.byAttribute.find((g) => g.attribute === attribute);
  return q ? formatFigure(q.esFid) : "–";
}

function clinicalOf(report: AuditReportData, attribute: string): [string, string] {
  const clinical = report.quality?.clinical?.[0];
  if (!clinical) return ["–", "–"];
  const byAttribute = clinical.byAttribute.find((a) => a.attribute === attribute);
  const auc = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : "–");
  const range = clinical.aucInterval
    ? ` [${auc(clinical.aucInterval.lower)}, ${auc(clinical.aucInterval.upper)}]`
    : "";
  return [`${auc(clinical.auc)}${range}`, byAttribute ? auc(byAttribute.esAuc) : "–"];
}

function nearCopiesOf(report: AuditReportData): string {
  const m = report.quality?.memorisation;
  if (!m) return "–";
  const share = m.overall.share;
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  return `${m.overall.nearCopies}/${m.overall.n}: ${pct(share.estimate)} [${pct(share.lower)}, ${pct(share.upper)}]`;
}

function costOf(row: ComparisonRow): [string, string] {
  if (!row.cost) return ["–", "–"];
  return [
    `${row.cost.steps} × ${row.cost.imagesPerStep}`,
    `${(row.cost.fineTuneMs / 1000).toFixed(1)} s`,
  ];
}

export function comparisonTable(data: FixComparisonData): ComparisonTable {
  const attributes = attributeOrder(data);
  const targeted = attributes.filter((a) => a.targeted).map((a) => a.name);
  const prompt = data.rows[0].report.representation[0]?.prompt ?? "";
  const finding = data.rows[0].report.quality?.clinical?.[0]?.finding;
  // One KID scale for the whole table, so rows compare at a glance.
  const scale = kidScale(
    data.rows.flatMap((r) => (r.report.quality ? kidValuesOf(r.report.quality) : [])),
  );
  const columns: ComparisonColumn[] = [
    ...attributes.map(({ name, targeted: isTarget }) => ({
      heading: `bias ${name}${isTarget ? " (target)" : ""}`,
      description: `Shen et al.'s bias of ${name} against ${isTarget ? "the target" : "a uniform split (not targeted)"}, 95 % interval; 0 = on target`,
    })),
    { heading: "FID", description: "FID of all generated vs all held-out real images" },
    {
      heading: scale.label,
      description: `KID (unbiased MMD², cubic kernel; shown as ${scale.label}) of all generated vs all real images, half-sampling 95 % interval`,
    },
    ...targeted.flatMap((name) => [
      { heading: `FID by ${name}`, description: `FID of each ${name} group (generated vs real)` },
      {
        heading: `${scale.label} by ${name}`,
        description: `KID of each ${name} group: unbiased in the group's size, unlike FID`,
      },
      { heading: `ES-FID ${name}`, description: `FID + Σ_g |FID_g − FID| over the ${name} groups` },
    ]),
    {
      heading: finding ? `AUC ${finding}` : "AUC",
      description:
        "a finding classifier trained on the generated images only, tested on real ones (95 % interval)",
    },
    ...targeted.map((name) => ({
      heading: `ES-AUC ${name}`,
      description: `the clinical AUC scaled by its spread over the ${name} groups`,
    })),
    {
      heading: "near-copies",
      description:
        "share of generated images that are near-copies of a training image (memorisation audit; thresholds flag 5 % of held-out real images), Wilson 95 % interval",
    },
    { heading: "steps × images", description: "the fine-tuning budget every fix shared" },
    { heading: "fine-tune time", description: "wall time of the fine-tuning alone" },
  ];
  const rows = data.rows.map((row) => {
    const report = row.report;
    const cells = [
      ...attributes.map(({ name }) => withInterval(biasOf(report, name))),
      report.quality
        ? figureWithInterval(report.quality.overall.value, report.quality.overall.interval)
        : "–",
      report.quality?.overallKid ? kidWithInterval(report.quality.overallKid, scale) : "–",
      ...targeted.flatMap((name) => [
        groupFigures(report, name),
        groupKids(report, name, scale),
        esFidOf(report, name),
      ]),
      clinicalOf(report, targeted[0] ?? "")[0],
      ...targeted.map((name) => clinicalOf(report, name)[1]),
      nearCopiesOf(report),
      ...costOf(row),
    ];
    return { fix: row.fix, label: row.label, cells };
  });
  const s = data.settings;
  const notes = [
    `Every row audited with the same ${s.audit.imagesPerPrompt} images of "${prompt}" (seed ${s.auditSeed}, ${s.audit.samplerSteps} DDIM steps) and the same ${s.audit.realImages} held-out real images.`,
    `Every fix started from the same base model with fine-tuning seed ${s.seed} and the same budget: ${s.steps} steps × ${s.batchSize} images; each method's own learning rate and trainable parameters (docs/methods.md).`,
  ];
  if (s.prompts.length > 1) {
    notes.push(
      `Bias is shown for the first prompt; each row's full report has every prompt (${s.prompts.length}).`,
    );
  }
  return { columns, rows, notes };
}
