/** One end of a Jupyter comm: a bidirectional channel between kernel code and a frontend model. */
import type { Header } from "../wire/message";

export interface CommMessage {
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  buffers: Buffer[];
  header: Header;
}

export interface CommTransport {
  send(
    comm: Comm,
    data: Record<string, unknown>,
    metadata: Record<string, unknown>,
    buffers: Buffer[],
  ): void;
  close(comm: Comm, data: Record<string, unknown>): void;
}

export class Comm {
  private readonly messageHandlers: ((msg: CommMessage) => void)[] = [];
  private readonly closeHandlers: ((data: Record<string, unknown>) => void)[] = [];
  private open = true;

  constructor(
    readonly id: string,
    readonly targetName: string,
    private readonly transport: CommTransport,
  ) {}

  get isOpen(): boolean {
    return this.open;
  }

  send(
    data: Record<string, unknown>,
    metadata: Record<string, unknown> = {},
    buffers: Buffer[] = [],
  ) {
    if (!this.open) throw new Error(`comm ${this.id} (${this.targetName}) is closed`);
    this.transport.send(this, data, metadata, buffers);
  }

  /** Closes from the kernel side and tells the frontend. */
  close(data: Record<string, unknown> = {}): void {
    if (!this.open) return;
    this.transport.close(this, data);
    this.closed(data);
  }

  onMessage(handler: (msg: CommMessage) => void): void {
    this.messageHandlers.push(handler);
  }

  onClose(handler: (data: Record<string, unknown>) => void): void {
    this.closeHandlers.push(handler);
  }

  /** Called by the manager for each incoming comm_msg. */
  deliver(msg: CommMessage): void {
    for (const handler of this.messageHandlers) handler(msg);
  }

  /** Called when either side closes it. */
  closed(data: Record<string, unknown>): void {
    if (!this.open) return;
    this.open = false;
    for (const handler of this.closeHandlers) handler(data);
  }
}
