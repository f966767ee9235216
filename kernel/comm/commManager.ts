/**
 * The comm registry: targets that frontends may open, and all open comms. Incoming comm
 * messages are dispatched here, with handler exceptions reported, never fatal.
 */
import { randomUUID } from "node:crypto";
import { kernelLog } from "../log";
import type { Iopub } from "../output/iopub";
import type { Message } from "../wire/message";
import { Comm, type CommMessage } from "./comm";

export type TargetHandler = (comm: Comm, open: CommMessage) => void;

export class CommManager {
  private readonly targets = new Map<string, TargetHandler>();
  private readonly comms = new Map<string, Comm>();

  constructor(private readonly iopub: Iopub) {}

  registerTarget(name: string, handler: TargetHandler): void {
    this.targets.set(name, handler);
  }

  get(id: string): Comm | undefined {
    return this.comms.get(id);
  }

  /** Opens a comm from the kernel side. */
  open(
    targetName: string,
    data: Record<string, unknown> = {},
    metadata: Record<string, unknown> = {},
    buffers: Buffer[] = [],
    id: string = randomUUID().replace(/-/g, ""),
  ): Comm {
    const comm = this.track(new Comm(id, targetName, this.transport));
    this.iopub.publish(
      "comm_open",
      { comm_id: id, target_name: targetName, data },
      { metadata, buffers },
    );
    return comm;
  }

  /** `comm_info_reply.comms`, optionally only one target's. */
  info(targetName?: string): Record<string, { target_name: string }> {
    const out: Record<string, { target_name: string }> = {};
    for (const comm of this.comms.values()) {
      if (!targetName || comm.targetName === targetName)
        out[comm.id] = { target_name: comm.targetName };
    }
    return out;
  }

  handleOpen(msg: Message): void {
    const {
      comm_id: id,
      target_name: target,
      data,
    } = msg.content as {
      comm_id?: unknown;
      target_name?: unknown;
      data?: unknown;
    };
    if (typeof id !== "string" || typeof target !== "string") {
      kernelLog("comm_open without comm_id/target_name ignored");
      return;
    }
    const handler = this.targets.get(target);
    if (!handler) {
      kernelLog(`comm_open for unknown target ${target}: closing ${id}`);
      this.iopub.publish("comm_close", { comm_id: id, data: {} });
      return;
    }
    const comm = this.track(new Comm(id, target, this.transport));
    this.guard(`comm_open ${target}`, () => handler(comm, toCommMessage(msg, data)));
  }

  handleMsg(msg: Message): void {
    const { comm_id: id, data } = msg.content as { comm_id?: unknown; data?: unknown };
    const comm = typeof id === "string" ? this.comms.get(id) : undefined;
    if (!comm) {
      kernelLog(`comm_msg for unknown comm ${String(id)} ignored`);
      return;
    }
    this.guard(`comm_msg ${comm.targetName}`, () => comm.deliver(toCommMessage(msg, data)));
  }

  handleClose(msg: Message): void {
    const { comm_id: id, data } = msg.content as { comm_id?: unknown; data?: unknown };
    const comm = typeof id === "string" ? this.comms.get(id) : undefined;
    if (!comm) {
      kernelLog(`comm_close for unknown comm ${String(id)} ignored`);
      return;
    }
    this.comms.delete(comm.id);
    this.guard(`comm_close ${comm.targetName}`, () => comm.closed(asRecord(data)));
  }

  private readonly transport = {
    send: (
      comm: Comm,
      data: Record<string, unknown>,
      metadata: Record<string, unknown>,
      buffers: Buffer[],
    ) => this.iopub.publish("comm_msg", { comm_id: comm.id, data }, { metadata, buffers }),
    close: (comm: Comm, data: Record<string, unknown>) => {
      this.comms.delete(comm.id);
      this.iopub.publish("comm_close", { comm_id: comm.id, data });
    },
  };

  private track(comm: Comm): Comm {
    this.comms.set(comm.id, comm);
    return comm;
  }

  /** A frontend's message must never take the kernel down: report handler errors on stderr. */
  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
      kernelLog(`${what} handler failed: ${text}`);
      process.stderr.write(`Error in ${what} handler: ${text}\n`);
    }
  }
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function toCommMessage(msg: Message, data: unknown): CommMessage {
  return { data: asRecord(data), metadata: msg.metadata, buffers: msg.buffers, header: msg.header };
}
