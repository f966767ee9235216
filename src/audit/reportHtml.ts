/**
 * The audit report as HTML: a self-contained page (no network: inline CSS and SVG, system
 * fonts) and a fragment for notebook output (no <html>/<body>, styles scoped under
 * .fairdiff-report). Every untrusted string — prompts, attribute and group names, file names,
 * free-form provenance — goes through escapeHtml.
 */
import type { AttributeRepresentation } from "./attributeRepresentation";
import type { AuditReportData } from "./auditReportSchema";
import type { QualityAudit } from "./qualityTypes";
import type { PromptRepresentation } from "./representationAudit";
import { fidChart, kidChart, proportionChart } from "./reportCharts";
import { mostOverRepresented } from "./reportSummary";
import { memorisationHtml } from "./reportMemorisation";
import { htmlTable } from "./reportTables";
import { standalonePage } from "./standalonePage";
import { kidScale, kidValuesOf, kidWithInterval, type KidScale } from "./kidScale";
import {
  duration,
  escapeHtml,
  fixed,
  intervalMethod,
  numberInterval,
  percent,
  percentInterval,
} from "./reportText";
import type { RunManifest } from "./runManifest";

/** Neutral styles on an explicit white card, so the report reads the same in any theme. */
export const REPORT_CSS = `
.fairdiff-report { background: #ffffff; color: #1f2328; font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; font-size: 14px; line-height: 1.45; padding: 16px 20px; max-width: 1100px; border: 1px solid #d0d7de; border-radius: 6px; }
.fairdiff-report h1 { font-size: 1.5em; margin: 0 0 4px; }
.fairdiff-report h2 { font-size: 1.2em; margin: 24px 0 6px; border-bottom: 1px solid #d0d7de; padding-bottom: 3px; }
.fairdiff-report h3 { font-size: 1.05em; margin: 16px 0 4px; }
.fairdiff-report p, .fairdiff-report figcaption { margin: 4px 0; }
.fairdiff-report .fd-muted { color: #57606a; }
.fairdiff-report .fd-prompt { font-style: italic; }
.fairdiff-report table { border-collapse: collapse; margin: 6px 0 12px; font-variant-numeric: tabular-nums; }
.fairdiff-report th, .fairdiff-report td { border: 1px solid #d0d7de; padding: 3px 8px; text-align: left; vertical-align: top; }
.fairdiff-report th { background: #f6f8fa; font-weight: 600; }
.fairdiff-report td.fd-num { text-align: right; white-space: nowrap; }
.fairdiff-report code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9em; word-break: break-all; }
.fairdiff-report .fd-charts { display: flex; flex-wrap: wrap; gap: 8px 24px; }
.fairdiff-report figure { margin: 4px 0; }
.fairdiff-report figcaption { font-weight: 600; }
.fairdiff-report svg.fd-chart { display: block; max-width: 100%; height: auto; }
.fairdiff-report .fd-note { font-size: 0.9em; color: #57606a; }
`;

const h = escapeHtml;

function classifierNote(a: AttributeRepresentation): string {
  if (!a.classifier) return "";
  return `classifier head “${h(a.attribute)}”: held-out accuracy ${percent(a.classifier.accuracy)} on ${a.classifier.heldOut} real images`;
}

function groupTable(a: AttributeRepresentation): string {
  const rows = a.groups.map((group, i) => [
    h(group),
    String(a.counts[i]),
    percentInterval(a.proportions[i]),
    percent(a.target[i]),
    a.corrected ? percentInterval(a.corrected[i]) : "—",
  ]);
  return htmlTable(
    ["group", "count", "share [95 % CI]", "target", "corrected share [95 % CI]"],
    rows,
    [false, true, true, true, true],
  );
}

function attributeBlock(a: AttributeRepresentation, prompt: string): string {
  const notes = [
    `${a.n} images`,
    `bias ${numberInterval(a.bias)}`,
    `TV ${numberInterval(a.totalVariation)}`,
    `KL ${numberInterval(a.kl)}`,
    `fairness discrepancy ${fixed(a.fairnessDiscrepancy)}`,
  ];
  const classifier = classifierNote(a);
  return `<figure class="fd-attribute"><figcaption>${h(a.attribute)}</figcaption>${proportionChart(a, prompt)}<p class="fd-note">${notes.join(" · ")}${classifier ? `<br>${classifier}` : ""}${a.correctionUnavailable ? `<br>no corrected estimate: ${h(a.correctionUnavailable)}` : ""}</p>${groupTable(a)}</figure>`;
}

function metricsTable(p: PromptRepresentation): string {
  const rows = [...p.attributes, ...p.intersections].map((a) => [
    h(a.attribute),
    String(a.n),
    numberInterval(a.bias),
    numberInterval(a.totalVariation),
    numberInterval(a.kl),
    fixed(a.fairnessDiscrepancy),
    a.classifier ? `${percent(a.classifier.accuracy)} (${a.classifier.heldOut})` : "—",
  ]);
  return htmlTable(
    [
      "attribute",
      "n",
      "bias [95 % CI]",
      "total variation [95 % CI]",
      "KL(target‖share) [95 % CI]",
      "fairness discrepancy",
      "classifier accuracy (held-out n)",
    ],
    rows,
    [false, true, true, true, true, true, true],
  );
}

function promptSection(p: PromptRepresentation, index: number): string {
  const parts = [
    `<section class="fd-prompt-section"><h2>Prompt ${index + 1}: <span class="fd-prompt">“${h(p.prompt)}”</span></h2>`,
    `<p class="fd-muted">${p.n} images, seed ${p.seed}</p>`,
    metricsTable(p),
    `<div class="fd-charts">${[...p.attributes, ...p.intersections].map((a) => attributeBlock(a, p.prompt)).join("")}</div>`,
  ];
  const adherence = Object.entries(p.adherence);
  if (adherence.length > 0) {
    parts.push(
      `<h3>Prompt adherence</h3>`,
      htmlTable(
        ["attribute", "group named in the prompt", "share shown [95 % CI]", "n"],
        adherence.map(([attribute, a]) => [
          h(attribute),
          h(a.group),
          percentInterval(a.rate),
          String(a.rate.n),
        ]),
        [false, false, true, true],
      ),
    );
  }
  if (p.findings.length > 0) {
    parts.push(
      `<h3>Findings</h3>`,
      htmlTable(
        ["finding", "prompt asks for", "classified positive [95 % CI]", "n"],
        p.findings.map((f) => [
          h(f.finding),
          f.requested === undefined ? "—" : f.requested ? "present" : "absent",
          percentInterval(f.positiveRate),
          String(f.positiveRate.n),
        ]),
        [false, false, true, true],
      ),
    );
  }
  parts.push("</section>");
  return parts.join("");
}

function overviewTable(data: AuditReportData): string {
  const rows = data.representation.flatMap((p) =>
    [...p.attributes, ...p.intersections].map((a) => {
      const worst = mostOverRepresented(a);
      return [
        `<span class="fd-prompt">${h(p.prompt)}</span>`,
        h(a.attribute),
        String(a.n),
        `${h(a.groups[worst])} ${percentInterval(a.proportions[worst])} vs target ${percent(a.target[worst])}`,
        numberInterval(a.bias),
        numberInterval(a.totalVariation),
      ];
    }),
  );
  return htmlTable(
    ["prompt", "attribute", "n", "most over-represented group", "bias [95 % CI]", "TV [95 % CI]"],
    rows,
    [false, false, true, false, true, true],
  );
}

/** The KID interval method in words, from the first KID that has an interval. */
function kidNote(q: QualityAudit, scale: KidScale): string {
  const first = [q.overallKid, ...q.byAttribute.flatMap((g) => g.perGroupKid ?? [])].find(
    (k) => k?.interval,
  );
  const how = first?.interval ? ` Intervals: ${h(intervalMethod(first.interval))}, seeded.` : "";
  return `<p class="fd-note">KID (Bińkowski et al.) is the unbiased MMD² between generated and real features under the cubic kernel (xᵀy/d + 1)³, shown as ${h(scale.label)} (its size depends on the feature extractor). Unlike FID it is not biased upward at small n, so groups of different sizes compare fairly; it can be slightly negative when the sides do not differ.${how}</p>`;
}

function qualitySection(q: QualityAudit): string {
  const fig = (f: { value: number; nGenerated: number; nReal: number }) => `${fixed(f.value, 2)}`;
  const hasKid = q.overallKid !== undefined || q.byAttribute.some((g) => g.perGroupKid);
  const scale = kidScale(kidValuesOf(q));
  const overallKid = q.overallKid
    ? ` · ${h(scale.label)} ${kidWithInterval(q.overallKid, scale)}`
    : "";
  const parts = [
    `<section class="fd-quality"><h2>Image quality by group</h2>`,
    `<p>Feature extractor <b>${h(q.extractor.name)}</b> (${h(q.extractor.kind)}, ${q.extractor.dimension} dimensions): ${h(q.extractor.description)}</p>`,
    `<p>Overall FID ${fig(q.overall)}${q.overall.interval ? ` [${fixed(q.overall.interval.lower, 2)}, ${fixed(q.overall.interval.upper, 2)}]` : ""}${overallKid} — ${q.overall.nGenerated} generated vs ${q.overall.nReal} real images. <span class="fd-muted">ES-FID = FID + Σ_g |FID_g − FID| (fairdiff's definition).</span></p>`,
  ];
  if (hasKid) parts.push(kidNote(q, scale));
  const rows: string[][] = [];
  for (const g of q.byAttribute) {
    g.groups.forEach((group, i) => {
      const f = g.perGroup[i];
      const kid = g.perGroupKid?.[i];
      rows.push([
        h(g.attribute),
        h(group),
        fixed(f.value, 2),
        f.interval ? `[${fixed(f.interval.lower, 2)}, ${fixed(f.interval.upper, 2)}]` : "—",
        ...(hasKid ? [kid ? kidWithInterval(kid, scale) : "—"] : []),
        String(f.nGenerated),
        String(f.nReal),
        i === 0 ? fixed(g.esFid, 2) : "",
      ]);
    });
  }
  const headers = [
    "attribute",
    "group",
    "FID",
    "95 % CI",
    ...(hasKid ? [`${h(scale.label)} [CI]`] : []),
    "n generated",
    "n real",
    "ES-FID",
  ];
  parts.push(htmlTable(headers, rows, [false, false, ...headers.slice(2).map(() => true)]));
  parts.push(
    `<div class="fd-charts">${q.byAttribute
      .map(
        (g) =>
          `<figure class="fd-fid"><figcaption>FID by ${h(g.attribute)}</figcaption>${fidChart(g, q.overall)}${g.notes.length > 0 ? `<p class="fd-note">${g.notes.map(h).join("<br>")}</p>` : ""}</figure>`,
      )
      .join("")}</div>`,
  );
  if (hasKid) {
    parts.push(
      `<div class="fd-charts">${q.byAttribute
        .filter((g) => g.perGroupKid)
        .map(
          (g) =>
            `<figure class="fd-kid"><figcaption>${h(scale.label)} by ${h(g.attribute)}</figcaption>${kidChart(g, scale, q.overallKid)}</figure>`,
        )
        .join("")}</div>`,
    );
  }
  if (q.clinical && q.clinical.length > 0) {
    parts.push(`<h3>Clinical semantic correlation</h3>`);
    parts.push(
      `<p class="fd-note">A finding classifier trained only on generated images, tested on real ones.</p>`,
    );
    for (const c of q.clinical) {
      const rows = c.byAttribute.flatMap((b) =>
        b.groups.map((group, i) => [
          h(b.attribute),
          h(group),
          fixed(b.auc[i]),
          String(b.n[i]),
          i === 0 ? fixed(b.esAuc) : "",
        ]),
      );
      parts.push(
        `<p><b>${h(c.finding)}</b>: AUC ${fixed(c.auc)}${c.aucInterval ? ` [${fixed(c.aucInterval.lower)}, ${fixed(c.aucInterval.upper)}]` : ""} (trained on ${c.nTrainGenerated} generated, tested on ${c.nTestReal} real images)</p>`,
        htmlTable(["attribute", "group", "AUC", "n", "ES-AUC"], rows, [
          false,
          false,
          true,
          true,
          true,
        ]),
        c.notes && c.notes.length > 0
          ? `<p class="fd-note">${c.notes.map(h).join("<br>")}</p>`
          : "",
      );
    }
  }
  parts.push(`<p class="fd-muted">Quality audit took ${duration(q.elapsedMs)}.</p></section>`);
  return parts.join("");
}

function code(text: string): string {
  return `<code>${h(text)}</code>`;
}

function manifestSection(m: RunManifest): string {
  const targets = Object.entries(m.targets);
  const rows: [string, string][] = [
    [
      "model",
      [
        m.model.file ? code(m.model.file) : "in memory (no file)",
        m.model.preset ? `preset ${h(m.model.preset)}` : "",
        m.model.description ? h(m.model.description) : "",
        `parameters: UNet ${m.model.parameters.unet.toLocaleString("en")}, text encoder ${m.model.parameters.textEncoder.toLocaleString("en")}, autoencoder ${m.model.parameters.autoencoder.toLocaleString("en")}`,
      ]
        .filter((s) => s !== "")
        .join("<br>"),
    ],
    ["model file SHA-256", m.model.sha256 ? code(m.model.sha256) : "—"],
    ["model weights SHA-256", code(m.model.weightsSha256)],
    [
      "classifier",
      `${m.classifier.file ? code(m.classifier.file) : "in memory (no file)"}<br>${m.classifier.heads
        .map(
          (head) =>
            `${h(head.task)}: ${head.accuracy === undefined ? "no held-out evaluation" : `${percent(head.accuracy)} held-out accuracy (${head.heldOut ?? "?"} images)`}`,
        )
        .join("<br>")}`,
    ],
    ["classifier file SHA-256", m.classifier.sha256 ? code(m.classifier.sha256) : "—"],
    ["classifier weights SHA-256", code(m.classifier.weightsSha256)],
    ["seed", String(m.seed)],
    ["prompts × images", `${m.prompts.length} × ${m.imagesPerPrompt}`],
    [
      "sampler",
      `${h(m.sampler.scheduler)}, ${m.sampler.steps} steps, guidance ${m.sampler.guidanceScale}, η ${m.sampler.eta}`,
    ],
    [
      "attributes",
      [...m.attributes, ...m.intersections.map((names) => names.join("×"))].map(h).join(", "),
    ],
    [
      "targets",
      targets.length === 0
        ? "uniform for every attribute"
        : `${targets
            .map(
              ([attribute, target]) =>
                `${h(attribute)}: ${Object.entries(target)
                  .map(([g, v]) => `${h(g)} ${percent(v)}`)
                  .join(", ")}`,
            )
            .join("<br>")}<br>others uniform`,
    ],
    ["bootstrap resamples", String(m.resamples)],
    [
      "backend",
      `${h(m.backend.name)} (${h(m.backend.source)})${m.backend.adapter ? `, ${h(m.backend.adapter)}` : ""}`,
    ],
    [
      "versions",
      `fairdiff ${h(m.versions.fairdiff)}, @tensorflow/tfjs-core ${h(m.versions.tfjsCore)}, Node ${h(m.versions.node)}, ${h(m.versions.platform)}`,
    ],
    [
      "real data",
      m.data
        ? `${h(m.data.description)}, ${m.data.images} images, SHA-256 ${code(m.data.sha256)}`
        : "— (no quality audit)",
    ],
    [
      "elapsed",
      `representation ${duration(m.elapsedMs.representation)}${m.elapsedMs.quality === undefined ? "" : `, quality ${duration(m.elapsedMs.quality)}`}, total ${duration(m.elapsedMs.total)}`,
    ],
  ];
  const body = rows.map(([k, v]) => `<tr><th scope="row">${k}</th><td>${v}</td></tr>`).join("");
  return `<section class="fd-manifest"><h2>Run manifest</h2><table><tbody>${body}</tbody></table></section>`;
}

function methodsNote(data: AuditReportData): string {
  const first = data.representation[0]?.attributes[0];
  const how = first ? intervalMethod(first.proportions[0]) : "95 % percentile bootstrap";
  return `<p class="fd-note">Shares count the subgroup classifier's arg-max on generated images; intervals are ${h(how)} (seeded). Bias is Shen et al.'s (mean pairwise |share difference| for a uniform target, mean |share − target| otherwise); TV = ½Σ|share − target|; KL(target‖share) with smoothing; fairness discrepancy = ‖mean classifier probability − target‖₂ (Choi et al.). The corrected share inverts the classifier's held-out confusion matrix (black-box shift estimation).</p>`;
}

function body(data: AuditReportData): string {
  const m = data.manifest;
  const created = new Date(data.createdAt);
  return [
    `<header><h1>${h(data.title)}</h1>`,
    `<p class="fd-muted">fairdiff audit report · ${h(created.toISOString().replace("T", " ").slice(0, 19))} UTC · model ${h(m.model.file ?? m.model.preset ?? "in memory")} · ${m.prompts.length} prompt${m.prompts.length === 1 ? "" : "s"} × ${m.imagesPerPrompt} images · seed ${m.seed}</p></header>`,
    `<section class="fd-overview"><h2>Overview</h2>${overviewTable(data)}${methodsNote(data)}</section>`,
    ...data.representation.map(promptSection),
    data.quality ? qualitySection(data.quality) : "",
    data.quality?.memorisation ? memorisationHtml(data.quality.memorisation) : "",
    manifestSection(m),
  ].join("\n");
}

/** For notebook output: no document wrapper, styles scoped to the report's own element. */
export function reportHtmlFragment(data: AuditReportData): string {
  return `<div class="fairdiff-report"><style>${REPORT_CSS}</style>\n${body(data)}\n</div>`;
}

/** A standalone page that needs nothing from the network. */
export function reportHtmlPage(data: AuditReportData): string {
  return standalonePage({
    title: data.title,
    css: REPORT_CSS,
    className: "fairdiff-report",
    body: body(data),
  });
}
