/**
 * `fairdiff compare --quick`: plain fine-tuning and the three methods from the shipped cxr-mini,
 * each audited alike, into one report with a row each (plus the base model) — HTML, JSON that
 * loads back to the same table, and Markdown. Bad flags are refused before any model loads.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Command } from "commander";
import { compareCommand, registerCompareCommand } from "../../src/cli/commands/compare";
import { comparisonTable } from "../../src/study/comparisonTable";
import { loadFixComparison, parseFixComparison } from "../../src/study/fixComparison";
import { comparisonSettings } from "../../src/study/comparisonSettings";
import type { FixComparisonData } from "../../src/study/fixComparison";
import { textSink } from "../helpers/textSink";

jest.setTimeout(600_000);

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-compare-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("the quick comparison of the four fixes", () => {
  let comparison: FixComparisonData;
  let files: string[];
  const lines: string[] = [];
  beforeAll(async () => {
    ({ comparison, files } = await compareCommand({
      quick: true,
      backend: "wasm",
      out: path.join(dir, "compare.html"),
      json: path.join(dir, "compare.json"),
      markdown: path.join(dir, "compare.md"),
      progress: textSink(),
      log: (line) => lines.push(line),
    }));
  });

  test("has the base model and all four fixes, each run on the same budget", () => {
    expect(comparison.rows.map((r) => r.fix)).toEqual([
      "base",
      "plain",
      "align",
      "subgroup",
      "perturb",
    ]);
    const { steps, batchSize } = comparison.settings;
    for (const row of comparison.rows.slice(1)) {
      expect(row.cost).toMatchObject({
        steps,
        imagesPerStep: batchSize,
        images: steps * batchSize,
      });
      expect(row.cost!.fineTuneMs).toBeGreaterThan(0);
    }
    expect(comparison.rows[0].cost).toBeUndefined();
    for (const row of comparison.rows) {
      expect(row.report.quality?.memorisation?.counts.training).toBe(
        comparison.settings.audit.memorisationImages,
      );
    }
  });

  test("every row went through the same audit, on its own tuned model", () => {
    const manifests = comparison.rows.map((r) => r.report.manifest);
    for (const m of manifests) {
      expect(m.seed).toBe(manifests[0].seed);
      expect(m.prompts).toEqual(manifests[0].prompts);
      expect(m.data?.sha256).toBe(manifests[0].data?.sha256);
      expect(m.sampler).toEqual(manifests[0].sampler);
    }
    // Each fix changed the weights the audit saw: its images, hence its FID, differ from the base.
    const fids = comparison.rows.map((r) => r.report.quality!.overall.value);
    expect(fids.every(Number.isFinite)).toBe(true);
    for (const fid of fids.slice(1)) expect(fid).not.toBe(fids[0]);
    expect(new Set(manifests.map((m) => m.model.weightsSha256)).size).toBe(comparison.rows.length);
  });

  test("the table has a figure for every row: bias with interval, FID, ES-FID, AUC, cost", () => {
    const table = comparisonTable(comparison);
    expect(table.rows).toHaveLength(5);
    const column = (heading: string) => table.columns.findIndex((c) => c.heading === heading);
    // KID's columns carry the table's one scale in their heading ("KID ×10⁻³" for this encoder).
    const kid = table.columns.find((c) => /^KID( ×10\S+)?$/.test(c.heading))!.heading;
    const headings = [
      "bias sex (target)",
      "bias race",
      "FID",
      kid,
      "FID by sex",
      `${kid} by sex`,
      "ES-FID sex",
    ];
    for (const heading of headings) {
      expect(column(heading)).toBeGreaterThanOrEqual(0);
    }
    const bias = column("bias sex (target)");
    for (const row of table.rows) {
      expect(row.cells[bias]).toMatch(/^\d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\]$/);
      expect(row.cells[column("FID")]).not.toBe("–");
      expect(row.cells[column(kid)]).toMatch(/^-?\d+(\.\d+)? \[-?\d+(\.\d+)?, -?\d+(\.\d+)?\]$/);
      expect(row.cells[column(`${kid} by sex`)]).toMatch(/^Female -?\d.* · Male -?\d/);
      expect(Math.abs(parseFloat(row.cells[column(kid)]))).toBeLessThan(1000);
      expect(row.cells[column("ES-FID sex")]).not.toBe("–");
      expect(row.cells[column("near-copies")]).toMatch(/^\d+\/\d+: [\d.]+ % \[/);
      expect(row.cells[table.columns.findIndex((c) => c.heading.startsWith("AUC"))]).not.toBe("–");
    }
    expect(table.rows[1].cells[column("steps × images")]).toBe(
      `${comparison.settings.steps} × ${comparison.settings.batchSize}`,
    );
  });

  test("writes an HTML page, JSON that loads back to the same table, and Markdown", () => {
    expect(files).toEqual(
      ["compare.html", "compare.json", "compare.md"].map((f) => path.join(dir, f)),
    );
    const html = fs.readFileSync(files[0], "utf8");
    for (const row of comparison.rows) expect(html).toContain(row.label.replace(/'/g, "&#39;"));
    expect(html).not.toMatch(/(src|href)="https?:/);
    const loaded = loadFixComparison(files[1]);
    expect(comparisonTable(loaded)).toEqual(comparisonTable(comparison));
    const markdown = fs.readFileSync(files[2], "utf8").split("\n");
    expect(markdown.filter((l) => l.startsWith("| "))).toHaveLength(1 + comparison.rows.length);
    expect(lines.some((l) => l.startsWith("wrote "))).toBe(true);
  });

  test("a damaged comparison file is refused naming the field", () => {
    const json = JSON.parse(fs.readFileSync(files[1], "utf8"));
    json.rows[2].cost.steps = "many";
    expect(() => parseFixComparison(json)).toThrow("rows[2].cost.steps should be a number");
    json.rows[2].cost.steps = 3;
    json.rows[1].report.representation = 7;
    expect(() => parseFixComparison(json)).toThrow(/rows\[1\]\.report: .*representation/);
  });
});

describe("bad input is refused before any work", () => {
  const run = (args: string[]) => {
    const program = new Command().exitOverride();
    registerCompareCommand(program);
    return program.parseAsync(["node", "fairdiff", "compare", "--backend", "wasm", ...args]);
  };
  test.each([
    [["--fixes", "align,dpo"], 'unknown fix "dpo"'],
    [["--fixes", "align,align"], "names a fix twice"],
    [["--steps", "0"], "--steps"],
    [["--batch-size", "1"], "--batch-size"],
    [["--target", "sex=Female:0.7,Male:0.7"], "sex"],
    [["--target", "sex=Woman:0.5,Man:0.5"], "Woman"],
    [["--real", "-1"], "--real"],
  ])("%j", async (args, message) => {
    const started = Date.now();
    await expect(run([...args, "-o", path.join(dir, "never.html")])).rejects.toThrow(message);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(fs.existsSync(path.join(dir, "never.html"))).toBe(false);
  });

  test("settings name the wrong value", () => {
    expect(() => comparisonSettings(true, { fixes: [] })).toThrow("at least one fix");
    expect(() => comparisonSettings(true, { audit: { samplerSteps: 0 } })).toThrow(
      "audit.samplerSteps must be an integer ≥ 1, got 0",
    );
  });
});
