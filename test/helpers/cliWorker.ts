/**
 * A `fairdiff worker` process of the built CLI for tests: its log lines, waiting for one, and
 * stopping it (SIGTERM: finish the job in hand) or killing it outright (SIGKILL: mid-job).
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";

export const BUILT_CLI = path.resolve(__dirname, "../../dist/src/cli/main.js");
export const BUILT_JOB_CHILD = path.resolve(__dirname, "../../dist/src/scale/jobChild.js");

export class CliWorker {
  readonly process: ChildProcess;
  private text = "";
  private readonly waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[]) {
    this.process = spawn(process.execPath, [BUILT_CLI, "worker", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const onData = (chunk: Buffer) => {
      this.text += chunk.toString();
      for (const waiter of [...this.waiters]) {
        const match = this.text.match(waiter.pattern);
        if (match) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve(match);
        }
      }
    };
    this.process.stdout?.on("data", onData);
    this.process.stderr?.on("data", onData);
    this.exited = new Promise((resolve) =>
      this.process.once("exit", (code, signal) => resolve({ code, signal })),
    );
  }

  get log(): string {
    return this.text;
  }

  /** The first match of `pattern` in the log, now or once it appears. */
  waitFor(pattern: RegExp, timeoutMs = 60000): Promise<RegExpMatchArray> {
    const match = this.text.match(pattern);
    if (match) return Promise.resolve(match);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`no ${pattern} in the worker's log within ${timeoutMs} ms:\n${this.text}`),
          ),
        timeoutMs,
      );
      this.waiters.push({
        pattern,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  async stop(signal: NodeJS.Signals = "SIGTERM") {
    if (this.process.exitCode === null && this.process.signalCode === null) {
      this.process.kill(signal);
    }
    return this.exited;
  }
}
