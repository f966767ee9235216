/** Kernel entry point: `node dist/kernel/main.js <connection file>` (the kernelspec's argv). */
import { exitProcess } from "./exitGuard";
import { Kernel } from "./kernel";
import { kernelLog } from "./log";
import { readConnectionFile } from "./wire/connection";

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) throw new Error("usage: main.js <connection_file>");
  const maxBytes = Number(process.env.FAIRDIFF_KERNEL_MAX_MESSAGE_BYTES) || undefined;
  const kernel = new Kernel({
    connection: readConnectionFile(file),
    rootDir: process.cwd(),
    maxMessageBytes: maxBytes,
  });
  await kernel.start();
}

main().catch((error: Error) => {
  kernelLog(`failed to start: ${error.stack ?? error.message}`);
  exitProcess(1);
});
