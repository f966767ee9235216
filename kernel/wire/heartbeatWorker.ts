/**
 * Heartbeat echo in its own thread, so a long synchronous cell does not make the frontend
 * believe the kernel died.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Reply } from "zeromq";

async function echo(address: string): Promise<void> {
  const socket = new Reply();
  socket.linger = 0;
  await socket.bind(address);
  let sending: Promise<void> = Promise.resolve();
  // Close between echoes only: zeromq aborts the process if a socket closes under a send, or
  // if the thread is terminated with the socket open.
  parentPort?.once("message", () => {
    void sending.finally(() => socket.close());
  });
  parentPort?.postMessage("bound");
  for await (const frames of socket) {
    sending = socket.send(frames);
    await sending;
  }
}

echo((workerData as { endpoint: string }).endpoint).catch((error: Error) => {
  parentPort?.postMessage(`error: ${error.message}`);
});
