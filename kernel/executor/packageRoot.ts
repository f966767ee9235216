/** The root of this fairdiff package (the folder whose package.json is named "fairdiff"). */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

let cached: string | undefined;

export function packageRoot(): string {
  if (cached) return cached;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "fairdiff"
    ) {
      return (cached = dir);
    }
    if (path.dirname(dir) === dir) throw new Error(`no fairdiff package.json above ${__dirname}`);
  }
}
