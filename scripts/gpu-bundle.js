#!/usr/bin/env node
/**
 * Packs what `npm run bench -- gpu` needs for a GPU machine that has no Node, reaches no
 * registry and takes at most 64 MiB with the working tree (the lent H100 / H200): this Node
 * binary with its headers and npm (whose node-gyp builds the native kernels there, for that CPU,
 * through scripts/build-native.js as `npm install` does), the compiled project (dist/), the
 * node_modules files the benchmark loads, the WebGPU dispatch probe when one is given, and the
 * Vulkan loader's Debian package. Writes .gpu/ (git-ignored); scripts/gpu-figures.sh runs it
 * there. Run after `npm run build`:
 *
 *   node scripts/gpu-bundle.js [path/to/webgpu-dispatch-probe.js]
 */
const { execFileSync, spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const out = path.join(root, ".gpu");
const LIMIT_MIB = 64;

function fail(message) {
  console.error(`gpu-bundle: ${message}`);
  process.exit(1);
}

/** Files under node_modules that loading the benchmark and both backends' packages reads. */
function loadedModuleFiles() {
  const script = `
    require("./dist/bench/gpu.js");
    require("./dist/src/backend").useBackend("wasm").then(() => {
      require("@tensorflow/tfjs-backend-webgpu");
      require("webgpu");
      const files = Object.keys(require.cache).filter((f) => f.includes("/node_modules/"));
      process.stdout.write(JSON.stringify(files));
      process.exit(0);
    });`;
  const result = spawnSync(process.execPath, ["-e", script], { cwd: root, encoding: "utf8" });
  if (result.status !== 0) fail(`could not load the benchmark:\n${result.stderr}`);
  return JSON.parse(result.stdout);
}

/** The package folder (…/node_modules/name or …/node_modules/@scope/name) holding `file`. */
function packageDir(file) {
  const at = file.lastIndexOf("/node_modules/") + "/node_modules/".length;
  const parts = file.slice(at).split("/");
  return file.slice(0, at) + parts.slice(0, parts[0].startsWith("@") ? 2 : 1).join("/");
}

function copy(from, to) {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.cpSync(from, to, { recursive: true, dereference: true });
}

function main() {
  if (!fs.existsSync(path.join(root, "dist", "bench", "gpu.js"))) fail("run `npm run build` first");
  const probe = process.argv[2];
  if (probe && !fs.existsSync(probe)) fail(`no probe at ${probe}`);
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-gpu-"));
  try {
    // node_modules: the loaded files, each package's package.json, and the files read
    // without require: tfjs-wasm's .wasm binaries and Dawn's addon for Linux x64.
    const files = new Set(loadedModuleFiles());
    for (const dir of new Set([...files].map(packageDir))) files.add(`${dir}/package.json`);
    const wasmDist = path.join(root, "node_modules/@tensorflow/tfjs-backend-wasm/dist");
    for (const f of fs.readdirSync(wasmDist)) {
      if (f.endsWith(".wasm")) files.add(path.join(wasmDist, f));
    }
    files.add(path.join(root, "node_modules/webgpu/dist/linux-x64/dawn.node"));
    for (const f of files) copy(f, path.join(stage, path.relative(root, f)));
    copy(path.join(root, "dist"), path.join(stage, "dist"));
    // Node: the binary, its headers and npm (node-gyp), where build-native.js looks for them.
    const prefix = path.resolve(path.dirname(process.execPath), "..");
    const nodeDir = path.join(stage, ".gpu-node");
    copy(process.execPath, path.join(nodeDir, "bin", "node"));
    for (const [from, to] of [
      ["include/node", "include/node"],
      ["lib/node_modules/npm", "lib/node_modules/npm"],
    ]) {
      if (!fs.existsSync(path.join(prefix, from))) fail(`no ${path.join(prefix, from)}`);
      copy(path.join(prefix, from), path.join(nodeDir, to));
    }
    if (probe) copy(probe, path.join(nodeDir, "webgpu-dispatch-probe.js"));

    fs.rmSync(out, { recursive: true, force: true });
    fs.mkdirSync(path.join(out, "debs"), { recursive: true });
    const archive = path.join(out, "fairdiff-gpu.tar.xz");
    execFileSync("tar", ["-cJf", archive, "-C", stage, "."], {
      env: { ...process.env, XZ_OPT: "-6 -T0" },
    });
    // The loader Dawn needs, for a machine without it (the GPU script installs it only then).
    const apt = spawnSync("apt-get", ["download", "libvulkan1"], {
      cwd: path.join(out, "debs"),
      encoding: "utf8",
    });
    if (apt.status !== 0) {
      console.log(`note: no libvulkan1 package bundled (apt-get download: ${apt.stderr.trim()})`);
    }
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
  const tree = execFileSync("git", ["ls-files", "-z"], { cwd: root })
    .toString()
    .split("\0")
    .filter(Boolean)
    .reduce(
      (sum, f) =>
        sum + (fs.existsSync(path.join(root, f)) ? fs.statSync(path.join(root, f)).size : 0),
      0,
    );
  const bundle = fs
    .readdirSync(out, { recursive: true })
    .map((f) => path.join(out, f))
    .filter((f) => fs.statSync(f).isFile())
    .reduce((sum, f) => sum + fs.statSync(f).size, 0);
  const mib = (bytes) => (bytes / 2 ** 20).toFixed(1);
  console.log(
    `wrote .gpu/ (${mib(bundle)} MiB; with the tracked tree ${mib(tree + bundle)} of ${LIMIT_MIB} MiB)`,
  );
  if (tree + bundle > LIMIT_MIB * 2 ** 20) fail("over the limit: the call would be refused");
  console.log('on the GPU machine: command "sh scripts/gpu-figures.sh", carry [".gpu"]');
}

main();
