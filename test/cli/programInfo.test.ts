/**
 * What a new user checks first: `fairdiff --version` answers with the package's version, the
 * licence package.json names is in the repository, and notebook checkpoints stay out of git.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { createProgram } from "../../src/cli/program";

const ROOT = path.resolve(__dirname, "../..");
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
  version: string;
  license: string;
};

test("fairdiff --version prints the package's version", async () => {
  let printed = "";
  const program = createProgram()
    .exitOverride()
    .configureOutput({ writeOut: (text) => (printed += text) });
  await expect(program.parseAsync(["node", "fairdiff", "--version"])).rejects.toMatchObject({
    code: "commander.version",
  });
  expect(printed.trim()).toBe(manifest.version);
});

test("the LICENSE file is the licence package.json names", () => {
  expect(manifest.license).toBe("BSD-3-Clause");
  const text = fs.readFileSync(path.join(ROOT, "LICENSE"), "utf8");
  expect(text).toMatch(/^BSD 3-Clause License/);
  expect(text).toContain("Neither the name of the copyright holder");
});

test("notebook checkpoints are ignored by git", () => {
  const file = path.join("notebooks", ".ipynb_checkpoints", "01-audit-checkpoint.ipynb");
  const out = execFileSync("git", ["check-ignore", "--no-index", file], { cwd: ROOT });
  expect(out.toString().trim()).toBe(file);
});
