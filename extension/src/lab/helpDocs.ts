/**
 * Help menu entries for the project's own documentation — its README, the methods' notes and the
 * notebooks' guide — opened in JupyterLab's Markdown viewer from the read-only docs drive
 * (projectDocsDrive.ts). Local files only: a class offline reads the same pages.
 */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from "@jupyterlab/application";
import { IMainMenu } from "@jupyterlab/mainmenu";
import { docsPath, ProjectDocsDrive } from "./projectDocsDrive";

export const OPEN_DOC_COMMAND = "fairdiff:open-doc";

/** The Markdown viewer's widget factory (@jupyterlab/markdownviewer-extension). */
const MARKDOWN_PREVIEW = "Markdown Preview";

/** Help menu entries: label → project-relative file. */
export const PROJECT_DOCS: readonly { label: string; file: string }[] = [
  { label: "fairdiff README", file: "README.md" },
  { label: "fairdiff methods (docs/methods.md)", file: "docs/methods.md" },
  { label: "Notebooks guide (notebooks/README.md)", file: "notebooks/README.md" },
];

export const helpDocsPlugin: JupyterFrontEndPlugin<void> = {
  id: "fairdiff-lab:help-docs",
  description: "Help menu entries opening fairdiff's README, methods and notebooks guide",
  requires: [IMainMenu],
  autoStart: true,
  activate: (app: JupyterFrontEnd, mainMenu: IMainMenu) => {
    app.serviceManager.contents.addDrive(new ProjectDocsDrive(app.serviceManager.serverSettings));
    app.commands.addCommand(OPEN_DOC_COMMAND, {
      label: (args) => String(args.label ?? args.file ?? "fairdiff documentation"),
      caption: (args) => `Open ${String(args.file)} of the fairdiff project`,
      execute: (args) => {
        const file = args.file;
        if (typeof file !== "string" || file === "") {
          throw new Error(
            `${OPEN_DOC_COMMAND}: "file" must be a project path, got ${JSON.stringify(file)}`,
          );
        }
        return app.commands.execute("docmanager:open", {
          path: docsPath(file),
          factory: MARKDOWN_PREVIEW,
        });
      },
    });
    // Rank 0: after About and Licenses, before the keyboard shortcuts.
    mainMenu.helpMenu.addGroup(
      PROJECT_DOCS.map(({ label, file }) => ({ command: OPEN_DOC_COMMAND, args: { label, file } })),
      0,
    );
  },
};
