/** input_request / input_reply over the stdin channel, to the frontend that sent the cell. */
import type { Session } from "./session";
import type { Message } from "./wire/message";

export class StdinRequests {
  private pending?: { resolve: (value: string) => void; reject: (error: Error) => void };

  constructor(private readonly session: Session) {}

  ask(execute: Message, prompt: string, password: boolean, signal: AbortSignal): Promise<string> {
    if (execute.content.allow_stdin !== true) {
      return Promise.reject(
        new Error("this frontend does not support input (allow_stdin is false)"),
      );
    }
    if (this.pending) return Promise.reject(new Error("an input request is already waiting"));
    return new Promise<string>((resolve, reject) => {
      const onAbort = () => {
        this.pending = undefined;
        reject(signal.reason instanceof Error ? signal.reason : new Error("interrupted"));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.pending = {
        resolve: (value) => {
          signal.removeEventListener("abort", onAbort);
          resolve(value);
        },
        reject,
      };
      void this.session.send(
        "stdin",
        "input_request",
        { prompt, password },
        { parent: execute, identities: execute.identities },
      );
    });
  }

  /** Handles a message arriving on the stdin channel. */
  receive(msg: Message): void {
    if (msg.header.msg_type !== "input_reply" || !this.pending) return;
    const pending = this.pending;
    this.pending = undefined;
    pending.resolve(String(msg.content.value ?? ""));
  }
}
