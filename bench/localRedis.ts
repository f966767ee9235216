/**
 * A throwaway Redis for the scale-out benchmark and the tests that need one: Debian's
 * redis-server on a free localhost port, in its own temporary folder, persisting nothing; `stop`
 * shuts it down and removes the folder.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "./freePort";

export const redisServerAvailable =
  spawnSync("redis-server", ["--version"], { encoding: "utf8" }).status === 0;

export interface LocalRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<LocalRedis> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-redis-"));
  const port = await freePort();
  const server: ChildProcess = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--save",
      "",
      "--appendonly",
      "no",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  server.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`redis-server did not start:\n${output}`)),
      10000,
    );
    const check = () => {
      if (/Ready to accept connections/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    server.stdout?.on("data", check);
    server.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}):\n${output}`));
    });
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: async () => {
      if (server.exitCode === null) {
        const gone = new Promise((resolve) => server.once("exit", resolve));
        server.kill("SIGTERM");
        await gone;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
