/**
 * Watches how full the JavaScript heap stays after each major garbage collection. Running out of
 * heap is not an error Node can recover from: V8 aborts the process and no JavaScript runs, so
 * the kernel could not even reply. It acts earlier instead: when live data fills ALARM of the
 * limit, `onAlarm` runs while a reply can still be sent; and where the native guard is built
 * (heapLimitGuard.ts), also when V8 reaches the limit before a collection reports it. Only between
 * event-loop turns, though: a cell that allocates in one synchronous burst gets no warning.
 */
import { constants, PerformanceObserver } from "node:perf_hooks";
import v8 from "node:v8";
import { watchHeapLimit } from "./heapLimitGuard";

/**
 * Live heap, as a fraction of the limit, that raises the alarm. While live data stays high
 * after one (variables the user keeps), the next alarm waits for STEP more, so a cell that
 * merely runs at that level is not stopped again; falling under REARM starts over.
 */
const ALARM = 0.85;
const STEP = 0.04;
const REARM = 0.7;

export interface HeapUsage {
  usedBytes: number;
  limitBytes: number;
}

export class MemoryWatch {
  private readonly observer: PerformanceObserver;
  private alarmAt = ALARM;
  private unwatchLimit?: () => void;

  constructor(private readonly onAlarm: (heap: HeapUsage) => void) {
    this.observer = new PerformanceObserver((list) => {
      const major = list
        .getEntries()
        .some(
          (e) =>
            (e as { detail?: { kind?: number } }).detail?.kind ===
            constants.NODE_PERFORMANCE_GC_MAJOR,
        );
      if (!major) return;
      const stats = v8.getHeapStatistics();
      const heap = { usedBytes: stats.used_heap_size, limitBytes: stats.heap_size_limit };
      const fraction = heap.usedBytes / heap.limitBytes;
      if (fraction < REARM) this.alarmAt = ALARM;
      if (fraction >= this.alarmAt) {
        this.alarmAt = fraction + STEP;
        onAlarm(heap);
      }
    });
  }

  start(): void {
    this.observer.observe({ entryTypes: ["gc"] });
    const limitBytes = v8.getHeapStatistics().heap_size_limit;
    // At the limit: V8 lent some more heap so that this runs at all.
    this.unwatchLimit = watchHeapLimit((reachedBytes) => {
      this.alarmAt = reachedBytes / limitBytes + STEP;
      this.onAlarm({ usedBytes: reachedBytes, limitBytes });
    });
  }

  stop(): void {
    this.observer.disconnect();
    this.unwatchLimit?.();
    this.unwatchLimit = undefined;
  }
}
