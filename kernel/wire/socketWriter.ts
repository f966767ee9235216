/** zeromq 6 allows one pending send per socket: queue the rest in order. */
import type { Writable } from "zeromq";

export class SocketWriter {
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly socket: Writable,
    private readonly onError: (error: Error) => void,
  ) {}

  idle(): Promise<void> {
    return this.tail;
  }

  send(frames: Buffer[]): Promise<void> {
    this.tail = this.tail
      .then(() => this.socket.send(frames))
      .catch((error: Error) => this.onError(error));
    return this.tail;
  }
}
