/**
 * The one way onto iopub: keeps streams ordered before any other output, counts traffic for the
 * rate governor, and attributes each message to the request it belongs to.
 */
import { currentRequest } from "../requestContext";
import type { Session } from "../session";
import type { Content, Message } from "../wire/message";
import { LiveUpdates } from "./liveUpdates";
import { RateGovernor } from "./rateGovernor";
import { StreamBuffer } from "./streamBuffer";

export interface PublishOptions {
  parent?: Message;
  buffers?: Buffer[];
  metadata?: Record<string, unknown>;
}

export class Iopub {
  readonly governor = new RateGovernor();
  readonly streams: StreamBuffer;
  readonly live: LiveUpdates;

  constructor(private readonly session: Session) {
    this.streams = new StreamBuffer(this.governor, (parent, name, text) =>
      this.send("stream", { name, text }, { parent }, Buffer.byteLength(text)),
    );
    this.live = new LiveUpdates(this.governor, () => this.streams.pendingBytes());
  }

  publish(msgType: string, content: Content, options: PublishOptions = {}): void {
    this.streams.flush();
    this.send(msgType, content, options, 0);
  }

  status(state: "busy" | "idle" | "starting", parent?: Message): void {
    this.publish("status", { execution_state: state }, { parent });
  }

  private send(msgType: string, content: Content, options: PublishOptions, bytes: number) {
    this.governor.record(msgType, bytes);
    void this.session.send("iopub", msgType, content, {
      parent: options.parent ?? currentRequest(),
      buffers: options.buffers,
      metadata: options.metadata,
    });
  }
}
