/**
 * Buffers stdout/stderr text so a print loop becomes a few stream messages, not one per write.
 * A chunk is flushed after a short delay, when it changes stream or parent, before any other
 * output, and before a reply. While the rate budget is spent, text waits here; a loop that
 * prints faster than the budget for long would pile up more than it can ever send, so beyond
 * MAX_BACKLOG the oldest waiting lines are dropped and the next chunk says how much was lost
 * (jupyter_server would otherwise drop every message for a while, widgets' included).
 */
import { kernelTimeout } from "../interrupt/kernelTimeout";
import { currentRequest } from "../requestContext";
import type { Message } from "../wire/message";
import type { RateGovernor } from "./rateGovernor";

export type StreamName = "stdout" | "stderr";

const FLUSH_MS = 30;
const MAX_CHUNK = 256 * 1024;
/** Characters that may wait for the budget: a third of the server's 3 MB window. */
export const MAX_BACKLOG = 1024 * 1024;

/** The line that stands for dropped output at the start of the next chunk. */
export function droppedNotice(characters: number): string {
  return `[fairdiff kernel: ${characters} characters of output dropped to stay under Jupyter's iopub data rate limit]\n`;
}

export class StreamBuffer {
  private parent?: Message;
  private name: StreamName = "stdout";
  private text = "";
  private dropped = 0;
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
    if (this.text.length > MAX_BACKLOG) this.dropOldest();
    if (this.text.length >= MAX_CHUNK && this.governor.delayFor(this.text.length) === 0) {
      this.flush();
    } else if (!this.timer) {
      this.timer = kernelTimeout(() => this.timedFlush(), FLUSH_MS);
    }
  }

  /** Bytes a flush would send now (live updates wait for these to fit, since they flush them). */
  pendingBytes(): number {
    return this.text ? Buffer.byteLength(this.text) : 0;
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.text) return;
    const text = (this.dropped > 0 ? droppedNotice(this.dropped) : "") + this.text;
    this.text = "";
    this.dropped = 0;
    this.emit(this.parent, this.name, text);
  }

  /** Keeps the newest half of the backlog, cut at a line start so that lines stay whole. */
  private dropOldest(): void {
    const keepFrom = this.text.length - MAX_BACKLOG / 2;
    const lineStart = this.text.indexOf("\n", keepFrom) + 1;
    const cut = lineStart > 0 ? lineStart : keepFrom;
    this.dropped += cut;
    this.text = this.text.slice(cut);
  }

  private timedFlush(): void {
    this.timer = undefined;
    const wait = this.governor.delayFor(this.pendingBytes());
    if (wait > 0) this.timer = kernelTimeout(() => this.timedFlush(), wait);
    else this.flush();
  }
}
