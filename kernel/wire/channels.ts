/** The five Jupyter channels bound on zeromq sockets, with signed, ordered sends. */
import { Publisher, Router, type Socket } from "zeromq";
import { endpoint, type ConnectionInfo } from "./connection";
import { startHeartbeat, type Heartbeat } from "./heartbeat";
import { decode, encode, WireError, type Message } from "./message";
import { Signer } from "./signer";
import { SocketWriter } from "./socketWriter";

export type ChannelName = "shell" | "control" | "stdin";

export interface ChannelOptions {
  /** Larger incoming messages are dropped before parsing. */
  maxMessageBytes: number;
  log: (line: string) => void;
}

export class Channels {
  readonly signer: Signer;
  private readonly routers: Record<ChannelName, Router>;
  private readonly iopub = new Publisher();
  private readonly writers: Record<ChannelName | "iopub", SocketWriter>;
  private heartbeat?: Heartbeat;
  private closed = false;

  constructor(
    private readonly info: ConnectionInfo,
    private readonly options: ChannelOptions,
  ) {
    this.signer = new Signer(info.key);
    this.routers = { shell: new Router(), control: new Router(), stdin: new Router() };
    const all: Socket[] = [this.iopub, ...Object.values(this.routers)];
    for (const s of all) s.linger = 1000;
    const onError = (error: Error) => {
      if (!this.closed) options.log(`send failed: ${error.message}`);
    };
    this.writers = {
      shell: new SocketWriter(this.routers.shell, onError),
      control: new SocketWriter(this.routers.control, onError),
      stdin: new SocketWriter(this.routers.stdin, onError),
      iopub: new SocketWriter(this.iopub, onError),
    };
  }

  async bind(): Promise<void> {
    const { info } = this;
    await Promise.all([
      this.routers.shell.bind(endpoint(info, info.shell_port)),
      this.routers.control.bind(endpoint(info, info.control_port)),
      this.routers.stdin.bind(endpoint(info, info.stdin_port)),
      this.iopub.bind(endpoint(info, info.iopub_port)),
    ]);
    this.heartbeat = await startHeartbeat(endpoint(info, info.hb_port));
  }

  /** Reads one channel forever; malformed or badly signed messages are logged and dropped. */
  async listen(channel: ChannelName, handle: (msg: Message) => void): Promise<void> {
    for await (const frames of this.routers[channel]) {
      let msg: Message;
      try {
        msg = decode(frames, this.signer, this.options.maxMessageBytes);
      } catch (error) {
        if (!(error instanceof WireError)) throw error;
        this.options.log(`dropped message on ${channel}: ${error.message}`);
        continue;
      }
      handle(msg);
    }
  }

  send(channel: ChannelName | "iopub", msg: Message<unknown>): Promise<void> {
    return this.writers[channel].send(encode(msg, this.signer));
  }

  /** Resolves when every queued send has been handed to zeromq. */
  async drain(): Promise<void> {
    await Promise.all(Object.values(this.writers).map((w) => w.idle()));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of [this.iopub, ...Object.values(this.routers)]) s.close();
    await this.heartbeat?.stop();
  }
}
