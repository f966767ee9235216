/** Routes process.stdout/stderr writes (console.log included) into stream messages. */
import type { StreamBuffer, StreamName } from "./streamBuffer";

type Write = typeof process.stdout.write;

export function captureStdio(streams: StreamBuffer): () => void {
  const saved: [NodeJS.WriteStream, Write][] = [];
  for (const [stream, name] of [
    [process.stdout, "stdout"],
    [process.stderr, "stderr"],
  ] as [NodeJS.WriteStream, StreamName][]) {
    saved.push([stream, stream.write]);
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
      streams.write(name, text);
      const callback = rest.find((r): r is () => void => typeof r === "function");
      if (callback) queueMicrotask(callback);
      return true;
    }) as Write;
  }
  return () => {
    for (const [stream, write] of saved) stream.write = write;
  };
}
