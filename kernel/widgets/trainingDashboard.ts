/**
 * TrainingDashboard (kernel side): start/stop buttons, the kernel's backend and mode, and a
 * status line over a TargetDistribution, a SubgroupHistogram, a MetricsPlot and a SampleGrid. It
 * follows any AsyncIterable of the mitigation methods' events, so it does not care which method
 * runs:
 *   step events       → bias estimates on the metrics plot, progress and losses in the status;
 *   evaluation events → audited shares in the histogram, FID / ES-FID / per-group FID (left axis)
 *                       and audited bias, KID and per-group KID when measured (right axis) on
 *                       the metrics plot.
 * Every bias is a distance to the target the slider held at that moment, and is named so.
 * Stop aborts the run's AbortController. Start calls the run's StartRun — the one given to
 * `run()` or as the `start` option — first to start, then after a Stop to resume: it is told the
 * steps already done, and a run that then takes only the steps left is numbered on from there.
 * Every part coalesces its own updates, so a fast loop cannot flood iopub.
 */
import type {
  MethodEvent,
  MethodEvaluationEvent,
  MethodStepEvent,
  TargetGetter,
} from "../../src/methods/methodEvents";
import { kidScale, kidValuesOf, type KidScale } from "../../src/audit/kidScale";
import { DOM_WIDGET_BASE, fairdiffSpec } from "./fairdiffModule";
import { kernelMode } from "./kernelMode";
import { MetricsPlot } from "./metricsPlot";
import { SampleGrid } from "./sampleGrid";
import { fallbackBlock, note, type StaticFallback } from "./staticFallback";
import { SubgroupHistogram } from "./subgroupHistogram";
import { biasAgainst } from "./targetLabel";
import { TargetDistribution, type TargetDistributionOptions } from "./targetDistribution";
import { Widget } from "./widget";

/** Where a (re)started run begins: the steps earlier runs on this dashboard already took. */
export interface ResumePoint {
  /** 0 for a fresh run; after a Stop, the steps the stopped run finished (the model keeps them). */
  stepsDone: number;
}

/**
 * Starts a run: the slider's getter, the run's abort signal, and where to resume. To resume, a
 * method either runs the steps left (`steps: total - stepsDone`, with the model as the stopped
 * run left it) or continues its state file (`stateFile`), which needs the model and settings it
 * was started with — the target included, so not after the slider moved.
 */
export type StartRun = (
  target: TargetGetter,
  signal: AbortSignal,
  resume: ResumePoint,
) => AsyncIterable<MethodEvent>;

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
  /** Steps done when Start resumes (0: Start starts afresh). */
  resume_step: number;
  step: number;
  total_steps: number;
  /** This kernel's tfjs backend and quick/full mode (kernelMode.ts). */
  backend: string;
  mode: string;
};

const ref = (widget: Widget) => `IPY_MODEL_${widget.modelId}`;

export class TrainingDashboard extends Widget<State> {
  readonly target: TargetDistribution;
  readonly histogram: SubgroupHistogram;
  readonly metrics: MetricsPlot;
  readonly samples?: SampleGrid;
  private controller?: AbortController;
  private start?: StartRun;
  private lastRun?: Promise<RunSummary>;
  /** The KID scale of this run's plot, fixed by its first KID figure. */
  private kidScale?: KidScale;
  /** Steps done by the runs so far, and their total (what a resumed run continues). */
  private stepsDone = 0;
  private totalSteps = 0;
  /** The last run reached its last step: nothing to resume. */
  private complete = false;

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
      resume_step: 0,
      step: 0,
      total_steps: 0,
      ...kernelMode(),
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
   * Follows a run until it ends, showing each event on the dashboard; Stop aborts `controller`
   * (the same one the method was given). Given a StartRun instead of events, the dashboard calls
   * it now with `controller`'s signal, and again from Start after a Stop, to resume. Resolves
   * with a summary of this run; rejects if the method throws.
   */
  run(
    events: AsyncIterable<MethodEvent> | StartRun,
    controller = new AbortController(),
  ): Promise<RunSummary> {
    if (this.running) throw new Error("the dashboard is already following a run; stop it first");
    if (typeof events === "function") {
      this.start = events;
      return this.begin(controller);
    }
    this.stepsDone = 0;
    this.totalSteps = 0;
    this.controller = controller;
    this.lastRun = this.follow(events, controller, 0);
    return this.lastRun;
  }

  /** Starts the StartRun from where the last run stopped (0 if none did). */
  private begin(controller: AbortController): Promise<RunSummary> {
    const start = this.start;
    if (!start) throw new Error("the dashboard has no run to start: pass a StartRun to run()");
    if (this.complete) {
      this.stepsDone = 0;
      this.totalSteps = 0;
    }
    const resume: ResumePoint = { stepsDone: this.stepsDone };
    this.controller = controller;
    this.lastRun = this.follow(
      start(this.target.getter(), controller.signal, resume),
      controller,
      resume.stepsDone,
    );
    return this.lastRun;
  }

  private startFromButton(): void {
    if (!this.start || this.running || this.complete) return;
    // Errors are shown in the status line; the button has no cell to report them to.
    void this.begin(new AbortController()).catch(() => {});
  }

  private async follow(
    events: AsyncIterable<MethodEvent>,
    controller: AbortController,
    resumedAt: number,
  ): Promise<RunSummary> {
    const started = performance.now();
    const summary: RunSummary = { steps: 0, evaluations: 0, aborted: false, elapsedMs: 0 };
    /** Added to the run's own step numbers (see `offsetOf`). */
    let offset: number | undefined;
    this.complete = false;
    this.set({
      running: true,
      can_start: false,
      resume_step: 0,
      status: resumedAt > 0 ? `resuming after step ${resumedAt}…` : "starting…",
      step: resumedAt,
      ...kernelMode(),
    });
    try {
      for await (const event of events) {
        if (event.type === "step") {
          offset ??= this.offsetOf(event, resumedAt);
          summary.steps += 1;
          this.onStep(event, offset);
        } else if (event.type === "evaluation") {
          summary.evaluations += 1;
          this.onEvaluation(event, offset ?? resumedAt);
        } else if (event.type === "checkpoint") {
          this.set({ status: `checkpoint at step ${event.step + (offset ?? 0)}: ${event.file}` });
        } else if (event.type === "done") {
          summary.aborted = event.aborted;
        }
      }
      summary.aborted ||= controller.signal.aborted;
      summary.elapsedMs = performance.now() - started;
      this.complete = !summary.aborted;
      const seconds =
        `${(summary.elapsedMs / 1000).toFixed(1)} s` +
        (resumedAt > 0 ? ` since resuming after step ${resumedAt}` : "");
      this.set({
        running: false,
        status: summary.aborted
          ? `${this.stepsDone > 0 ? `stopped after step ${this.stepsDone} of ${this.totalSteps}` : "stopped before the first step"} (${seconds})${this.start ? " — Resume continues" : ""}`
          : `done after ${this.stepsDone} steps (${seconds})`,
      });
      return summary;
    } catch (error) {
      this.set({ running: false, status: `failed: ${(error as Error).message}` });
      throw error;
    } finally {
      if (this.controller === controller) this.controller = undefined;
      this.set({
        can_start: this.start !== undefined && !this.complete,
        resume_step: this.complete ? 0 : this.stepsDone,
      });
      // The static fallback of a dashboard shown with display() shows the run's end state.
      this.snapshot();
    }
  }

  /**
   * A resumed run that takes only the steps left reports a smaller total than the run it resumes:
   * its steps are numbered on from where that one stopped. One that continues a state file
   * reports the same total and numbers its steps itself.
   */
  private offsetOf(event: MethodStepEvent, resumedAt: number): number {
    if (resumedAt === 0) return 0;
    return event.totalSteps < this.totalSteps ? resumedAt : 0;
  }

  private onStep(event: MethodStepEvent, offset: number): void {
    const step = event.step + offset;
    const total = event.totalSteps + offset;
    this.stepsDone = step;
    this.totalSteps = total;
    const losses = Object.entries(event.losses)
      .map(([name, value]) => `${name} ${value.toPrecision(3)}`)
      .join(", ");
    const bias = Object.entries(event.biasEstimate).map(([attribute, value]) => {
      const groups = Object.keys(event.target[attribute] ?? {});
      const target = groups.map((g) => event.target[attribute][g]);
      return `${attribute} ${biasAgainst(groups, target)} ${value.toFixed(2)}`;
    });
    this.set({
      step,
      total_steps: total,
      status: [
        `${event.method} step ${step}/${total}`,
        losses,
        ...bias.map((b) => `batch ${b}`),
        `${event.imagesPerSecond.toFixed(1)} img/s`,
      ].join(" · "),
    });
    const points: Record<string, number> = {};
    for (const [attribute, value] of Object.entries(event.biasEstimate)) {
      points[`bias ${attribute} vs target (batch)`] = value;
    }
    // Each axis is named with its first series, never before (setting it again sends nothing).
    this.metrics.setAxisTitle("right", "bias");
    this.metrics.push(step, points, "right");
  }

  private onEvaluation(event: MethodEvaluationEvent, offset: number): void {
    const step = event.step + offset;
    this.histogram.showProportions(event.attributes, { step });
    const bias: Record<string, number> = {};
    for (const a of event.attributes) bias[`bias ${a.attribute} vs target (evaluation)`] = a.bias;
    this.metrics.push(step, bias, "right");
    const quality = event.quality;
    if (quality) {
      const fid: Record<string, number> = { FID: quality.overall.value };
      for (const g of quality.byAttribute) {
        fid[`ES-FID ${g.attribute}`] = g.esFid;
        g.groups.forEach((group, i) => (fid[`FID ${g.attribute}=${group}`] = g.perGroup[i].value));
      }
      if (!this.kidScale) this.metrics.setAxisTitle("left", "FID");
      this.metrics.push(step, fid, "left");
      // KID's size depends on the extractor (1e-3 … 1e6), so it is shown on one engineering
      // scale, fixed by the first evaluation that has it, beside FID on the left axis.
      const values = kidValuesOf(quality);
      if (values.length > 0) {
        this.kidScale ??= kidScale(values);
        const { power, label } = this.kidScale;
        const kid: Record<string, number> = {};
        if (quality.overallKid) kid[label] = quality.overallKid.value * 10 ** power;
        for (const g of quality.byAttribute) {
          g.perGroupKid?.forEach(
            (figure, i) =>
              (kid[`${label} ${g.attribute}=${g.groups[i]}`] = figure.value * 10 ** power),
          );
        }
        this.metrics.setAxisTitle("left", `FID · ${label}`);
        this.metrics.push(step, kid, "left");
      }
    }
  }
}
