/** `--backend <name>`: one flag, one parser, on every command that computes or starts a kernel. */
import { InvalidArgumentError, Option } from "commander";
import { BACKEND_CHOICES, parseBackendRequest, type BackendRequest } from "../backend";

export interface BackendFlag {
  /** Unset: FAIRDIFF_BACKEND decides, else auto (see useBackend). */
  backend?: BackendRequest;
}

function parseBackendFlag(value: string): BackendRequest {
  try {
    return parseBackendRequest(value, "--backend");
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/** Add with `.addOption(backendFlag())`; the action passes `opts.backend` to useBackend. */
export function backendFlag(): Option {
  return new Option(
    "--backend <name>",
    `${BACKEND_CHOICES} (default: FAIRDIFF_BACKEND, else auto)`,
  ).argParser(parseBackendFlag);
}
