/**
 * The report's charts as strings (src/audit/reportCharts.ts, chartText.ts, chartAxis.ts): long
 * group names wrap — an intersection one group a line — or are cut with "…" while the row's
 * tooltip keeps the whole name; the label column is as wide as its text; legends name every
 * mark drawn; axes have titles and round ticks written exactly; a share of 100 % stays inside
 * the chart. Chromium measures the drawn result in test/browser/reportCharts.test.ts.
 */
import { niceAxis } from "../../src/audit/chartAxis";
import { textWidth, wrapText } from "../../src/audit/chartText";
import { kidScale } from "../../src/audit/kidScale";
import { fidChart, kidChart, proportionChart } from "../../src/audit/reportCharts";

const FONT = { fontSize: 12 };

function texts(svg: string, className: string): string[][] {
  return [
    ...svg.matchAll(new RegExp(`<text [^>]*class="${className}"[^>]*>(.*?)</text>`, "g")),
  ].map((m) =>
    m[1].includes("<tspan")
      ? [...m[1].matchAll(/<tspan[^>]*>([^<]*)<\/tspan>/g)].map((t) => t[1])
      : [m[1]],
  );
}

function viewBoxWidth(svg: string): number {
  return Number(/viewBox="0 0 ([\d.]+) /.exec(svg)![1]);
}

test("text is wrapped to its width: whole when it fits, by group, by word, cut with … last", () => {
  expect(wrapText("Female×Asian", 180, { ...FONT, maxLines: 2 })).toMatchObject({
    lines: ["Female×Asian"],
    cut: false,
  });
  expect(wrapText("Female×Black or African American", 180, { ...FONT, maxLines: 2 }).lines).toEqual(
    ["Female×", "Black or African American"],
  );
  expect(
    wrapText("Male×Native Hawaiian or Other Pacific Islander", 180, { ...FONT, maxLines: 2 }).lines,
  ).toEqual(["Male×Native Hawaiian or", "Other Pacific Islander"]);
  const long = "Female×Native Hawaiian or Other Pacific Islander (self-reported, 2019 census form)";
  const cut = wrapText(long, 180, { ...FONT, maxLines: 2 });
  expect(cut.cut).toBe(true);
  expect(cut.lines).toHaveLength(2);
  expect(cut.lines[1].endsWith("…")).toBe(true);
  for (const line of cut.lines) expect(textWidth(line, 12)).toBeLessThanOrEqual(180);
  // A word with no place to break is broken where it must be.
  const word = wrapText("x".repeat(80), 100, FONT);
  expect(word.lines.join("")).toBe("x".repeat(80));
  for (const line of word.lines) expect(textWidth(line, 12)).toBeLessThanOrEqual(100);
  // Estimates err wide: "W" is wider than "i", unknown scripts count a full em.
  expect(textWidth("WWW", 12)).toBeGreaterThan(textWidth("iii", 12) * 3);
  expect(textWidth("女性", 10)).toBe(20);
});

test("axes have round ticks written exactly, covering every value", () => {
  expect(niceAxis(0, 15.25)).toEqual({ min: 0, max: 20, ticks: [0, 5, 10, 15, 20], decimals: 0 });
  expect(niceAxis(-3.1, 6.4)).toMatchObject({ min: -5, max: 10, decimals: 0 });
  expect(niceAxis(0, 0.0061).ticks).toEqual([0, 0.002, 0.004, 0.006, 0.008]);
  expect(niceAxis(0, 0.0061).decimals).toBe(3);
});

test("a share chart of six long intersections: labels wrap or are cut, tooltips keep names", () => {
  const groups = ["Female", "Male"].flatMap((sex) =>
    ["Asian", "Black or African American", "Native Hawaiian or Other Pacific Islander"].map(
      (race) => `${sex}×${race}`,
    ),
  );
  groups.push("Other×Prefers not to say, or answered with something we cannot read at all");
  const k = groups.length;
  const share = (estimate: number) => ({
    estimate,
    lower: Math.max(0, estimate - 0.05),
    upper: Math.min(1, estimate + 0.05),
    level: 0.95,
  });
  const svg = proportionChart({
    attribute: "sex×race",
    groups,
    n: 40,
    counts: groups.map((_, i) => (i === 0 ? 40 : 0)),
    proportions: groups.map((_, i) => share(i === 0 ? 1 : 0)),
    target: groups.map(() => 1 / k),
  });
  const labels = texts(svg, "fd-label");
  expect(labels).toHaveLength(k);
  expect(labels[1]).toEqual(["Female×", "Black or African American"]);
  for (const lines of labels) {
    expect(lines.length).toBeLessThanOrEqual(2);
    for (const line of lines) expect(textWidth(line, 12)).toBeLessThanOrEqual(180);
  }
  const last = labels[k - 1];
  expect(last[1].endsWith("…")).toBe(true);
  expect(svg).toContain(`<title>${groups[k - 1]}: 0.0 % [0.0, 5.0] of 40 images (0 counted)`);
  // 100 %: the bar, its whisker and the "100 %" tick end inside the chart, with the value.
  const width = viewBoxWidth(svg);
  const bar = /<rect class="fd-bar" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/.exec(svg)!;
  expect(Number(bar[1]) + Number(bar[2])).toBeLessThan(width);
  expect(texts(svg, "fd-value")[0]).toEqual(["100.0 %"]);
  expect(texts(svg, "fd-tick").flat()).toEqual(["0 %", "25 %", "50 %", "75 %", "100 %"]);
  expect(texts(svg, "fd-axis-title")).toEqual([["share of 40 images"]]);
  // The legend names what is drawn: bars, the interval whiskers, the target line.
  const legend = /<g class="fd-legend">(.*?)<\/g>/.exec(svg)![1];
  expect([...legend.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1])).toEqual([
    "share",
    "95 % interval",
    "target",
  ]);
  expect(legend).toContain('stroke-dasharray="4 2"');
  // Readable in any theme: text takes the surrounding colour, not a fixed grey.
  expect(svg).not.toMatch(/<text[^>]*fill="#/);
});

test("FID and KID charts name their metric on the axis and the overall figure in the legend", () => {
  const quality = {
    attribute: "race",
    groups: ["Asian", "Black or African American"],
    perGroup: [
      {
        value: 15.25,
        nGenerated: 20,
        nReal: 100,
        interval: { lower: 11, upper: 19.5, level: 0.95 },
      },
      { value: NaN, nGenerated: 1, nReal: 40 },
    ],
    perGroupKid: [
      { value: 0.0061, nGenerated: 20, nReal: 100, interval: { lower: -0.0012, upper: 0.0113 } },
      { value: NaN, nGenerated: 1, nReal: 40 },
    ],
  };
  const fid = fidChart(quality, { value: 12.5, nGenerated: 128, nReal: 256 });
  expect(texts(fid, "fd-axis-title")).toEqual([["FID (lower is better)"]]);
  expect(texts(fid, "fd-tick").flat()).toEqual(["0", "5", "10", "15", "20"]);
  expect(texts(fid, "fd-missing")).toEqual([["n/a (too few images)"]]);
  const legend = /<g class="fd-legend">(.*?)<\/g>/.exec(fid)![1];
  expect([...legend.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1])).toEqual([
    "FID per group",
    "95 % interval",
    "overall FID 12.50",
  ]);
  const scale = kidScale([0.0061, -0.0012, 0.0113]);
  const kid = kidChart(quality, scale);
  expect(texts(kid, "fd-axis-title")).toEqual([["KID ×10³ (lower is better)"]]);
  // Below zero too (KID can be negative), on round ticks.
  expect(texts(kid, "fd-tick").flat()).toEqual(["-5", "0", "5", "10", "15"]);
  expect(kid).not.toContain("overall");
});
