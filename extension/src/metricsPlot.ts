/**
 * MetricsPlot: FID, ES-FID, per-group FID and bias against step. The kernel streams new points
 * as a custom "append" message whose (step, value) pairs travel as Float64 buffers; the view adds
 * them with Plotly.extendTraces instead of redrawing. The full series stay in the model state so
 * a view opened later (or after a page reload) starts complete.
 */
import { DOMWidgetModel, type ISerializers } from "@jupyter-widgets/base";
import Plotly from "plotly.js-dist-min";
import { type Binary, toFloat64 } from "./binary";
import { PlotView } from "./plotView";
import { SERIES_COLORS, themedLayout } from "./plotTheme";
import { plotlyText, textElement } from "./safeText";
import { MODULE_NAME, MODULE_VERSION } from "./version";

export interface TraceSpec {
  name: string;
  /** "left": FID-like figures; "right": bias (a share, 0..1). */
  axis: "left" | "right";
}

export interface Series extends TraceSpec {
  x: number[];
  y: number[];
}

/** New points for some traces: trace index → interleaved (step, value) pairs. */
export interface Appended {
  newTraces: TraceSpec[];
  chunks: { trace: number; x: number[]; y: number[] }[];
}

function interleavedToXY(pairs: Float64Array): { x: number[]; y: number[] } {
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    x.push(pairs[i]);
    y.push(pairs[i + 1]);
  }
  return { x, y };
}

export class MetricsPlotModel extends DOMWidgetModel {
  /** Every point received so far, per trace; kept outside Backbone state so it never syncs back. */
  series!: Series[];

  override defaults() {
    return {
      ...super.defaults(),
      _model_name: "MetricsPlotModel",
      _model_module: MODULE_NAME,
      _model_module_version: MODULE_VERSION,
      _view_name: "MetricsPlotView",
      _view_module: MODULE_NAME,
      _view_module_version: MODULE_VERSION,
      traces: [] as TraceSpec[],
      data: [] as Float64Array[],
      title: "Training metrics",
      // No axis claims a metric before the kernel names it (with its first series).
      left_title: "",
      right_title: "",
    };
  }

  static override serializers: ISerializers = {
    ...DOMWidgetModel.serializers,
    data: {
      deserialize: (value: Binary[] | null) => (value ?? []).map((v) => toFloat64(v)),
    },
  };

  override initialize(
    attributes: Parameters<DOMWidgetModel["initialize"]>[0],
    options: Parameters<DOMWidgetModel["initialize"]>[1],
  ): void {
    super.initialize(attributes, options);
    this.rebuild();
    this.on("change:data change:traces", () => this.rebuild());
    this.on("msg:custom", (content: Record<string, unknown>, buffers: Binary[]) =>
      this.onCustom(content, buffers),
    );
  }

  private rebuild(): void {
    const traces = this.get("traces") as TraceSpec[];
    const data = this.get("data") as Float64Array[];
    this.series = traces.map((t, i) => ({
      ...t,
      ...interleavedToXY(data[i] ?? new Float64Array()),
    }));
    this.trigger("fd:reset");
  }

  private onCustom(content: Record<string, unknown>, buffers: Binary[]): void {
    if (content.method !== "append") return;
    const traces = content.traces as TraceSpec[];
    const chunkTraces = content.chunks as number[];
    const appended: Appended = { newTraces: traces.slice(this.series.length), chunks: [] };
    for (const spec of appended.newTraces) this.series.push({ ...spec, x: [], y: [] });
    chunkTraces.forEach((trace, i) => {
      const all = interleavedToXY(toFloat64(buffers[i]));
      // A full state sent on reconnect may already hold points still queued as an append.
      const series = this.series[trace];
      const last = series.x.length ? series.x[series.x.length - 1] : -Infinity;
      const keep = all.x.map((step) => step > last);
      const x = all.x.filter((_, j) => keep[j]);
      const y = all.y.filter((_, j) => keep[j]);
      series.x.push(...x);
      series.y.push(...y);
      appended.chunks.push({ trace, x, y });
    });
    this.trigger("fd:append", appended);
  }
}

export class MetricsPlotView extends PlotView {
  private extendCalls = 0;
  private drawnTraces = 0;

  override render(): void {
    this.el.classList.add("fd-widget", "fd-metrics");
    const header = document.createElement("div");
    header.className = "fd-header";
    header.appendChild(textElement("span", this.model.get("title") as string, "fd-title"));
    this.el.appendChild(header);
    this.mountPlot(this.el);
    this.listenTo(this.model, "fd:reset", () => void this.serial(() => this.draw()));
    // The kernel renames an axis when a new kind of series joins it (KID beside bias).
    this.listenTo(
      this.model,
      "change:left_title change:right_title",
      () => void this.serial(() => this.draw()),
    );
    this.listenTo(
      this.model,
      "fd:append",
      (appended: Appended) => void this.serial(() => this.extend(appended)),
    );
  }

  private series(): Series[] {
    return (this.model as unknown as MetricsPlotModel).series;
  }

  private trace(series: TraceSpec, index: number, x: number[], y: number[]) {
    return {
      type: "scatter",
      mode: "lines+markers",
      name: plotlyText(series.name),
      x,
      y,
      yaxis: series.axis === "right" ? "y2" : "y",
      line: {
        color: SERIES_COLORS[index % SERIES_COLORS.length],
        dash: series.axis === "right" ? "dot" : "solid",
      },
      marker: { size: 4 },
    };
  }

  /**
   * An axis's title as the kernel set it — only once a series sits on that axis: before data
   * arrives an axis says nothing rather than naming a metric it does not show.
   */
  private axisTitle(axis: "left" | "right"): string {
    const shown = this.series().some((s) => s.axis === axis);
    return shown ? plotlyText(this.model.get(`${axis}_title`) as string) : "";
  }

  private layout() {
    const base = themedLayout();
    const axis = base.yaxis as Record<string, unknown>;
    return themedLayout({
      height: 300,
      xaxis: { ...(base.xaxis as object), title: { text: "step" } },
      // At the figure's foot, below the axis title (the theme's default overlaps it here).
      legend: { ...(base.legend as object), yref: "container", y: 0, yanchor: "bottom" },
      margin: { ...(base.margin as object), b: 80 },
      yaxis: { ...axis, title: { text: this.axisTitle("left") } },
      yaxis2: {
        ...axis,
        title: { text: this.axisTitle("right") },
        overlaying: "y",
        side: "right",
        showgrid: false,
        rangemode: "tozero",
      },
      uirevision: "metrics",
    });
  }

  protected override async draw(): Promise<void> {
    if (!this.ready) return;
    const series = this.series();
    // Copies: extendTraces mutates the arrays it was given.
    const data = series.map((s, i) => this.trace(s, i, [...s.x], [...s.y]));
    this.drawnTraces = series.length;
    await Plotly.react(this.plot, data, this.layout(), { displayModeBar: false, responsive: true });
    this.publishCounts();
  }

  private async extend(appended: Appended): Promise<void> {
    if (!this.ready) return; // the first draw will include these points
    const series = this.series();
    if (this.drawnTraces < series.length) {
      // New trace names: add them (empty), then extend like the others.
      const added = [];
      for (let i = this.drawnTraces; i < series.length; i++)
        added.push(this.trace(series[i], i, [], []));
      this.drawnTraces = series.length;
      await Plotly.addTraces(this.plot, added);
      // An axis may have got its first series: its title shows from now on.
      await Plotly.relayout(this.plot, {
        "yaxis.title.text": this.axisTitle("left"),
        "yaxis2.title.text": this.axisTitle("right"),
      });
    }
    if (appended.chunks.length === 0) return;
    await Plotly.extendTraces(
      this.plot,
      { x: appended.chunks.map((c) => c.x), y: appended.chunks.map((c) => c.y) },
      appended.chunks.map((c) => c.trace),
    );
    this.extendCalls += 1;
    this.publishCounts();
  }

  /** Counts on the element for tests and curious users: points shown, incremental updates. */
  private publishCounts(): void {
    const points = this.series().reduce((s, t) => s + t.x.length, 0);
    this.el.dataset.points = String(points);
    this.el.dataset.extends = String(this.extendCalls);
  }
}
