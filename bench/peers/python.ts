/**
 * The Python that has the Debian peers (torch, scipy, jupyter): FAIRDIFF_PYTHON if set, else
 * /usr/bin/python3 (a pyenv `python3` earlier on PATH usually lacks Debian's dist-packages).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export function peerPython(): string {
  const fromEnv = process.env.FAIRDIFF_PYTHON;
  if (fromEnv) return fromEnv;
  return fs.existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

/** Whether the peer Python can import every module named. */
export function peerHasModules(modules: string[]): boolean {
  try {
    execFileSync(peerPython(), ["-c", modules.map((m) => `import ${m}`).join("; ")], {
      stdio: "ignore",
    });
    return true;
  } catch {
    return false;
  }
}

/** A peer script of bench/peers, from the TypeScript sources (jest) or from dist/bench/peers. */
export function peerScriptPath(name: string): string {
  const candidates = [
    path.join(__dirname, name),
    path.join(__dirname, "../../../bench/peers", name),
  ];
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found) throw new Error(`${name} not found (looked at ${candidates.join(", ")})`);
  return found;
}

export function runPeerJson<T>(script: string, args: string[]): T {
  const out = execFileSync(peerPython(), [script, ...args], { encoding: "utf8" });
  const last = out.trim().split("\n").pop() ?? "";
  return JSON.parse(last) as T;
}
