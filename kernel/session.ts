/** Builds and sends messages as this kernel's session (identity, username, parent linkage). */
import { randomUUID } from "node:crypto";
import type { ChannelName, Channels } from "./wire/channels";
import { newHeader, type Content, type Message } from "./wire/message";

export interface SendOptions {
  parent?: Message;
  identities?: Buffer[];
  metadata?: Record<string, unknown>;
  buffers?: Buffer[];
}

export class Session {
  readonly id = randomUUID();
  private readonly username = "fairdiff";

  constructor(readonly channels: Channels) {}

  make(msgType: string, content: Content, options: SendOptions = {}): Message {
    return {
      identities: options.identities ?? [],
      header: newHeader(msgType, this.id, this.username),
      parent_header: options.parent?.header ?? {},
      metadata: options.metadata ?? {},
      content,
      buffers: options.buffers ?? [],
    };
  }

  send(
    channel: ChannelName | "iopub",
    msgType: string,
    content: Content,
    options: SendOptions = {},
  ) {
    const identities =
      channel === "iopub" ? [Buffer.from(`kernel.${this.id}.${msgType}`)] : options.identities;
    return this.channels.send(channel, this.make(msgType, content, { ...options, identities }));
  }

  /** A reply goes back to the requester's identities on the request's channel. */
  reply(channel: ChannelName, request: Message, msgType: string, content: Content) {
    return this.send(channel, msgType, content, {
      parent: request,
      identities: request.identities,
    });
  }
}
