/** Jupyter messages (spec 5.3) and their multipart wire form. */
import { randomUUID } from "node:crypto";
import { Signer } from "./signer";

export const PROTOCOL_VERSION = "5.3";
const DELIMITER = "<IDS|MSG>";

export interface Header {
  msg_id: string;
  msg_type: string;
  username: string;
  session: string;
  date: string;
  version: string;
  [extra: string]: unknown;
}

export type Content = Record<string, unknown>;

export interface Message<C = Content> {
  identities: Buffer[];
  header: Header;
  parent_header: Header | Record<string, never>;
  metadata: Record<string, unknown>;
  content: C;
  buffers: Buffer[];
}

export function newHeader(msgType: string, session: string, username: string): Header {
  return {
    msg_id: randomUUID(),
    msg_type: msgType,
    username,
    session,
    date: new Date().toISOString(),
    version: PROTOCOL_VERSION,
  };
}

export function encode(msg: Message<unknown>, signer: Signer): Buffer[] {
  const json = [msg.header, msg.parent_header, msg.metadata, msg.content].map((part) =>
    Buffer.from(JSON.stringify(part), "utf8"),
  );
  return [
    ...msg.identities,
    Buffer.from(DELIMITER),
    Buffer.from(signer.sign(json)),
    ...json,
    ...msg.buffers,
  ];
}

/** Why an incoming multipart message was dropped. */
export class WireError extends Error {}

/**
 * Parses and authenticates one incoming message. Throws WireError for anything malformed or
 * badly signed; the caller logs it and keeps serving.
 */
export function decode(frames: Buffer[], signer: Signer, maxBytes: number): Message {
  let total = 0;
  for (const f of frames) total += f.length;
  if (total > maxBytes) throw new WireError(`message of ${total} bytes exceeds ${maxBytes}`);
  const at = frames.findIndex((f) => f.length === DELIMITER.length && f.toString() === DELIMITER);
  if (at < 0) throw new WireError("no <IDS|MSG> delimiter");
  if (frames.length < at + 6)
    throw new WireError(`only ${frames.length - at - 1} frames after delimiter`);
  const signature = frames[at + 1].toString("utf8");
  const json = frames.slice(at + 2, at + 6);
  if (!signer.verify(signature, json)) throw new WireError("bad HMAC signature");
  let parts: unknown[];
  try {
    parts = json.map((f) => JSON.parse(f.toString("utf8")) as unknown);
  } catch (error) {
    throw new WireError(`invalid JSON frame: ${(error as Error).message}`);
  }
  const [header, parent, metadata, content] = parts;
  if (
    !isObject(header) ||
    typeof header.msg_type !== "string" ||
    typeof header.msg_id !== "string"
  ) {
    throw new WireError("header without msg_id/msg_type");
  }
  if (!isObject(parent) || !isObject(metadata) || !isObject(content)) {
    throw new WireError("parent_header, metadata and content must be JSON objects");
  }
  return {
    identities: frames.slice(0, at),
    header: header as Header,
    parent_header: parent as Header,
    metadata,
    content,
    buffers: frames.slice(at + 6),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
