/**
 * Output that waits for the iopub rate budget: widget updates wait for the stream text they
 * would flush, and a backlog larger than the kernel may hold drops its oldest lines visibly.
 */
import { LiveUpdates } from "../../kernel/output/liveUpdates";
import { RateGovernor } from "../../kernel/output/rateGovernor";
import { MAX_BACKLOG, StreamBuffer, droppedNotice } from "../../kernel/output/streamBuffer";

const budget = { windowMs: 1000, messagesPerSecond: 100, streamBytesPerSecond: 1000 };

test("a backlog over MAX_BACKLOG keeps the newest whole lines and says how much it dropped", () => {
  // A budget already spent: nothing leaves until the forced flush at the end.
  const governor = new RateGovernor(budget, () => 0);
  governor.record("stream", 1000);
  const sent: string[] = [];
  const streams = new StreamBuffer(governor, (_parent, _name, text) => sent.push(text));
  const line = (i: number) => `line ${String(i).padStart(7, "0")} ${"x".repeat(80)}\n`;
  let written = "";
  for (let i = 0; written.length < 3 * MAX_BACKLOG; i++) {
    streams.write("stdout", line(i));
    written += line(i);
  }
  expect(streams.pendingBytes()).toBeLessThanOrEqual(MAX_BACKLOG);
  streams.flush();
  expect(sent).toHaveLength(1);
  const match = /^\[fairdiff kernel: (\d+) characters of output dropped/.exec(sent[0]);
  expect(match).not.toBeNull();
  const dropped = Number(match![1]);
  const kept = sent[0].slice(droppedNotice(dropped).length);
  // Nothing is lost silently: dropped + kept is everything written, and kept is its tail.
  expect(dropped + kept.length).toBe(written.length);
  expect(written.endsWith(kept)).toBe(true);
  expect(kept.startsWith("line ")).toBe(true);
  expect(kept.length).toBeGreaterThanOrEqual(MAX_BACKLOG / 2 - line(0).length);
  // The next chunk starts clean.
  streams.write("stdout", "after\n");
  streams.flush();
  expect(sent[1]).toBe("after\n");
});

test("a live update waits until the stream text it flushes first fits the budget", () => {
  jest.useFakeTimers();
  try {
    let now = 0;
    const governor = new RateGovernor(budget, () => now);
    let pending = 0;
    const live = new LiveUpdates(governor, () => pending, 0);
    const runs: number[] = [];
    // Room for 1000 bytes per window: 600 sent, 600 more waiting does not fit.
    governor.record("stream", 600);
    pending = 600;
    live.schedule("widget:a", () => runs.push(now));
    expect(runs).toEqual([]);
    // The first bytes leave the window after 1000 ms; then the update (and its text) may go.
    now = 1001;
    jest.advanceTimersByTime(1001);
    expect(runs).toEqual([1001]);
    // With no text waiting, an update goes out at once.
    pending = 0;
    live.schedule("widget:b", () => runs.push(now));
    expect(runs).toEqual([1001, 1001]);
  } finally {
    jest.useRealTimers();
  }
});
