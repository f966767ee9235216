/**
 * A few standard ipywidgets 8 controls (@jupyter-widgets/controls 2.0.0), enough to steer a
 * running loop from a notebook: sliders, a label and a progress bar. Their state mirrors what
 * ipywidgets sends so JupyterLab's widget manager renders them unchanged.
 */
import { Widget } from "./widget";

const BASE = "@jupyter-widgets/base";
const CONTROLS = "@jupyter-widgets/controls";
const VERSION = "2.0.0";

class Layout extends Widget {
  constructor() {
    super(
      {
        _model_name: "LayoutModel",
        _model_module: BASE,
        _model_module_version: VERSION,
        _view_name: "LayoutView",
        _view_module: BASE,
        _view_module_version: VERSION,
      },
      {},
    );
  }
}

class Style extends Widget {
  constructor(modelName: string, extra: Record<string, unknown>) {
    super(
      {
        _model_name: modelName,
        _model_module: CONTROLS,
        _model_module_version: VERSION,
        _view_name: "StyleView",
        _view_module: BASE,
        _view_module_version: VERSION,
      },
      { description_width: "", ...extra },
    );
  }
}

function domState(modelName: string, viewName: string, styleModel: string, styleExtra = {}) {
  return {
    spec: {
      _model_name: modelName,
      _model_module: CONTROLS,
      _model_module_version: VERSION,
      _view_name: viewName,
      _view_module: CONTROLS,
      _view_module_version: VERSION,
    },
    base: {
      _dom_classes: [] as string[],
      description: "",
      description_allow_html: false,
      disabled: false,
      tabbable: null,
      tooltip: null,
      layout: `IPY_MODEL_${new Layout().modelId}`,
      style: `IPY_MODEL_${new Style(styleModel, styleExtra).modelId}`,
    },
  };
}

export interface SliderOptions {
  value?: number;
  min?: number;
  max?: number;
  step?: number;
  description?: string;
}

type SliderState = Record<string, unknown> & { value: number; min: number; max: number };

function sliderState(kind: "Float" | "Int", o: SliderOptions) {
  const { spec, base } = domState(`${kind}SliderModel`, `${kind}SliderView`, "SliderStyleModel", {
    handle_color: null,
  });
  const state: SliderState = {
    ...base,
    behavior: "drag-tap",
    continuous_update: true,
    orientation: "horizontal",
    readout: true,
    readout_format: kind === "Float" ? ".2f" : "d",
    description: o.description ?? "",
    min: o.min ?? 0,
    max: o.max ?? (kind === "Float" ? 10 : 100),
    step: o.step ?? (kind === "Float" ? 0.1 : 1),
    value: o.value ?? 0,
  };
  return { spec, state };
}

export class FloatSlider extends Widget<SliderState> {
  constructor(options: SliderOptions = {}) {
    const { spec, state } = sliderState("Float", options);
    super(spec, state);
  }
  get value(): number {
    return this.get("value");
  }
  set value(v: number) {
    this.set({ value: v });
  }
}

export class IntSlider extends Widget<SliderState> {
  constructor(options: SliderOptions = {}) {
    const { spec, state } = sliderState("Int", options);
    super(spec, state);
  }
  get value(): number {
    return this.get("value");
  }
  set value(v: number) {
    this.set({ value: Math.round(v) });
  }
}

type ProgressState = Record<string, unknown> & { value: number; max: number };

export class FloatProgress extends Widget<ProgressState> {
  constructor(options: { value?: number; max?: number; description?: string } = {}) {
    const { spec, base } = domState("FloatProgressModel", "ProgressView", "ProgressStyleModel", {
      bar_color: null,
    });
    super(spec, {
      ...base,
      bar_style: "",
      orientation: "horizontal",
      min: 0,
      description: options.description ?? "",
      max: options.max ?? 1,
      value: options.value ?? 0,
    });
  }
  get value(): number {
    return this.get("value");
  }
  set value(v: number) {
    this.set({ value: v });
  }
}

type LabelState = Record<string, unknown> & { value: string };

export class Label extends Widget<LabelState> {
  constructor(value = "") {
    const { spec, base } = domState("LabelModel", "LabelView", "LabelStyleModel", {
      background: null,
      font_family: null,
      font_size: null,
      font_style: null,
      font_variant: null,
      font_weight: null,
      text_color: null,
      text_decoration: null,
    });
    super(spec, { ...base, placeholder: "\u200b", value });
  }
  get value(): string {
    return this.get("value");
  }
  set value(v: string) {
    this.set({ value: v });
  }
}
