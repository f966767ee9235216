/**
 * Drives FairDiff Lab's shell the way a user does: the menu bar, the left side bar's panels, the
 * file browser's double-click. Every wait is on the DOM, with a message saying what was missing.
 */
import type { Locator, Page } from "playwright-core";

const exactly = (text: string) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);

/** The labels of a main-menu's entries (separators left out), opening it with the mouse. */
export async function menuEntries(page: Page, menu: string): Promise<string[]> {
  await page.locator(".lm-MenuBar-itemLabel", { hasText: exactly(menu) }).click();
  const open = page.locator(".lm-Menu:visible").last();
  await open.waitFor({ timeout: 10_000 });
  const labels = await open.locator(".lm-Menu-item:visible .lm-Menu-itemLabel").allTextContents();
  return labels.map((l) => l.trim()).filter((l) => l !== "");
}

/** Clicks an entry of the menu opened by `menuEntries`. */
export async function clickMenuEntry(page: Page, label: string): Promise<void> {
  await page
    .locator(".lm-Menu:visible .lm-Menu-item", { hasText: label })
    .first()
    .click({ timeout: 10_000 });
}

/** Shows the left side bar panel whose tab has `id` (e.g. "jp-running-sessions"). */
export async function showSidePanel(page: Page, id: string): Promise<Locator> {
  const panel = page.locator(`#${id}`);
  if (!(await panel.isVisible())) {
    await page.locator(`.jp-SideBar .lm-TabBar-tab[data-id="${id}"]`).click({ timeout: 10_000 });
  }
  await panel.waitFor({ state: "visible", timeout: 10_000 });
  return panel;
}

/** Double-clicks `name` in the file browser, as a user opens a file. */
export async function doubleClickInFileBrowser(page: Page, name: string): Promise<void> {
  const browser = await showSidePanel(page, "filebrowser");
  const item = browser.locator(".jp-DirListing-item", {
    has: page.locator(".jp-DirListing-itemText", { hasText: exactly(name) }),
  });
  await item.dblclick({ timeout: 15_000 });
}

/** The Markdown viewer showing `title` in the main area (its rendered body). */
export function markdownViewer(page: Page, title: string): Locator {
  return page.locator(".jp-MarkdownViewer:visible .jp-RenderedMarkdown", {
    has: page.locator("h1", { hasText: title }),
  });
}
