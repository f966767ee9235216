/**
 * Keeps iopub traffic under jupyter_server's rate limits (messages and stream bytes counted over a
 * sliding 3 s window; status, comm_open and execute_input are not counted). We budget half of the
 * server's defaults (1000 msg/s, 1 MB/s) so bursts from several sources still fit.
 */
export interface RateBudget {
  windowMs: number;
  messagesPerSecond: number;
  streamBytesPerSecond: number;
}

export const DEFAULT_BUDGET: RateBudget = {
  windowMs: 3000,
  messagesPerSecond: 500,
  streamBytesPerSecond: 500_000,
};

const UNCOUNTED = new Set(["status", "comm_open", "execute_input"]);

export class RateGovernor {
  private readonly sent: { at: number; bytes: number }[] = [];
  private head = 0;
  private messages = 0;
  private bytes = 0;

  constructor(
    private readonly budget: RateBudget = DEFAULT_BUDGET,
    private readonly now: () => number = () => performance.now(),
  ) {}

  record(msgType: string, streamBytes: number): void {
    if (UNCOUNTED.has(msgType)) return;
    this.expire();
    this.sent.push({ at: this.now(), bytes: streamBytes });
    this.messages++;
    this.bytes += streamBytes;
  }

  /** Milliseconds to wait before one more message of `streamBytes` fits the budget (0: now). */
  delayFor(streamBytes: number): number {
    this.expire();
    const maxMessages = (this.budget.messagesPerSecond * this.budget.windowMs) / 1000;
    const maxBytes = (this.budget.streamBytesPerSecond * this.budget.windowMs) / 1000;
    if (this.messages + 1 <= maxMessages && this.bytes + streamBytes <= maxBytes) return 0;
    if (this.head >= this.sent.length) return 0;
    // Wait until the oldest counted message leaves the window.
    return Math.max(1, this.sent[this.head].at + this.budget.windowMs - this.now());
  }

  private expire(): void {
    const cutoff = this.now() - this.budget.windowMs;
    while (this.head < this.sent.length && this.sent[this.head].at <= cutoff) {
      this.messages--;
      this.bytes -= this.sent[this.head].bytes;
      this.head++;
    }
    if (this.head > 4096 && this.head * 2 > this.sent.length) {
      this.sent.splice(0, this.head);
      this.head = 0;
    }
  }
}
