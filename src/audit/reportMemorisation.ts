/**
 * The memorisation audit in the report: an HTML section (a near-copy table per attribute, then
 * the most copy-like generated images beside their nearest training image, as inline PNG data
 * URIs — no external resources), a Markdown section (tables; the pictures only in HTML), and
 * the validator that reads the section back from untrusted JSON.
 *
 * Every string from the result — attribute and group names, the extractor's, notes — goes
 * through escapeHtml / escapeMarkdown; the PNGs are checked to be plain base64 when parsed, so
 * a data URI cannot break out of its attribute.
 */
import {
  bool,
  booleans,
  fail,
  interval,
  list,
  num,
  numbers,
  object,
  optStr,
  oneOf,
  present,
  record,
  str,
  strings,
  type JsonObject,
} from "./jsonFieldChecks";
import type {
  MemorisationAudit,
  MemorisationGroup,
  MemorisationPair,
  MemorisationSpace,
} from "./memorisationTypes";
import { htmlTable, markdownTableLines } from "./reportTables";
import { escapeHtml, escapeMarkdown, fixed, intervalMethod, percentInterval } from "./reportText";

const h = escapeHtml;
const md = escapeMarkdown;
const SPACES: readonly MemorisationSpace[] = ["features", "pixels"];

function shareText(share: MemorisationGroup["share"]): string {
  return share.n === 0 ? "—" : percentInterval(share);
}

const GROUP_HEADERS = [
  "group",
  "n",
  "near-copies",
  "share [CI]",
  "held-out null share [CI]",
  "unscored",
];

function groupCells(g: MemorisationGroup): string[] {
  return [
    String(g.n),
    String(g.nearCopies),
    shareText(g.share),
    shareText(g.nullShare),
    String(g.unscored),
  ];
}

function groupsText(groups: Record<string, string>): string {
  const entries = Object.entries(groups);
  return entries.length === 0 ? "no known group" : entries.map(([a, g]) => `${a} ${g}`).join(", ");
}

function intervalWords(result: MemorisationAudit): string {
  const share = result.overall.share;
  return share.n === 0 ? "" : ` Intervals: ${intervalMethod(share)}.`;
}

function definitionText(result: MemorisationAudit): string {
  const c = result.calibration;
  return (
    `Each generated image is compared with the training images and the held-out real images of its groups, in the features of ${result.extractor.name} (Euclidean) and in pixels (RMS difference): ` +
    `ratio = distance to the nearest training image / distance to the nearest held-out image. ` +
    `A near-copy has a ratio below ${fixed(c.thresholds.features, 3)} (features) or ${fixed(c.thresholds.pixels, 3)} (pixels): ` +
    `thresholds calibrated on ${c.queries} held-out real images (leave-one-out), of which they flag ${c.flagged} (target false-positive rate ${fixed(100 * c.level, 1)} %).` +
    intervalWords(result)
  );
}

/** The caption's lines: which images, their groups, the ratios and distances, the verdict. */
function pairCaption(p: MemorisationPair): string[] {
  return [
    `generated #${p.generatedIndex} · ${groupsText(p.groups)}`,
    `training #${p.trainingIndex} (nearest in ${p.space})`,
    `ratio ${fixed(p.featureRatio, 3)} features · ${fixed(p.pixelRatio, 3)} pixels`,
    `distance ${fixed(p.featureDistance, 3)} features · ${fixed(p.pixelDistance, 4)} RMS`,
    p.nearCopy ? "near-copy" : "not a near-copy",
  ];
}

function pairFigure(p: MemorisationPair): string {
  const img = (png: string, alt: string) =>
    `<img src="data:image/png;base64,${h(png)}" width="${p.width}" height="${p.height}" alt="${h(alt)}" style="image-rendering: pixelated; margin-right: 4px">`;
  return (
    `<figure class="fd-pair">` +
    img(p.generatedPng, `generated image ${p.generatedIndex}`) +
    img(p.trainingPng, `training image ${p.trainingIndex}`) +
    `<figcaption class="fd-note" style="font-weight: normal; max-width: ${2 * p.width + 8}px">${pairCaption(p).map(h).join("<br>")}</figcaption></figure>`
  );
}

/** The memorisation section as an HTML fragment, for inside the report's `.fairdiff-report`. */
export function memorisationHtml(result: MemorisationAudit): string {
  const o = result.overall;
  const parts = [
    `<section class="fd-memorisation"><h2>Memorisation: near-copies of training images</h2>`,
    `<p>${h(definitionText(result))}</p>`,
    result.trainingDescription === undefined
      ? ""
      : `<p class="fd-muted">Training images: ${h(result.trainingDescription)}.</p>`,
    `<p>Overall: <b>${o.nearCopies}</b> of ${o.n} scored generated images are near-copies, ${shareText(o.share)}${o.unscored > 0 ? ` (${o.unscored} unscored)` : ""}. <span class="fd-muted">Read each group's share against its held-out null share: what the thresholds flag in that group when nothing is copied.</span></p>`,
  ];
  for (const a of result.byAttribute) {
    parts.push(`<h3>By ${h(a.attribute)}</h3>`);
    parts.push(
      htmlTable(
        GROUP_HEADERS,
        a.groups.map((g) => [h(g.group), ...groupCells(g)]),
        [false, true, true, true, true, true],
      ),
    );
  }
  if (result.pairs.length > 0) {
    parts.push(
      `<h3>Most copy-like generated images</h3><p class="fd-muted">Each generated image (left) beside its nearest training image of the same groups (right), most copy-like first.</p>`,
    );
    parts.push(`<div class="fd-charts">${result.pairs.map(pairFigure).join("")}</div>`);
  }
  if (result.notes.length > 0) {
    parts.push(`<p class="fd-note">${result.notes.map(h).join("<br>")}</p>`);
  }
  parts.push(`</section>`);
  return parts.join("\n");
}

/** The memorisation section as Markdown (tables; the image pairs are listed, shown in HTML). */
export function memorisationMarkdown(result: MemorisationAudit): string {
  const o = result.overall;
  const lines = [
    "## Memorisation: near-copies of training images",
    "",
    md(definitionText(result)),
    "",
    ...(result.trainingDescription === undefined
      ? []
      : [`Training images: ${md(result.trainingDescription)}.`, ""]),
    `Overall: ${o.nearCopies} of ${o.n} scored generated images are near-copies, ${shareText(o.share)}${o.unscored > 0 ? ` (${o.unscored} unscored)` : ""}.`,
  ];
  for (const a of result.byAttribute) {
    lines.push("", `### By ${md(a.attribute)}`, "");
    lines.push(
      ...markdownTableLines(
        GROUP_HEADERS,
        a.groups.map((g) => [md(g.group), ...groupCells(g)]),
      ),
    );
  }
  if (result.pairs.length > 0) {
    lines.push("", "### Most copy-like generated images (pictures in the HTML report)", "");
    lines.push(
      ...markdownTableLines(
        [
          "generated",
          "groups",
          "nearest training",
          "space",
          "ratio features",
          "ratio pixels",
          "near-copy",
        ],
        result.pairs.map((p) => [
          `#${p.generatedIndex}`,
          md(groupsText(p.groups)),
          `#${p.trainingIndex}`,
          p.space,
          fixed(p.featureRatio, 3),
          fixed(p.pixelRatio, 3),
          p.nearCopy ? "yes" : "no",
        ]),
      ),
    );
  }
  if (result.notes.length > 0) {
    lines.push("", ...result.notes.map((n) => `- ${md(n)}`));
  }
  return lines.join("\n") + "\n";
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function base64(o: JsonObject, key: string, path: string): void {
  str(o, key, path);
  if (!BASE64.test(o[key] as string)) fail(`${path}.${key}`, "base64 PNG data", o[key]);
}

function sameCount(path: string, length: number, expected: number, what: string): void {
  if (length !== expected) {
    throw new Error(`audit report: ${path} has ${length} entries for ${expected} ${what}`);
  }
}

function memorisationGroup(value: unknown, path: string): void {
  const o = object(value, path);
  str(o, "group", path);
  for (const key of ["n", "nearCopies", "unscored"]) num(o, key, path);
  interval(present(o, "share", path), `${path}.share`);
  interval(present(o, "nullShare", path), `${path}.nullShare`);
}

function memorisationPair(value: unknown, path: string): void {
  const o = object(value, path);
  for (const key of ["generatedIndex", "trainingIndex", "scale", "width", "height"]) {
    num(o, key, path);
  }
  oneOf(o, "space", path, SPACES);
  record(o, "groups", path, (item, p) => {
    if (typeof item !== "string") fail(p, "a string", item);
  });
  bool(o, "nearCopy", path);
  for (const key of ["featureRatio", "pixelRatio", "featureDistance", "pixelDistance"]) {
    num(o, key, path);
  }
  base64(o, "generatedPng", path);
  base64(o, "trainingPng", path);
}

/**
 * Reads a memorisation audit from parsed JSON (`path` names it in errors, e.g. "memorisation"),
 * checking every field the renderers use and restoring non-finite numbers.
 */
export function parseMemorisationAudit(value: unknown, path: string): MemorisationAudit {
  const o = object(value, path);
  const extractor = object(present(o, "extractor", path), `${path}.extractor`);
  for (const key of ["name", "kind", "description"]) str(extractor, key, `${path}.extractor`);
  num(extractor, "dimension", `${path}.extractor`);
  optStr(o, "trainingDescription", path);
  const counts = object(present(o, "counts", path), `${path}.counts`);
  for (const key of ["generated", "training", "heldOut"]) num(counts, key, `${path}.counts`);
  const nGenerated = counts.generated as number;

  const c = object(present(o, "calibration", path), `${path}.calibration`);
  const cp = `${path}.calibration`;
  for (const key of ["level", "queries", "flagged", "quantile"]) num(c, key, cp);
  str(c, "method", cp);
  const thresholds = object(present(c, "thresholds", cp), `${cp}.thresholds`);
  for (const space of SPACES) num(thresholds, space, `${cp}.thresholds`);

  const overall = object(present(o, "overall", path), `${path}.overall`);
  for (const key of ["n", "nearCopies", "unscored"]) num(overall, key, `${path}.overall`);
  interval(present(overall, "share", `${path}.overall`), `${path}.overall.share`);

  list(o, "byAttribute", path, (item, p) => {
    const a = object(item, p);
    str(a, "attribute", p);
    list(a, "groups", p, memorisationGroup);
  });

  const images = object(present(o, "images", path), `${path}.images`);
  for (const space of SPACES) {
    const sp = `${path}.images.${space}`;
    const s = object(present(images, space, `${path}.images`), sp);
    for (const key of ["nearestTraining", "trainingDistance", "heldOutDistance", "ratio"]) {
      sameCount(`${sp}.${key}`, numbers(s, key, sp).length, nGenerated, "generated images");
    }
  }
  sameCount(
    `${path}.images.nearCopy`,
    booleans(images, "nearCopy", `${path}.images`).length,
    nGenerated,
    "generated images",
  );
  list(o, "pairs", path, memorisationPair);
  strings(o, "notes", path);
  num(o, "elapsedMs", path);
  return o as unknown as MemorisationAudit;
}
