/**
 * Counts by subgroup × label as a plain, serialisable value (the widgets draw it; a script
 * prints it). Unknown attribute values are counted, not dropped.
 */
import type { MedicalDataset, SampleRecord } from "./medicalSample";
import { resolveAttribute, type SensitiveAttribute } from "./subgroups";

export interface GroupCount {
  group: string;
  total: number;
  /** finding → number of positives in this group. */
  positives: Record<string, number>;
}

export interface AttributeSummary {
  attribute: string;
  groups: GroupCount[];
  /** Records whose value for this attribute is unknown. */
  unknown: GroupCount;
}

export interface DatasetSummary {
  dataset: string;
  total: number;
  findings: { finding: string; positive: number; negative: number; prevalence: number }[];
  byAttribute: AttributeSummary[];
}

function emptyCount(group: string, findings: readonly string[]): GroupCount {
  return { group, total: 0, positives: Object.fromEntries(findings.map((f) => [f, 0])) };
}

/**
 * Summarises `dataset` by each of its attributes, or by the given attribute names (which may be
 * intersections such as "sex×race").
 */
export function summarizeDataset(
  dataset: Pick<MedicalDataset, "name" | "attributes" | "findings" | "records">,
  attributeNames?: readonly string[],
): DatasetSummary {
  const attributes: SensitiveAttribute[] = attributeNames
    ? attributeNames.map((n) => resolveAttribute(dataset.attributes, n))
    : [...dataset.attributes];
  const findings = dataset.findings;
  const byAttribute = attributes.map((attribute) => {
    const counts = new Map(attribute.groups.map((g) => [g, emptyCount(g, findings)]));
    const unknown = emptyCount("unknown", findings);
    for (const record of dataset.records) {
      const cell = counts.get(groupKey(attribute, record)) ?? unknown;
      cell.total++;
      for (const f of findings) if (record.labels[f] === 1) cell.positives[f]++;
    }
    return { attribute: attribute.name, groups: [...counts.values()], unknown };
  });
  return {
    dataset: dataset.name,
    total: dataset.records.length,
    findings: findings.map((finding) => {
      const positive = dataset.records.filter((r) => r.labels[finding] === 1).length;
      return {
        finding,
        positive,
        negative: dataset.records.length - positive,
        prevalence: dataset.records.length ? positive / dataset.records.length : 0,
      };
    }),
    byAttribute,
  };
}

function groupKey(attribute: SensitiveAttribute, record: SampleRecord): string {
  const parts = (attribute.components ?? [attribute]).map((c) => record.attributes[c.name]);
  return parts.some((p) => p === undefined) ? "" : parts.join("×");
}

/** A fixed-width text table of a summary, for the CLI. */
export function formatSummary(summary: DatasetSummary): string {
  const lines = [`${summary.dataset}: ${summary.total} samples`];
  for (const f of summary.findings) {
    lines.push(`  ${f.finding}: ${f.positive} positive (${(100 * f.prevalence).toFixed(1)}%)`);
  }
  const findings = summary.findings.map((f) => f.finding);
  for (const a of summary.byAttribute) {
    lines.push(`  by ${a.attribute}:`);
    const rows = a.unknown.total > 0 ? [...a.groups, a.unknown] : a.groups;
    for (const g of rows) {
      const cells = findings.map((f) => `${f} ${g.positives[f]}`).join(", ");
      lines.push(`    ${g.group.padEnd(18)} ${String(g.total).padStart(7)}   ${cells}`);
    }
  }
  return lines.join("\n");
}
