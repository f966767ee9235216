/**
 * The saved HTML report opened in a real browser (Debian's headless Chromium): the DOM it builds
 * has the tables and SVG charts, and the hostile names in the fixture stayed text — no <img>
 * element was created from them.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { testWhen } from "../helpers/requirements";
import { fixtureReport } from "./reportFixture";

const CHROMIUM = process.env.FAIRDIFF_CHROMIUM ?? "/usr/bin/chromium";

function dumpDom(file: string): string {
  return execFileSync(
    CHROMIUM,
    ["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", `file://${file}`],
    { encoding: "utf8", timeout: 60000, stdio: ["ignore", "pipe", "pipe"] },
  );
}

function count(dom: string, pattern: RegExp): number {
  return dom.match(pattern)?.length ?? 0;
}

testWhen(fs.existsSync(CHROMIUM), "chromium (apt install chromium)")(
  "Chromium renders the report's tables and SVG charts, and no injected element",
  () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-report-browser-"));
    try {
      const file = path.join(dir, "report.html");
      const report = fixtureReport();
      fs.writeFileSync(file, report.toHTML());
      const dom = dumpDom(file);
      const html = report.toHTML();
      expect(count(dom, /<table\b/g)).toBe(count(html, /<table\b/g));
      expect(count(dom, /<table\b/g)).toBeGreaterThanOrEqual(10);
      // 2 prompts × 3 attribute charts + 2 FID and 2 KID charts, each with its bars.
      expect(count(dom, /<svg\b/g)).toBe(10);
      expect(count(dom, /<rect class="fd-bar"/g)).toBe(count(html, /<rect class="fd-bar"/g));
      expect(count(dom, /<line class="fd-target"/g)).toBe(2 * (2 + 3 + 6));
      expect(dom).not.toMatch(/<img/i);
      expect(dom).toContain("&lt;img src=x onerror=alert(1)&gt;");
      expect(dom).toContain("Run manifest");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
  90000,
);
