/**
 * Which request an output belongs to. Each request handler runs inside `runInRequest`, and async
 * work it starts (timers, awaited promises) inherits it, so a cell's late prints and widget
 * updates keep the right parent header. Work outside any request uses the latest request.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Message } from "./wire/message";

const storage = new AsyncLocalStorage<Message>();
let latest: Message | undefined;

export function runInRequest<T>(request: Message, fn: () => T): T {
  latest = request;
  return storage.run(request, fn);
}

export function currentRequest(): Message | undefined {
  return storage.getStore() ?? latest;
}

/** The request whose async context this is, without falling back to the latest one. */
export function requestInContext(): Message | undefined {
  return storage.getStore();
}

/** Runs `fn` outside every request's context (what it starts belongs to no cell). */
export function outsideRequests<T>(fn: () => T): T {
  return storage.exit(fn);
}
