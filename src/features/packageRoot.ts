/**
 * The fairdiff package's root folder (where package.json and models/ live), found by walking up
 * from this file: the same code runs from src/ (ts-jest, notebooks) and from dist/src/ (the
 * built package), which sit at different depths.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export function packageRoot(start: string = __dirname): string {
  let dir = path.resolve(start);
  for (;;) {
    const manifest = path.join(dir, "package.json");
    if (fs.existsSync(manifest)) {
      try {
        const parsed = JSON.parse(fs.readFileSync(manifest, "utf8")) as { name?: string };
        if (parsed.name === "fairdiff") return dir;
      } catch {
        // An unreadable package.json above us is not ours; keep walking.
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error(`no fairdiff package.json above ${start}`);
    }
    dir = parent;
  }
}

/** A file shipped in the package's models/ folder. */
export function shippedModelPath(file: string): string {
  return path.join(packageRoot(), "models", file);
}
