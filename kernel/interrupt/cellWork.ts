/**
 * The work cells leave pending — timers, intervals, immediates and awaits — each tied to the cell
 * whose async context started it (work started in a callback belongs to the cell that set up the
 * callback), so an interrupt can stop all of it: a cell's `setInterval` must not keep printing
 * into later cells once the user has pressed interrupt.
 */
import { requestInContext } from "../requestContext";
import type { Message } from "../wire/message";
import { KeyboardInterrupt } from "./keyboardInterrupt";

export type TimerKind = "setTimeout" | "setInterval" | "setImmediate";

/** What one interrupt stopped of one cell's work. */
export interface StoppedWork {
  cell: Message;
  timers: Record<TimerKind, number>;
  awaits: number;
}

interface TrackedTimer {
  cell: Message;
  kind: TimerKind;
  clear: () => void;
}

export class CellWork {
  /** Bumped by each interrupt: a cell started in an earlier generation has been interrupted. */
  private generation = 0;
  private readonly cells = new WeakMap<Message, number>();
  private readonly timers = new Map<object, TrackedTimer>();
  private readonly awaits = new Map<(reason: Error) => void, Message>();

  /** From now on, work started in this cell's async context is tracked. */
  cellStarted(cell: Message): void {
    this.cells.set(cell, this.generation);
  }

  /** The cell whose async context this is, if any (comm handlers and the kernel's own are not). */
  currentCell(): Message | undefined {
    const request = requestInContext();
    return request && this.cells.has(request) ? request : undefined;
  }

  isInterrupted(cell: Message): boolean {
    return (this.cells.get(cell) ?? this.generation) < this.generation;
  }

  /** Records a timer; one made by an interrupted cell's late code is cleared at once. */
  track(cell: Message, handle: object, kind: TimerKind, clear: () => void): void {
    if (this.isInterrupted(cell)) clear();
    else this.timers.set(handle, { cell, kind, clear });
  }

  /** The timer fired (once-only kinds) or was cleared by the cell itself. */
  untrack(handle: unknown): void {
    if (typeof handle === "object" && handle !== null) this.timers.delete(handle);
  }

  /**
   * What a cell's `await value` waits for instead (the cell converter rewrites each await): the
   * value, unless an interrupt comes first, which rejects it with KeyboardInterrupt.
   */
  interruptible(value: unknown): unknown {
    const cell = this.currentCell();
    if (!cell) return value;
    // Code of an interrupted cell that still runs (a catch that retries, a queued callback) stops
    // at its next await: throwing again would turn a retry loop into a busy loop.
    if (this.isInterrupted(cell)) return new Promise(() => {});
    if (!isThenable(value)) return value;
    return new Promise((resolve, reject) => {
      const onInterrupt = (reason: Error) => reject(reason);
      this.awaits.set(onInterrupt, cell);
      Promise.resolve(value).then(
        (result) => {
          this.awaits.delete(onInterrupt);
          resolve(result);
        },
        (error: unknown) => {
          this.awaits.delete(onInterrupt);
          reject(error);
        },
      );
    });
  }

  /**
   * Interrupts every cell started so far: clears their timers, rejects the awaits they wait at
   * with KeyboardInterrupt. Returns what was stopped, per cell.
   */
  interrupt(cause = "the kernel was interrupted"): StoppedWork[] {
    this.generation++;
    const stopped = new Map<Message, StoppedWork>();
    const of = (cell: Message): StoppedWork => {
      let entry = stopped.get(cell);
      if (!entry) {
        entry = { cell, timers: { setTimeout: 0, setInterval: 0, setImmediate: 0 }, awaits: 0 };
        stopped.set(cell, entry);
      }
      return entry;
    };
    const timers = [...this.timers.values()];
    this.timers.clear();
    for (const timer of timers) {
      timer.clear();
      of(timer.cell).timers[timer.kind]++;
    }
    const awaits = [...this.awaits];
    this.awaits.clear();
    for (const [reject, cell] of awaits) {
      reject(new KeyboardInterrupt(cause));
      of(cell).awaits++;
    }
    return [...stopped.values()];
  }
}

/** "1 setInterval, 2 awaits" — empty when nothing was stopped. */
export function describeStopped(work: StoppedWork | undefined): string {
  if (!work) return "";
  const parts = Object.entries(work.timers)
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${n} ${kind}`);
  if (work.awaits > 0) parts.push(`${work.awaits} pending await${work.awaits === 1 ? "" : "s"}`);
  return parts.join(", ");
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}
