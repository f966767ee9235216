/**
 * `npm install` builds the native kernels (scripts/build-native.js) and must never fail because
 * of them: a machine without a working C++ compiler gets a one-line reason and tfjs-wasm's
 * kernels. Run on a copy (a rebuild starts by deleting the build folder).
 */
import * as child from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

jest.setTimeout(120_000);

const ROOT = path.join(__dirname, "..", "..");

test("a failing compiler leaves the install successful and says why", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-native-build-"));
  try {
    fs.mkdirSync(path.join(dir, "scripts"));
    fs.copyFileSync(
      path.join(ROOT, "scripts", "build-native.js"),
      path.join(dir, "scripts", "build-native.js"),
    );
    fs.cpSync(path.join(ROOT, "native"), path.join(dir, "native"), {
      recursive: true,
      filter: (source) => !source.includes(`${path.sep}build`),
    });
    const result = child.spawnSync(
      process.execPath,
      [path.join(dir, "scripts", "build-native.js")],
      {
        env: { ...process.env, CXX: "/bin/false", CC: "/bin/false" },
        encoding: "utf8",
      },
    );
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(
      /native kernels not built \(node-gyp exited \d+\); tfjs-wasm's kernels will be used/,
    );
    expect(
      fs.existsSync(path.join(dir, "native", "build", "Release", "fairdiff_native.node")),
    ).toBe(false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("FAIRDIFF_NATIVE=0 skips the build", () => {
  const result = child.spawnSync(
    process.execPath,
    [path.join(ROOT, "scripts", "build-native.js")],
    {
      env: { ...process.env, FAIRDIFF_NATIVE: "0" },
      encoding: "utf8",
    },
  );
  expect(result.status).toBe(0);
  expect(result.stdout).toContain("FAIRDIFF_NATIVE=0, native kernels not built");
});
