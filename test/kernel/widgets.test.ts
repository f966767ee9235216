/** Comms and the widget protocol 2.1.0 against a real kernel process. */
import { KernelHarness, types, type Msg } from "./helpers/kernelHarness";

jest.setTimeout(60_000);

let k: KernelHarness;

beforeAll(async () => {
  k = await KernelHarness.start();
}, 90_000);

afterAll(async () => {
  await k?.stop();
});

const ofType = (msgs: Msg[], type: string) => msgs.filter((m) => m.header.msg_type === type);
const result = (msgs: Msg[]) => ofType(msgs, "execute_result")[0]?.content.data["text/plain"];

const SPEC = `{ _model_name: "ProbeModel", _model_module: "fairdiff-test", _model_module_version: "^0.1.0",
  _view_name: "ProbeView", _view_module: "fairdiff-test", _view_module_version: "^0.1.0" }`;

/** Sends a comm_msg the way a widget frontend does and returns its iopub messages. */
async function commMsg(commId: string, data: Record<string, unknown>, buffers: Buffer[] = []) {
  const id = await k.send("shell", "comm_msg", { comm_id: commId, data }, buffers);
  return k.outputs(id);
}

test("a slider opens a jupyter.widget comm (2.1.0) before it is displayed", async () => {
  const { outputs } = await k.execute(
    "const slider = new FloatSlider({ value: 0.5, min: 0, max: 1 });\nslider",
  );
  const opens = ofType(outputs, "comm_open");
  const sliderOpen = opens.find(
    (m) => m.content.data.state._model_name === "FloatSliderModel",
  ) as Msg;
  expect(sliderOpen.content.target_name).toBe("jupyter.widget");
  expect(sliderOpen.metadata).toEqual({ version: "2.1.0" });
  const state = sliderOpen.content.data.state;
  expect(state).toMatchObject({
    _model_module: "@jupyter-widgets/controls",
    _model_module_version: "2.0.0",
    _view_name: "FloatSliderView",
    value: 0.5,
    min: 0,
    max: 1,
  });
  // layout and style are models of their own, opened first.
  const layoutId = String(state.layout).replace("IPY_MODEL_", "");
  expect(opens.find((m) => m.content.comm_id === layoutId)?.content.data.state._model_name).toBe(
    "LayoutModel",
  );
  const shown = ofType(outputs, "execute_result")[0].content.data[
    "application/vnd.jupyter.widget-view+json"
  ];
  expect(shown).toEqual({
    model_id: sliderOpen.content.comm_id,
    version_major: 2,
    version_minor: 0,
  });
  expect(outputs.indexOf(sliderOpen)).toBeLessThan(
    outputs.indexOf(ofType(outputs, "execute_result")[0]),
  );
});

async function sliderId(): Promise<string> {
  const { outputs } = await k.execute("slider.modelId");
  return JSON.parse(result(outputs).replace(/'/g, '"'));
}

test("a frontend update is applied, observed and echoed, inside busy/idle of the comm_msg", async () => {
  await k.execute(
    'const changes: number[] = [];\nslider.observe("value", (c) => changes.push(c.new as number));',
  );
  const id = await sliderId();
  const outputs = await commMsg(id, { method: "update", state: { value: 0.8 }, buffer_paths: [] });
  expect(types(outputs)).toEqual(["status", "comm_msg", "status"]);
  expect(outputs.map((m) => m.content.execution_state).filter(Boolean)).toEqual(["busy", "idle"]);
  expect(outputs[1].content.data).toEqual({
    method: "echo_update",
    state: { value: 0.8 },
    buffer_paths: [],
  });
  const check = await k.execute("[slider.value, changes]");
  expect(result(check.outputs)).toBe("[ 0.8, [ 0.8 ] ]");
});

test("a comm update steers an async loop while its cell is still running", async () => {
  const run = k.execute(`
const steer = new IntSlider({ value: 0, max: 10 });
const seen: number[] = [];
for (let step = 0; step < 2000 && steer.value < 7; step++) {
  seen.push(steer.value);
  await sleep(5);
}
[seen.length > 1, seen[0], steer.value]`);
  const open = await k.waitFor(
    (m) =>
      m.header.msg_type === "comm_open" && m.content.data.state?._model_name === "IntSliderModel",
  );
  await new Promise((r) => setTimeout(r, 100));
  const cellDone = jest.fn();
  void run.then(cellDone);
  const outputs = await commMsg(open.content.comm_id, {
    method: "update",
    state: { value: 7 },
    buffer_paths: [],
  });
  expect(cellDone).not.toHaveBeenCalled(); // the comm_msg was served mid-cell
  expect(ofType(outputs, "comm_msg")[0].content.data.method).toBe("echo_update");
  const { reply, outputs: cellOutputs } = await run;
  expect(reply.content.status).toBe("ok");
  expect(result(cellOutputs)).toBe("[ true, 0, 7 ]");
});

test("request_state answers with the full state", async () => {
  const id = await sliderId();
  const outputs = await commMsg(id, { method: "request_state" });
  const update = ofType(outputs, "comm_msg")[0].content.data;
  expect(update.method).toBe("update");
  expect(update.state).toMatchObject({
    _model_name: "FloatSliderModel",
    value: 0.8,
    min: 0,
    max: 1,
  });
});

test("binary state and custom messages travel as raw buffers", async () => {
  const { outputs } = await k.execute(`
const probe = new Widget(${SPEC}, { data: new Float32Array([1.5, -2]), label: "probe" });
probe.onCustom((content, buffers) => probe.sendCustom({ got: content, sizes: buffers.map((b) => b.length) }, buffers));
probe.modelId`);
  const open = ofType(outputs, "comm_open")[0];
  expect(open.content.data.buffer_paths).toEqual([["data"]]);
  expect(open.content.data.state).toEqual(expect.not.objectContaining({ data: expect.anything() }));
  expect(new Float32Array(new Uint8Array(open.buffers[0]).buffer)).toEqual(
    new Float32Array([1.5, -2]),
  );
  const id = open.content.comm_id;
  const echo = await commMsg(id, { method: "custom", content: { ping: 1 } }, [
    Buffer.from([9, 8, 7]),
  ]);
  const reply = ofType(echo, "comm_msg")[0];
  expect(reply.content.data).toEqual({
    method: "custom",
    content: { got: { ping: 1 }, sizes: [3] },
  });
  expect([...reply.buffers[0]]).toEqual([9, 8, 7]);
  await commMsg(id, { method: "update", state: { data: null }, buffer_paths: [["data"]] }, [
    Buffer.from([1, 2, 3, 4]),
  ]);
  const check = await k.execute('[...(probe.get("data") as unknown as Uint8Array)]');
  expect(result(check.outputs)).toBe("[ 1, 2, 3, 4 ]");
});

test("jupyter.widget.control answers request_states with every live widget", async () => {
  const openId = await k.send("shell", "comm_open", {
    comm_id: "control-1",
    target_name: "jupyter.widget.control",
    data: {},
  });
  await k.outputs(openId);
  const outputs = await commMsg("control-1", { method: "request_states" });
  const data = ofType(outputs, "comm_msg")[0].content.data;
  expect(data.method).toBe("update_states");
  const id = await sliderId();
  expect(data.states[id]).toMatchObject({
    model_name: "FloatSliderModel",
    model_module: "@jupyter-widgets/controls",
    state: { value: 0.8 },
  });
  expect(data.buffer_paths).toContainEqual(expect.arrayContaining(["state", "data"]));
});

test("comm_open for an unknown target is closed at once", async () => {
  const id = await k.send("shell", "comm_open", {
    comm_id: "nobody-1",
    target_name: "no.such.target",
    data: {},
  });
  const outputs = await k.outputs(id);
  expect(types(outputs)).toEqual(["status", "comm_close", "status"]);
  expect(outputs[1].content.comm_id).toBe("nobody-1");
});

test("a long cell streaming widget updates and prints stays under jupyter_server's iopub limits", async () => {
  const start = k.iopub.length;
  const { reply } = await k.execute(
    `
const live = new FloatSlider({ value: 0, max: 1e6 });
const t0 = Date.now();
let n = 0;
while (Date.now() - t0 < 3500) {
  for (let i = 0; i < 200; i++) live.value = ++n;
  console.log("step", n, "x".repeat(200));
  await new Promise((r) => setImmediate(r));
}
n`,
    {},
    60_000,
  );
  expect(reply.content.status).toBe("ok");
  const msgs = k.iopub.slice(start);
  // jupyter_server 1.23's accounting: 3 s window, 1000 msg/s, 1 MB/s of stream data; status,
  // comm_open and execute_input are not counted.
  const counted = msgs.filter(
    (m) => !["status", "comm_open", "execute_input"].includes(m.header.msg_type),
  );
  const at = counted.map((m) => Date.parse(m.header.date));
  const bytes = counted.map((m) => (m.header.msg_type === "stream" ? m.content.text.length : 0));
  for (let i = 0; i < at.length; i++) {
    let count = 0;
    let sum = 0;
    for (let j = i; j < at.length && at[j] - at[i] < 3000; j++) {
      count++;
      sum += bytes[j];
    }
    expect(count / 3).toBeLessThanOrEqual(1000);
    expect(sum / 3).toBeLessThanOrEqual(1_000_000);
  }
  // Coalescing never loses the final value.
  const id = ofType(msgs, "comm_open").find(
    (m) => m.content.data.state?._model_name === "FloatSliderModel",
  )?.content.comm_id;
  const updates = msgs.filter((m) => m.header.msg_type === "comm_msg" && m.content.comm_id === id);
  expect(updates.length).toBeGreaterThan(10);
  const final = Number(ofType(msgs, "execute_result")[0].content.data["text/plain"]);
  expect(final).toBeGreaterThan(updates.length * 10);
  expect(updates[updates.length - 1].content.data.state.value).toBe(final);
});
