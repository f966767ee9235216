/**
 * The rich-output convention: any value with a `toMimeBundle()` method returning
 * `{ "<mime type>": data, ... }` is shown with those representations (an AuditReport can offer
 * text/html and its own JSON type) — no import of the kernel needed, so the library stays
 * Jupyter-free. `text/plain` is always added. Binary data (Uint8Array) is base64-encoded as the
 * notebook format requires.
 */
import { inspect } from "node:util";

export type MimeBundle = Record<string, unknown>;

export interface MimeBundleProvider {
  toMimeBundle(): MimeBundle;
}

export interface DisplayPayload {
  data: MimeBundle;
  metadata: Record<string, unknown>;
}

export function hasMimeBundle(value: unknown): value is MimeBundleProvider {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Partial<MimeBundleProvider>).toMimeBundle === "function"
  );
}

export function plainText(value: unknown): string {
  return typeof value === "string" ? value : inspect(value, { depth: 4, colors: false });
}

/** Representations of any value: its own bundle if it offers one, always with text/plain. */
export function toDisplayPayload(
  value: unknown,
  metadata: Record<string, unknown> = {},
): DisplayPayload {
  const data: MimeBundle = {};
  if (hasMimeBundle(value)) {
    for (const [mime, item] of Object.entries(value.toMimeBundle())) data[mime] = encodeItem(item);
  }
  if (!("text/plain" in data)) data["text/plain"] = inspect(value, { depth: 4, colors: false });
  return { data, metadata };
}

export function encodeItem(item: unknown): unknown {
  if (item instanceof Uint8Array) return Buffer.from(item).toString("base64");
  return item;
}
