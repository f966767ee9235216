/** Malformed or hostile input and misbehaving cells: the kernel logs, drops, and keeps serving. */
import { KernelHarness, types, type Msg } from "./helpers/kernelHarness";

jest.setTimeout(60_000);

const MAX_BYTES = 1024 * 1024;
let k: KernelHarness;

beforeAll(async () => {
  k = await KernelHarness.start({ env: { FAIRDIFF_KERNEL_MAX_MESSAGE_BYTES: String(MAX_BYTES) } });
}, 90_000);

afterAll(async () => {
  await k?.stop();
});

const ofType = (msgs: Msg[], type: string) => msgs.filter((m) => m.header.msg_type === type);
const result = (msgs: Msg[]) => ofType(msgs, "execute_result")[0]?.content.data["text/plain"];

async function stillServing(): Promise<void> {
  const reply = await k.request("kernel_info_request", {}, { timeoutMs: 5000 });
  expect(reply.content.status).toBe("ok");
  expect(k.alive()).toBe(true);
}

async function logged(text: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!k.stderr.includes(text)) {
    if (Date.now() > deadline)
      throw new Error(`kernel log lacks ${JSON.stringify(text)}:\n${k.stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("a message with a bad signature is dropped (not executed) and logged", async () => {
  const { frames } = k.frames("execute_request", {
    code: "(globalThis as any).forged = 1",
    silent: false,
  });
  frames[0] = Buffer.from("0".repeat(64));
  const before = k.iopub.length;
  await k.sendRaw("shell", frames);
  await logged("bad HMAC signature");
  await stillServing();
  expect(ofType(k.iopub.slice(before), "execute_input")).toHaveLength(0);
  const { outputs } = await k.execute("typeof (globalThis as any).forged");
  expect(result(outputs)).toBe("'undefined'");
});

test("invalid JSON frames and truncated messages are dropped and logged", async () => {
  const header = Buffer.from(JSON.stringify({ msg_id: "x", msg_type: "kernel_info_request" }));
  const json = [header, Buffer.from("{}"), Buffer.from("{}"), Buffer.from("{not json")];
  await k.sendRaw("shell", [Buffer.from(k.sign(json)), ...json]);
  await logged("invalid JSON frame");
  await k.sendRaw("shell", [Buffer.from(k.sign([header])), header]);
  await logged("frames after delimiter");
  await k.sendRaw("control", []);
  await stillServing();
});

test("an unknown message type gets busy/idle and an error reply, then the kernel goes on", async () => {
  const reply = await k.request("frobnicate_request", { x: 1 });
  expect(reply.header.msg_type).toBe("frobnicate_reply");
  expect(reply.content).toMatchObject({ status: "error", ename: "UnknownMessageType" });
  const outputs = await k.outputs(reply.parent_header.msg_id ?? "");
  expect(outputs.map((m) => m.content.execution_state)).toEqual(["busy", "idle"]);
  await logged("unknown message type frobnicate_request");
  await stillServing();
});

test("comm messages for unknown comms are logged and ignored", async () => {
  const id = await k.send("shell", "comm_msg", {
    comm_id: "ghost",
    data: { method: "update", state: {} },
  });
  const outputs = await k.outputs(id);
  expect(types(outputs)).toEqual(["status", "status"]);
  await k.send("shell", "comm_close", { comm_id: "ghost", data: {} });
  await logged("comm_msg for unknown comm ghost");
  await stillServing();
});

test("an oversized message is dropped before parsing and logged", async () => {
  const big = "x".repeat(MAX_BYTES + 10);
  const before = k.iopub.length;
  await k.send("shell", "execute_request", { code: `"${big}".length`, silent: false });
  await logged("exceeds");
  await stillServing();
  expect(ofType(k.iopub.slice(before), "execute_input")).toHaveLength(0);
});

test("exceptions thrown later by user code are reported on stderr, not fatal", async () => {
  const { reply } = await k.execute('setTimeout(() => { throw new Error("late failure"); }, 10);');
  expect(reply.content.status).toBe("ok");
  const err = await k.waitFor(
    (m) =>
      m.header.msg_type === "stream" &&
      m.content.name === "stderr" &&
      m.content.text.includes("late failure"),
  );
  expect(err.content.text).toContain("Uncaught exception");
  await stillServing();
});

test("unhandled promise rejections are reported on stderr, not fatal", async () => {
  const { reply } = await k.execute('Promise.reject(new Error("nobody listens")); "after"');
  expect(reply.content.status).toBe("ok");
  const err = await k.waitFor(
    (m) =>
      m.header.msg_type === "stream" &&
      m.content.name === "stderr" &&
      m.content.text.includes("nobody listens"),
  );
  expect(err.content.text).toContain("Unhandled promise rejection");
  const { outputs } = await k.execute("1 + 1");
  expect(result(outputs)).toBe("2");
});

test("a comm handler that throws is reported and the comm keeps working", async () => {
  await k.execute(`
let calls = 0;
registerCommTarget("fairdiff.fragile", (comm) => {
  comm.onMessage((msg) => {
    calls++;
    if (msg.data.fail) throw new Error("handler broke");
  });
});`);
  const openId = await k.send("shell", "comm_open", {
    comm_id: "fragile-1",
    target_name: "fairdiff.fragile",
    data: {},
  });
  await k.outputs(openId);
  const failing = await k.outputs(
    await k.send("shell", "comm_msg", { comm_id: "fragile-1", data: { fail: true } }),
  );
  expect(ofType(failing, "stream")[0].content.text).toContain("handler broke");
  await k.outputs(await k.send("shell", "comm_msg", { comm_id: "fragile-1", data: {} }));
  const { outputs } = await k.execute("calls");
  expect(result(outputs)).toBe("2");
});
