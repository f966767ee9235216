/**
 * The audit report as Markdown tables (GitHub, nbconvert, pull requests): one row per prompt and
 * attribute with every group's share and interval, the target, the bias and the corrected
 * estimate; a FID and KID table when the quality audit ran; the manifest's essentials.
 */
import type { AttributeRepresentation } from "./attributeRepresentation";
import type { AuditReportData } from "./auditReportSchema";
import type { KidFigure } from "./qualityTypes";
import { memorisationMarkdown } from "./reportMemorisation";
import { markdownTableLines } from "./reportTables";
import { kidScale, kidValuesOf, kidWithInterval } from "./kidScale";
import {
  duration,
  escapeMarkdown,
  fixed,
  numberInterval,
  percent,
  percentInterval,
} from "./reportText";

const md = escapeMarkdown;

function groups(a: AttributeRepresentation, values: (i: number) => string): string {
  return a.groups.map((g, i) => `${md(g)} ${values(i)}`).join("; ");
}

export function reportMarkdown(data: AuditReportData): string {
  const m = data.manifest;
  const lines = [
    `# ${md(data.title)}`,
    "",
    `fairdiff audit report, ${md(data.createdAt)}. Model ${md(m.model.file ?? m.model.preset ?? "in memory")}${m.model.sha256 ? ` (SHA-256 \`${m.model.sha256}\`)` : ""}, classifier ${md(m.classifier.file ?? "in memory")}, seed ${m.seed}, ${m.prompts.length} prompt(s) × ${m.imagesPerPrompt} images, ${md(m.sampler.scheduler)} ${m.sampler.steps} steps, guidance ${m.sampler.guidanceScale}.`,
    "",
    "## Representation",
    "",
    "Shares of generated images by the subgroup classifier, 95 % bootstrap intervals in brackets.",
    "",
  ];
  const rows = data.representation.flatMap((p) =>
    [...p.attributes, ...p.intersections].map((a) => [
      md(p.prompt),
      md(a.attribute),
      String(a.n),
      groups(a, (i) => percentInterval(a.proportions[i])),
      groups(a, (i) => percent(a.target[i])),
      numberInterval(a.bias),
      a.corrected ? groups(a, (i) => percentInterval(a.corrected![i])) : "—",
      a.classifier ? `${percent(a.classifier.accuracy)} (${a.classifier.heldOut})` : "—",
    ]),
  );
  lines.push(
    ...markdownTableLines(
      [
        "prompt",
        "attribute",
        "n",
        "group shares [95 % CI]",
        "target",
        "bias [95 % CI]",
        "corrected shares [95 % CI]",
        "classifier accuracy (held-out n)",
      ],
      rows,
    ),
  );
  const q = data.quality;
  if (q) {
    const hasKid = q.overallKid !== undefined || q.byAttribute.some((g) => g.perGroupKid);
    const scale = kidScale(kidValuesOf(q));
    lines.push(
      "",
      "## Image quality by group",
      "",
      `Feature extractor ${md(q.extractor.name)} (${md(q.extractor.kind)}, ${q.extractor.dimension} dimensions). ES-FID = FID + Σ_g \\|FID_g − FID\\|.${hasKid ? ` KID = unbiased MMD² with the cubic kernel (Bińkowski et al.), shown as ${scale.label} with its half-sampling interval; unlike FID not biased upward at small n.` : ""}`,
      "",
    );
    const kidCell = (kid: KidFigure | undefined) =>
      hasKid ? [kid ? kidWithInterval(kid, scale) : "—"] : [];
    const fidRows = [
      [
        "overall",
        "all",
        `${fixed(q.overall.value, 2)}${q.overall.interval ? ` [${fixed(q.overall.interval.lower, 2)}, ${fixed(q.overall.interval.upper, 2)}]` : ""}`,
        ...kidCell(q.overallKid),
        String(q.overall.nGenerated),
        String(q.overall.nReal),
        "",
      ],
      ...q.byAttribute.flatMap((g) =>
        g.groups.map((group, i) => [
          md(g.attribute),
          md(group),
          `${fixed(g.perGroup[i].value, 2)}${g.perGroup[i].interval ? ` [${fixed(g.perGroup[i].interval!.lower, 2)}, ${fixed(g.perGroup[i].interval!.upper, 2)}]` : ""}`,
          ...kidCell(g.perGroupKid?.[i]),
          String(g.perGroup[i].nGenerated),
          String(g.perGroup[i].nReal),
          i === 0 ? fixed(g.esFid, 2) : "",
        ]),
      ),
    ];
    lines.push(
      ...markdownTableLines(
        [
          "attribute",
          "group",
          "FID",
          ...(hasKid ? [`${scale.label} [CI]`] : []),
          "n generated",
          "n real",
          "ES-FID",
        ],
        fidRows,
      ),
    );
    if (q.clinical && q.clinical.length > 0) {
      lines.push("", "### Clinical semantic correlation", "");
      const clinicalRows = q.clinical.flatMap((c) =>
        c.byAttribute.flatMap((b) =>
          b.groups.map((group, i) => [
            md(c.finding),
            fixed(c.auc),
            md(b.attribute),
            md(group),
            fixed(b.auc[i]),
            String(b.n[i]),
            i === 0 ? fixed(b.esAuc) : "",
          ]),
        ),
      );
      lines.push(
        ...markdownTableLines(
          ["finding", "AUC", "attribute", "group", "group AUC", "n", "ES-AUC"],
          clinicalRows,
        ),
      );
    }
  }
  if (q?.memorisation) lines.push("", memorisationMarkdown(q.memorisation).trimEnd());
  lines.push(
    "",
    "## Run manifest",
    "",
    ...markdownTableLines(
      ["field", "value"],
      [
        ["model weights SHA-256", `\`${m.model.weightsSha256}\``],
        ["classifier weights SHA-256", `\`${m.classifier.weightsSha256}\``],
        ["backend", md(`${m.backend.name} (${m.backend.source})`)],
        [
          "versions",
          md(
            `fairdiff ${m.versions.fairdiff}, tfjs-core ${m.versions.tfjsCore}, Node ${m.versions.node}`,
          ),
        ],
        [
          "real data",
          m.data
            ? md(`${m.data.description}, ${m.data.images} images, SHA-256 ${m.data.sha256}`)
            : "—",
        ],
        [
          "elapsed",
          `${duration(m.elapsedMs.total)} (representation ${duration(m.elapsedMs.representation)}${m.elapsedMs.quality === undefined ? "" : `, quality ${duration(m.elapsedMs.quality)}`})`,
        ],
      ],
    ),
    "",
  );
  return lines.join("\n");
}
