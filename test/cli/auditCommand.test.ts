/**
 * `fairdiff audit`: input parsing fails early with named values; a tiny run on the shipped models
 * writes HTML, JSON and Markdown that parse; bad input through the command line exits non-zero.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Command } from "commander";
import { AuditReport } from "../../src/audit";
import {
  auditCommand,
  DEFAULT_AUDIT_PROMPTS,
  parseIntersections,
  parsePrompts,
  registerAuditCommand,
} from "../../src/cli/commands/audit";
import { parseTargets } from "../../src/cli/targetOption";
import { testWhen } from "../helpers/requirements";
import { textSink } from "../helpers/textSink";

const ROOT = path.resolve(__dirname, "../..");
const BUILT_CLI = path.join(ROOT, "dist/src/cli/main.js");
/** The build holds this command (a build from before it would not). */
const BUILT_AUDIT = path.join(ROOT, "dist/src/cli/commands/audit.js");

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-cli-audit-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test("targets, intersections and prompts are parsed and checked", () => {
  const groups = new Map<string, string[]>([
    ["sex", ["Female", "Male"]],
    ["race", ["Asian", "Black", "White"]],
    [
      "sex×race",
      ["Female×Asian", "Female×Black", "Female×White", "Male×Asian", "Male×Black", "Male×White"],
    ],
  ]);
  expect(
    parseTargets(["sex=Female:0.25,Male:0.75;race=Asian:0.2,Black:0.3,White:0.5"], groups),
  ).toEqual({
    sex: { Female: 0.25, Male: 0.75 },
    race: { Asian: 0.2, Black: 0.3, White: 0.5 },
  });
  const sixths = ["Female", "Male"]
    .flatMap((sex) => ["Asian", "Black", "White"].map((race) => `${sex}*${race}:${1 / 6}`))
    .join(",");
  expect(Object.keys(parseTargets([`sex*race=${sixths}`], groups)["sex×race"])).toHaveLength(6);
  expect(() => parseTargets(["sex×race=Female×Asian:1"], groups)).toThrow(
    /no value for group "Female×Black"/,
  );
  expect(() => parseTargets(["gender=Female:0.5,Male:0.5"], groups)).toThrow(
    /--target names unknown attribute "gender" \(known: sex, race, sex×race\)/,
  );
  expect(() => parseTargets(["sex=Female:0.5,Male:0.3"], groups)).toThrow(/"sex" sums to 0\.8/);
  expect(() => parseTargets(["sex=Female:0.5,Man:0.5"], groups)).toThrow(/unknown group "Man"/);
  expect(() => parseTargets(["sex=Female:1"], groups)).toThrow(/no value for group "Male"/);
  expect(() => parseTargets(["sex=Female=0.5"], groups)).toThrow(/must look like Group:0\.5/);
  expect(() => parseTargets(["sex"], groups)).toThrow(/must look like sex=Female:0\.5,Male:0\.5/);

  expect(parseIntersections("sex,race; sex,ageBand", ["sex", "race", "ageBand"])).toEqual([
    ["sex", "race"],
    ["sex", "ageBand"],
  ]);
  expect(() => parseIntersections("sex,colour", ["sex", "race"])).toThrow(
    /unknown attribute "colour"/,
  );
  expect(() => parseIntersections("sex", ["sex", "race"])).toThrow(/two or more attributes/);

  const file = path.join(dir, "prompts.txt");
  fs.writeFileSync(file, "# neutral prompts\nfirst prompt\n\n  second prompt  \n");
  expect(parsePrompts(file)).toEqual(["first prompt", "second prompt"]);
  expect(parsePrompts("a prompt; another prompt")).toEqual(["a prompt", "another prompt"]);
  expect(() => parsePrompts(path.join(dir, "missing.txt"))).toThrow(
    /cannot read prompts file ".*missing\.txt"/,
  );
  expect(DEFAULT_AUDIT_PROMPTS).toEqual([
    "Chest Radiography image of a patient diagnosed with Pleural Effusion",
    "Chest Radiography image of a patient diagnosed with Cardiomegaly",
    "Chest Radiography image of a patient with No Finding",
  ]);
});

test("a tiny audit of the shipped model writes HTML, JSON and Markdown that parse", async () => {
  const out = path.join(dir, "report.html");
  const json = path.join(dir, "report.json");
  const markdown = path.join(dir, "report.md");
  const progress = textSink();
  const lines: string[] = [];
  const { files } = await auditCommand({
    n: "3",
    steps: "2",
    resamples: "50",
    seed: "4",
    out,
    json,
    markdown,
    target: ["sex=Female:0.4,Male:0.6"],
    intersections: "sex,race",
    quality: true,
    extractor: "radiomic",
    equalGroups: true,
    real: "24",
    backend: "wasm",
    progress,
    log: (line) => lines.push(line),
  });
  expect(files).toEqual([out, json, markdown]);
  const report = AuditReport.load(json);
  expect(report.representation.map((p) => p.prompt)).toEqual([...DEFAULT_AUDIT_PROMPTS]);
  expect(report.representation[0].n).toBe(3);
  expect(report.attribute(DEFAULT_AUDIT_PROMPTS[0], "sex").target).toEqual([0.4, 0.6]);
  expect(report.attribute(DEFAULT_AUDIT_PROMPTS[0], "sex×race").groups).toHaveLength(6);
  expect(report.manifest.model.file).toBe("cxr-mini.fdckpt");
  expect(report.manifest.model.preset).toBe("cxr-mini");
  expect(report.manifest.sampler.steps).toBe(2);
  expect(report.manifest.data?.images).toBe(24);
  expect(report.quality?.extractor.name).toMatch(/radiomic/);
  // Full captions name sex and race but not age: only those split the generated images, and
  // --intersections splits them by sex × race too.
  expect(report.quality?.byAttribute.map((g) => g.attribute)).toEqual(["sex", "race", "sex×race"]);
  expect(report.quality?.byAttribute[2].groups).toHaveLength(6);
  expect(report.quality?.byAttribute[0].notes.join(" ")).toMatch(/every group subsampled/);
  // KID is on by default: overall and beside every group's FID.
  expect(report.quality?.overallKid).toMatchObject({ nGenerated: 24, nReal: 24 });
  for (const g of report.quality!.byAttribute) expect(g.perGroupKid).toHaveLength(g.groups.length);
  expect(lines.join("\n")).toMatch(/FID \(radiomic-v1\) [\d.]+, KID ×10³ -?[\d.]+ \[/);
  // The memorisation audit is on by default: every generated counterpart searched among the
  // preset's 4000 training images, the held-out real images as its null.
  const memorisation = report.quality?.memorisation;
  expect(memorisation?.counts).toEqual({ generated: 24, training: 4000, heldOut: 24 });
  expect(memorisation?.trainingDescription).toMatch(/4000 images cxr-mini was trained on/);
  expect(memorisation?.byAttribute.map((a) => a.attribute)).toEqual(["sex", "race", "sex×race"]);
  expect(lines.join("\n")).toMatch(/near-copies of training images: \d+ of 24/);
  const html = fs.readFileSync(out, "utf8");
  expect(html).toContain("Memorisation: near-copies of training images");
  expect(html.match(/<img src="data:image\/png;base64,/g)?.length).toBe(
    2 * memorisation!.pairs.length,
  );
  expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
  // 3 prompts × (3 attributes + 1 intersection) + FID and KID by sex, race and sex × race.
  expect(html.match(/<svg/g)?.length).toBe(3 * 4 + 2 * 3);
  expect(html).toContain("KID ×10³");
  const markdownText = fs.readFileSync(markdown, "utf8");
  expect(markdownText).toContain("| prompt | attribute | n |");
  expect(markdownText).toContain("| attribute | group | FID | KID ×10³ [CI] |");
  expect(markdownText).toContain("## Memorisation: near-copies of training images");
  expect(progress.text).toContain("images");
  expect(progress.text).toContain("quality generating");
  expect(lines.at(-1)).toBe(`wrote ${markdown}`);
}, 120000);

test("--no-kid and --no-memorisation leave KID and the memorisation audit out", async () => {
  const json = path.join(dir, "no-kid.json");
  const lines: string[] = [];
  await auditCommand({
    n: "2",
    steps: "1",
    resamples: "10",
    seed: "5",
    out: path.join(dir, "no-kid.html"),
    json,
    quality: true,
    kid: false,
    memorisation: false,
    extractor: "radiomic",
    real: "8",
    backend: "wasm",
    progress: textSink(),
    log: (line) => lines.push(line),
  });
  const report = AuditReport.load(json);
  expect(report.quality?.overall.nReal).toBe(8);
  expect(report.quality?.overallKid).toBeUndefined();
  expect(report.quality?.memorisation).toBeUndefined();
  for (const g of report.quality!.byAttribute) expect(g.perGroupKid).toBeUndefined();
  expect(lines.join("\n")).not.toContain("KID");
  expect(fs.readFileSync(path.join(dir, "no-kid.html"), "utf8")).not.toContain("KID");
}, 120000);

test("bad input is refused before any image is generated", async () => {
  // A fresh program per run: commander keeps option values between parses.
  const run = (...args: string[]) => {
    const program = new Command();
    program.exitOverride();
    registerAuditCommand(program);
    return program.parseAsync(["node", "fairdiff", "audit", "--backend", "wasm", ...args]);
  };
  await expect(
    run("--target", "sex=Female:0.5,Male:0.3", "-o", path.join(dir, "x.html")),
  ).rejects.toThrow(/target for "sex" sums to 0\.8/);
  await expect(run("--target", "shoe=A:1")).rejects.toThrow(/unknown attribute "shoe"/);
  await expect(run("--model", path.join(dir, "none.fdckpt"))).rejects.toThrow(
    /--model ".*none\.fdckpt": checkpoint not found/,
  );
  await expect(run("--prompts", path.join(dir, "none.txt"))).rejects.toThrow(
    /cannot read prompts file/,
  );
  await expect(run("-n", "1")).rejects.toThrow(/--n must be an integer ≥ 2, got "1"/);
  await expect(run("--extractor", "radiomic")).rejects.toThrow(/only applies with --quality/);
  await expect(run("--equal-groups")).rejects.toThrow(/--equal-groups only applies with --quality/);
  await expect(run("--no-kid")).rejects.toThrow(/--no-kid only applies with --quality/);
  await expect(run("--no-memorisation")).rejects.toThrow(
    /--no-memorisation only applies with --quality/,
  );
  expect(fs.existsSync(path.join(dir, "x.html"))).toBe(false);
}, 60000);

testWhen(fs.existsSync(BUILT_AUDIT), "the built CLI with the audit command (npm run build)")(
  "the built fairdiff audit exits non-zero with the message on bad input",
  () => {
    const result = spawnSync(
      process.execPath,
      [BUILT_CLI, "audit", "--backend", "wasm", "--target", "sex=Female:0.5,Male:0.6"],
      { encoding: "utf8", timeout: 60000 },
    );
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/fairdiff: target for "sex" sums to 1\.1/);
    // --help lists the options the docs promise.
    const help = execFileSync(process.execPath, [BUILT_CLI, "audit", "--help"], {
      encoding: "utf8",
    });
    for (const flag of [
      "--model",
      "--classifier",
      "--prompts",
      "--target",
      "--quality",
      "--no-kid",
      "--extractor",
    ])
      expect(help).toContain(flag);
  },
  60000,
);
