/**
 * The audit report's charts in Chromium, in both views that draw them: the HTML report (as
 * `fairdiff audit -o report.html` writes it) and the JupyterLab renderer (its source, on a page
 * with JupyterLab's light or dark theme variables and fairdiff's stylesheet). For reports with a
 * sex×race intersection of six groups — once with a hostile group name, once with long ones —
 * in light and dark: both views draw the same charts (same texts in the same order); every
 * chart has a legend and an axis title; no two texts of a chart overlap, none is cut by the
 * chart's edge, each has 4.5:1 contrast against what it is drawn on and at least 12 px; the
 * ES-FID headings stay on one line. And the renderer's way in for chart markup refuses script,
 * handlers, links and foreign content, so neither a hostile name nor a hostile SVG runs.
 * Screenshots go to test-artifacts/report-charts/.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { AUDIT_REPORT_MIME, type AuditReport } from "../../src/audit";
import { lineChartSvg, shareBarChartSvg } from "../../src/study/svgCharts";
import { fixtureReport, LONG_RACE_GROUPS } from "../audit/reportFixture";
import { testWhen } from "../helpers/requirements";
import { type ChartLayout, measureCharts } from "./helpers/chartLayout";
import { chromiumAvailable, launchChromium } from "./helpers/chromium";
import { serveSources, SOURCE_ORIGIN } from "./helpers/sourcePage";

jest.setTimeout(120_000);

const browserTest = testWhen(chromiumAvailable(), "chromium (apt install chromium)");
const ARTIFACTS = path.resolve(__dirname, "..", "..", "test-artifacts", "report-charts");
const THEMES = ["light", "dark"] as const;
type Theme = (typeof THEMES)[number];

const REPORTS: Record<string, () => AuditReport> = {
  hostile: () => fixtureReport(),
  "long-names": () => fixtureReport(true, LONG_RACE_GROUPS),
};

/** 2 prompts × (sex, race, sex×race) + FID and KID by sex and by race. */
const CHARTS = 10;

let browser: Browser | undefined;

beforeAll(async () => {
  if (!chromiumAvailable()) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

async function newPage(theme: Theme): Promise<Page> {
  const page = await browser!.newPage({
    viewport: { width: 1280, height: 900 },
    colorScheme: theme,
  });
  return page;
}

/** A page as JupyterLab styles an output: its theme's variables and fairdiff's stylesheet. */
function labPage(theme: Theme): string {
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8">
<link rel="stylesheet" href="/node_modules/@jupyterlab/theme-${theme}-extension/style/variables.css">
<link rel="stylesheet" href="/style/index.css">
<style>body { margin: 0; padding: 16px; background: var(--jp-layout-color0); font-family: var(--jp-content-font-family); font-size: var(--jp-content-font-size1); }</style>
</head><body><div id="report"></div></body></html>`;
}

/** The report's JSON mime data as a notebook stores it. */
function mimeData(report: AuditReport): unknown {
  return JSON.parse(JSON.stringify(report.toMimeBundle()[AUDIT_REPORT_MIME]));
}

async function renderInLab(page: Page, theme: Theme, data: unknown): Promise<void> {
  await serveSources(page, labPage(theme));
  await page.goto(`${SOURCE_ORIGIN}/`);
  await page.evaluate(
    `import("/extension/src/auditReport/renderReport").then((m) => m.renderAuditReport(document.getElementById("report"), ${JSON.stringify(data)}))`,
  );
}

/** Each chart's texts in document order by its aria-label: what a reader sees of it. */
function chartTexts(page: Page, selector: string): Promise<Record<string, string[]>> {
  return page.evaluate(
    `Object.fromEntries([...document.querySelectorAll(${JSON.stringify(selector)})].map((svg) => [svg.getAttribute("aria-label"), [...svg.querySelectorAll("text")].map((t) => t.textContent)]))`,
  ) as Promise<Record<string, string[]>>;
}

function expectReadable(layout: ChartLayout): void {
  expect(layout.problems).toEqual([]);
  expect(layout.charts).toHaveLength(CHARTS);
  for (const chart of layout.charts) {
    expect([chart.chart, chart.axisTitles]).toEqual([chart.chart, 1]);
    // Bars and intervals at least, with the target or the overall figure where there is one.
    expect(chart.legendTexts).toBeGreaterThanOrEqual(2);
  }
}

describe.each(Object.keys(REPORTS))("the %s report's charts", (name) => {
  browserTest.each(THEMES)(
    "are the same in both views and readable, nothing overlapping or cut, in the %s theme",
    async (theme) => {
      const report = REPORTS[name]();
      const html = await newPage(theme);
      const lab = await newPage(theme);
      try {
        await html.setContent(report.toHTML());
        const htmlLayout = await measureCharts(html, ".fairdiff-report svg.fd-chart");
        expectReadable(htmlLayout);
        await html.screenshot({
          path: path.join(ARTIFACTS, `html-${name}-${theme}.png`),
          fullPage: true,
        });

        await renderInLab(lab, theme, mimeData(report));
        const labLayout = await measureCharts(lab, "#report svg.fd-chart");
        expectReadable(labLayout);
        // One chart implementation: the renderer shows the HTML report's charts, text for text.
        expect(await chartTexts(lab, "#report svg.fd-chart")).toEqual(
          await chartTexts(html, ".fairdiff-report svg.fd-chart"),
        );
        expect(labLayout.charts.map((c) => c.chart).sort()).toEqual(
          htmlLayout.charts.map((c) => c.chart).sort(),
        );
        // ES-FID beside each quality heading, never broken over two lines.
        const esFidLines = (await lab.evaluate(
          `[...document.querySelectorAll(".fd-report-esfid")].map((e) => e.getClientRects().length)`,
        )) as number[];
        expect(esFidLines).toEqual([1, 1]);
        await lab.screenshot({
          path: path.join(ARTIFACTS, `lab-${name}-${theme}.png`),
          fullPage: true,
        });
      } finally {
        await html.close();
        await lab.close();
      }
    },
  );
});

browserTest("the measurement itself finds overlapping, cut, faint and tiny labels", async () => {
  const page = await newPage("light");
  try {
    await page.setContent(`<body style="background:#fff;color:#000">
      <svg class="fd-chart" aria-label="broken" xmlns="http://www.w3.org/2000/svg" width="200" height="60" viewBox="0 0 200 60" font-size="12">
        <text x="10" y="20" fill="currentColor">Female×Asian</text>
        <text x="40" y="24" fill="currentColor">Female×Black</text>
        <text x="170" y="50" fill="currentColor">cut off here</text>
        <text x="10" y="50" fill="#dddddd">faint</text>
        <text x="60" y="50" fill="currentColor" font-size="9">tiny</text>
      </svg></body>`);
    const { problems } = await measureCharts(page);
    expect(problems).toEqual([
      'broken: "cut off here" is cut by the chart\'s edge',
      'broken: "faint" has contrast 1.36 (rgb(221, 221, 221))',
      'broken: "tiny" is 9.0 px',
      'broken: "Female×Asian" overlaps "Female×Black"',
    ]);
  } finally {
    await page.close();
  }
});

browserTest(
  "notebooks' static figures wrap long titles and names: nothing cut or overlapping",
  async () => {
    const page = await newPage("light");
    try {
      const title =
        "Sex of generated images, neutral effusion prompt, before and after distributional alignment";
      const figures = [
        shareBarChartSvg(
          [
            {
              name: "before",
              values: [0.2, 0.3, 0.5],
              lower: [0.1, 0.2, 0.4],
              upper: [0.3, 0.4, 0.6],
            },
            { name: "after", values: [0.3, 0.3, 0.4] },
          ],
          { title, groups: LONG_RACE_GROUPS, target: [1 / 3, 1 / 3, 1 / 3] },
        ),
        lineChartSvg(
          [
            "bias sex vs target (evaluation)",
            "bias sex vs target (batch)",
            "FID sex=Female",
            "ES-FID sex",
          ].map((name, i) => ({
            name,
            points: [
              [0, i],
              [10, i + 1],
            ] as [number, number][],
          })),
          {
            title: `Bias vs the slider target during fine-tuning (each batch, and evaluations on the audit images)`,
            xLabel: "step",
            yLabel: "bias",
          },
        ),
      ];
      await page.setContent(`<body style="background:#fff">${figures.join("")}</body>`);
      const { problems, charts } = await measureCharts(page, "svg", { minFontSize: 11 });
      expect(problems).toEqual([]);
      expect(charts).toHaveLength(2);
      // The whole title is there, over more than one line.
      const titleLines = (await page.evaluate(
        `[...document.querySelectorAll("svg")].map((svg) => svg.querySelector("text").querySelectorAll("tspan").length)`,
      )) as number[];
      expect(titleLines.every((n) => n >= 2)).toBe(true);
      await page.screenshot({ path: path.join(ARTIFACTS, "static-figures.png"), fullPage: true });
    } finally {
      await page.close();
    }
  },
);

const SVG = 'xmlns="http://www.w3.org/2000/svg"';
const HOSTILE_SVGS = [
  `<svg ${SVG}><script>window.__pwned = 1</script></svg>`,
  `<svg ${SVG} onload="window.__pwned = 1"><rect width="1" height="1"/></svg>`,
  `<svg ${SVG}><text><tspan onclick="window.__pwned = 1">x</tspan></text></svg>`,
  `<svg ${SVG}><foreignObject><img xmlns="http://www.w3.org/1999/xhtml" src="x" onerror="window.__pwned = 1"/></foreignObject></svg>`,
  `<svg ${SVG}><a href="javascript:window.__pwned = 1"><text>x</text></a></svg>`,
  `<svg ${SVG} xmlns:xlink="http://www.w3.org/1999/xlink"><use xlink:href="#x"/></svg>`,
  `<svg ${SVG}><style>text { fill: url(http://example.invalid/x) }</style></svg>`,
  `<svg ${SVG}><rect fill="url(http://example.invalid/x.svg#p)"/></svg>`,
  `<svg ${SVG}><rect style="fill: red"/></svg>`,
  `<svg ${SVG}><set attributeName="onmouseover" to="window.__pwned = 1"/></svg>`,
  `<svg ${SVG}><iframe xmlns="http://www.w3.org/1999/xhtml" src="javascript:window.__pwned = 1"/></svg>`,
  `<div xmlns="http://www.w3.org/1999/xhtml">not a chart</div>`,
  `<svg ${SVG}><text>unclosed</svg>`,
];

browserTest(
  "hostile group names stay text and hostile chart markup is refused, nothing runs",
  async () => {
    const page = await newPage("light");
    try {
      const pwn = "<img src=x onerror=window.__pwned=1>";
      const breakout = '</text><script>window.__pwned=1</script><text x="0">';
      const report = fixtureReport(true, ["Asian", pwn, breakout]);
      await renderInLab(page, "light", mimeData(report));
      const found = (await page.evaluate(`(() => {
        const host = document.getElementById("report");
        return {
          charts: host.querySelectorAll("svg.fd-chart").length,
          injected: host.querySelectorAll("img, script, foreignObject, iframe").length,
          labels: [...host.querySelectorAll("svg.fd-chart .fd-label")].map((t) => t.textContent),
          tooltips: [...host.querySelectorAll("svg.fd-chart title")].map((t) => t.textContent),
          refused: host.querySelectorAll(".fd-error").length,
        };
      })()`)) as {
        charts: number;
        injected: number;
        labels: string[];
        tooltips: string[];
        refused: number;
      };
      expect(found.charts).toBe(CHARTS);
      expect(found.injected).toBe(0);
      expect(found.refused).toBe(0);
      // The names are there as text: whole in the tooltips, wrapped or cut in the labels.
      for (const hostile of [pwn, breakout]) {
        expect(found.tooltips.some((t) => t.startsWith(`${hostile}: `))).toBe(true);
        expect(found.labels.some((l) => l.startsWith(hostile.slice(0, 5)))).toBe(true);
      }

      const verdicts = (await page.evaluate(
        `import("/extension/src/auditReport/safeSvg").then(({ safeSvgElement }) =>
          ${JSON.stringify(HOSTILE_SVGS)}.map((markup) => {
            try {
              const element = safeSvgElement(markup);
              document.body.appendChild(element);
              return "accepted";
            } catch (error) {
              return error.name + ": " + error.message;
            }
          }))`,
      )) as string[];
      expect(verdicts.filter((v) => v === "accepted")).toEqual([]);
      expect(verdicts.every((v) => /not allowed|not well-formed/.test(v))).toBe(true);
      // A chart of the report's own passes, as an SVG element of the page.
      const accepted = await page.evaluate(
        `import("/extension/src/auditReport/safeSvg").then(({ safeSvgElement }) => {
          const element = safeSvgElement(${JSON.stringify(`<svg ${SVG} class="fd-chart" width="10" height="10"><g class="fd-group"><title>a</title><rect x="0" y="0" width="5" height="5" fill="#4c78a8"/><text x="1" y="9" fill="currentColor"><tspan x="1" y="9">a</tspan></text></g></svg>`)});
          return element instanceof SVGSVGElement && element.ownerDocument === document;
        })`,
      );
      expect(accepted).toBe(true);
      await page.waitForTimeout(200); // give a handler that slipped through the time to run
      expect(await page.evaluate("window.__pwned")).toBeUndefined();
    } finally {
      await page.close();
    }
  },
);
