/**
 * Coalesces live updates (widget state, update_display_data) per key: the first change goes out
 * at once, later ones within `intervalMs` merge into one message, and the rate governor can
 * postpone a flush further. The latest state always gets out; intermediate states may not.
 * Sending one first flushes the stream text waiting before it (output stays in order), so an
 * update also waits until that text fits the budget: else a print loop that updates a widget
 * would push all its text out past the governor.
 */
import { kernelTimeout } from "../interrupt/kernelTimeout";
import type { RateGovernor } from "./rateGovernor";

interface Entry {
  flush: () => void;
  timer?: NodeJS.Timeout;
}

export class LiveUpdates {
  private readonly pending = new Map<string, Entry>();
  private readonly lastSent = new Map<string, number>();

  constructor(
    private readonly governor: RateGovernor,
    private readonly pendingStreamBytes: () => number = () => 0,
    private readonly intervalMs = 50,
  ) {}

  schedule(key: string, flush: () => void): void {
    const entry = this.pending.get(key);
    if (entry) {
      entry.flush = flush;
      return;
    }
    const fresh: Entry = { flush };
    this.pending.set(key, fresh);
    this.arm(key, fresh);
  }

  /** Sends everything pending now, e.g. before a cell's reply so its final state is shown. */
  flushAll(): void {
    for (const key of [...this.pending.keys()]) this.run(key);
  }

  private arm(key: string, entry: Entry): void {
    const sinceLast = performance.now() - (this.lastSent.get(key) ?? -Infinity);
    const wait = Math.max(this.intervalMs - sinceLast, this.budgetDelay());
    if (wait <= 0) {
      this.run(key);
      return;
    }
    entry.timer = kernelTimeout(() => {
      entry.timer = undefined;
      if (this.budgetDelay() > 0) this.arm(key, entry);
      else this.run(key);
    }, wait);
  }

  private budgetDelay(): number {
    return this.governor.delayFor(this.pendingStreamBytes());
  }

  private run(key: string): void {
    const entry = this.pending.get(key);
    if (!entry) return;
    if (entry.timer) clearTimeout(entry.timer);
    this.pending.delete(key);
    this.lastSent.set(key, performance.now());
    entry.flush();
  }
}
