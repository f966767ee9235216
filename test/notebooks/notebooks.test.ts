/**
 * The shipped notebooks, executed headlessly (nbclient + the fairdiff kernel) in quick mode,
 * one after another: each must run green and its result cell must show its key finding. 05 runs
 * twice (reference and wrong answers) and its seeded numbers must repeat; executed notebooks are
 * exported to HTML with nbconvert to show the figures survive without the widget front end.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { PYTHON } from "../kernel/helpers/debianPython";
import { testWhen } from "../helpers/requirements";
import {
  cellErrors,
  codeCells,
  jupyterAvailable,
  mimeOutputs,
  NOTEBOOKS,
  NotebookSandbox,
  resultOf,
  stdoutOf,
  taggedCells,
  text,
  type ExecutedNotebook,
  type Notebook,
} from "./helpers/notebooks";

const NAMES = [
  "01-audit.ipynb",
  "02-distributional-alignment.ipynb",
  "03-fair-perturbation.ipynb",
  "04-subgroup-aligned-tuning.ipynb",
  "05-classroom-lab.ipynb",
  "06-real-data.ipynb",
];
const REPORT_MIME = "application/vnd.fairdiff.audit-report+json";
const WIDGET_VIEW = "application/vnd.jupyter.widget-view+json";
const EXECUTION_TIMEOUT = 10 * 60_000;

/** The display bundles of the outputs showing a fairdiff widget (found by its fallback), `count` of them. */
function widgetOutputs(nb: Notebook, widget: string, count: number): Record<string, unknown>[] {
  const found = codeCells(nb)
    .flatMap((c) => c.outputs ?? [])
    .filter(
      (o) =>
        o.data?.[WIDGET_VIEW] !== undefined &&
        text(o.data["text/html"] as string[] | undefined).includes(`data-widget="${widget}"`),
    );
  expect(found).toHaveLength(count);
  return found.map((o) => o.data!);
}

/** Every <img> SVG data URI in some HTML, decoded, with its alt text. */
function svgImages(html: string): { alt: string; svg: string }[] {
  return [...html.matchAll(/<img src="data:image\/svg\+xml;base64,([^"]+)" alt="([^"]*)"/g)].map(
    ([, data, alt]) => ({ alt, svg: Buffer.from(data, "base64").toString("utf8") }),
  );
}

const readNotebook = (name: string): Notebook =>
  JSON.parse(readFileSync(path.join(NOTEBOOKS, name), "utf8")) as Notebook;

describe("the notebooks as files", () => {
  test("notebooks/ holds exactly the six teaching and analysis notebooks", () => {
    expect(readdirSync(NOTEBOOKS).filter((f) => f.endsWith(".ipynb")).sort()).toEqual(NAMES);
  });

  test.each(NAMES)(
    "%s: nbformat 4, fairdiff kernelspec, no saved outputs, a quick mode and a result cell",
    (name) => {
      const nb = readNotebook(name);
      expect(nb.nbformat).toBe(4);
      expect(nb.metadata.kernelspec).toEqual({
        name: "fairdiff",
        display_name: "fairdiff (TypeScript)",
        language: "typescript",
      });
      for (const cell of codeCells(nb)) {
        expect(cell.outputs).toEqual([]);
        expect(cell.execution_count).toBeNull();
      }
      const ids = nb.cells.map((c) => c.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(codeCells(nb).some((c) => text(c.source).includes("FAIRDIFF_QUICK"))).toBe(true);
      expect(taggedCells(nb, "result")).toHaveLength(1);
      // The first cell states the question in prose.
      expect(nb.cells[0].cell_type).toBe("markdown");
      expect(text(nb.cells[0].source)).toMatch(/\*\*Question\.\*\*|exercises/i);
    },
  );

  testWhen(jupyterAvailable(), "Debian python3-nbformat")(
    "nbformat's own validator accepts every notebook",
    () => {
      const script = `import sys, nbformat\nfor f in sys.argv[1:]:\n    nbformat.validate(nbformat.read(f, as_version=4))\nprint("ok")`;
      const out = spawnSync(PYTHON, ["-c", script, ...NAMES.map((n) => path.join(NOTEBOOKS, n))], {
        encoding: "utf8",
      });
      expect(out.stderr).toBe("");
      expect(out.stdout.trim()).toBe("ok");
    },
  );
});

const runnable = jupyterAvailable();
const maybe = testWhen(runnable, "Debian python3-nbclient and python3-jupyter-client");

describe("the notebooks, executed in quick mode", () => {
  let sandbox: NotebookSandbox;
  const executed = new Map<string, ExecutedNotebook>();
  let wrongAnswers: ExecutedNotebook | undefined;

  beforeAll(() => {
    if (!runnable) return;
    // No real datasets: 06 must fall back to its stand-ins and say so.
    sandbox = new NotebookSandbox({
      FAIRDIFF_QUICK: "1",
      CHEXPERT_ROOT: "",
      HAM10000_ROOT: "",
      FAIRGENMED_ROOT: "",
    });
  });

  afterAll(() => sandbox?.dispose());

  async function run(name: string): Promise<Notebook> {
    const result = await sandbox.execute(name);
    executed.set(name, result);
    expect(cellErrors(result.notebook)).toEqual([]);
    return result.notebook;
  }

  maybe(
    "01-audit: the report renders with its mime type and the neutral prompt is found biased",
    async () => {
      const nb = await run("01-audit.ipynb");
      const result = resultOf<{
        sex: { shares: number[]; bias: number; biasInterval: [number, number] };
        race: { shares: number[] };
        esFid: Record<string, number>;
        fid: number;
        kid: number | null;
        kidByRace: number[] | null;
        nearCopies: { n: number; nearCopies: number; training: number } | null;
      }>(nb);
      const [female, male] = result.sex.shares;
      expect(female + male).toBeCloseTo(1, 9);
      // Shen bias for two groups and a uniform target is |f₁ − f₂|.
      expect(result.sex.bias).toBeCloseTo(Math.abs(female - male), 9);
      // The cohort was built biased; the audit must find it (interval clear of 0).
      expect(result.sex.biasInterval[0]).toBeGreaterThan(0);
      expect(result.race.shares.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 9);
      expect(Number.isFinite(result.fid)).toBe(true);
      expect(Number.isFinite(result.esFid.sex)).toBe(true);
      expect(result.esFid.sex).toBeGreaterThanOrEqual(result.fid);
      // KID beside FID, per race group too; the memorisation audit searched the training images.
      expect(Number.isFinite(result.kid)).toBe(true);
      expect(result.kidByRace).toHaveLength(3);
      expect(result.nearCopies?.training).toBe(1000);
      expect(result.nearCopies?.nearCopies).toBeLessThanOrEqual(result.nearCopies!.n);
      const markdown = mimeOutputs(nb, "text/markdown").map((m) => text(m as string | string[]));
      expect(markdown.some((m) => /FID vs KID[^*]* by race/.test(m) && m.includes("Near-copies"))).toBe(true);
      const reports = mimeOutputs(nb, REPORT_MIME) as { kind: string }[];
      expect(reports).toHaveLength(1);
      expect(reports[0].kind).toBe("fairdiff-audit-report");
      const html = mimeOutputs(nb, "text/html").map((h) => text(h as string | string[]));
      expect(html.some((h) => h.includes("fairdiff-report") && h.includes("<svg"))).toBe(true);
      expect(mimeOutputs(nb, "image/png").length).toBeGreaterThan(0);
    },
    EXECUTION_TIMEOUT,
  );

  maybe(
    "02-distributional-alignment: the run follows the slider mid-run and lowers the bias",
    async () => {
      const nb = await run("02-distributional-alignment.ipynb");
      const result = resultOf<{
        biasBefore: number;
        biasAfter: number;
        steps: number;
        evaluations: number;
        aborted: boolean;
        targetFemaleByStep: number[];
        finalTarget: number[];
        sharesBefore: number[];
        sharesAfter: number[];
        firstEvaluation: { step: number; shares: number[]; n: number };
        lastEvaluation: { step: number; shares: number[]; target: number[]; n: number };
      }>(nb);
      expect(result.aborted).toBe(false);
      // The dashboard's evaluations measure the audits' images: its first evaluation shows the
      // before audit's shares, its last the after audit's, with the same n.
      expect(result.firstEvaluation).toMatchObject({ step: 0, shares: result.sharesBefore });
      expect(result.lastEvaluation).toMatchObject({
        step: result.steps,
        shares: result.sharesAfter,
        target: result.finalTarget,
      });
      expect(result.lastEvaluation.n).toBe(result.firstEvaluation.n);
      // Every bias in the prose says which target it is against.
      const prose = mimeOutputs(nb, "text/markdown")
        .map((m) => text(m as string | string[]))
        .join("\n");
      expect(prose).toMatch(/Bias vs 40\/60 target/);
      expect(prose).toMatch(/vs the 50\/50 target the slider held then/);
      expect(result.targetFemaleByStep).toHaveLength(result.steps);
      // The scripted drag at half-way: the getter was read every step.
      const half = Math.floor(result.steps / 2);
      expect(result.targetFemaleByStep.slice(0, half).every((p) => p === 0.5)).toBe(true);
      expect(result.targetFemaleByStep.slice(half).every((p) => p === 0.4)).toBe(true);
      expect(result.finalTarget).toEqual([0.4, 0.6]);
      expect(result.evaluations).toBeGreaterThanOrEqual(2);
      expect(result.biasAfter).toBeLessThan(result.biasBefore);
      // §5, sex and race together on a fresh cxr-mini: both attributes audited before and after,
      // against both sliders' targets, and the run lowers their summed bias.
      const both = resultOf<{
        steps: number;
        aborted: boolean;
        attributes: {
          attribute: string;
          target: number[];
          sharesBefore: number[];
          sharesAfter: number[];
          biasBefore: number;
          biasAfter: number;
        }[];
      }>(nb, "result-sex-race");
      expect(both.aborted).toBe(false);
      expect(both.steps).toBe(24);
      expect(both.attributes.map((a) => a.attribute)).toEqual(["sex", "race"]);
      expect(both.attributes[1].target.map((t) => +t.toFixed(4))).toEqual([0.3333, 0.3333, 0.3333]);
      for (const a of both.attributes) {
        for (const shares of [a.sharesBefore, a.sharesAfter]) {
          expect(shares.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 6);
        }
      }
      const summed = (key: "biasBefore" | "biasAfter") =>
        both.attributes.reduce((s, a) => s + a[key], 0);
      expect(summed("biasAfter")).toBeLessThan(summed("biasBefore"));
      // The dashboard's widgets were displayed and their state saved in the notebook.
      expect(mimeOutputs(nb, WIDGET_VIEW).length).toBeGreaterThan(0);
      const state = (nb.metadata.widgets as Record<string, { state: Record<string, unknown> }>)[
        "application/vnd.jupyter.widget-state+json"
      ].state as Record<string, { model_name: string }>;
      const models = Object.values(state).map((m) => m.model_name);
      expect(models).toEqual(
        expect.arrayContaining([
          "TrainingDashboardModel",
          "TargetDistributionModel",
          "MetricsPlotModel",
        ]),
      );
      // Static copies of the figures for viewers without the widget front end.
      expect(mimeOutputs(nb, "image/svg+xml").length).toBeGreaterThanOrEqual(2);
      // The dashboard's own static fallback, redrawn in place when the run ended.
      // Two dashboards: §3's run, then §5's (sex and race).
      const [dashboard, dashboardBoth] = widgetOutputs(nb, "TrainingDashboard", 2);
      expect(text(dashboard["text/plain"] as string[])).toContain(
        `done after ${result.steps} steps`,
      );
      expect(text(dashboardBoth["text/plain"] as string[])).toContain(
        `done after ${both.steps} steps`,
      );
      const charts = svgImages(text(dashboard["text/html"] as string[]));
      const shares = charts.find((c) => c.alt.startsWith("Subgroup shares · sex"));
      expect(shares?.svg).toMatch(/<title>generated Female: \d+\.\d %<\/title>/);
      expect(charts.find((c) => c.alt.startsWith("Training metrics · bias"))?.svg).toMatch(
        /<path d="M/,
      );
    },
    EXECUTION_TIMEOUT,
  );

  maybe(
    "03-fair-perturbation: σ is searched, plain and perturbed runs are both measured",
    async () => {
      const nb = await run("03-fair-perturbation.ipynb");
      const result = resultOf<{
        sigmaUpdates: number;
        sigmaFinal: Record<string, number>;
        plain: { gaps: Record<string, number>; esFid: Record<string, number> };
        perturbed: { gaps: Record<string, number>; esFid: Record<string, number> };
      }>(nb);
      expect(result.sigmaUpdates).toBeGreaterThanOrEqual(1);
      const sigmas = Object.values(result.sigmaFinal);
      expect(sigmas.length).toBe(5); // Female, Male, Asian, Black, White
      expect(sigmas.some((s) => Math.abs(s - 1) > 1e-6)).toBe(true);
      for (const run of [result.plain, result.perturbed]) {
        for (const a of ["sex", "race"]) {
          expect(run.gaps[a]).toBeGreaterThan(0);
          expect(Number.isFinite(run.esFid[a])).toBe(true);
        }
      }
      // Same batches, different weighting: the perturbation changed what was learnt.
      expect(result.perturbed.gaps.sex).not.toBe(result.plain.gaps.sex);
    },
    EXECUTION_TIMEOUT,
  );

  maybe(
    "04-subgroup-aligned-tuning: shares move toward the target dataset's proportions",
    async () => {
      const nb = await run("04-subgroup-aligned-tuning.ipynb");
      const result = resultOf<{
        target: Record<string, number>;
        worstGapBefore: number;
        worstGapAfter: number;
        steps: number;
      }>(nb);
      expect(result.target.Female + result.target.Male).toBeCloseTo(1, 9);
      expect(result.target.Female).toBeGreaterThan(0.3);
      expect(result.target.Female).toBeLessThan(0.7);
      expect(result.worstGapAfter).toBeLessThan(result.worstGapBefore);
    },
    EXECUTION_TIMEOUT,
  );

  maybe(
    "05-classroom-lab: every self-check passes with the reference answers",
    async () => {
      const nb = await run("05-classroom-lab.ipynb");
      const result = resultOf<{
        checks: { exercise: string; ok: boolean }[];
        allPassed: boolean;
        naiveFemale: number;
        correctedFemale: number;
      }>(nb);
      expect(result.checks.length).toBe(7);
      expect(result.checks.every((c) => c.ok)).toBe(true);
      expect(result.allPassed).toBe(true);
      const printed = taggedCells(nb, "check").map(stdoutOf).join("");
      expect(printed.match(/✓/g)?.length).toBe(7);
      expect(printed).not.toContain("✗");
      // The lesson of exercise 4: the corrected share is nearer the truth (50 %).
      expect(Math.abs(result.correctedFemale - 0.5)).toBeLessThan(
        Math.abs(result.naiveFemale - 0.5),
      );
    },
    EXECUTION_TIMEOUT,
  );

  maybe(
    "05-classroom-lab: wrong answers get ✗ and a hint (the checks are not rubber stamps)",
    async () => {
      const nb = readNotebook("05-classroom-lab.ipynb");
      const wrong: Record<string, string> = {
        myTarget: "const myTarget = { sex: { Female: 0.25, Male: 0.75 } };",
        biasUniform:
          "const biasUniform = 0.9 - 0.5;\nconst biasAgainstMine = Math.abs(0.9 - 0.75) + Math.abs(0.1 - 0.25);",
        nNeeded: "const nNeeded = 100;",
        correctedFemale:
          "const errorAware = errorAwareProportions(\n  { generatedPredictions: generatedPredicted, calibrationTrue: calibrationTrue, calibrationPredicted: calibrationPredicted, groups: 2 },\n  { seed: 1, resamples: 500 },\n);\nconst correctedFemale = naiveFemale;\nconst explanation = \"a\";",
        myPrompt:
          'const myPrompt = "Chest Radiography image of a Male Asian patient diagnosed with Pleural Effusion";',
      };
      for (const cell of nb.cells) {
        const source = text(cell.source);
        if (!source.startsWith("// YOUR ANSWER")) continue;
        const key = Object.keys(wrong).find((k) => source.includes(`const ${k} =`));
        if (!key) throw new Error(`no wrong answer for cell ${cell.id}`);
        cell.source = `// YOUR ANSWER\n${wrong[key]}`;
      }
      // The generation cell draws the reference prompt whatever the answer: this run is also
      // the reproducibility test's second run of 05 (one kernel start fewer).
      const generation = codeCells(nb).filter((c) => text(c.source).includes(".fill(myPrompt)"));
      expect(generation).toHaveLength(1);
      generation[0].source = text(generation[0].source).replace(
        ".fill(myPrompt)",
        '.fill(chestFindingsPrompt({ sex: "Male", race: "Asian", findings: ["Cardiomegaly"] }))',
      );
      const file = path.join(sandbox.prefix, "05-wrong-answers.ipynb");
      writeFileSync(file, JSON.stringify(nb));
      wrongAnswers = await sandbox.execute(file);
      const { notebook } = wrongAnswers;
      expect(cellErrors(notebook)).toEqual([]);
      const result = resultOf<{ checks: { ok: boolean }[]; allPassed: boolean }>(notebook);
      expect(result.checks.map((c) => c.ok)).toEqual([false, false, false, false, false, false, false]);
      expect(result.allPassed).toBe(false);
      const printed = taggedCells(notebook, "check").map(stdoutOf).join("");
      expect(printed.match(/✗ .* — hint: /g)?.length).toBe(7);
    },
    EXECUTION_TIMEOUT,
  );

  maybe(
    "06-real-data: without data paths it writes stand-ins in the real formats and says so",
    async () => {
      const nb = await run("06-real-data.ipynb");
      const result = resultOf<{
        standIns: Record<string, boolean>;
        records: Record<string, number>;
        chexpertTarget: { sex: Record<string, number> };
        audit: { sexBias: number; fid: number };
      }>(nb);
      expect(result.standIns).toEqual({ CheXpert: true, HAM10000: true, FairGenMed: true });
      for (const count of Object.values(result.records)) expect(count).toBeGreaterThan(0);
      const said = codeCells(nb).map(stdoutOf).join("");
      expect(said.match(/SYNTHETIC STAND-IN/g)?.length).toBe(3);
      const t = result.chexpertTarget.sex;
      expect(t.Female + t.Male).toBeCloseTo(1, 9);
      expect(Number.isFinite(result.audit.fid)).toBe(true);
      expect(mimeOutputs(nb, REPORT_MIME)).toHaveLength(1);
    },
    EXECUTION_TIMEOUT,
  );

  maybe(
    "reproducible: 05-classroom-lab run again with the same seeds gives identical numbers",
    () => {
      // 05 is the cheapest notebook that generates and classifies images (exercise 5); 01–04
      // take their seeds the same way. Its second run is the wrong-answers run above: the
      // answers change, the seeded generation, classification and simulated audit do not.
      const first = executed.get("05-classroom-lab.ipynb");
      if (!first || !wrongAnswers) throw new Error("the two runs of 05 did not happen earlier");
      const again = wrongAnswers.notebook;
      type Numbers = Record<"adherenceMale" | "adherenceAsian" | "naiveFemale" | "smallestImages", number>;
      const pick = (n: Numbers) => ({
        adherenceMale: n.adherenceMale,
        adherenceAsian: n.adherenceAsian,
        naiveFemale: n.naiveFemale,
        smallestImages: n.smallestImages,
      });
      const numbers = pick(resultOf<Numbers>(again));
      expect(numbers).toEqual(pick(resultOf<Numbers>(first.notebook)));
      expect(typeof numbers.adherenceMale).toBe("number");
      // The generated images themselves, byte for byte (the PNG grid).
      const grid = mimeOutputs(again, "image/png");
      expect(grid).toHaveLength(1);
      expect(grid).toEqual(mimeOutputs(first.notebook, "image/png"));
    },
    EXECUTION_TIMEOUT,
  );

  maybe(
    "nbconvert's HTML export keeps the figures (PNG, SVG, the report's HTML, widget fallbacks)",
    () => {
      // 02 as JupyterLab saves it by default: without the widget state (nbclient saves it). With
      // the state, nbconvert prefers the widget view, which only the fairdiff front end can draw;
      // without it, each widget output falls back to its text/html static copy.
      const aligned = executed.get("02-distributional-alignment.ipynb");
      if (!aligned) throw new Error("02-distributional-alignment.ipynb did not run earlier");
      const stateless = JSON.parse(readFileSync(aligned.file, "utf8")) as Notebook;
      delete stateless.metadata.widgets;
      const statelessFile = path.join(sandbox.prefix, "02-without-widget-state.ipynb");
      writeFileSync(statelessFile, JSON.stringify(stateless));
      const exports = [
        ...["01-audit.ipynb", "02-distributional-alignment.ipynb"].map((name) => {
          const done = executed.get(name);
          if (!done) throw new Error(`${name} did not run earlier in this file`);
          return { name, file: done.file };
        }),
        { name: "02 without widget state", file: statelessFile },
      ];
      for (const { name, file } of exports) {
        const out = spawnSync(
          PYTHON,
          ["-m", "nbconvert", "--to", "html", "--output-dir", sandbox.prefix, file],
          { encoding: "utf8", env: sandbox.env },
        );
        expect(out.status).toBe(0);
        const html = readFileSync(file.replace(/\.ipynb$/, ".html"), "utf8");
        expect(html).toContain("data:image/png;base64,");
        if (name === "01-audit.ipynb") {
          // The report's HTML (text/html is not sanitised) with its inline charts drawn.
          expect(html).toMatch(/class="fairdiff-report"[\s\S]*<svg [^>]*>[\s\S]*?<(line|rect|path) /);
        }
        if (name === "02-distributional-alignment.ipynb") {
          // The bar chart and the training curve, as SVG images with their drawing intact
          // (nbconvert strips the elements out of bare image/svg+xml outputs).
          const figures = [...html.matchAll(/<img src="data:image\/svg\+xml;base64,([^"]+)"/g)];
          expect(figures.length).toBeGreaterThanOrEqual(2);
          for (const [, data] of figures) {
            const svg = Buffer.from(data, "base64").toString("utf8");
            expect(svg).toMatch(/^<svg /);
            expect(svg).toMatch(/<(rect|path) /);
          }
        }
        if (name === "02 without widget state") {
          // The dashboard's static copy in place of its widget view, as of the run's end: the
          // histogram's generated bars and the bias curve, drawn.
          expect(html).toContain('data-widget="TrainingDashboard"');
          expect(html).not.toContain('<script type="application/vnd.jupyter.widget-view+json">');
          const charts = svgImages(html);
          const shares = charts.find((c) => c.alt.startsWith("Subgroup shares · sex"));
          expect(shares?.svg).toMatch(/<rect [^>]*><title>generated Female: \d+\.\d %<\/title>/);
          expect(shares?.svg).toMatch(/<title>generated Male: \d+\.\d %<\/title>/);
          const bias = charts.find((c) => c.alt.startsWith("Training metrics · bias"));
          expect(bias?.svg).toMatch(/<path d="M[^"]+L/);
        }
      }
    },
    120_000,
  );
});
