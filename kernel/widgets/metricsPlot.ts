/**
 * MetricsPlot (kernel side): named series against step (FID, ES-FID, per-group FID on the left
 * axis; bias, and KID when measured, on the right). Points are streamed: each flush sends only the new (step, value)
 * pairs as Float64 buffers in one custom message, at most every 50 ms (the kernel's live-update
 * coalescing), and the frontend extends its traces. The full series also sit in the widget state,
 * so a frontend that (re)connects later gets everything.
 */
import { runtime } from "../runtime";
import { lineChartSvg } from "../../src/study/svgCharts";
import { DOM_WIDGET_BASE, fairdiffSpec } from "./fairdiffModule";
import { fallbackBlock, note, svgImage, type StaticFallback } from "./staticFallback";
import { Widget } from "./widget";

export type Axis = "left" | "right";

export interface TraceSpec {
  name: string;
  axis: Axis;
}

type State = Record<string, unknown> & {
  traces: TraceSpec[];
  data: Float64Array[];
  title: string;
  left_title: string;
  right_title: string;
};

export class MetricsPlot extends Widget<State> {
  /** Per trace: interleaved (step, value) pairs not yet sent. */
  private readonly pending = new Map<number, number[]>();
  private sentTraces = 0;

  constructor(options: { title?: string; leftTitle?: string; rightTitle?: string } = {}) {
    super(fairdiffSpec("MetricsPlot"), {
      ...DOM_WIDGET_BASE,
      traces: [],
      data: [],
      title: options.title ?? "Training metrics",
      // No default metric name: an axis is named by whoever puts series on it (the dashboard
      // names "FID" with its first FID), and the view shows a name only once a series is there.
      left_title: options.leftTitle ?? "",
      right_title: options.rightTitle ?? "",
    });
  }

  /** Every point so far, per trace name. */
  series(): Record<string, { step: number[]; value: number[] }> {
    const out: Record<string, { step: number[]; value: number[] }> = {};
    const data = this.get("data");
    this.get("traces").forEach((t, i) => {
      const pairs = data[i];
      const step: number[] = [];
      const value: number[] = [];
      for (let j = 0; j + 1 < pairs.length; j += 2) {
        step.push(pairs[j]);
        value.push(pairs[j + 1]);
      }
      out[t.name] = { step, value };
    });
    return out;
  }

  /** Adds one point per named value at `step`; new names become new traces on `axis`. */
  push(step: number, values: Record<string, number>, axis: Axis = "left"): void {
    if (!Number.isFinite(step)) throw new Error(`step must be a finite number, got ${step}`);
    const traces = [...this.get("traces")];
    const data = [...this.get("data")];
    for (const [name, value] of Object.entries(values)) {
      if (typeof value !== "number" || Number.isNaN(value)) continue; // a missing figure, not a point
      let index = traces.findIndex((t) => t.name === name);
      if (index < 0) {
        traces.push({ name, axis });
        data.push(new Float64Array(0));
        index = traces.length - 1;
      }
      const grown = new Float64Array(data[index].length + 2);
      grown.set(data[index]);
      grown[grown.length - 2] = step;
      grown[grown.length - 1] = value;
      data[index] = grown;
      const queue = this.pending.get(index) ?? [];
      queue.push(step, value);
      this.pending.set(index, queue);
    }
    this.setQuietly({ traces, data });
    runtime().iopub.live.schedule(`widget-points:${this.modelId}`, () => this.sendPoints());
  }

  /** Renames an axis (e.g. once KID joins bias on the right). */
  setAxisTitle(axis: Axis, title: string): void {
    if (axis === "left") this.set({ left_title: title });
    else this.set({ right_title: title });
  }

  /** Each trace's last point in words; one line chart per axis that has points. */
  override staticFallback(): StaticFallback {
    const title = this.get("title");
    const series = this.series();
    const traces = this.get("traces");
    const withPoints = traces.filter((t) => series[t.name].step.length > 0);
    if (withPoints.length === 0) {
      return {
        text: `${title}: no points yet`,
        html: fallbackBlock("MetricsPlot", title, [note("No points yet.")]),
      };
    }
    const lines = withPoints.map((t) => {
      const { step, value } = series[t.name];
      const last = step.length - 1;
      return `  ${t.name}: ${value[last].toPrecision(4)} at step ${step[last]} (${step.length} points)`;
    });
    const charts: string[] = [];
    for (const [axis, axisTitle] of [
      ["left", this.get("left_title")],
      ["right", this.get("right_title")],
    ] as const) {
      const onAxis = withPoints.filter((t) => t.axis === axis);
      if (onAxis.length === 0) continue;
      const lineSeries = onAxis.map((t) => ({
        name: t.name,
        points: series[t.name].step.map((x, i) => [x, series[t.name].value[i]] as const),
      }));
      charts.push(
        svgImage(
          lineChartSvg(lineSeries, {
            title: axisTitle ? `${title} · ${axisTitle}` : title,
            xLabel: "step",
            yLabel: axisTitle,
          }),
        ),
      );
    }
    return {
      text: [`${title}:`, ...lines].join("\n"),
      html: fallbackBlock("MetricsPlot", title, charts),
    };
  }

  private sendPoints(): void {
    if (!this.comm.isOpen) return;
    const traces = this.get("traces");
    if (this.pending.size === 0 && this.sentTraces === traces.length) return;
    const chunks = [...this.pending.keys()].sort((a, b) => a - b);
    const buffers = chunks.map((i) => Buffer.from(Float64Array.from(this.pending.get(i)!).buffer));
    this.pending.clear();
    this.sentTraces = traces.length;
    this.sendCustom({ method: "append", traces, chunks }, buffers);
  }
}
