/**
 * A page on a made-up origin whose files come straight from the repository: stylesheets as they
 * are, TypeScript modules transpiled on request (no type check, no bundle; an import without an
 * extension finds the .ts file), so a test loads the extension's browser code as written, with
 * no build and no server.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { ModuleKind, ScriptTarget, transpileModule } from "typescript";

export const SOURCE_ORIGIN = "http://fairdiff.test";
const ROOT = path.resolve(__dirname, "..", "..", "..");

/** Serves `html` at SOURCE_ORIGIN/ and the repository's files under it. */
export async function serveSources(page: Page, html: string): Promise<void> {
  await page.route(`${SOURCE_ORIGIN}/**`, async (route) => {
    const pathname = decodeURIComponent(new URL(route.request().url()).pathname);
    if (pathname === "/") {
      return route.fulfill({ contentType: "text/html; charset=utf-8", body: html });
    }
    const file = path.join(ROOT, pathname);
    if (!file.startsWith(ROOT + path.sep)) return route.fulfill({ status: 404, body: "" });
    if (file.endsWith(".css") && existsSync(file)) {
      return route.fulfill({ contentType: "text/css", body: readFileSync(file, "utf8") });
    }
    const source = `${file}.ts`;
    if (existsSync(source)) {
      const { outputText } = transpileModule(readFileSync(source, "utf8"), {
        fileName: source,
        compilerOptions: { module: ModuleKind.ES2020, target: ScriptTarget.ES2020 },
      });
      return route.fulfill({ contentType: "text/javascript", body: outputText });
    }
    return route.fulfill({ status: 404, body: "" });
  });
}
