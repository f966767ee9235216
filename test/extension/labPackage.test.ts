/**
 * The extension's name and version agree everywhere the widget manager looks (package.json, the
 * registered module, the range the kernel asks for), and `fairdiff lab install` puts the built
 * labextension and the kernelspec where Jupyter finds them.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { MODULE_NAME, MODULE_VERSION } from "../../extension/src/version";
import { installLabextension } from "../../src/cli/commands/lab";
import {
  FAIRDIFF_WIDGET_MODULE,
  FAIRDIFF_WIDGET_VERSION_RANGE,
} from "../../kernel/widgets/fairdiffModule";

const ROOT = path.resolve(__dirname, "..", "..");
const extensionPackage = JSON.parse(
  readFileSync(path.join(ROOT, "extension", "package.json"), "utf8"),
);

test("package.json, the registered module and the kernel's range agree", () => {
  expect(MODULE_NAME).toBe(extensionPackage.name);
  expect(MODULE_VERSION).toBe(extensionPackage.version);
  expect(FAIRDIFF_WIDGET_MODULE).toBe(MODULE_NAME);
  // The kernel's caret range must admit the registered version (same major, not below it).
  const [major, minor, patch] = MODULE_VERSION.split(".").map(Number);
  const range = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(FAIRDIFF_WIDGET_VERSION_RANGE);
  expect(range).not.toBeNull();
  const [, rMajor, rMinor, rPatch] = range!.map(Number);
  expect(major).toBe(rMajor);
  expect(minor * 1e6 + patch >= rMinor * 1e6 + rPatch).toBe(true);
});

const built = existsSync(path.join(ROOT, "extension", "labextension", "package.json"));
const cliBuilt = existsSync(path.join(ROOT, "dist", "src", "cli", "main.js"));

(built && cliBuilt ? test : test.skip)(
  "fairdiff lab install --prefix copies the prebuilt labextension and installs the kernelspec",
  () => {
    const prefix = mkdtempSync(path.join(os.tmpdir(), "fairdiff-lab-install-"));
    try {
      execFileSync(
        process.execPath,
        [path.join(ROOT, "dist", "src", "cli", "main.js"), "lab", "install", "--prefix", prefix],
        { stdio: "pipe" },
      );
      const share = path.join(prefix, "share", "jupyter");
      const installed = path.join(share, "labextensions", "fairdiff-jupyterlab");
      const manifest = JSON.parse(readFileSync(path.join(installed, "package.json"), "utf8"));
      expect(manifest.name).toBe("fairdiff-jupyterlab");
      expect(manifest.jupyterlab._build).toMatchObject({
        extension: "./extension",
        mimeExtension: "./mimeExtension",
      });
      expect(existsSync(path.join(installed, manifest.jupyterlab._build.load))).toBe(true);
      const kernel = JSON.parse(
        readFileSync(path.join(share, "kernels", "fairdiff", "kernel.json"), "utf8"),
      );
      expect(kernel.language).toBe("typescript");
    } finally {
      rmSync(prefix, { recursive: true, force: true });
    }
  },
);

test("fairdiff lab install refuses a folder that is not a built labextension", () => {
  const prefix = mkdtempSync(path.join(os.tmpdir(), "fairdiff-lab-install-"));
  try {
    expect(() => installLabextension({ prefix, source: prefix })).toThrow(
      /package\.json is missing/,
    );
    expect(() => installLabextension({ user: true, prefix })).toThrow(/either --user or --prefix/);
  } finally {
    rmSync(prefix, { recursive: true, force: true });
  }
});
