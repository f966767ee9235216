/**
 * `fairdiff start --headless --quick` (what `npm start` runs where no Jupyter server is): the
 * built CLI audits the shipped model, fixes it with Method 1, audits again and writes one
 * self-contained HTML page plus the numbers as JSON.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT } from "../kernel/helpers/kernelHarness";

jest.setTimeout(10 * 60_000);

const CLI = path.join(ROOT, "dist", "src", "cli", "main.js");
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "fairdiff-study-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: dir });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

interface StudyJson {
  headline: { attribute: string; biasBefore: number; biasAfter: number };
  before: { attributes: { attribute: string; bias: { estimate: number } }[] };
  after: { attributes: { attribute: string; bias: { estimate: number } }[] };
  training: { steps: { step: number; loss: number }[] };
  settings: { quick: boolean; alignment: { steps: number } };
  files: string[];
}

test("the quick headless study writes a self-contained before/after page and lowers the bias", async () => {
  const out = path.join(dir, "study.html");
  const json = path.join(dir, "study.json");
  const run = await cli(["start", "--headless", "--quick", "--out", out, "--json", json]);
  if (run.code !== 0) throw new Error(`exit ${run.code}\n${run.stdout}\n${run.stderr}`);

  // The numbers.
  const result = JSON.parse(readFileSync(json, "utf8")) as StudyJson;
  expect(result.settings.quick).toBe(true);
  expect(result.training.steps).toHaveLength(result.settings.alignment.steps);
  expect(result.headline.attribute).toBe("sex");
  const sexBefore = result.before.attributes.find((a) => a.attribute === "sex")!;
  const sexAfter = result.after.attributes.find((a) => a.attribute === "sex")!;
  expect(result.headline.biasBefore).toBe(sexBefore.bias.estimate);
  expect(result.headline.biasAfter).toBe(sexAfter.bias.estimate);
  expect(result.headline.biasAfter).toBeLessThan(result.headline.biasBefore);
  expect(result.files).toEqual([out, json]);

  // The page: one file, nothing to fetch, both audits inside.
  expect(existsSync(out)).toBe(true);
  const html = readFileSync(out, "utf8");
  expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
  expect(html).toContain("Content-Security-Policy");
  expect(html).not.toMatch(/<script|<link|<iframe|<img\s[^>]*src="(?!data:)/i);
  expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
  expect(html).not.toMatch(/url\(\s*["']?https?:/i);
  expect(html.match(/class="fairdiff-report"/g)?.length).toBe(2);
  expect(html.match(/<svg /g)?.length ?? 0).toBeGreaterThanOrEqual(4);
  expect(html).toContain(result.headline.biasBefore.toFixed(3));
  expect(html).toContain(result.headline.biasAfter.toFixed(3));
  // Green only when on target (bias ≤ 0.1); lower but still off target is amber, not green.
  const headlineClass = html.match(
    new RegExp(`<span class="(fd-[a-z]+)">${result.headline.biasAfter.toFixed(3)}</span>`),
  )?.[1];
  expect(headlineClass).toBe(result.headline.biasAfter <= 0.1 ? "fd-met" : "fd-better");

  // What a person sees in the terminal: the headline numbers and where the page is.
  expect(run.stdout).toContain(
    `sex bias ${result.headline.biasBefore.toFixed(3)} → ${result.headline.biasAfter.toFixed(3)}`,
  );
  expect(run.stdout).toContain(`wrote ${out}`);
  expect(run.stderr).toMatch(/Method 1 fine-tuning .* \d+\/\d+/);
});

test("fairdiff start: an unknown option is an error, not ignored", async () => {
  const run = await cli(["start", "--headless", "--quick", "--bogus"]);
  expect(run.code).not.toBe(0);
  expect(run.stderr).toMatch(/unknown option '--bogus'/);
});
