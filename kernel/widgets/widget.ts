/**
 * Kernel side of a Jupyter widget (protocol 2.1.0, ipywidgets 8): one `jupyter.widget` comm per
 * model, synced state with binary buffers, custom messages and change observers. Frontend
 * updates are applied as they arrive — also while a cell's async loop runs — and echoed back;
 * kernel-side changes are coalesced so a tight loop cannot flood iopub.
 *
 * Every display also carries a static fallback (text/plain, and text/html figures for the
 * fairdiff widgets) for viewers without the widget front end. It is drawn from the state at the
 * time of display; shown with `widget.display()`, `widget.snapshot()` later redraws it in place
 * (update_display_data), and the TrainingDashboard snapshots itself when a run ends.
 */
import type { Comm, CommMessage } from "../comm/comm";
import { runtime } from "../runtime";
import { display, DisplayHandle } from "../output/display";
import type { MimeBundle, MimeBundleProvider } from "../output/mimeBundle";
import { putBuffers, removeBuffers } from "./buffers";
import type { StaticFallback } from "./staticFallback";

export const PROTOCOL_VERSION = "2.1.0";
export const WIDGET_TARGET = "jupyter.widget";

export interface WidgetModelSpec {
  _model_name: string;
  _model_module: string;
  _model_module_version: string;
  _view_name: string | null;
  _view_module: string | null;
  _view_module_version: string;
}

export interface Change<T = unknown> {
  name: string;
  old: T;
  new: T;
  owner: Widget;
}

type Observer = (change: Change) => void;
type CustomHandler = (content: Record<string, unknown>, buffers: Buffer[]) => void;

const instances = new Map<string, Widget>();

/** All live widgets, for `jupyter.widget.control`'s request_states. */
export function liveWidgets(): Widget[] {
  return [...instances.values()];
}

export class Widget<
  S extends Record<string, unknown> = Record<string, unknown>,
> implements MimeBundleProvider {
  readonly comm: Comm;
  private readonly state: Record<string, unknown>;
  private readonly observers = new Map<string, Observer[]>();
  private readonly customHandlers: CustomHandler[] = [];
  private readonly dirty = new Set<string>();
  private shownWithId = false;

  constructor(spec: WidgetModelSpec, initial: S) {
    this.state = { ...spec, ...initial };
    const { state, bufferPaths, buffers } = removeBuffers(this.state);
    this.comm = runtime().comms.open(
      WIDGET_TARGET,
      { state, buffer_paths: bufferPaths },
      { version: PROTOCOL_VERSION },
      buffers,
    );
    instances.set(this.comm.id, this);
    this.comm.onMessage((msg) => this.handle(msg));
    this.comm.onClose(() => instances.delete(this.comm.id));
  }

  get modelId(): string {
    return this.comm.id;
  }

  get<K extends keyof S & string>(name: K): S[K] {
    return this.state[name] as S[K];
  }

  /** Full state, as sent to a frontend that asks for it. */
  getState(): Record<string, unknown> {
    return { ...this.state };
  }

  /** Changes state from the kernel: observers run now, the frontend hears it coalesced. */
  set(changes: Partial<S>): void {
    for (const [name, value] of Object.entries(changes)) {
      if (this.apply(name, value)) this.dirty.add(name);
    }
    if (this.dirty.size > 0) {
      runtime().iopub.live.schedule(`widget:${this.modelId}`, () => this.flush());
    }
  }

  /** Calls `handler` on changes of `name` ("*" for any); returns an unsubscribe function. */
  observe(name: string, handler: Observer): () => void {
    const list = this.observers.get(name) ?? [];
    list.push(handler);
    this.observers.set(name, list);
    return () => list.splice(list.indexOf(handler) >>> 0, 1);
  }

  /**
   * Changes state without telling the frontend (observers still run): for a subclass that sends
   * the change its own way, e.g. appended points as a custom message, but wants the full state
   * ready for a frontend that asks for it later.
   */
  protected setQuietly(changes: Partial<S>): void {
    for (const [name, value] of Object.entries(changes)) this.apply(name, value);
  }

  /**
   * Checks a frontend update before it is applied; throw (naming the bad value) to refuse it. A
   * refused update is answered with the kernel's current values, so the frontend reverts.
   */
  protected validateUpdate(_incoming: Record<string, unknown>): void {}

  onCustom(handler: CustomHandler): void {
    this.customHandlers.push(handler);
  }

  sendCustom(content: Record<string, unknown>, buffers: Buffer[] = []): void {
    this.comm.send({ method: "custom", content }, {}, buffers);
  }

  close(): void {
    instances.delete(this.modelId);
    this.comm.close();
  }

  /** What viewers without the widget front end show, from the current state. */
  staticFallback(): StaticFallback {
    return { text: `${String(this.state._model_name)}(model_id=${this.modelId})` };
  }

  /** The display id `display()` shows this widget under, for `snapshot()` to update. */
  get displayId(): string {
    return `fairdiff-widget-${this.modelId}`;
  }

  /** Shows the widget in the cell's output under its own display id (see `snapshot()`). */
  display(): void {
    display(this, { displayId: this.displayId });
    this.shownWithId = true;
  }

  /**
   * Redraws the static fallback of every output `display()` made from the current state (the
   * live view is re-created from the same model). Coalesced like other live updates, and sent
   * before the cell's reply. Returns false, sending nothing, if the widget was never shown with
   * `display()` — a plain `display(widget)` or a cell's last value has no id to update.
   */
  snapshot(): boolean {
    if (!this.shownWithId || !this.comm.isOpen) return false;
    new DisplayHandle(this.displayId).update(this);
    return true;
  }

  toMimeBundle(): MimeBundle {
    const fallback = this.staticFallback();
    return {
      "text/plain": fallback.text,
      ...(fallback.html !== undefined ? { "text/html": fallback.html } : {}),
      "application/vnd.jupyter.widget-view+json": {
        model_id: this.modelId,
        version_major: 2,
        version_minor: 0,
      },
    };
  }

  private apply(name: string, value: unknown): boolean {
    const old = this.state[name];
    if (Object.is(old, value)) return false;
    this.state[name] = value;
    const change: Change = { name, old, new: value, owner: this as Widget };
    for (const handler of [
      ...(this.observers.get(name) ?? []),
      ...(this.observers.get("*") ?? []),
    ]) {
      handler(change);
    }
    return true;
  }

  private flush(): void {
    if (!this.comm.isOpen || this.dirty.size === 0) return;
    const changed: Record<string, unknown> = {};
    for (const name of this.dirty) changed[name] = this.state[name];
    this.dirty.clear();
    this.sendState("update", changed);
  }

  private sendState(method: "update" | "echo_update", values: Record<string, unknown>): void {
    const { state, bufferPaths, buffers } = removeBuffers(values);
    this.comm.send({ method, state, buffer_paths: bufferPaths }, {}, buffers);
  }

  private handle(msg: CommMessage): void {
    const method = msg.data.method;
    if (method === "update") {
      const incoming = { ...((msg.data.state as Record<string, unknown>) ?? {}) };
      putBuffers(incoming, msg.data.buffer_paths, msg.buffers);
      try {
        this.validateUpdate(incoming);
      } catch (error) {
        const current: Record<string, unknown> = {};
        for (const name of Object.keys(incoming)) current[name] = this.state[name];
        this.sendState("update", current);
        throw error;
      }
      // Echo first (protocol 2.1): the frontend then knows the kernel holds these values.
      this.sendState("echo_update", incoming);
      for (const [name, value] of Object.entries(incoming)) {
        if (this.apply(name, value)) this.dirty.delete(name);
      }
      // Observers may have changed other keys: send them now, inside this request.
      this.flush();
    } else if (method === "request_state") {
      this.sendState("update", this.state);
    } else if (method === "custom") {
      const content = (msg.data.content as Record<string, unknown>) ?? {};
      for (const handler of this.customHandlers) handler(content, msg.buffers);
    } else {
      throw new Error(`unknown widget message method ${String(method)}`);
    }
  }
}
