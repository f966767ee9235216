/**
 * Buffers stdout/stderr text so a print loop becomes a few stream messages, not one per write.
 * A chunk is flushed after a short delay, when it changes stream or parent, before any other
 * output, and before a reply.
 */
import { currentRequest } from "../requestContext";
import type { Message } from "../wire/message";
import type { RateGovernor } from "./rateGovernor";

export type StreamName = "stdout" | "stderr";

const FLUSH_MS = 30;
const MAX_CHUNK = 256 * 1024;

export class StreamBuffer {
  private parent?: Message;
  private name: StreamName = "stdout";
  private text = "";
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly governor: RateGovernor,
    private readonly emit: (parent: Message | undefined, name: StreamName, text: string) => void,
  ) {}

  write(name: StreamName, text: string): void {
    if (!text) return;
    const parent = currentRequest();
    if (this.text && (name !== this.name || parent !== this.parent)) this.flush();
    this.name = name;
    this.parent = parent;
    this.text += text;
    if (this.text.length >= MAX_CHUNK && this.governor.delayFor(this.text.length) === 0) {
      this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.timedFlush(), FLUSH_MS);
    }
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.text) return;
    const text = this.text;
    this.text = "";
    this.emit(this.parent, this.name, text);
  }

  private timedFlush(): void {
    this.timer = undefined;
    const wait = this.governor.delayFor(Buffer.byteLength(this.text));
    if (wait > 0) this.timer = setTimeout(() => this.timedFlush(), wait);
    else this.flush();
  }
}
