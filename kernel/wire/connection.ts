/** The connection file Jupyter hands a kernel: where to bind and how to sign. */
import { readFileSync } from "node:fs";

export interface ConnectionInfo {
  transport: "tcp" | "ipc";
  ip: string;
  shell_port: number;
  control_port: number;
  iopub_port: number;
  stdin_port: number;
  hb_port: number;
  key: string;
  signature_scheme: string;
  kernel_name?: string;
}

export function readConnectionFile(file: string): ConnectionInfo {
  const info = JSON.parse(readFileSync(file, "utf8")) as ConnectionInfo;
  for (const port of [
    "shell_port",
    "control_port",
    "iopub_port",
    "stdin_port",
    "hb_port",
  ] as const) {
    if (typeof info[port] !== "number") throw new Error(`connection file ${file}: no ${port}`);
  }
  if (info.signature_scheme && info.signature_scheme !== "hmac-sha256") {
    throw new Error(`unsupported signature_scheme ${info.signature_scheme} (only hmac-sha256)`);
  }
  return info;
}

/** The zeromq endpoint for one channel; ipc ports become `<ip>-<port>` paths as in jupyter_client. */
export function endpoint(info: ConnectionInfo, port: number): string {
  return info.transport === "ipc" ? `ipc://${info.ip}-${port}` : `tcp://${info.ip}:${port}`;
}
