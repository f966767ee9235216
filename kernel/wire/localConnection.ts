/**
 * What a frontend does before starting a kernel on this machine: pick free localhost ports and
 * write the connection file. Used by the tests and the benchmark, which act as frontends.
 */
import { writeFileSync } from "node:fs";
import net from "node:net";
import type { ConnectionInfo } from "./connection";

/** Free TCP ports on localhost, found by letting the OS pick and releasing them. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve) => {
          const server = net.createServer();
          server.listen(0, "127.0.0.1", () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** Writes a tcp-on-localhost connection file for five fresh ports; returns what it wrote. */
export async function writeLocalConnectionFile(
  file: string,
  key: string,
  kernelName?: string,
): Promise<ConnectionInfo> {
  const [shell, control, iopub, stdin, hb] = await freePorts(5);
  const info: ConnectionInfo = {
    transport: "tcp",
    ip: "127.0.0.1",
    shell_port: shell,
    control_port: control,
    iopub_port: iopub,
    stdin_port: stdin,
    hb_port: hb,
    key,
    signature_scheme: "hmac-sha256",
    ...(kernelName ? { kernel_name: kernelName } : {}),
  };
  writeFileSync(file, JSON.stringify(info));
  return info;
}
