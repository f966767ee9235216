/**
 * Shared base of the plotly views: draws once the element is laid out, follows resizes and theme
 * switches, and frees plotly's listeners when the view goes away.
 */
import { DOMWidgetView } from "@jupyter-widgets/base";
import Plotly from "plotly.js-dist-min";
import { onThemeChange, whenLaidOut } from "./plotTheme";

export abstract class PlotView extends DOMWidgetView {
  protected plot!: HTMLDivElement;
  protected ready = false;
  private stopTheme?: () => void;
  private resizeObserver?: ResizeObserver;
  private queue: Promise<void> = Promise.resolve();

  /** Full redraw from the model (Plotly.react diffs, so it does not flicker). */
  protected abstract draw(): Promise<void>;

  protected mountPlot(container: HTMLElement): void {
    this.plot = document.createElement("div");
    this.plot.className = "fd-plot";
    container.appendChild(this.plot);
    void whenLaidOut(this.plot).then(async () => {
      this.ready = true;
      await this.serial(() => this.draw());
      this.resizeObserver = new ResizeObserver(() => {
        if (this.plot.isConnected) void Plotly.Plots.resize(this.plot);
      });
      this.resizeObserver.observe(this.plot);
      this.stopTheme = onThemeChange(() => void this.serial(() => this.draw()));
    });
  }

  /** Runs plot calls one after another: an extend must not land in the middle of a redraw. */
  protected serial(fn: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(fn).catch((error: unknown) => {
      console.error("fairdiff plot update failed", error);
    });
    return this.queue;
  }

  override remove(): unknown {
    this.stopTheme?.();
    this.resizeObserver?.disconnect();
    if (this.plot) Plotly.purge(this.plot);
    return super.remove();
  }
}
