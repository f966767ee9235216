/** Signing and parsing of multipart messages, without sockets. */
import { createHmac } from "node:crypto";
import { decode, encode, newHeader, WireError } from "../../kernel/wire/message";
import { Signer } from "../../kernel/wire/signer";

const signer = new Signer("secret");

function message(buffers: Buffer[] = []) {
  return {
    identities: [Buffer.from("peer")],
    header: newHeader("comm_msg", "s", "u"),
    parent_header: {},
    metadata: {},
    content: { data: { x: 1 } },
    buffers,
  };
}

test("the HMAC covers the four JSON frames and not the buffers", () => {
  const frames = encode(message([Buffer.from([1, 2, 3])]), signer);
  const hmac = createHmac("sha256", "secret");
  for (const f of frames.slice(3, 7)) hmac.update(f);
  expect(frames[2].toString()).toBe(hmac.digest("hex"));
  // Changing a buffer keeps the signature valid; changing content does not.
  const swapped = [...frames.slice(0, 7), Buffer.from([9])];
  expect(decode(swapped, signer, 1e6).buffers[0]).toEqual(Buffer.from([9]));
  const tampered = [...frames];
  tampered[6] = Buffer.from('{"data":{"x":2}}');
  expect(() => decode(tampered, signer, 1e6)).toThrow("bad HMAC signature");
});

test("decode returns identities, parsed parts and raw buffers", () => {
  const msg = decode(encode(message([Buffer.from("raw")]), signer), signer, 1e6);
  expect(msg.identities).toEqual([Buffer.from("peer")]);
  expect(msg.content).toEqual({ data: { x: 1 } });
  expect(msg.buffers).toEqual([Buffer.from("raw")]);
});

test("malformed messages raise WireError with the reason", () => {
  const frames = encode(message(), signer);
  expect(() => decode([frames[0], ...frames.slice(2)], signer, 1e6)).toThrow(WireError);
  expect(() => decode(frames.slice(0, 5), signer, 1e6)).toThrow("frames after delimiter");
  expect(() => decode(frames, signer, 10)).toThrow("exceeds");
});

test("message ids are unique", () => {
  const ids = new Set(Array.from({ length: 1000 }, () => newHeader("t", "s", "u").msg_id));
  expect(ids.size).toBe(1000);
});
