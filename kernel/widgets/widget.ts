/**
 * Kernel side of a Jupyter widget (protocol 2.1.0, ipywidgets 8): one `jupyter.widget` comm per
 * model, synced state with binary buffers, custom messages and change observers. Frontend
 * updates are applied as they arrive — also while a cell's async loop runs — and echoed back;
 * kernel-side changes are coalesced so a tight loop cannot flood iopub.
 */
import type { Comm, CommMessage } from "../comm/comm";
import { runtime } from "../runtime";
import type { MimeBundle, MimeBundleProvider } from "../output/mimeBundle";
import { putBuffers, removeBuffers } from "./buffers";

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

  toMimeBundle(): MimeBundle {
    return {
      "text/plain": `${this.state._model_name}(model_id=${this.modelId})`,
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
