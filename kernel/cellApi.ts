/**
 * What every cell can use without importing anything: display helpers, the interrupt signal,
 * stdin, comms and widgets. `cellGlobalsDeclaration` gives the type checker their types.
 */
import { runtime } from "./runtime";
import type { TargetHandler } from "./comm/commManager";
import type { Comm } from "./comm/comm";

export { display, clearOutput, DisplayHandle } from "./output/display";
export {
  html,
  markdown,
  latex,
  svg,
  png,
  jpeg,
  json,
  plotly,
  mimeBundle,
} from "./output/richValues";
export { Widget } from "./widgets/widget";
export { FloatSlider, IntSlider, FloatProgress, Label } from "./widgets/controls";
export { TargetDistribution } from "./widgets/targetDistribution";
export { SubgroupHistogram } from "./widgets/subgroupHistogram";
export { MetricsPlot } from "./widgets/metricsPlot";
export { SampleGrid } from "./widgets/sampleGrid";
export { TrainingDashboard } from "./widgets/trainingDashboard";

/**
 * The running cell's AbortSignal: aborted when the user interrupts the kernel. Pass it to a
 * training loop so "interrupt" stops the loop, not just the cell.
 */
export function kernelAbortSignal(): AbortSignal {
  return runtime().abortSignal();
}

/** Asks the user for a line of text (only when the frontend allows stdin). */
export function input(prompt = "", options: { password?: boolean } = {}): Promise<string> {
  return runtime().input(prompt, options.password ?? false);
}

/** Resolves after `ms`; rejects at once if the kernel is interrupted meanwhile. */
export function sleep(ms: number, signal: AbortSignal = kernelAbortSignal()): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

export function openComm(target: string, data: Record<string, unknown> = {}): Comm {
  return runtime().comms.open(target, data);
}

export function registerCommTarget(name: string, handler: TargetHandler): void {
  runtime().comms.registerTarget(name, handler);
}

/** Classes are declared as both a value and a type; generics keep their parameters. */
const CLASS_TYPES: Record<string, string> = {
  Widget: "<S extends Record<string, unknown> = Record<string, unknown>> = M.Widget<S>",
  FloatSlider: " = M.FloatSlider",
  IntSlider: " = M.IntSlider",
  FloatProgress: " = M.FloatProgress",
  Label: " = M.Label",
  TargetDistribution: " = M.TargetDistribution",
  SubgroupHistogram: " = M.SubgroupHistogram",
  MetricsPlot: " = M.MetricsPlot",
  SampleGrid: " = M.SampleGrid",
  TrainingDashboard: " = M.TrainingDashboard",
  DisplayHandle: " = M.DisplayHandle",
};

/** `declare global` block typing each export of this module (compiled at `modulePath`). */
export function cellGlobalsDeclaration(names: string[], modulePath: string): string {
  const mod = JSON.stringify(modulePath.replace(/\\/g, "/"));
  const lines = names
    .filter((n) => n !== "cellGlobalsDeclaration")
    .map((n) => {
      const value = `  const ${n}: typeof import(${mod}).${n};`;
      const type = CLASS_TYPES[n];
      return type ? `${value}\n  type ${n}${type.replace(/M\./g, `import(${mod}).`)};` : value;
    });
  return `declare global {\n${lines.join("\n")}\n}\n`;
}
