/**
 * The slice of plotly.js the views use. plotly.js ships no types; DefinitelyTyped's lag behind
 * its major versions, so the few calls are typed here.
 */
declare module "plotly.js-dist-min" {
  type Data = Record<string, unknown>;
  type Layout = Record<string, unknown>;
  interface PlotlyStatic {
    react(el: HTMLElement, data: Data[], layout?: Layout, config?: Data): Promise<unknown>;
    extendTraces(
      el: HTMLElement,
      update: { x: number[][]; y: number[][] },
      indices: number[],
    ): Promise<unknown>;
    addTraces(el: HTMLElement, traces: Data | Data[]): Promise<unknown>;
    relayout(el: HTMLElement, layout: Layout): Promise<unknown>;
    purge(el: HTMLElement): void;
    Plots: { resize(el: HTMLElement): Promise<unknown> | void };
  }
  const Plotly: PlotlyStatic;
  export default Plotly;
}
