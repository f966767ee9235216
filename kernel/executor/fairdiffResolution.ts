/**
 * Lets cells `import ... from "fairdiff"` from a notebook in any folder: the type checker sees
 * `<anywhere>/node_modules/fairdiff/...` as this package (when no real one is there), and
 * Node's resolver falls back to this package for "fairdiff" and "fairdiff/<subpath>".
 */
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

/** `<x>/node_modules/fairdiff/<rest>` → `<root>/<rest>` when the real path does not exist. */
function patchTypeScriptSys(root: string): void {
  const sys = ts.sys;
  const marker = `/node_modules/${NAME}`;
  const forward = (p: string): string | undefined => {
    const at = p.lastIndexOf(marker);
    if (at < 0) return undefined;
    const rest = p.slice(at + marker.length);
    if (rest !== "" && !rest.startsWith("/")) return undefined;
    return path.join(root, rest).replace(/\\/g, "/");
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

function patchNodeResolver(root: string): void {
  const mod = Module as unknown as {
    _resolveFilename: (request: string, ...rest: unknown[]) => string;
  };
  const original = mod._resolveFilename;
  mod._resolveFilename = function (request: string, ...rest: unknown[]): string {
    try {
      return original.call(this, request, ...rest);
    } catch (error) {
      if (request === NAME) return original.call(this, root, ...rest);
      if (request.startsWith(`${NAME}/`)) {
        return original.call(this, path.join(root, request.slice(NAME.length + 1)), ...rest);
      }
      throw error;
    }
  };
}
