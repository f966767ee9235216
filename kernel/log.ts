/**
 * The kernel's own diagnostics go to the real stderr (the server's log), never to a cell's
 * stream: we keep the original write before stdout/stderr are captured.
 */
const rawWrite = process.stderr.write.bind(process.stderr);

export function kernelLog(line: string): void {
  rawWrite(`[fairdiff kernel] ${line}\n`);
}
