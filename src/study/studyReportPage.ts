/**
 * The study's before/after page: headline, a before/after table and chart per attribute, the
 * fine-tuning curve, then both full audit reports. One file, inline CSS and SVG, no scripts and
 * nothing fetched (the CSP forbids it), so it can be mailed or attached as it is.
 */
import { AuditReport } from "../audit/auditReport";
import { escapeHtml } from "../audit/reportText";
import { standalonePage } from "../audit/standalonePage";
import type { Interval } from "../fairness/interval";
import type { StudyAttribute, StudyResult } from "./runStudy";
import { lineChartSvg, shareBarChartSvg } from "./svgCharts";

type StudyPageInput = Omit<StudyResult, "files" | "elapsedMs">;

const PAGE_CSS = `
.fd-study { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2328; max-width: 1000px; }
.fd-study h1 { font-size: 1.6em; margin: 0.2em 0; }
.fd-study h2 { font-size: 1.25em; margin-top: 1.4em; border-bottom: 1px solid #d0d7de; }
.fd-study table { border-collapse: collapse; margin: 0.6em 0; }
.fd-study th, .fd-study td { border: 1px solid #d0d7de; padding: 3px 8px; }
.fd-study td.num { text-align: right; font-variant-numeric: tabular-nums; }
.fd-study .fd-headline { font-size: 1.1em; background: #f6f8fa; padding: 0.6em 0.9em; border-left: 4px solid #4c78a8; }
.fd-study .fd-muted { color: #57606a; }
.fd-study .fd-met { color: #1a7f37; font-weight: bold; }
.fd-study .fd-better { color: #9a6700; font-weight: bold; }
.fd-study .fd-worse { color: #cf222e; font-weight: bold; }
.fd-study details { margin: 1em 0; }
.fd-study summary { cursor: pointer; font-weight: bold; }
.fd-study .fd-charts svg { margin: 0 12px 12px 0; vertical-align: top; }
`;

const pct = (v: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(1)} %` : "–");
const num = (v: number | undefined, digits = 3) =>
  v !== undefined && Number.isFinite(v) ? v.toFixed(digits) : "–";
const withInterval = (i: Interval) =>
  `${pct(i.estimate)} <span class="fd-muted">[${pct(i.lower)}, ${pct(i.upper)}]</span>`;

/** A bias this low counts as on target (the issues' done-when threshold for two groups). */
const ON_TARGET_BIAS = 0.1;

/** Green only on target: a bias that fell from 0.833 to 0.500 is better, not fixed. */
function biasChangeClass(before: number, after: number): string {
  if (after <= ON_TARGET_BIAS) return "fd-met";
  if (after < before) return "fd-better";
  if (after > before) return "fd-worse";
  return "";
}

function attributeTable(before: StudyAttribute, after: StudyAttribute): string {
  const rows = before.groups.map((g, i) => {
    const j = after.groups.indexOf(g);
    return [
      `<td>${escapeHtml(g)}</td>`,
      `<td class="num">${pct(before.target[i])}</td>`,
      `<td class="num">${withInterval(before.shares[i])}</td>`,
      `<td class="num">${withInterval(after.shares[j])}</td>`,
      `<td class="num">${before.corrected ? pct(before.corrected[i].estimate) : "–"} → ${after.corrected ? pct(after.corrected[j].estimate) : "–"}</td>`,
      before.fidByGroup && after.fidByGroup
        ? `<td class="num">${num(before.fidByGroup[i], 2)} → ${num(after.fidByGroup[j], 2)}</td>`
        : "",
    ].join("");
  });
  const biasClass = biasChangeClass(before.bias.estimate, after.bias.estimate);
  const quality = before.fidByGroup && after.fidByGroup;
  return `<table>
<tr><th>group</th><th>target</th><th>before: share [95 % CI]</th><th>after: share [95 % CI]</th><th>error-aware share</th>${quality ? "<th>FID per group</th>" : ""}</tr>
${rows.map((r) => `<tr>${r}</tr>`).join("\n")}
<tr><td colspan="2">bias (Shen et al.)</td><td class="num">${num(before.bias.estimate)} <span class="fd-muted">[${num(before.bias.lower)}, ${num(before.bias.upper)}]</span></td><td class="num ${biasClass}">${num(after.bias.estimate)} <span class="fd-muted">[${num(after.bias.lower)}, ${num(after.bias.upper)}]</span></td><td></td>${quality ? `<td class="num">ES-FID ${num(before.esFid, 2)} → ${num(after.esFid, 2)}</td>` : ""}</tr>
</table>`;
}

function attributeChart(before: StudyAttribute, after: StudyAttribute): string {
  const order = before.groups;
  const pick = (a: StudyAttribute, f: (i: Interval) => number) =>
    order.map((g) => f(a.shares[a.groups.indexOf(g)]));
  return shareBarChartSvg(
    [
      {
        name: "before",
        values: pick(before, (i) => i.estimate),
        lower: pick(before, (i) => i.lower),
        upper: pick(before, (i) => i.upper),
      },
      {
        name: "after",
        values: pick(after, (i) => i.estimate),
        lower: pick(after, (i) => i.lower),
        upper: pick(after, (i) => i.upper),
      },
    ],
    {
      title: `${before.attribute}: share of generated images`,
      groups: order,
      target: before.target,
    },
  );
}

function headline(input: StudyPageInput): string {
  const fixed = input.headline.attribute;
  const before = input.before.attributes.find((a) => a.attribute === fixed)!;
  const after = input.after.attributes.find((a) => a.attribute === fixed)!;
  const shares = (a: StudyAttribute) =>
    a.groups.map((g, i) => `${escapeHtml(g)} ${pct(a.shares[i].estimate)}`).join(" / ");
  return `<p class="fd-headline">Asked for “${escapeHtml(input.settings.prompt)}” — a prompt that names no ${escapeHtml(fixed)} — the model as shipped drew <b>${shares(before)}</b> (bias ${num(input.headline.biasBefore)}). After ${input.training.steps.length} steps of Method 1 (distributional alignment) toward a uniform ${escapeHtml(fixed)} target it draws <b>${shares(after)}</b> (bias <span class="${biasChangeClass(input.headline.biasBefore, input.headline.biasAfter)}">${num(input.headline.biasAfter)}</span>; green means within ${ON_TARGET_BIAS} of the target, amber lower than before but not there yet).</p>`;
}

function trainingCharts(input: StudyPageInput): string {
  const steps = input.training.steps;
  if (steps.length === 0) return "<p>No fine-tuning steps ran.</p>";
  return `<div class="fd-charts">${lineChartSvg(
    [{ name: "loss (fairness + semantic)", points: steps.map((s) => [s.step, s.loss] as const) }],
    { title: "Fine-tuning loss", xLabel: "step", width: 440, height: 230 },
  )}${lineChartSvg(
    [
      {
        name: `${input.headline.attribute} bias of the step's batch`,
        points: steps.map((s) => [s.step, s.batchBias] as const),
      },
    ],
    { title: "Bias seen during fine-tuning", xLabel: "step", width: 440, height: 230 },
  )}</div>
<p class="fd-muted">Each step generates ${input.settings.alignment.batchSize} images, so the per-step bias is noisy; the audits above use ${input.settings.imagesPerAudit} images with the same seed before and after.</p>`;
}

function settingsTable(input: StudyPageInput): string {
  const s = input.settings;
  const rows: [string, string][] = [
    ["mode", s.quick ? "quick (small, for a first look)" : "full"],
    ["model", input.modelFile],
    ["classifier", input.classifierFile],
    ["prompt", s.prompt],
    [
      "audit",
      `${s.imagesPerAudit} images, DDIM ${s.samplerSteps} steps, seed ${s.seed}, ${s.resamples} bootstrap resamples`,
    ],
    ["quality audit", s.realImages > 0 ? `${s.realImages} held-out real images` : "not run"],
    [
      "Method 1",
      `${s.alignment.steps} steps × ${s.alignment.batchSize} images, ${s.alignment.trainable}, learning rate ${s.alignment.learningRate}, ${s.alignment.sampler.steps}-step sampling chain; target uniform over ${s.fixAttribute}`,
    ],
    [
      "fine-tuning time",
      `${(input.training.elapsedMs / 1000).toFixed(0)} s${input.training.aborted ? " (stopped early)" : ""}`,
    ],
  ];
  return `<table>${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join("\n")}</table>`;
}

/** The whole page as one string. */
export function studyReportPage(input: StudyPageInput): string {
  const sections = input.before.attributes.map((b) => {
    const a = input.after.attributes.find((x) => x.attribute === b.attribute)!;
    return `<h2>${escapeHtml(b.attribute)}</h2>\n${attributeTable(b, a)}\n<div class="fd-charts">${attributeChart(b, a)}</div>`;
  });
  const fid =
    input.before.fid !== undefined && input.after.fid !== undefined
      ? `<p>FID of all generated vs held-out real images: ${num(input.before.fid, 2)} → ${num(input.after.fid, 2)}.</p>`
      : "";
  const beforeReport = AuditReport.fromJSON(input.before.report).toHTMLFragment();
  const afterReport = AuditReport.fromJSON(input.after.report).toHTMLFragment();
  return standalonePage({
    title: "FairDiff study: cxr-mini before and after Method 1",
    css: PAGE_CSS,
    className: "fd-study",
    body: `<h1>FairDiff study: auditing and fixing cxr-mini</h1>
<p class="fd-muted">${input.settings.quick ? "Quick mode: small samples, wide intervals. " : ""}Generated by <code>fairdiff start --headless</code>.</p>
${headline(input)}
${sections.join("\n")}
${fid}
<h2>Fine-tuning</h2>
${trainingCharts(input)}
<h2>Settings</h2>
${settingsTable(input)}
<details><summary>Full audit report: before</summary>
${beforeReport}
</details>
<details><summary>Full audit report: after</summary>
${afterReport}
</details>`,
  });
}
