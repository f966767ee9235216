/**
 * Status bar item "fairdiff: wasm · quick": the backend and mode every kernel this lab starts
 * inherits (FAIRDIFF_BACKEND and FAIRDIFF_QUICK, set by `fairdiff start --backend … --quick`),
 * which FairDiff Lab's server puts in the page config (fairdiff_lab.py). A notebook's
 * `useBackend()` resolves "auto" itself; the training dashboard shows what its kernel chose.
 */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from "@jupyterlab/application";
import { PageConfig } from "@jupyterlab/coreutils";
import { IStatusBar } from "@jupyterlab/statusbar";
import { Widget } from "@lumino/widgets";

/** The status text for a page config's backend and quick flag. */
export function modeStatusText(backend: string, quick: boolean): string {
  return `fairdiff: ${backend || "auto"} · ${quick ? "quick" : "full"}`;
}

export const modeStatusPlugin: JupyterFrontEndPlugin<void> = {
  id: "fairdiff-lab:mode-status",
  description: "Status bar item showing the backend and quick/full mode of the lab's kernels",
  requires: [IStatusBar],
  autoStart: true,
  activate: (_app: JupyterFrontEnd, statusBar: IStatusBar) => {
    const backend = PageConfig.getOption("fairdiffBackend");
    const quick = PageConfig.getOption("fairdiffQuick") === "true";
    const item = new Widget();
    // The status bar's own text style (size, 24 px line), like its other items.
    item.addClass("jp-StatusBar-TextItem");
    item.addClass("fd-mode-status");
    item.node.textContent = modeStatusText(backend, quick);
    item.node.title =
      `Every kernel this lab starts gets FAIRDIFF_BACKEND=${backend || "auto"}` +
      (quick
        ? " and FAIRDIFF_QUICK=1 (notebooks run small samples and few steps)."
        : " and runs the notebooks' full settings.") +
      " Set with npm start -- --backend <name> --quick.";
    statusBar.registerStatusItem("fairdiff-lab:mode-status", { item, align: "left", rank: 100 });
  },
};
