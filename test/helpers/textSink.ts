/** A writable stream stand-in that keeps what is written to it (progress bars, logs). */
export function textSink(): NodeJS.WriteStream & { text: string } {
  const stream = {
    text: "",
    isTTY: false,
    write(chunk: string) {
      stream.text += chunk;
      return true;
    },
  };
  return stream as unknown as NodeJS.WriteStream & { text: string };
}
