/**
 * Where the queue lives: a Redis URL (redis://[user:password@]host:port[/db], rediss:// for TLS)
 * checked and turned into the connection options BullMQ's queues, workers and event listeners
 * take. A coordinator or worker first checks that Redis answers, so a wrong address fails in
 * seconds with the address named, not by waiting forever for jobs.
 */
import IORedis, { type RedisOptions } from "ioredis";

export const DEFAULT_QUEUE_NAME = "fairdiff";

/** The connection options of a Redis URL; the error names `flag` and what is expected. */
export function redisOptions(url: string, flag = "--queue"): RedisOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`${flag} must be a Redis URL like redis://host:6379, got "${url}"`);
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new Error(`${flag} must be a Redis URL like redis://host:6379, got "${url}"`);
  }
  if (parsed.hostname === "") throw new Error(`${flag} "${url}" names no host`);
  const port = parsed.port === "" ? 6379 : Number(parsed.port);
  const dbText = parsed.pathname.replace(/^\//, "");
  const db = dbText === "" ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) {
    throw new Error(`${flag} "${url}": the database after the port must be a number, e.g. /0`);
  }
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ""),
    port,
    db,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === "rediss:" ? { tls: {} } : {}),
    // BullMQ's blocking connections require it; every command waits for a reconnect instead.
    maxRetriesPerRequest: null,
  };
}

/** Throws, naming the URL, unless Redis answers a PING within `timeoutMs`. */
export async function checkRedis(url: string, flag = "--queue", timeoutMs = 5000): Promise<void> {
  const client = new IORedis({
    ...redisOptions(url, flag),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    // After a failed connect the socket never closes again, so ioredis's disconnect timer (2 s by
    // default) would hold the process open that long.
    disconnectTimeout: 100,
  });
  client.on("error", () => {}); // reported below, once
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw new Error(
      `${flag} ${url}: Redis does not answer (${(error as Error).message}); start one with \`redis-server --port 6379\` (Debian: apt-get install redis-server) or give the address of yours`,
    );
  } finally {
    client.disconnect();
  }
}
