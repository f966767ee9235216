/**
 * TrainingDashboard (kernel side): start/stop buttons and a status line over a TargetDistribution,
 * a SubgroupHistogram, a MetricsPlot and a SampleGrid. It follows any AsyncIterable of the
 * mitigation methods' events, so it does not care which method runs:
 *   step events       → bias estimates on the metrics plot, progress and losses in the status;
 *   evaluation events → audited shares in the histogram, FID / ES-FID / per-group FID (left axis)
 *                       and audited bias, KID and per-group KID when measured (right axis) on
 *                       the metrics plot.
 * Stop aborts the run's AbortController; Start calls the `start` function given, if any.
 * Every part coalesces its own updates, so a fast loop cannot flood iopub.
 */
import type {
  MethodEvent,
  MethodEvaluationEvent,
  MethodStepEvent,
  TargetGetter,
} from "../../src/methods/methodEvents";
import { DOM_WIDGET_BASE, fairdiffSpec } from "./fairdiffModule";
import { MetricsPlot } from "./metricsPlot";
import { SampleGrid } from "./sampleGrid";
import { fallbackBlock, note, type StaticFallback } from "./staticFallback";
import { SubgroupHistogram } from "./subgroupHistogram";
import { TargetDistribution, type TargetDistributionOptions } from "./targetDistribution";
import { Widget } from "./widget";

/** Starts a run when the user clicks Start: the target getter and the run's abort signal. */
export type StartRun = (target: TargetGetter, signal: AbortSignal) => AsyncIterable<MethodEvent>;

export interface TrainingDashboardOptions {
  title?: string;
  target: TargetDistribution | TargetDistributionOptions;
  /** Training-data share per attribute (attribute → group → p), drawn in the histogram. */
  training?: Record<string, Record<string, number>>;
  start?: StartRun;
  samples?: boolean;
}

export interface RunSummary {
  steps: number;
  evaluations: number;
  aborted: boolean;
  elapsedMs: number;
}

type State = Record<string, unknown> & {
  title: string;
  status: string;
  running: boolean;
  can_start: boolean;
  step: number;
  total_steps: number;
};

const ref = (widget: Widget) => `IPY_MODEL_${widget.modelId}`;

export class TrainingDashboard extends Widget<State> {
  readonly target: TargetDistribution;
  readonly histogram: SubgroupHistogram;
  readonly metrics: MetricsPlot;
  readonly samples?: SampleGrid;
  private controller?: AbortController;
  private readonly start?: StartRun;
  private lastRun?: Promise<RunSummary>;

  constructor(options: TrainingDashboardOptions) {
    const target =
      options.target instanceof TargetDistribution
        ? options.target
        : new TargetDistribution(options.target);
    const histogram = new SubgroupHistogram();
    const metrics = new MetricsPlot();
    const samples = options.samples ? new SampleGrid() : undefined;
    super(fairdiffSpec("TrainingDashboard"), {
      ...DOM_WIDGET_BASE,
      title: options.title ?? "Fine-tuning",
      status: "idle",
      running: false,
      can_start: options.start !== undefined,
      step: 0,
      total_steps: 0,
      target: ref(target),
      histogram: ref(histogram),
      metrics: ref(metrics),
      samples: samples ? ref(samples) : null,
    });
    this.target = target;
    this.histogram = histogram;
    this.metrics = metrics;
    this.samples = samples;
    this.start = options.start;
    const value = target.value;
    for (const [attribute, shares] of Object.entries(options.training ?? {})) {
      const groups = Object.keys(value[attribute] ?? shares);
      histogram.setPanel({
        key: attribute,
        groups,
        training: groups.map((g) => shares[g] ?? 0),
        target: groups.map((g) => value[attribute]?.[g] ?? 0),
      });
    }
    // The target bars follow the sliders even between evaluations.
    target.onChange((next) => {
      for (const panel of histogram.panels) {
        const shares = next[panel.key];
        if (shares)
          histogram.setPanel({ ...panel, target: panel.groups.map((g) => shares[g] ?? 0) });
      }
    });
    this.onCustom((content) => {
      if (content.event === "stop") this.stop();
      else if (content.event === "start") this.startFromButton();
      else throw new Error(`unknown dashboard event ${JSON.stringify(content.event)}`);
    });
  }

  get running(): boolean {
    return this.get("running");
  }

  /** The run in progress or last finished (for a cell to await after pressing Start). */
  get finished(): Promise<RunSummary> | undefined {
    return this.lastRun;
  }

  /** Title and status, then the fallbacks of its parts: target, histogram, metrics, samples. */
  override staticFallback(): StaticFallback {
    const title = this.get("title");
    const status = this.get("status");
    const parts = [
      this.target,
      this.histogram,
      this.metrics,
      ...(this.samples ? [this.samples] : []),
    ].map((w) => w.staticFallback());
    return {
      text: [`${title} — ${status}`, ...parts.map((p) => p.text)].join("\n"),
      html: fallbackBlock("TrainingDashboard", title, [
        note(`Status: ${status}`),
        ...parts.flatMap((p) => (p.html !== undefined ? [p.html] : [])),
      ]),
    };
  }

  stop(): void {
    this.controller?.abort(new Error("stopped from the dashboard"));
  }

  /**
   * Follows `events` until they end, showing each on the dashboard; Stop aborts `controller`
   * (the same one the method was given). Resolves with a summary; rejects if the method throws.
   */
  run(events: AsyncIterable<MethodEvent>, controller = new AbortController()): Promise<RunSummary> {
    if (this.running) throw new Error("the dashboard is already following a run; stop it first");
    this.controller = controller;
    this.lastRun = this.follow(events, controller);
    return this.lastRun;
  }

  private startFromButton(): void {
    if (!this.start || this.running) return;
    const controller = new AbortController();
    // Errors are shown in the status line; the button has no cell to report them to.
    void this.run(this.start(this.target.getter(), controller.signal), controller).catch(() => {});
  }

  private async follow(
    events: AsyncIterable<MethodEvent>,
    controller: AbortController,
  ): Promise<RunSummary> {
    const started = performance.now();
    const summary: RunSummary = { steps: 0, evaluations: 0, aborted: false, elapsedMs: 0 };
    this.set({ running: true, status: "starting…", step: 0 });
    try {
      for await (const event of events) {
        if (event.type === "step") {
          summary.steps += 1;
          this.onStep(event);
        } else if (event.type === "evaluation") {
          summary.evaluations += 1;
          this.onEvaluation(event);
        } else if (event.type === "checkpoint") {
          this.set({ status: `checkpoint at step ${event.step}: ${event.file}` });
        } else if (event.type === "done") {
          summary.aborted = event.aborted;
        }
      }
      summary.aborted ||= controller.signal.aborted;
      summary.elapsedMs = performance.now() - started;
      this.set({
        running: false,
        status: `${summary.aborted ? "stopped" : "done"} after ${summary.steps} steps (${(summary.elapsedMs / 1000).toFixed(1)} s)`,
      });
      return summary;
    } catch (error) {
      this.set({ running: false, status: `failed: ${(error as Error).message}` });
      throw error;
    } finally {
      if (this.controller === controller) this.controller = undefined;
      // The static fallback of a dashboard shown with display() shows the run's end state.
      this.snapshot();
    }
  }

  private onStep(event: MethodStepEvent): void {
    const losses = Object.entries(event.losses)
      .map(([name, value]) => `${name} ${value.toPrecision(3)}`)
      .join(", ");
    this.set({
      step: event.step,
      total_steps: event.totalSteps,
      status: `${event.method} step ${event.step}/${event.totalSteps} · ${losses} · ${event.imagesPerSecond.toFixed(1)} img/s`,
    });
    const bias: Record<string, number> = {};
    for (const [attribute, value] of Object.entries(event.biasEstimate)) {
      bias[`bias ${attribute} (batch)`] = value;
    }
    this.metrics.push(event.step, bias, "right");
  }

  private onEvaluation(event: MethodEvaluationEvent): void {
    this.histogram.showProportions(event.attributes);
    const bias: Record<string, number> = {};
    for (const a of event.attributes) bias[`bias ${a.attribute}`] = a.bias;
    this.metrics.push(event.step, bias, "right");
    const quality = event.quality;
    if (quality) {
      const fid: Record<string, number> = { FID: quality.overall.value };
      for (const g of quality.byAttribute) {
        fid[`ES-FID ${g.attribute}`] = g.esFid;
        g.groups.forEach((group, i) => (fid[`FID ${g.attribute}=${group}`] = g.perGroup[i].value));
      }
      this.metrics.push(event.step, fid, "left");
      // KID is small (often 1e-3 … 1) like bias, so it shares the right axis, not FID's.
      const kid: Record<string, number> = {};
      if (quality.overallKid) kid.KID = quality.overallKid.value;
      for (const g of quality.byAttribute) {
        g.perGroupKid?.forEach(
          (figure, i) => (kid[`KID ${g.attribute}=${g.groups[i]}`] = figure.value),
        );
      }
      if (Object.keys(kid).length > 0) {
        this.metrics.setAxisTitle("right", "bias · KID");
        this.metrics.push(event.step, kid, "right");
      }
    }
  }
}
