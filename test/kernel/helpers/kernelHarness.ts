/**
 * Starts the built kernel (dist/kernel/main.js) as a real process and talks to it over zeromq
 * like a Jupyter frontend: signed requests, replies, and the iopub messages of each request.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { existsSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Dealer, Subscriber } from "zeromq";
import { writeLocalConnectionFile } from "../../../kernel/wire/localConnection";

export const ROOT = path.resolve(__dirname, "..", "..", "..");
export const KERNEL_MAIN = path.join(ROOT, "dist", "kernel", "main.js");

export interface Msg {
  header: { msg_id: string; msg_type: string; session: string; date: string; version: string };
  parent_header: { msg_id?: string; msg_type?: string };
  metadata: Record<string, unknown>;
  content: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  buffers: Buffer[];
}

export type Channel = "shell" | "control" | "stdin";

export interface KernelOptions {
  cwd?: string;
  env?: Record<string, string>;
}

export class KernelHarness {
  readonly key = randomUUID();
  readonly session = randomUUID();
  process!: ChildProcess;
  stderr = "";
  private sockets!: Record<Channel, Dealer>;
  private iopubSocket!: Subscriber;
  /** Every iopub message received, in order. */
  readonly iopub: Msg[] = [];
  private readonly waiters: { test: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  private readonly replies = new Map<string, (m: Msg) => void>();
  readonly stdinRequests: Msg[] = [];
  ports!: number[];

  static async start(options: KernelOptions = {}): Promise<KernelHarness> {
    const k = new KernelHarness();
    await k.launch(options);
    return k;
  }

  private async launch(options: KernelOptions): Promise<void> {
    if (!existsSync(KERNEL_MAIN))
      throw new Error(`${KERNEL_MAIN} missing: run npm run build first`);
    const dir = mkdtempSync(path.join(os.tmpdir(), "fairdiff-kernel-"));
    const file = path.join(dir, "connection.json");
    const info = await writeLocalConnectionFile(file, this.key);
    this.ports = [
      info.shell_port,
      info.control_port,
      info.iopub_port,
      info.stdin_port,
      info.hb_port,
    ];
    const [shell, control, iopub, stdin] = this.ports;
    this.process = spawn(process.execPath, [KERNEL_MAIN, file], {
      cwd: options.cwd ?? dir,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.process.stderr?.on("data", (d: Buffer) => (this.stderr += d.toString()));
    this.process.stdout?.on("data", (d: Buffer) => (this.stderr += d.toString()));
    const identity = Buffer.from(this.session);
    this.sockets = {
      shell: new Dealer({ routingId: identity.toString() }),
      control: new Dealer(),
      stdin: new Dealer({ routingId: identity.toString() }),
    };
    this.sockets.shell.connect(`tcp://127.0.0.1:${shell}`);
    this.sockets.control.connect(`tcp://127.0.0.1:${control}`);
    this.sockets.stdin.connect(`tcp://127.0.0.1:${stdin}`);
    this.iopubSocket = new Subscriber();
    this.iopubSocket.connect(`tcp://127.0.0.1:${iopub}`);
    this.iopubSocket.subscribe();
    for (const s of [...Object.values(this.sockets), this.iopubSocket]) s.linger = 0;
    void this.readLoop(this.iopubSocket, (m) => this.onIopub(m));
    for (const channel of ["shell", "control"] as const) {
      void this.readLoop(this.sockets[channel], (m) =>
        this.replies.get(m.parent_header.msg_id ?? "")?.(m),
      );
    }
    void this.readLoop(this.sockets.stdin, (m) => this.stdinRequests.push(m));
    // Ready once kernel_info is answered (iopub subscription is in place by then too).
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await this.request("kernel_info_request", {}, { timeoutMs: 1000 });
        break;
      } catch (error) {
        if (Date.now() > deadline || this.process.exitCode !== null) {
          throw new Error(`kernel did not start: ${(error as Error).message}\n${this.stderr}`);
        }
      }
    }
  }

  sign(frames: Buffer[]): string {
    const hmac = createHmac("sha256", this.key);
    for (const f of frames) hmac.update(f);
    return hmac.digest("hex");
  }

  /** Sends raw frames after the delimiter (for malformed-message tests). */
  async sendRaw(channel: Channel, frames: Buffer[]): Promise<void> {
    await this.sockets[channel].send([Buffer.from("<IDS|MSG>"), ...frames]);
  }

  frames(
    msgType: string,
    content: unknown,
    buffers: Buffer[] = [],
  ): { id: string; frames: Buffer[] } {
    const id = randomUUID();
    const header = {
      msg_id: id,
      msg_type: msgType,
      username: "test",
      session: this.session,
      date: new Date().toISOString(),
      version: "5.3",
    };
    const json = [header, {}, {}, content].map((p) => Buffer.from(JSON.stringify(p)));
    return { id, frames: [Buffer.from(this.sign(json)), ...json, ...buffers] };
  }

  /** Sends a message; resolves with its id once queued. */
  async send(channel: Channel, msgType: string, content: unknown, buffers: Buffer[] = []) {
    const { id, frames } = this.frames(msgType, content, buffers);
    await this.sendRaw(channel, frames);
    return id;
  }

  /** Sends a request and waits for its reply. */
  async request(
    msgType: string,
    content: unknown,
    options: { channel?: Channel; timeoutMs?: number; buffers?: Buffer[] } = {},
  ): Promise<Msg> {
    const { id, frames } = this.frames(msgType, content, options.buffers);
    const reply = this.awaitReply(id, msgType, options.timeoutMs ?? 30000);
    await this.sendRaw(options.channel ?? "shell", frames);
    return reply;
  }

  private awaitReply(id: string, msgType: string, timeoutMs: number): Promise<Msg> {
    return new Promise<Msg>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.replies.delete(id);
        reject(new Error(`no reply to ${msgType} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.replies.set(id, (m) => {
        clearTimeout(timer);
        this.replies.delete(id);
        resolve(m);
      });
    });
  }

  /** Messages on iopub whose parent is `msgId`, up to and including its idle status. */
  async outputs(msgId: string, timeoutMs = 30000): Promise<Msg[]> {
    await this.waitFor(
      (m) =>
        m.parent_header.msg_id === msgId &&
        m.header.msg_type === "status" &&
        m.content.execution_state === "idle",
      timeoutMs,
    );
    return this.iopub.filter((m) => m.parent_header.msg_id === msgId);
  }

  /** Runs a cell: its reply and its iopub messages (busy … idle). */
  async execute(code: string, extra: Record<string, unknown> = {}, timeoutMs = 30000) {
    return (await this.startExecute(code, extra, timeoutMs)).done;
  }

  /**
   * Sends a cell and resolves once it is on its way, with its msg id (to wait for its
   * execute_input, i.e. the kernel has started it) and `done`: its reply and iopub messages.
   */
  async startExecute(code: string, extra: Record<string, unknown> = {}, timeoutMs = 30000) {
    const { id, frames } = this.frames("execute_request", {
      code,
      silent: false,
      store_history: true,
      user_expressions: {},
      allow_stdin: false,
      stop_on_error: true,
      ...extra,
    });
    const reply = this.awaitReply(id, "execute_request", timeoutMs);
    reply.catch(() => {}); // observed through `done`
    await this.sendRaw("shell", frames);
    const done = reply.then(async (r) => ({
      reply: r,
      outputs: await this.outputs(id, timeoutMs),
    }));
    return { id, done };
  }

  /** Resolves when the kernel has started the cell `msgId` (its execute_input is out). */
  started(msgId: string, timeoutMs = 30000): Promise<Msg> {
    return this.waitFor(
      (m) => m.parent_header.msg_id === msgId && m.header.msg_type === "execute_input",
      timeoutMs,
    );
  }

  /**
   * Waits until the kernel is idle and can run cells, interrupting whatever a failed test left
   * running (a spinning cell, a pending sleep), so one slow test does not fail the next.
   */
  async settle(timeoutMs = 60000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      try {
        const probe = await this.execute("0", { silent: true, stop_on_error: false }, 5000);
        if (probe.reply.content.status === "ok") return;
      } catch {
        // still busy: interrupt below
      }
      if (!this.alive()) throw new Error(`kernel died:\n${this.stderr}`);
      this.process.kill("SIGINT");
      await this.request("interrupt_request", {}, { channel: "control", timeoutMs: 5000 }).catch(
        () => {},
      );
    }
    throw new Error(`kernel still busy after ${timeoutMs} ms`);
  }

  /** Waits for an iopub message matching `test` (already received ones count). */
  waitFor(test: (m: Msg) => boolean, timeoutMs = 30000): Promise<Msg> {
    const seen = this.iopub.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error("timed out waiting for an iopub message")),
        timeoutMs,
      );
      this.waiters.push({
        test,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  /** Resolves with the next stdin-channel message (input_request). */
  async nextStdin(timeoutMs = 10000): Promise<Msg> {
    const start = this.stdinRequests.length;
    const deadline = Date.now() + timeoutMs;
    while (this.stdinRequests.length === start) {
      if (Date.now() > deadline) throw new Error("no stdin message");
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.stdinRequests[start];
  }

  alive(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  async stop(): Promise<void> {
    if (this.alive()) {
      const exited = new Promise((r) => this.process.once("exit", r));
      await this.request(
        "shutdown_request",
        { restart: false },
        { channel: "control", timeoutMs: 5000 },
      ).catch(() => this.process.kill("SIGKILL"));
      // unref: a kernel that exits at once must not leave a 5 s timer holding the test worker.
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000).unref())]);
      if (this.alive()) this.process.kill("SIGKILL");
    }
    for (const s of [...Object.values(this.sockets), this.iopubSocket]) s.close();
  }

  private onIopub(m: Msg): void {
    this.iopub.push(m);
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.waiters[i].test(m)) {
        this.waiters[i].resolve(m);
        this.waiters.splice(i, 1);
      }
    }
  }

  private async readLoop(socket: Dealer | Subscriber, handle: (m: Msg) => void): Promise<void> {
    try {
      for await (const frames of socket) {
        const at = frames.findIndex((f) => f.toString() === "<IDS|MSG>");
        const json = frames.slice(at + 2, at + 6);
        if (frames[at + 1].toString() !== this.sign(json))
          throw new Error("kernel sent a bad signature");
        const [header, parent_header, metadata, content] = json.map((f) =>
          JSON.parse(f.toString()),
        );
        handle({ header, parent_header, metadata, content, buffers: frames.slice(at + 6) });
      }
    } catch (error) {
      if (!/closed|terminated/i.test((error as Error).message)) throw error;
    }
  }
}

export const types = (msgs: Msg[]): string[] => msgs.map((m) => m.header.msg_type);
