/**
 * The audit report in a few plain-text lines (text/plain in a notebook, the CLI's last words):
 * for each prompt and attribute, the most over-represented group with its interval against the
 * target, and the bias; overall FID and KID and ES-FID when the quality audit ran.
 */
import type { AttributeRepresentation } from "./attributeRepresentation";
import type { AuditReportData } from "./auditReportSchema";
import { fixed, numberInterval, percent, percentInterval } from "./reportText";
import { kidScale, kidValuesOf, kidWithInterval } from "./kidScale";

/** Index of the group whose share lies furthest above its target: where the skew is. */
export function mostOverRepresented(a: AttributeRepresentation): number {
  let worst = 0;
  a.groups.forEach((_, i) => {
    if (a.proportions[i].estimate - a.target[i] > a.proportions[worst].estimate - a.target[worst])
      worst = i;
  });
  return worst;
}

export function reportSummary(data: AuditReportData): string {
  const m = data.manifest;
  const lines = [
    `${data.title} — ${m.prompts.length} prompt(s) × ${m.imagesPerPrompt} images, model ${m.model.file ?? m.model.preset ?? "in memory"}, seed ${m.seed}`,
  ];
  for (const p of data.representation) {
    lines.push(`  “${p.prompt}”`);
    for (const a of [...p.attributes, ...p.intersections]) {
      const worst = mostOverRepresented(a);
      lines.push(
        `    ${a.attribute}: ${a.groups[worst]} ${percentInterval(a.proportions[worst])} (target ${percent(a.target[worst])}), bias ${numberInterval(a.bias)}, n = ${a.n}`,
      );
    }
  }
  const q = data.quality;
  if (q) {
    const scale = kidScale(kidValuesOf(q));
    lines.push(
      `  FID (${q.extractor.name}) ${fixed(q.overall.value, 2)}${q.overallKid ? `, ${scale.label} ${kidWithInterval(q.overallKid, scale)}` : ""} (${q.overall.nGenerated} generated vs ${q.overall.nReal} real); ES-FID ${q.byAttribute
        .map((g) => `${g.attribute} ${fixed(g.esFid, 2)}`)
        .join(", ")}`,
    );
    // Per-group KID: the figure that compares groups of different sizes fairly.
    for (const g of q.byAttribute) {
      if (!g.perGroupKid) continue;
      lines.push(
        `    ${scale.label} by ${g.attribute}: ${g.groups.map((group, i) => `${group} ${kidWithInterval(g.perGroupKid![i], scale)}`).join(" · ")}`,
      );
    }
    const mem = q.memorisation;
    if (mem) {
      lines.push(
        `  near-copies of training images: ${mem.overall.nearCopies} of ${mem.overall.n} (${percentInterval(mem.overall.share)}; held-out null ${percent(mem.calibration.level)})`,
      );
    }
  }
  return lines.join("\n");
}
