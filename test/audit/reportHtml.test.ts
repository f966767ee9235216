/**
 * The report's HTML and Markdown: hostile prompts and group names come out as text only (also
 * inside SVG), the page fetches nothing, the notebook fragment has no document wrapper and
 * scoped styles, and the charts draw what the numbers say.
 */
import { AuditReport } from "../../src/audit";
import { fixtureInput, fixtureReport, HOSTILE } from "./reportFixture";

const ESCAPED = "&lt;img src=x onerror=alert(1)&gt;";
const ALLOWED_TAGS = new Set(
  (
    "html head meta title style body div header h1 h2 h3 p span section table thead tbody tr th " +
    "td b br code figure figcaption svg g rect line circle text tspan"
  ).split(" "),
);

function tagNames(html: string): Set<string> {
  return new Set([...html.matchAll(/<\/?([a-zA-Z][\w-]*)/g)].map((m) => m[1].toLowerCase()));
}

function svgs(html: string): string[] {
  return [...html.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => m[0]);
}

function numberAttribute(element: string, name: string): number {
  const match = new RegExp(`\\s${name}="([-0-9.]+)"`).exec(element);
  if (!match) throw new Error(`no ${name} in ${element}`);
  return Number(match[1]);
}

test("hostile prompts, group and file names appear only as escaped text, in SVG too", () => {
  const report = fixtureReport();
  for (const html of [report.toHTML(), report.toHTMLFragment()]) {
    expect(html.toLowerCase()).not.toContain("<img");
    expect(html).toContain(ESCAPED);
    // Only the tags the renderer writes: nothing smuggled in by the data.
    expect([...tagNames(html)].filter((t) => !ALLOWED_TAGS.has(t))).toEqual([]);
    const svgText = svgs(html)
      .flatMap((svg) => [...svg.matchAll(/<(text|title)[^>]*>([^<]*)<\/\1>/g)].map((m) => m[2]))
      .join("\n");
    expect(svgText).toContain(`${ESCAPED}: 25.0 %`); // tooltip with the whole name
    // The chart label of the long hostile name wraps onto two lines, all of it there, escaped.
    const labels = svgs(html).flatMap((svg) =>
      [...svg.matchAll(/<text [^>]*class="fd-label"[^>]*>(.*?)<\/text>/g)].map((m) =>
        [...m[1].matchAll(/<tspan[^>]*>([^<]*)<\/tspan>/g)].map((t) => t[1]),
      ),
    );
    expect(labels).toContainEqual(["&lt;img src=x", "onerror=alert(1)&gt;"]);
  }
  const markdown = report.toMarkdown();
  expect(markdown.toLowerCase()).not.toContain("<img");
  expect(markdown).toContain(ESCAPED);
});

test("the page is self-contained: no scripts, links, imports or URLs to fetch", () => {
  const html = fixtureReport().toHTML();
  expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
  expect(html).not.toMatch(/<script|<link|<iframe|@import|url\(/i);
  const urls = [...html.matchAll(/https?:\/\/[^\s"'<)]+/g)].map((m) => m[0]);
  expect(new Set(urls)).toEqual(new Set(["http://www.w3.org/2000/svg"]));
  expect(html).toContain("Content-Security-Policy");
});

test("the notebook fragment has no document wrapper and styles scoped under .fairdiff-report", () => {
  const fragment = fixtureReport().toHTMLFragment();
  expect(fragment.startsWith('<div class="fairdiff-report">')).toBe(true);
  expect(fragment).not.toMatch(/<(html|body|head)[\s>]|<!DOCTYPE/i);
  const css = /<style>([\s\S]*?)<\/style>/.exec(fragment)![1];
  const selectors = [...css.matchAll(/([^{}]+)\{[^}]*\}/g)].flatMap((m) =>
    m[1].split(",").map((s) => s.trim()),
  );
  expect(selectors.length).toBeGreaterThan(10);
  for (const selector of selectors) expect(selector).toMatch(/^\.fairdiff-report(\s|$|\.)/);
});

/** The fixture as a report written before KID existed: no KID anywhere. */
function reportWithoutKid(): AuditReport {
  const input = fixtureInput();
  const { overallKid: _, ...quality } = input.quality!;
  return AuditReport.create({
    ...input,
    quality: {
      ...quality,
      byAttribute: quality.byAttribute.map(({ perGroupKid: _kid, ...g }) => g),
    },
  });
}

test("one chart per prompt and attribute, bars and target drawn to scale; FID charts with quality", () => {
  const report = fixtureReport();
  const charts = svgs(report.toHTML());
  // 2 prompts × (sex, race, sex×race) + FID by sex and by race + KID by sex and by race.
  expect(charts).toHaveLength(10);
  const sexChart = charts[0];
  expect(sexChart).toContain('aria-label="sex shares of 64 images');
  const bars = [...sexChart.matchAll(/<rect class="fd-bar"[^>]*>/g)].map((m) => m[0]);
  expect(bars).toHaveLength(2);
  const [female, male] = bars.map((b) => numberAttribute(b, "width"));
  expect(male / female).toBeCloseTo(55 / 9, 1); // 55 of 64 Male, 9 Female
  const targets = [...sexChart.matchAll(/<line class="fd-target"[^>]*>/g)].map((m) =>
    numberAttribute(m[0], "x1"),
  );
  const x0 = numberAttribute(bars[0], "x");
  // The 50 % target sits at half the width of a 100 % bar: width(Male) / 0.859375 / 2.
  for (const x of targets) expect(x - x0).toBeCloseTo(male / (55 / 64) / 2, 0);
  // The interval's ends match the bootstrap bounds of the Male share.
  const sex = report.representation[0].attributes[0];
  const ci = [...sexChart.matchAll(/<line class="fd-ci"[^>]*>/g)].map((m) => m[0])[1];
  const scale = male / sex.proportions[1].estimate;
  expect(numberAttribute(ci, "x1") - x0).toBeCloseTo(scale * sex.proportions[1].lower, 0);
  expect(numberAttribute(ci, "x2") - x0).toBeCloseTo(scale * sex.proportions[1].upper, 0);
  expect(sexChart.match(/class="fd-corrected"/g)).toHaveLength(2);
  // FID: the group without a figure says so rather than drawing a bar.
  expect(charts[7]).toContain("n/a (too few images)");
  expect(charts[7].match(/class="fd-bar"/g)).toHaveLength(2);

  // KID: bars from zero both ways (KID can be negative), whiskers for the intervals.
  const kidRace = charts[9];
  expect(kidRace).toContain('aria-label="KID ×10³ per race group"');
  expect(kidRace).toContain("n/a (too few images)");
  const kidBars = [...kidRace.matchAll(/<rect class="fd-bar"[^>]*>/g)].map((m) => m[0]);
  expect(kidBars).toHaveLength(2);
  expect(kidRace.match(/class="fd-ci"/g)).toHaveLength(2);
  const [negative, positive] = kidBars;
  const zero = numberAttribute(positive, "x");
  // −0.40 ends where 4.20 starts (at 0), and is drawn at the same scale.
  expect(numberAttribute(negative, "x") + numberAttribute(negative, "width")).toBeCloseTo(zero, 0);
  expect(numberAttribute(negative, "width") / numberAttribute(positive, "width")).toBeCloseTo(
    0.4 / 4.2,
    1,
  );
  expect(kidRace).toContain("overall KID ×10³ 4.12");
  const html = report.toHTML();
  expect(html).toContain("Overall FID 12.50 · KID ×10³ 4.12 [2.31, 6.08] — 128 generated");
  expect(html).toContain("<th>KID ×10³ [CI]</th>");
  expect(html).toContain('<td class="fd-num">6.1 [1.2, 11.3]</td>'); // sex = Female
  expect(html).toContain("Intervals: 95 % half-sampling");

  const withoutKid = reportWithoutKid().toHTML();
  expect(svgs(withoutKid)).toHaveLength(8);
  expect(withoutKid).not.toContain("KID");

  const withoutQuality = fixtureReport(false).toHTML();
  expect(svgs(withoutQuality)).toHaveLength(6);
  expect(withoutQuality).not.toContain("Image quality by group");
  expect(withoutQuality).toContain("— (no quality audit)");
});

test("Markdown: one row per prompt and attribute, cells that cannot break the table", () => {
  const markdown = fixtureReport().toMarkdown();
  const lines = markdown.split("\n");
  const header = lines.findIndex((l) => l.startsWith("| prompt | attribute |"));
  const rows = lines.slice(header + 2, header + 8);
  expect(rows).toHaveLength(6);
  // 8 columns → 9 unescaped pipes in every row, whatever the prompt contains.
  for (const row of rows) expect(row.match(/(?<!\\)\|/g)).toHaveLength(9);
  expect(rows[0]).toContain("Female 14.1 % [");
  expect(rows[0]).toContain("Male 85.9 % [");
  expect(rows[0]).toContain("Female 50.0 %; Male 50.0 %");
  expect(rows[3]).toContain("\\*bold\\* \\[link\\](x)");
  expect(markdown).toContain("| race | Asian | n/a | n/a | 1 | 40 | n/a |");
  // KID ×10³ beside FID, three significant digits, its interval with it; negative stays negative.
  expect(markdown).toContain("| attribute | group | FID | KID ×10³ [CI] | n generated |");
  expect(markdown).toContain("| overall | all | 12.50 | 4.12 [2.31, 6.08] | 128 | 256 |  |");
  expect(markdown).toContain(`| race | ${ESCAPED} | 13.00 | -0.40 [-3.10, 2.20] | 30 | 60 |  |`);
  expect(reportWithoutKid().toMarkdown()).not.toContain("KID");
  expect(markdown).toContain("## Run manifest");
  expect(HOSTILE).toContain("<img"); // the fixture really is hostile
});
