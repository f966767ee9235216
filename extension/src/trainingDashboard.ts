/**
 * TrainingDashboard: start/stop buttons, the kernel's backend and mode ("wasm · quick") and a
 * status line above the target sliders, the subgroup histogram, the metrics plot and a sample
 * grid — each a widget of its own, referenced by model id, so the kernel updates them directly.
 * Start is enabled when the kernel has a run to start or a stopped one to resume ("Resume").
 */
import {
  DOMWidgetModel,
  DOMWidgetView,
  type ISerializers,
  unpack_models,
  type WidgetModel,
} from "@jupyter-widgets/base";
import { textElement } from "./safeText";
import { MODULE_NAME, MODULE_VERSION } from "./version";

const PARTS = ["target", "histogram", "metrics", "samples"] as const;

export class TrainingDashboardModel extends DOMWidgetModel {
  override defaults() {
    return {
      ...super.defaults(),
      _model_name: "TrainingDashboardModel",
      _model_module: MODULE_NAME,
      _model_module_version: MODULE_VERSION,
      _view_name: "TrainingDashboardView",
      _view_module: MODULE_NAME,
      _view_module_version: MODULE_VERSION,
      title: "Training",
      status: "",
      running: false,
      can_start: false,
      resume_step: 0,
      backend: "",
      mode: "",
      step: 0,
      total_steps: 0,
      target: null,
      histogram: null,
      metrics: null,
      samples: null,
    };
  }

  static override serializers: ISerializers = {
    ...DOMWidgetModel.serializers,
    target: { deserialize: unpack_models },
    histogram: { deserialize: unpack_models },
    metrics: { deserialize: unpack_models },
    samples: { deserialize: unpack_models },
  };
}

export class TrainingDashboardView extends DOMWidgetView {
  private startButton!: HTMLButtonElement;
  private stopButton!: HTMLButtonElement;
  private statusLine!: HTMLElement;
  private modeBadge!: HTMLElement;
  private progress!: HTMLProgressElement;
  private children: DOMWidgetView[] = [];

  override render(): void {
    this.el.classList.add("fd-widget", "fd-dashboard");
    const header = document.createElement("div");
    header.className = "fd-header fd-dashboard-header";
    header.appendChild(textElement("span", this.model.get("title") as string, "fd-title"));
    this.startButton = textElement("button", "Start", "fd-button fd-start");
    this.stopButton = textElement("button", "Stop", "fd-button fd-stop");
    for (const button of [this.startButton, this.stopButton]) button.type = "button";
    this.startButton.addEventListener("click", () => this.model.send({ event: "start" }, {}));
    this.stopButton.addEventListener("click", () => this.model.send({ event: "stop" }, {}));
    this.progress = document.createElement("progress");
    this.progress.className = "fd-progress";
    this.progress.setAttribute("aria-label", "training progress");
    this.modeBadge = textElement("span", "", "fd-dashboard-mode");
    this.statusLine = textElement("span", "", "fd-status");
    this.statusLine.setAttribute("role", "status");
    header.append(
      this.startButton,
      this.stopButton,
      this.modeBadge,
      this.progress,
      this.statusLine,
    );
    this.el.appendChild(header);
    const body = document.createElement("div");
    body.className = "fd-dashboard-body";
    this.el.appendChild(body);
    void this.renderChildren(body);
    this.refresh();
    this.listenTo(
      this.model,
      "change:status change:running change:can_start change:resume_step change:step change:total_steps change:backend change:mode",
      () => this.refresh(),
    );
  }

  private async renderChildren(body: HTMLElement): Promise<void> {
    for (const part of PARTS) {
      const model = this.model.get(part) as WidgetModel | null;
      if (!model) continue;
      const slot = document.createElement("div");
      slot.className = `fd-dashboard-slot fd-dashboard-${part}`;
      body.appendChild(slot);
      const view = (await this.create_child_view(model)) as DOMWidgetView;
      this.children.push(view);
      slot.appendChild(view.el);
    }
  }

  private refresh(): void {
    const running = this.model.get("running") as boolean;
    const canStart = this.model.get("can_start") as boolean;
    const resumeStep = this.model.get("resume_step") as number;
    this.startButton.disabled = running || !canStart;
    this.startButton.textContent = resumeStep > 0 ? "Resume" : "Start";
    this.startButton.title =
      resumeStep > 0
        ? `Resume the stopped run after step ${resumeStep} (the model keeps what it learnt)`
        : canStart
          ? "Start the run"
          : "Nothing to start: the run is complete, or the cell gave no way to start one";
    this.stopButton.disabled = !running;
    const backend = this.model.get("backend") as string;
    const mode = this.model.get("mode") as string;
    this.modeBadge.textContent = backend ? `${backend} · ${mode}` : "";
    this.modeBadge.title = `This kernel computes with the ${backend} backend, in ${mode} mode (FAIRDIFF_QUICK${mode === "quick" ? "=1" : " unset"})`;
    this.statusLine.textContent = this.model.get("status") as string;
    const total = this.model.get("total_steps") as number;
    this.progress.max = Math.max(1, total);
    this.progress.value = Math.min(this.model.get("step") as number, this.progress.max);
    this.el.dataset.running = String(running);
  }

  override remove(): unknown {
    for (const view of this.children) view.remove();
    return super.remove();
  }
}
