/**
 * Worker threads can only run JavaScript. When fairdiff runs from its TypeScript sources (jest),
 * a module's compiled twin lives under dist/ at the same relative path.
 */
import * as fs from "node:fs";
import * as path from "node:path";

const PROJECT_ROOT = path.resolve(__dirname, "../..");

/** Absolute path of the compiled JavaScript for `file` (relative to `dir`, without extension). */
export function compiledModule(dir: string, file: string): string {
  const beside = path.join(dir, `${file}.js`);
  if (fs.existsSync(beside)) return beside;
  const relative = path.relative(PROJECT_ROOT, path.join(dir, file));
  const compiled = path.join(PROJECT_ROOT, "dist", `${relative}.js`);
  if (fs.existsSync(compiled)) return compiled;
  throw new Error(
    `compiled module not found (looked at ${beside} and ${compiled}); run npm run build`,
  );
}
