/**
 * setTimeout for the kernel's own work (flushing output, coalescing updates). Such a timer is
 * often armed while cell code runs, yet it is no work of the cell's: it is made outside the
 * cell's context, so an interrupt does not clear it. Its callback still runs in the context it
 * was armed from, so what it sends keeps its parent request.
 */
import { AsyncResource } from "node:async_hooks";
import { outsideRequests } from "../requestContext";

export function kernelTimeout(callback: () => void, ms: number): NodeJS.Timeout {
  const inContext = AsyncResource.bind(callback);
  return outsideRequests(() => setTimeout(inContext, ms));
}
