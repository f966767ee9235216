/** The TypeScript build tslab compiles with (its own fork), loaded from tslab's location. */
import path from "node:path";

export type TS = typeof import("@tslab/typescript-for-tslab");

const tslabDir = path.dirname(require.resolve("tslab/package.json"));

export const ts: TS = require(
  require.resolve("@tslab/typescript-for-tslab", { paths: [tslabDir] }),
);

/** A cell's syntax tree alone (no program, no type check): for questions about its shape. */
export function parseCell(code: string): import("@tslab/typescript-for-tslab").SourceFile {
  return ts.createSourceFile("cell.ts", code, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
}
