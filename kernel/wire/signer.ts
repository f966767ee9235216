/**
 * HMAC-SHA256 over the four JSON frames (header, parent, metadata, content) — never the buffers,
 * which is what the spec says and what tslab gets wrong.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export class Signer {
  constructor(private readonly key: string) {}

  sign(frames: readonly Buffer[]): string {
    if (!this.key) return "";
    const hmac = createHmac("sha256", this.key);
    for (const frame of frames) hmac.update(frame);
    return hmac.digest("hex");
  }

  /** Constant-time comparison so a client cannot learn the signature byte by byte. */
  verify(signature: string, frames: readonly Buffer[]): boolean {
    if (!this.key) return true;
    const expected = Buffer.from(this.sign(frames), "utf8");
    const given = Buffer.from(signature, "utf8");
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
