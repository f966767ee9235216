/** display(), update-in-place handles and clear_output for cells. */
import { randomUUID } from "node:crypto";
import { runtime } from "../runtime";
import { toDisplayPayload } from "./mimeBundle";
import * as rich from "./richValues";

export class DisplayHandle {
  constructor(readonly displayId: string) {}

  /** Replaces what this display shows; rapid updates are coalesced. */
  update(value: unknown, metadata: Record<string, unknown> = {}): void {
    const { iopub } = runtime();
    iopub.live.schedule(`display:${this.displayId}`, () => {
      const payload = toDisplayPayload(value, metadata);
      iopub.publish("update_display_data", {
        ...payload,
        transient: { display_id: this.displayId },
      });
    });
  }
}

export interface DisplayOptions {
  displayId?: string;
  metadata?: Record<string, unknown>;
}

function show(value: unknown, options: DisplayOptions = {}): DisplayHandle {
  const displayId = options.displayId ?? randomUUID();
  runtime().iopub.publish("display_data", {
    ...toDisplayPayload(value, options.metadata),
    transient: { display_id: displayId },
  });
  return new DisplayHandle(displayId);
}

/** Shows any value (rich if it has `toMimeBundle()`); `display.html(...)` etc. for mime types. */
export const display = Object.assign(show, {
  html: (source: string) => show(rich.html(source)),
  markdown: (source: string) => show(rich.markdown(source)),
  latex: (source: string) => show(rich.latex(source)),
  svg: (source: string) => show(rich.svg(source)),
  png: (bytes: Uint8Array) => show(rich.png(bytes)),
  jpeg: (bytes: Uint8Array) => show(rich.jpeg(bytes)),
  json: (value: unknown) => show(rich.json(value)),
  plotly: (figure: rich.PlotlyFigure) => show(rich.plotly(figure)),
  bundle: (bundle: Record<string, unknown>) => show(rich.mimeBundle(bundle)),
});

/** Clears the cell's output; with `wait`, only when the next output arrives (no flicker). */
export function clearOutput(wait = false): void {
  const { iopub } = runtime();
  iopub.live.flushAll();
  iopub.publish("clear_output", { wait });
}
