/**
 * The kernel: dispatches shell/control/stdin requests, wraps each in busy/idle, runs cells one at
 * a time while every other request — comm messages above all — is served immediately, so a
 * frontend can steer a cell's running async loop.
 */
import path from "node:path";
import { inspect as utilInspect } from "node:util";
import * as cellApi from "./cellApi";
import { CommManager } from "./comm/commManager";
import { exitProcess, refuseProcessExit } from "./exitGuard";
import { parseExecuteRequest } from "./executeRequest";
import { AWAIT_HOOK } from "./executor/cellConverter";
import { CellExecutor } from "./executor/cellExecutor";
import {
  heapNearlyFullError,
  interruptedError,
  runtimeError,
  uncaughtInCellError,
} from "./executor/cellError";
import { installFairdiffResolution } from "./executor/fairdiffResolution";
import { packageRoot } from "./executor/packageRoot";
import { ts } from "./executor/typescript";
import { History, type HistoryQuery } from "./history";
import { CellWork, describeStopped } from "./interrupt/cellWork";
import { installCellTimers } from "./interrupt/cellTimers";
import { KeyboardInterrupt } from "./interrupt/keyboardInterrupt";
import { kernelLog } from "./log";
import { MemoryWatch, type HeapUsage } from "./memoryWatch";
import { captureStdio } from "./output/captureStdio";
import { isDisplayCallResult } from "./output/displayCallResult";
import { Iopub } from "./output/iopub";
import { toDisplayPayload } from "./output/mimeBundle";
import { currentRequest, requestInContext, runInRequest } from "./requestContext";
import { setRuntime } from "./runtime";
import { Session } from "./session";
import { StdinRequests } from "./stdinRequests";
import { registerControlTarget } from "./widgets/controlTarget";
import { Channels, type ChannelName } from "./wire/channels";
import type { ConnectionInfo } from "./wire/connection";
import type { Content, Message } from "./wire/message";
import { PROTOCOL_VERSION } from "./wire/message";

const VERSION: string = require(path.join(packageRoot(), "package.json")).version;

export interface KernelOptions {
  connection: ConnectionInfo;
  /** Directory cells resolve relative imports from (the notebook's). */
  rootDir: string;
  maxMessageBytes?: number;
}

type Handler = (msg: Message) => Content | Promise<Content>;

export class Kernel {
  private readonly channels: Channels;
  private readonly session: Session;
  private readonly iopub: Iopub;
  private readonly comms: CommManager;
  private readonly stdin: StdinRequests;
  private readonly history = new History();
  /** Timers and awaits cells left pending, for interrupts to stop. */
  private readonly work = new CellWork();
  private readonly memoryWatch = new MemoryWatch((heap) => this.onHeapNearlyFull(heap));
  private executor!: CellExecutor;
  private executionCount = 0;
  private readonly queue: Message[] = [];
  private running?: Message;
  private abort = new AbortController();
  private readonly shellHandlers: Record<string, Handler>;

  constructor(private readonly options: KernelOptions) {
    this.channels = new Channels(options.connection, {
      maxMessageBytes: options.maxMessageBytes ?? 256 * 1024 * 1024,
      log: kernelLog,
    });
    this.session = new Session(this.channels);
    this.iopub = new Iopub(this.session);
    this.comms = new CommManager(this.iopub);
    this.stdin = new StdinRequests(this.session);
    this.shellHandlers = {
      kernel_info_request: () => this.kernelInfo(),
      complete_request: (m) => this.complete(m),
      inspect_request: (m) => this.inspect(m),
      is_complete_request: (m) => this.executor.isComplete(String(m.content.code ?? "")),
      history_request: (m) => ({
        status: "ok",
        history: this.history.query(m.content as HistoryQuery),
      }),
      comm_info_request: (m) => ({
        status: "ok",
        comms: this.comms.info(m.content.target_name as string | undefined),
      }),
      comm_open: (m) => (this.comms.handleOpen(m), {}),
      comm_msg: (m) => (this.comms.handleMsg(m), {}),
      comm_close: (m) => (this.comms.handleClose(m), {}),
      connect_request: () => ({
        status: "ok",
        shell_port: options.connection.shell_port,
        iopub_port: options.connection.iopub_port,
        stdin_port: options.connection.stdin_port,
        hb_port: options.connection.hb_port,
        control_port: options.connection.control_port,
      }),
    };
  }

  async start(): Promise<void> {
    await this.channels.bind();
    this.iopub.status("starting");
    setRuntime({
      iopub: this.iopub,
      comms: this.comms,
      abortSignal: () => this.abort.signal,
      input: (prompt, password) => {
        const request = currentRequest();
        const execute = request?.header.msg_type === "execute_request" ? request : this.running;
        if (!execute) return Promise.reject(new Error("input() outside a running cell"));
        return this.stdin.ask(execute, prompt, password, this.abort.signal);
      },
    });
    registerControlTarget(this.comms);
    installFairdiffResolution();
    installCellTimers(this.work);
    const names = Object.keys(cellApi);
    const globals = Object.fromEntries(
      names.map((n) => [n, (cellApi as Record<string, unknown>)[n]]),
    );
    this.executor = new CellExecutor(
      this.options.rootDir,
      { ...globals, [AWAIT_HOOK]: (value: unknown) => this.work.interruptible(value) },
      cellApi.cellGlobalsDeclaration(names, require.resolve("./cellApi").replace(/\.[jt]s$/, "")),
    );
    captureStdio(this.iopub.streams);
    this.guardProcess();
    this.iopub.status("idle");
    void this.channels.listen("shell", (m) => this.onRequest("shell", m));
    void this.channels.listen("control", (m) => this.onRequest("control", m));
    void this.channels.listen("stdin", (m) => this.stdin.receive(m));
  }

  private onRequest(channel: ChannelName, msg: Message): void {
    runInRequest(msg, () => {
      const type = msg.header.msg_type;
      if (type === "execute_request") {
        this.queue.push(msg);
        if (!this.running) void this.drainQueue();
      } else if (type === "shutdown_request") {
        void this.shutdown(channel, msg);
      } else if (type === "interrupt_request") {
        this.busyIdle(channel, msg, () => {
          this.interrupt();
          return { status: "ok" };
        });
      } else {
        this.busyIdle(channel, msg, this.shellHandlers[type]);
      }
    });
  }

  /** busy → handler → reply → idle, all with the request as parent; always replies to *_request. */
  private async busyIdle(channel: ChannelName, msg: Message, handler: Handler | undefined) {
    const type = msg.header.msg_type;
    this.iopub.status("busy", msg);
    let content: Content | undefined;
    try {
      if (!handler) kernelLog(`unknown message type ${type} on ${channel} ignored`);
      else content = await handler(msg);
    } catch (error) {
      kernelLog(`${type} failed: ${(error as Error).stack ?? String(error)}`);
      content = { status: "error", ...runtimeError(error) };
    }
    this.iopub.live.flushAll();
    if (type.endsWith("_request")) {
      await this.session.reply(
        channel,
        msg,
        type.replace(/_request$/, "_reply"),
        content ?? { status: "error", ename: "UnknownMessageType", evalue: type, traceback: [] },
      );
    }
    this.iopub.status("idle", msg);
    // Keep the frontend's indicator truthful while a cell still runs.
    if (this.running && this.running !== msg) this.iopub.status("busy", this.running);
  }

  private async drainQueue(): Promise<void> {
    while (this.queue.length > 0) {
      const msg = this.queue.shift() as Message;
      this.running = msg;
      const failed = await runInRequest(msg, () => this.execute(msg));
      this.running = undefined;
      if (failed && msg.content.stop_on_error !== false) this.abortQueue();
    }
  }

  /** Runs one cell; returns whether it failed. */
  private async execute(msg: Message): Promise<boolean> {
    const parsed = parseExecuteRequest(msg.content);
    this.iopub.status("busy", msg);
    if (!parsed.ok) {
      // Refused before anything runs: no execute_input, the execution count stays as it is.
      this.iopub.publish("error", { ...parsed.error });
      await this.session.reply("shell", msg, "execute_reply", {
        status: "error",
        execution_count: this.executionCount,
        ...parsed.error,
      });
      this.iopub.status("idle", msg);
      return true;
    }
    const { code, silent, storeHistory: store } = parsed.request;
    if (store) this.executionCount++;
    const count = this.executionCount;
    if (!silent) this.iopub.publish("execute_input", { code, execution_count: count });
    this.abort = new AbortController();
    this.work.cellStarted(msg);
    const outcome = await this.executor.run(code);
    let reply: Content;
    let output: string | undefined;
    if (outcome.status === "ok") {
      for (const warning of outcome.warnings) process.stderr.write(`${warning}\n`);
      if (outcome.hasValue && !silent && !isDisplayCallResult(code, outcome.value)) {
        const payload = toDisplayPayload(outcome.value);
        output = String(payload.data["text/plain"]);
        this.iopub.publish("execute_result", { execution_count: count, ...payload });
      }
      reply = { status: "ok", execution_count: count, payload: [], user_expressions: {} };
    } else {
      // A SIGINT that broke synchronous code bypassed interrupt(): stop what cells left pending.
      const error = outcome.bySigint
        ? interruptedError(this.stopCellWork("interrupted"))
        : outcome.error;
      this.iopub.publish("error", { ...error });
      reply = { status: "error", execution_count: count, ...error };
    }
    if (store) this.history.add({ line: count, input: code, output });
    this.iopub.live.flushAll();
    this.iopub.streams.flush();
    await this.session.reply("shell", msg, "execute_reply", reply);
    this.iopub.status("idle", msg);
    return outcome.status === "error";
  }

  /** After a failed cell with stop_on_error, the cells queued behind it are not run. */
  private abortQueue(): void {
    for (const msg of this.queue.splice(0)) {
      runInRequest(msg, () => {
        this.iopub.status("busy", msg);
        void this.session.reply("shell", msg, "execute_reply", {
          status: "aborted",
          execution_count: this.executionCount,
        });
        this.iopub.status("idle", msg);
      });
    }
  }

  /** Interrupt (SIGINT or interrupt_request): the running cell fails, and cells' pending work stops. */
  interrupt(): void {
    kernelLog("interrupt");
    this.executor.end(interruptedError(this.stopCellWork("interrupted")));
  }

  /** Running out of heap would end the kernel with no reply: stop the cells' work first. */
  private onHeapNearlyFull(heap: HeapUsage): void {
    kernelLog(`heap nearly full: ${heap.usedBytes} of ${heap.limitBytes} bytes live`);
    const stopped = this.stopCellWork("the kernel's heap is nearly full");
    this.executor.end(heapNearlyFullError(heap.usedBytes, heap.limitBytes, stopped));
  }

  /**
   * Stops everything cells left pending (timers, awaits, the abort signal). Cells that already
   * replied get a stderr line saying what of theirs was stopped and why; the running cell's
   * share is returned (described) for its reply.
   */
  private stopCellWork(cause: string): string {
    this.iopub.streams.flush(); // what was printed before this goes out before it
    const stopped = this.work.interrupt(cause);
    this.abort.abort(new KeyboardInterrupt(cause));
    for (const work of stopped) {
      if (work.cell === this.running) continue;
      const text = `[fairdiff kernel: ${cause}: stopped ${describeStopped(work)} this cell had left running]\n`;
      this.iopub.publish("stream", { name: "stderr", text }, { parent: work.cell });
    }
    return describeStopped(stopped.find((work) => work.cell === this.running));
  }

  private async shutdown(channel: ChannelName, msg: Message): Promise<void> {
    const restart = msg.content.restart === true;
    this.iopub.status("busy", msg);
    const content = { status: "ok", restart };
    await this.session.reply(channel, msg, "shutdown_reply", content);
    this.iopub.publish("shutdown_reply", content);
    this.iopub.status("idle", msg);
    await this.stop();
  }

  /** zeromq aborts the process if it exits with sockets open or sends in flight: drain, close. */
  async stop(): Promise<never> {
    this.abort.abort(new Error("kernel shutting down"));
    await this.channels.drain();
    await this.channels.close();
    this.executor.close();
    exitProcess(0);
  }

  private kernelInfo(): Content {
    return {
      status: "ok",
      protocol_version: PROTOCOL_VERSION,
      implementation: "fairdiff",
      implementation_version: VERSION,
      language_info: {
        name: "typescript",
        version: ts.version,
        mimetype: "text/typescript",
        file_extension: ".ts",
        codemirror_mode: { name: "javascript", typescript: true },
        pygments_lexer: "typescript",
      },
      banner: `fairdiff ${VERSION} — TypeScript (tslab executor, TypeScript ${ts.version}) on Node ${process.version}`,
      help_links: [{ text: "fairdiff", url: "https://www.npmjs.com/package/fairdiff" }],
      debugger: false,
    };
  }

  private complete(msg: Message): Content {
    const code = String(msg.content.code ?? "");
    const cursor = Number(msg.content.cursor_pos ?? code.length);
    const c = this.executor.complete(code, cursor);
    return {
      status: "ok",
      matches: c.matches,
      cursor_start: c.start,
      cursor_end: c.end,
      metadata: {},
    };
  }

  private inspect(msg: Message): Content {
    const code = String(msg.content.code ?? "");
    const cursor = Number(msg.content.cursor_pos ?? code.length);
    const text = this.executor.inspect(code, cursor);
    return {
      status: "ok",
      found: text !== undefined,
      data: text === undefined ? {} : { "text/plain": text },
      metadata: {},
    };
  }

  /** Cell code can neither exit the kernel nor kill it with a stray error; the kernel keeps serving. */
  private guardProcess(): void {
    refuseProcessExit();
    process.on("SIGINT", () => this.interrupt());
    process.on("SIGTERM", () => void this.stop());
    process.on("unhandledRejection", (reason) => this.onStrayError(reason, "rejection"));
    process.on("uncaughtException", (error) => this.onStrayError(error, "exception"));
    this.memoryWatch.start();
  }

  /**
   * An error no code caught. From the running cell (its async context), it ends that cell, which
   * would otherwise wait forever for a callback that threw; from anywhere else, it goes to stderr.
   */
  private onStrayError(error: unknown, kind: "exception" | "rejection"): void {
    // Background loops an interrupt stopped are expected to leave this rejection unhandled.
    if (error instanceof KeyboardInterrupt) return;
    if (this.running && requestInContext() === this.running && this.executor.running) {
      this.executor.end(uncaughtInCellError(error, kind));
      return;
    }
    const label = kind === "exception" ? "Uncaught exception" : "Unhandled promise rejection";
    process.stderr.write(`${label}: ${describe(error)}\n`);
  }
}

function describe(value: unknown): string {
  return value instanceof Error ? (value.stack ?? value.message) : utilInspect(value);
}
