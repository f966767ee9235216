/**
 * The package as a notebook or another project sees it once installed: a short root (≤ 60
 * names), the rest under subpaths through package.json "exports", every name the notebooks and
 * the README's tour import found where they import it (types checked the way an installed
 * package's are, through "exports"), and the notebook kernel resolving the same subpaths.
 * Runs against the build (dist/), from a folder outside the repository.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import ts from "typescript";
import { testWhen } from "../helpers/requirements";

const ROOT = path.resolve(__dirname, "..", "..");
const built = fs.existsSync(path.join(ROOT, "dist", "src", "index.js"));
const whenBuilt = testWhen(built, "a build (npm run build)");
const MAX_ROOT_NAMES = 60;

const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
  exports: Record<string, string | { types: string; default: string }>;
};
const SUBPATHS = Object.keys(manifest.exports)
  .filter((k) => k !== "." && k !== "./package.json")
  .map((k) => `fairdiff/${k.slice(2)}`);

interface ImportStatement {
  from: string;
  names: { name: string; typeOnly: boolean }[];
  where: string;
}

/** `import { a, type B } from "fairdiff…"` statements in some TypeScript text. */
function fairdiffImports(text: string, where: string): ImportStatement[] {
  const found: ImportStatement[] = [];
  for (const m of text.matchAll(
    /import\s+(type\s+)?\{([^}]*)\}\s*from\s*"(fairdiff(?:\/[\w-]+)?)"/g,
  )) {
    const names = m[2]
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "")
      .map((s) => ({
        name: s.replace(/^type\s+/, "").split(/\s+as\s+/)[0],
        typeOnly: m[1] !== undefined || s.startsWith("type "),
      }));
    found.push({ from: m[3], names, where });
  }
  return found;
}

function notebookAndReadmeImports(): ImportStatement[] {
  const out: ImportStatement[] = [];
  const folder = path.join(ROOT, "notebooks");
  for (const file of fs.readdirSync(folder).filter((f) => f.endsWith(".ipynb"))) {
    const nb = JSON.parse(fs.readFileSync(path.join(folder, file), "utf8")) as {
      cells: { cell_type: string; source: string | string[] }[];
    };
    for (const cell of nb.cells.filter((c) => c.cell_type === "code")) {
      const source = Array.isArray(cell.source) ? cell.source.join("") : cell.source;
      out.push(...fairdiffImports(source, file));
    }
  }
  out.push(...fairdiffImports(fs.readFileSync(path.join(ROOT, "README.md"), "utf8"), "README.md"));
  return out;
}

let consumer: string;

beforeAll(() => {
  // A project elsewhere with fairdiff installed (as a link, like `npm link`).
  consumer = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-consumer-"));
  fs.mkdirSync(path.join(consumer, "node_modules"));
  fs.symlinkSync(ROOT, path.join(consumer, "node_modules", "fairdiff"), "dir");
});

afterAll(() => fs.rmSync(consumer, { recursive: true, force: true }));

/** Runs a CommonJS script in the consumer folder and returns what it printed as JSON. */
function inConsumer<T>(script: string): T {
  const run = spawnSync(process.execPath, ["-e", script], { cwd: consumer, encoding: "utf8" });
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout) as T;
}

describe("the installed package", () => {
  whenBuilt(`require("fairdiff") has at most ${MAX_ROOT_NAMES} names`, () => {
    const names = inConsumer<string[]>(
      `console.log(JSON.stringify(Object.keys(require("fairdiff"))))`,
    );
    expect(names.length).toBeGreaterThan(20);
    expect(names.length).toBeLessThanOrEqual(MAX_ROOT_NAMES);
    // Internals stay off the root.
    for (const internal of ["crc32", "rbfKernel", "Conv2d", "sha256Weights", "shippedModelPath"]) {
      expect(names).not.toContain(internal);
    }
  });

  whenBuilt("every subpath in exports resolves to a module with names; other paths do not", () => {
    const counts = inConsumer<Record<string, number>>(
      `const out = {}; for (const s of ${JSON.stringify(SUBPATHS)}) out[s] = Object.keys(require(s)).length; console.log(JSON.stringify(out));`,
    );
    expect(Object.keys(counts)).toHaveLength(SUBPATHS.length);
    for (const subpath of SUBPATHS) expect(counts[subpath]).toBeGreaterThan(0);
    const deep = inConsumer<string>(
      `try { require("fairdiff/dist/src/io/zipArchive"); console.log('"resolved"'); } catch (e) { console.log(JSON.stringify(e.code)); }`,
    );
    expect(deep).toBe("ERR_PACKAGE_PATH_NOT_EXPORTED");
  });

  whenBuilt("every value the notebooks and the README import is there at runtime", () => {
    const imports = notebookAndReadmeImports();
    expect(imports.filter((i) => i.where.endsWith(".ipynb")).length).toBeGreaterThanOrEqual(6);
    const wanted = imports.flatMap((i) =>
      i.names
        .filter((n) => !n.typeOnly)
        .map((n) => ({ from: i.from, name: n.name, where: i.where })),
    );
    const missing = inConsumer<string[]>(
      `const missing = [];
       for (const { from, name, where } of ${JSON.stringify(wanted)}) {
         if (!(name in require(from))) missing.push(where + ": " + name + " from " + from);
       }
       console.log(JSON.stringify(missing));`,
    );
    expect(missing).toEqual([]);
  });

  whenBuilt(
    "every import type-checks through exports, as in a project with moduleResolution node16",
    () => {
      // One module per statement: the notebooks import the same names in different cells.
      const files = notebookAndReadmeImports().map((i, k) => {
        const file = path.join(consumer, `imports${k}.ts`);
        const names = i.names.map((n) => (n.typeOnly ? `type ${n.name}` : n.name));
        fs.writeFileSync(file, `import { ${names.join(", ")} } from "${i.from}";\nexport {};\n`);
        return file;
      });
      const program = ts.createProgram(files, {
        module: ts.ModuleKind.Node16,
        moduleResolution: ts.ModuleResolutionKind.Node16,
        target: ts.ScriptTarget.ES2022,
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ["node"],
        typeRoots: [path.join(ROOT, "node_modules", "@types")],
      });
      const errors = ts
        .getPreEmitDiagnostics(program)
        .map(
          (d) =>
            `${path.basename(d.file?.fileName ?? "")}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`,
        );
      expect(errors).toEqual([]);
    },
    60_000,
  );
});

describe("the notebook kernel's own resolution of fairdiff", () => {
  whenBuilt("resolves the root and subpaths at runtime and for the type checker", () => {
    // A notebook folder with no fairdiff installed (only the empty node_modules the kernel fakes).
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-notebook-"));
    try {
      fs.mkdirSync(path.join(folder, "node_modules"));
      const executor = path.join(ROOT, "dist", "kernel", "executor");
      const script = `
        const { installFairdiffResolution } = require(${JSON.stringify(path.join(executor, "fairdiffResolution.js"))});
        const { ts } = require(${JSON.stringify(path.join(executor, "typescript.js"))});
        installFairdiffResolution();
        const cell = require("node:module").createRequire(process.cwd() + "/cell.js");
        const options = { moduleResolution: ts.ModuleResolutionKind.Node10, module: ts.ModuleKind.ESNext };
        const types = (m) => ts.resolveModuleName(m, process.cwd() + "/cell.ts", options, ts.sys).resolvedModule?.resolvedFileName ?? null;
        let refused = null;
        try { cell("fairdiff/dist/src/io/zipArchive"); } catch (e) { refused = e.code; }
        console.log(JSON.stringify({
          root: Object.keys(cell("fairdiff")).length,
          fairness: typeof cell("fairdiff/fairness").metricFrame,
          io: typeof cell("fairdiff/io").saveCheckpoint,
          refused,
          types: { root: types("fairdiff"), fairness: types("fairdiff/fairness"), io: types("fairdiff/io"), models: types("fairdiff/models") },
        }));`;
      const run = spawnSync(process.execPath, ["-e", script], { cwd: folder, encoding: "utf8" });
      expect(run.stderr).toBe("");
      const result = JSON.parse(run.stdout) as {
        root: number;
        fairness: string;
        io: string;
        refused: string | null;
        types: Record<string, string | null>;
      };
      expect(result.root).toBeLessThanOrEqual(MAX_ROOT_NAMES);
      expect(result.fairness).toBe("function");
      expect(result.io).toBe("function");
      expect(result.refused).toBe("ERR_PACKAGE_PATH_NOT_EXPORTED");
      const dist = path.join(ROOT, "dist", "src");
      expect(result.types).toEqual({
        root: path.join(dist, "index.d.ts"),
        fairness: path.join(dist, "fairness", "index.d.ts"),
        io: path.join(dist, "io", "index.d.ts"),
        // models/ at the package root holds checkpoints: the subpath must still mean the code.
        models: path.join(dist, "models", "index.d.ts"),
      });
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });
});
