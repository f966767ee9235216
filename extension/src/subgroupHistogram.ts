/**
 * SubgroupHistogram: per group, the generated share (with its 95 % interval as whiskers), the
 * target and the training data's share, one panel per attribute or intersection, captioned with
 * the sample size and what the shares are (which evaluation, its bias vs which target); redrawn
 * in place with Plotly.react when the kernel sends new proportions.
 */
import { DOMWidgetModel } from "@jupyter-widgets/base";
import Plotly from "plotly.js-dist-min";
import { PlotView } from "./plotView";
import { SERIES_COLORS, themedLayout } from "./plotTheme";
import { plotlyText, textElement } from "./safeText";
import { MODULE_NAME, MODULE_VERSION } from "./version";
import type { HistogramPanel } from "../../kernel/widgets/histogramPanel";

export class SubgroupHistogramModel extends DOMWidgetModel {
  override defaults() {
    return {
      ...super.defaults(),
      _model_name: "SubgroupHistogramModel",
      _model_module: MODULE_NAME,
      _model_module_version: MODULE_VERSION,
      _view_name: "SubgroupHistogramView",
      _view_module: MODULE_NAME,
      _view_module_version: MODULE_VERSION,
      panels: [] as HistogramPanel[],
      selected: "",
      title: "Subgroup shares",
    };
  }
}

export class SubgroupHistogramView extends PlotView {
  private picker!: HTMLSelectElement;
  private caption!: HTMLElement;
  private draws = 0;

  override render(): void {
    this.el.classList.add("fd-widget", "fd-histogram");
    const header = document.createElement("div");
    header.className = "fd-header";
    const title = textElement("span", this.model.get("title") as string, "fd-title");
    const label = textElement("label", "view ", "fd-picker");
    this.picker = document.createElement("select");
    this.picker.setAttribute("data-lm-suppress-shortcuts", "true");
    this.picker.setAttribute("aria-label", "attribute or intersection to show");
    label.appendChild(this.picker);
    this.picker.addEventListener("change", () => {
      this.model.set("selected", this.picker.value);
      this.model.save_changes();
    });
    this.caption = textElement("span", "", "fd-caption");
    header.append(title, label, this.caption);
    this.el.appendChild(header);
    this.mountPlot(this.el);
    this.listenTo(
      this.model,
      "change:panels change:selected",
      () => void this.serial(() => this.draw()),
    );
  }

  private panels(): HistogramPanel[] {
    return this.model.get("panels") as HistogramPanel[];
  }

  private syncPicker(panels: HistogramPanel[], selected: string): void {
    const keys = panels.map((p) => p.key);
    const shown = [...this.picker.options].map((o) => o.value);
    if (keys.join("\u0000") !== shown.join("\u0000")) {
      this.picker.replaceChildren(
        ...keys.map((key) => {
          const option = textElement("option", key);
          option.value = key;
          return option;
        }),
      );
    }
    this.picker.value = selected;
  }

  protected override async draw(): Promise<void> {
    const panels = this.panels();
    const selectedKey = this.model.get("selected") as string;
    const panel = panels.find((p) => p.key === selectedKey) ?? panels[0];
    this.syncPicker(panels, panel?.key ?? "");
    if (!this.ready) return;
    const data: Record<string, unknown>[] = [];
    let intervals = false;
    if (panel) {
      const x = panel.groups.map(plotlyText);
      if (panel.generated) {
        const p = panel.generated;
        const { lower, upper } = panel;
        intervals = lower !== undefined && upper !== undefined;
        data.push({
          type: "bar",
          name: intervals ? "generated (95 % interval)" : "generated",
          x,
          y: p,
          marker: { color: SERIES_COLORS[0] },
          ...(lower && upper
            ? {
                error_y: {
                  type: "data",
                  symmetric: false,
                  array: upper.map((u, i) => Math.max(0, u - p[i])),
                  arrayminus: lower.map((l, i) => Math.max(0, p[i] - l)),
                  visible: true,
                },
                customdata: lower.map((l, i) => [l, upper[i]]),
                hovertemplate:
                  "%{y:.1%} [%{customdata[0]:.1%}, %{customdata[1]:.1%}]<extra>generated</extra>",
              }
            : {}),
        });
      }
      if (panel.target) {
        data.push({
          type: "bar",
          name: "target",
          x,
          y: panel.target,
          marker: { color: SERIES_COLORS[1] },
        });
      }
      if (panel.training) {
        data.push({
          type: "bar",
          name: "training data",
          x,
          y: panel.training,
          marker: { color: SERIES_COLORS[2] },
        });
      }
      this.caption.textContent = [panel.n !== undefined ? `n = ${panel.n}` : "", panel.note ?? ""]
        .filter((part) => part !== "")
        .join(" · ");
    }
    const layout = themedLayout({
      barmode: "group",
      height: 260,
      yaxis: { ...(themedLayout().yaxis as object), title: { text: "share" }, rangemode: "tozero" },
      // A fixed uirevision keeps zoom and legend toggles across updates.
      uirevision: panel?.key ?? "none",
    });
    await Plotly.react(this.plot, data, layout, { displayModeBar: false, responsive: true });
    // For tests and styling: whether the generated bars carry their intervals.
    this.el.dataset.intervals = String(intervals);
    this.draws += 1;
    this.el.dataset.draws = String(this.draws);
  }
}
