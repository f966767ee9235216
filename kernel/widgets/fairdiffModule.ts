/**
 * Where the frontend finds fairdiff's widget views: the JupyterLab extension registers them under
 * its npm name and exact version (extension/src/version.ts); the kernel asks for a compatible
 * range. A test keeps the two in step.
 */
import type { WidgetModelSpec } from "./widget";

export const FAIRDIFF_WIDGET_MODULE = "fairdiff-jupyterlab";
export const FAIRDIFF_WIDGET_VERSION_RANGE = "^0.1.0";

export function fairdiffSpec(name: string): WidgetModelSpec {
  return {
    _model_name: `${name}Model`,
    _model_module: FAIRDIFF_WIDGET_MODULE,
    _model_module_version: FAIRDIFF_WIDGET_VERSION_RANGE,
    _view_name: `${name}View`,
    _view_module: FAIRDIFF_WIDGET_MODULE,
    _view_module_version: FAIRDIFF_WIDGET_VERSION_RANGE,
  };
}

/** State every DOMWidgetModel of @jupyter-widgets/base 6 expects (no layout model needed). */
export const DOM_WIDGET_BASE = {
  _dom_classes: [] as string[],
  layout: null,
  tabbable: null,
  tooltip: null,
};
