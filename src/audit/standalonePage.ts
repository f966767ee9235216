/**
 * The document every self-contained page fairdiff writes shares (the audit report, the study,
 * the comparison of the fixes): inline CSS, a Content-Security-Policy that allows nothing from the
 * network and no scripts, images only as data: URIs — so a page can be mailed or attached as it
 * is and opens the same anywhere.
 */
import { escapeHtml } from "./reportText";

export interface StandalonePage {
  /** Plain text; escaped here. */
  title: string;
  /** Styles for the content (the page adds its margin and white background). */
  css: string;
  /** The class of the one element that holds the content. */
  className: string;
  /** HTML, already escaped where it holds text. */
  body: string;
}

export function standalonePage(page: StandalonePage): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(page.title)}</title>
<style>body { margin: 16px; background: #ffffff; }${page.css}</style>
</head>
<body>
<div class="${page.className}">
${page.body}
</div>
</body>
</html>
`;
}
