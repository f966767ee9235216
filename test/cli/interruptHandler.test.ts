/**
 * The Ctrl-C mechanism itself, in-process: the first SIGINT aborts and says so, the second waits
 * (no exit), the third quits with 130; closing sets exit code 130 only for an interrupted run.
 */
import { INTERRUPTED_EXIT_CODE, interruptOnCtrlC } from "../../src/cli/interrupt";

const savedExitCode = process.exitCode;
afterEach(() => {
  process.exitCode = savedExitCode;
  jest.restoreAllMocks();
});

test("first Ctrl-C aborts, second waits, third quits with 130", () => {
  const lines: string[] = [];
  const exit = jest.spyOn(process, "exit").mockImplementation((() => undefined) as never);
  const interrupt = interruptOnCtrlC("saving state…", (line) => lines.push(line));
  expect(interrupt.signal.aborted).toBe(false);
  process.emit("SIGINT");
  expect(interrupt.signal.aborted).toBe(true);
  expect(interrupt.interrupted).toBe(true);
  expect(lines).toEqual(["\ninterrupted: saving state…"]);
  process.emit("SIGINT");
  expect(exit).not.toHaveBeenCalled();
  expect(lines[1]).toMatch(/still finishing: waiting for it to end cleanly/);
  process.emit("SIGINT");
  expect(exit).toHaveBeenCalledWith(INTERRUPTED_EXIT_CODE);
  interrupt.close();
  expect(process.exitCode).toBe(130);
  // What is left listening only keeps a late Ctrl-C from killing the exiting process.
  const before = lines.length;
  process.emit("SIGINT");
  expect(lines.length).toBe(before);
  expect(exit).toHaveBeenCalledTimes(1);
});

test("a run that was not interrupted keeps exit code 0 and stops listening", () => {
  const before = process.listenerCount("SIGINT");
  const interrupt = interruptOnCtrlC("x", () => {});
  expect(process.listenerCount("SIGINT")).toBe(before + 1);
  interrupt.close();
  expect(process.listenerCount("SIGINT")).toBe(before);
  expect(process.exitCode).toBe(savedExitCode);
});
