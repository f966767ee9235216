#!/usr/bin/env node
/**
 * Builds fairdiff's optional native kernels (native/, C++ through node-gyp, for this machine's
 * CPU) during `npm install`. Never fails the install: where there is no compiler or no Node
 * headers, it says so and fairdiff runs on tfjs-wasm's kernels. FAIRDIFF_NATIVE=0 skips it.
 */
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const { cpuIdentity } = require("../native/cpuIdentity");

const nativeDir = path.join(__dirname, "..", "native");

function nodeGypScript() {
  const candidates = [
    process.env.npm_config_node_gyp,
    process.env.npm_execpath &&
      path.join(
        path.dirname(process.env.npm_execpath),
        "..",
        "node_modules",
        "node-gyp",
        "bin",
        "node-gyp.js",
      ),
    path.join(
      path.dirname(process.execPath),
      "..",
      "lib",
      "node_modules",
      "npm",
      "node_modules",
      "node-gyp",
      "bin",
      "node-gyp.js",
    ),
  ];
  for (const candidate of candidates) if (candidate && fs.existsSync(candidate)) return candidate;
  try {
    return require.resolve("node-gyp/bin/node-gyp.js");
  } catch {
    return undefined;
  }
}

/** Node's own headers where they ship beside the binary (no download needed). */
function localNodeDir() {
  if (process.env.npm_config_nodedir) return undefined;
  const prefix = path.resolve(path.dirname(process.execPath), "..");
  return fs.existsSync(path.join(prefix, "include", "node", "node_api.h")) ? prefix : undefined;
}

function main() {
  if (process.env.FAIRDIFF_NATIVE === "0") {
    console.log("fairdiff: FAIRDIFF_NATIVE=0, native kernels not built");
    return;
  }
  const gyp = nodeGypScript();
  if (!gyp) {
    console.log(
      "fairdiff: node-gyp not found, native kernels not built; tfjs-wasm's kernels will be used",
    );
    return;
  }
  const nodedir = localNodeDir();
  const args = [gyp, "rebuild", ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
  const result = spawnSync(process.execPath, args, { cwd: nativeDir, encoding: "utf8" });
  if (result.status === 0) {
    // Built for this CPU (-march=native): the loader refuses it on another one.
    fs.writeFileSync(
      path.join(nativeDir, "build", "Release", "built-for.json"),
      JSON.stringify(cpuIdentity()),
    );
    console.log("fairdiff: native kernels built (native/build/Release/fairdiff_native.node)");
    return;
  }
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`
    .trim()
    .split("\n")
    .slice(-6)
    .join("\n");
  console.log(
    `fairdiff: native kernels not built (node-gyp exited ${result.status}); tfjs-wasm's kernels will be used.\n${output}`,
  );
}

main();
