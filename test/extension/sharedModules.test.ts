/**
 * What the extension takes from the library: its build compiles the report's chart modules from
 * src/ (one chart implementation for the HTML report and the lab's renderer), so everything it
 * reaches there must be browser-safe string code — no Node built-ins, no packages (tfjs would
 * follow), only the few modules named here. The renderer keeps no chart code of its own.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");
const EXTENSION_SRC = path.join(ROOT, "extension", "src");

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(full);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [full] : [];
  });
}

/** Every import or export-from specifier of a TypeScript file, type-only ones included. */
function specifiers(file: string): string[] {
  const source = readFileSync(file, "utf8");
  return [
    ...source.matchAll(/^(?:import|export)\b[^;]*?from\s+"([^"]+)"|^import\s+"([^"]+)"/gm),
  ].map((m) => m[1] ?? m[2]);
}

test("the extension reaches into src/ only for the pure report-chart modules", () => {
  const reached = new Set<string>();
  const queue = tsFiles(EXTENSION_SRC);
  const fromLibrary: string[] = [];
  while (queue.length > 0) {
    const file = queue.pop()!;
    const inLibrary = file.startsWith(path.join(ROOT, "src") + path.sep);
    for (const specifier of specifiers(file)) {
      if (!specifier.startsWith(".")) {
        // Library modules the extension compiles may use nothing but each other.
        if (inLibrary) fromLibrary.push(`${path.relative(ROOT, file)} imports ${specifier}`);
        continue;
      }
      const target = `${path.resolve(path.dirname(file), specifier)}.ts`;
      if (target.startsWith(path.join(ROOT, "src") + path.sep) && !reached.has(target)) {
        reached.add(target);
        queue.push(target);
      }
    }
  }
  expect(fromLibrary).toEqual([]);
  expect([...reached].map((f) => path.relative(ROOT, f)).sort()).toEqual([
    "src/audit/chartAxis.ts",
    "src/audit/chartText.ts",
    "src/audit/kidScale.ts",
    "src/audit/reportCharts.ts",
    "src/audit/reportText.ts",
    "src/fairness/interval.ts",
  ]);
});

test("the lab's report renderer draws no chart of its own", () => {
  const renderer = readFileSync(path.join(EXTENSION_SRC, "auditReport", "renderReport.ts"), "utf8");
  expect(renderer).toMatch(/from "\.\.\/\.\.\/\.\.\/src\/audit\/reportCharts"/);
  expect(renderer).not.toMatch(/createElementNS|<svg|"rect"|"line"/);
});
