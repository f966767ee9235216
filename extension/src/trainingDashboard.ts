/**
 * TrainingDashboard: start/stop buttons and a status line above the target sliders, the subgroup
 * histogram, the metrics plot and a sample grid — each a widget of its own, referenced by model
 * id, so the kernel updates them directly.
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
    this.statusLine = textElement("span", "", "fd-status");
    this.statusLine.setAttribute("role", "status");
    header.append(this.startButton, this.stopButton, this.progress, this.statusLine);
    this.el.appendChild(header);
    const body = document.createElement("div");
    body.className = "fd-dashboard-body";
    this.el.appendChild(body);
    void this.renderChildren(body);
    this.refresh();
    this.listenTo(this.model, "change:status change:running change:step change:total_steps", () =>
      this.refresh(),
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
    this.startButton.disabled = running || !canStart;
    this.stopButton.disabled = !running;
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
