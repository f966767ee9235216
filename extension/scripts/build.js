#!/usr/bin/env node
/**
 * Builds the JupyterLab side of fairdiff from extension/lib (compiled by `tsc -p
 * extension/tsconfig.json` first; entry lib/extension/src/index.js):
 *   - extension/labextension: the prebuilt labextension (@jupyterlab/builder's
 *     build-labextension), which `fairdiff lab install` copies into a Jupyter data directory;
 *   - extension/app/build: FairDiff Lab, a JupyterLab 4 app bundled from npm packages with the
 *     widget manager and this extension built in, served by extension/app/fairdiff_lab.py.
 * Each output is skipped when a hash of its inputs (sources, styles, installed package
 * versions) matches the last build. Usage: node extension/scripts/build.js [--force] [--only lab|app]
 */
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");
const { execFileSync } = require("node:child_process");

const EXTENSION = path.resolve(__dirname, "..");
const ROOT = path.resolve(EXTENSION, "..");
const NODE_MODULES = path.join(ROOT, "node_modules");
const LABEXTENSION = path.join(EXTENSION, "labextension");
const APP = path.join(EXTENSION, "app");
const APP_BUILD = path.join(APP, "build");
const STAMP = ".fairdiff-build-hash";

const args = process.argv.slice(2);
const force = args.includes("--force");
const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;

function filesUnder(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "build" ? [] : filesUnder(full);
    return [full];
  });
}

/** Installed versions of every package a bundle may take code from. */
function installedVersions() {
  const scopes = ["@jupyterlab", "@jupyter-widgets", "@lumino", "@jupyter", "@codemirror"];
  const names = ["plotly.js-dist-min", "webpack", "react", "react-dom"];
  for (const scope of scopes) {
    const dir = path.join(NODE_MODULES, scope);
    if (fs.existsSync(dir)) for (const n of fs.readdirSync(dir)) names.push(`${scope}/${n}`);
  }
  const versions = {};
  for (const name of names) {
    const file = path.join(NODE_MODULES, name, "package.json");
    if (fs.existsSync(file)) versions[name] = JSON.parse(fs.readFileSync(file, "utf8")).version;
  }
  return versions;
}

function hashInputs(files, extra) {
  const hash = crypto.createHash("sha256");
  for (const file of [...files].sort()) {
    hash.update(path.relative(ROOT, file));
    hash.update(fs.readFileSync(file));
  }
  hash.update(JSON.stringify(extra));
  return hash.digest("hex");
}

function upToDate(outDir, hash) {
  const stamp = path.join(outDir, STAMP);
  return !force && fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === hash;
}

/**
 * build-labextension wants a "core" package.json naming the packages JupyterLab shares at run
 * time (its Python package ships one). Without that package, we write one from what is
 * installed: every @jupyterlab and @lumino package, shared as a singleton, not bundled.
 */
function writeCorePackage(versions) {
  const dir = path.join(EXTENSION, ".build-core");
  fs.mkdirSync(dir, { recursive: true });
  const shared = Object.keys(versions).filter(
    (n) => n.startsWith("@jupyterlab/") || n.startsWith("@lumino/") || n.startsWith("@codemirror/"),
  );
  const resolutions = Object.fromEntries(shared.map((n) => [n, `~${versions[n]}`]));
  const core = {
    name: "fairdiff-jupyterlab-core",
    version: "0.0.0",
    private: true,
    dependencies: {},
    resolutions,
    jupyterlab: { singletonPackages: shared },
  };
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(core, null, 2) + "\n");
  return dir;
}

function buildLabextension(inputs, versions) {
  const hash = hashInputs(inputs, { versions, kind: "labextension" });
  if (upToDate(LABEXTENSION, hash)) {
    console.log("labextension: up to date");
    return;
  }
  const started = Date.now();
  const core = writeCorePackage(versions);
  execFileSync(
    process.execPath,
    [
      path.join(NODE_MODULES, "@jupyterlab", "builder", "lib", "build-labextension.js"),
      "--core-path",
      core,
      EXTENSION,
    ],
    { stdio: "inherit", cwd: EXTENSION },
  );
  fs.writeFileSync(path.join(LABEXTENSION, STAMP), hash);
  console.log(`labextension: built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function buildApp(inputs, versions) {
  const appInputs = [...inputs, ...filesUnder(APP)];
  const hash = hashInputs(appInputs, { versions, kind: "app" });
  if (upToDate(APP_BUILD, hash)) {
    console.log("FairDiff Lab app: up to date");
    return;
  }
  const started = Date.now();
  const webpack = require(path.join(NODE_MODULES, "webpack"));
  const configs = require("./appWebpackConfig")({ app: APP, output: APP_BUILD });
  await new Promise((resolve, reject) => {
    webpack(configs, (error, stats) => {
      if (error) return reject(error);
      if (stats.hasErrors()) {
        return reject(new Error(stats.toString({ all: false, errors: true, colors: false })));
      }
      resolve();
    });
  });
  fs.writeFileSync(path.join(APP_BUILD, STAMP), hash);
  console.log(`FairDiff Lab app: built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function main() {
  const lib = path.join(EXTENSION, "lib");
  // lib mirrors the repository (tsconfig rootDir ".."): the extension under lib/extension/src,
  // the report chart modules it shares with the library under lib/src.
  const entry = path.join(lib, "extension", "src", "index.js");
  if (!fs.existsSync(entry)) {
    throw new Error(`${entry} is missing: run tsc -p extension/tsconfig.json first`);
  }
  const inputs = [
    ...filesUnder(lib),
    ...filesUnder(path.join(ROOT, "style")),
    path.join(EXTENSION, "package.json"),
    path.join(EXTENSION, "webpack.labext.js"),
    __filename,
  ];
  const versions = installedVersions();
  if (only !== "app") buildLabextension(inputs, versions);
  if (only !== "lab")
    await buildApp([...inputs, path.join(__dirname, "appWebpackConfig.js")], versions);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
