/** buffer_paths extraction and re-insertion, as ipywidgets does it. */
import { putBuffers, removeBuffers } from "../../kernel/widgets/buffers";

test("binary object keys are removed, binary list items become null", () => {
  const floats = new Float32Array([1, 2]);
  const split = removeBuffers({ a: 1, image: floats, nested: { list: [3, new Uint8Array([7])] } });
  expect(split.state).toEqual({ a: 1, nested: { list: [3, null] } });
  expect(split.bufferPaths).toEqual([["image"], ["nested", "list", 1]]);
  expect(new Float32Array(new Uint8Array(split.buffers[0]).buffer)).toEqual(floats);
  expect([...split.buffers[1]]).toEqual([7]);
});

test("putBuffers restores values at their paths", () => {
  const state: Record<string, unknown> = { nested: { list: [3, null] } };
  putBuffers(state, [["image"], ["nested", "list", 1]], [Buffer.from([1]), Buffer.from([2])]);
  expect(state).toEqual({ image: Buffer.from([1]), nested: { list: [3, Buffer.from([2])] } });
});
