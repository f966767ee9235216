/**
 * The one parser of a backend name, wherever it comes from: a CLI flag, FAIRDIFF_BACKEND, or a
 * kernel cell. Errors name where the value came from, the value, and what is expected.
 */
import type { BackendName, BackendRequest } from "./backendInfo";

export const BACKEND_NAMES: readonly BackendName[] = ["tensorflow", "webgpu", "wasm", "cpu"];

export const BACKEND_CHOICES = `auto | ${BACKEND_NAMES.join(" | ")}`;

/** `from` names the source in the error, e.g. "--backend" or "FAIRDIFF_BACKEND". */
export function parseBackendRequest(value: string, from: string): BackendRequest {
  const name = value.trim().toLowerCase();
  if (name === "auto" || (BACKEND_NAMES as readonly string[]).includes(name)) {
    return name as BackendRequest;
  }
  throw new Error(`${from}: "${value}" is not a backend; expected one of ${BACKEND_CHOICES}`);
}

/** FAIRDIFF_BACKEND (CLI, kernel, lab, notebooks), or "auto" when it is unset or empty. */
export function backendRequestFromEnvironment(): BackendRequest {
  const value = process.env.FAIRDIFF_BACKEND;
  if (value === undefined || value.trim() === "") return "auto";
  return parseBackendRequest(value, "FAIRDIFF_BACKEND");
}
