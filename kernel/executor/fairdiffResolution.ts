/**
 * Lets cells `import ... from "fairdiff"` (and its subpaths, "fairdiff/fairness") from a
 * notebook in any folder: the type checker sees `<anywhere>/node_modules/fairdiff/...` as this
 * package (when no real one is there), and Node's resolver falls back to this package for
 * "fairdiff" and "fairdiff/<subpath>", through package.json "exports" as an install would.
 */
import { readFileSync } from "node:fs";
import Module from "node:module";
import path from "node:path";
import { packageRoot } from "./packageRoot";
import { ts } from "./typescript";

const NAME = "fairdiff";
let installed = false;

export function installFairdiffResolution(): void {
  if (installed) return;
  installed = true;
  const root = packageRoot();
  patchTypeScriptSys(root);
  patchNodeResolver(root);
}

/**
 * The declaration file of each subpath in package.json "exports" ("/fairness.d.ts" →
 * "dist/src/fairness/index.d.ts"): the type checker resolves "fairdiff/fairness" the Node10
 * way, which ignores "exports" but tries `<package>/fairness.d.ts` first.
 */
function subpathDeclarations(root: string): Map<string, string> {
  const manifest = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as {
    exports?: Record<string, string | { types?: string }>;
  };
  const declarations = new Map<string, string>();
  for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
    const types = typeof target === "object" ? target.types : undefined;
    if (!subpath.startsWith("./") || types === undefined) continue;
    declarations.set(`/${subpath.slice(2)}.d.ts`, types);
  }
  return declarations;
}

/**
 * `<x>/node_modules/fairdiff/<rest>` → `<root>/<rest>`, or an exported subpath's declaration
 * file, when the real path does not exist.
 */
function patchTypeScriptSys(root: string): void {
  const sys = ts.sys;
  const marker = `/node_modules/${NAME}`;
  const declarations = subpathDeclarations(root);
  const forward = (p: string): string | undefined => {
    const at = p.lastIndexOf(marker);
    if (at < 0) return undefined;
    const rest = p.slice(at + marker.length);
    if (rest !== "" && !rest.startsWith("/")) return undefined;
    return path.join(root, declarations.get(rest) ?? rest).replace(/\\/g, "/");
  };
  const wrap = <A extends unknown[], R>(
    real: (p: string, ...a: A) => R,
    exists: (p: string) => boolean,
  ) =>
    function (p: string, ...a: A): R {
      const target = exists(p) ? undefined : forward(p);
      return real.call(sys, target ?? p, ...a);
    };
  const fileExists = sys.fileExists.bind(sys);
  const directoryExists = sys.directoryExists.bind(sys);
  const anyExists = (p: string) => fileExists(p) || directoryExists(p);
  sys.fileExists = wrap(sys.fileExists, anyExists);
  sys.readFile = wrap(sys.readFile, anyExists);
  sys.directoryExists = wrap(sys.directoryExists, anyExists);
  sys.getDirectories = wrap(sys.getDirectories, anyExists);
  if (sys.realpath) sys.realpath = wrap(sys.realpath, anyExists);
}

/**
 * When "fairdiff" or "fairdiff/<subpath>" is not installed where a cell runs, resolve it as this
 * package would resolve its own name: through its "exports", so a notebook can import exactly
 * what an installed fairdiff offers.
 */
function patchNodeResolver(root: string): void {
  const mod = Module as unknown as {
    _resolveFilename: (request: string, ...rest: unknown[]) => string;
  };
  const original = mod._resolveFilename;
  const fromPackage = Module.createRequire(path.join(root, "package.json"));
  // fromPackage.resolve comes back through here: its own failure (a subpath not exported) must
  // surface, not recurse.
  let resolvingFromPackage = false;
  mod._resolveFilename = function (request: string, ...rest: unknown[]): string {
    try {
      return original.call(this, request, ...rest);
    } catch (error) {
      const ours = request === NAME || request.startsWith(`${NAME}/`);
      if (!ours || resolvingFromPackage) throw error;
      resolvingFromPackage = true;
      try {
        return fromPackage.resolve(request);
      } finally {
        resolvingFromPackage = false;
      }
    }
  };
}
