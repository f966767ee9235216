/**
 * The kernel keeps its word (issue #19 item 7): an acknowledged interrupt stops what cells left
 * running, cell code cannot end the kernel without a reply, and a malformed execute_request is
 * refused, not run. One real kernel process, driven over zeromq like a frontend.
 */
import { KernelHarness, types, type Msg } from "./helpers/kernelHarness";

jest.setTimeout(60_000);

let k: KernelHarness;

beforeAll(async () => {
  k = await KernelHarness.start();
}, 90_000);

afterAll(async () => {
  await k?.stop();
});

// A test that fails midway must not leave a cell running into the next test.
afterEach(() => k?.settle(), 90_000);

const ofType = (msgs: Msg[], type: string) => msgs.filter((m) => m.header.msg_type === type);
const streamText = (msgs: Msg[]) =>
  ofType(msgs, "stream")
    .map((m) => m.content.text as string)
    .join("");
const result = (msgs: Msg[]) => ofType(msgs, "execute_result")[0]?.content.data["text/plain"];
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves when a stream message containing `text` has arrived on iopub. */
const printed = (text: string) =>
  k.waitFor((m) => m.header.msg_type === "stream" && String(m.content.text).includes(text));

/**
 * Whether `text` was printed after the kernel's iopub message `since` (iopub is one ordered
 * socket): waits long enough for many more ticks, runs a cell, and looks at everything since.
 */
async function printedAfter(since: Msg, text: string): Promise<boolean> {
  await delay(300);
  const { outputs } = await k.execute('"later cell"');
  expect(result(outputs)).toBe("'later cell'");
  return streamText(k.iopub.slice(k.iopub.indexOf(since) + 1)).includes(text);
}

test("interrupt_request stops a finished cell's setInterval: no tick reaches a later cell", async () => {
  const { reply } = await k.execute('setInterval(() => console.log("tick"), 20);');
  expect(reply.content.status).toBe("ok");
  await printed("tick");
  const interrupt = await k.request("interrupt_request", {}, { channel: "control" });
  expect(interrupt.content.status).toBe("ok");
  // Ticks printed before the interrupt were flushed before its busy; its idle ends them all.
  const outputs = await k.outputs(interrupt.parent_header.msg_id ?? "");
  expect(await printedAfter(outputs[outputs.length - 1], "tick")).toBe(false);
  // The cell that started the interval is told what was stopped.
  const notice = await printed("stopped 1 setInterval");
  expect(notice.parent_header.msg_id).toBe(reply.parent_header.msg_id);
  expect(notice.content.text).toContain("interrupted");
});

test("SIGINT stops a running cell's interval and rejects its pending top-level await", async () => {
  const run = await k.startExecute(`
setInterval(() => console.log("tock"), 20);
try {
  await new Promise(() => {});
} finally {
  console.log("cleanup ran");
}`);
  await printed("tock");
  k.process.kill("SIGINT");
  const { reply } = await run.done;
  expect(reply.content).toMatchObject({ status: "error", ename: "KeyboardInterrupt" });
  expect(reply.content.traceback.join("\n")).toContain(
    "Stopped this cell's pending work: 1 setInterval, 1 pending await.",
  );
  // The await itself rejected with KeyboardInterrupt: the cell's finally block ran.
  const cleanup = await printed("cleanup ran");
  expect(cleanup.parent_header.msg_id).toBe(run.id);
  expect(await printedAfter(cleanup, "tock")).toBe(false);
});

test("a background async loop stops at its next await when interrupted", async () => {
  // Waits on file-system callbacks, not timers: only the await itself can stop it.
  const { reply } = await k.execute(`
(globalThis as any).ioLoops = 0;
(async () => {
  while (true) {
    await new Promise((done) => require("node:fs").stat(".", done));
    (globalThis as any).ioLoops++;
  }
})();`);
  expect(reply.content.status).toBe("ok");
  const loops = async () =>
    Number(result((await k.execute("(globalThis as any).ioLoops")).outputs));
  const before = await loops();
  await delay(50);
  expect(await loops()).toBeGreaterThan(before);
  const interrupt = await k.request("interrupt_request", {}, { channel: "control" });
  await k.outputs(interrupt.parent_header.msg_id ?? "");
  const stopped = await loops();
  await delay(100);
  expect(await loops()).toBe(stopped);
  // The loop's KeyboardInterrupt is its expected end, not an "unhandled rejection" to report.
  expect(streamText(k.iopub)).not.toContain("Unhandled promise rejection: KeyboardInterrupt");
});

test("process.exit in a cell is refused with an error reply; the kernel lives on", async () => {
  const { reply, outputs } = await k.execute("process.exit(3)", {}, 10_000);
  expect(reply.content).toMatchObject({ status: "error", ename: "ProcessExitRefused" });
  expect(reply.content.evalue).toContain("process.exit(3) was refused");
  expect(reply.content.evalue).toContain("Restart");
  expect(ofType(outputs, "error")[0].content.ename).toBe("ProcessExitRefused");
  expect(k.alive()).toBe(true);
  expect(result((await k.execute("1 + 1")).outputs)).toBe("2");
});

test("an exception thrown in a running cell's callback ends that cell with an error reply", async () => {
  // Before, the cell waited forever for a promise whose resolving callback had thrown.
  const { reply } = await k.execute(
    'await new Promise(() => setTimeout(() => { throw new RangeError("callback broke"); }, 10));',
    {},
    10_000,
  );
  expect(reply.content).toMatchObject({
    status: "error",
    ename: "RangeError",
    evalue: "callback broke",
  });
  expect(reply.content.traceback.join("\n")).toContain(
    "uncaught exception in a callback this cell started",
  );
  expect(result((await k.execute("1 + 1")).outputs)).toBe("2");
});

describe("a malformed execute_request is refused without running anything", () => {
  const count = async () => (await k.execute("0")).reply.content.execution_count as number;

  test.each([
    [{ silent: false }, 'field "code" is missing; expected a string'],
    [{ code: 42 }, 'field "code" is 42 (a number); expected a string'],
    [{ code: "1", silent: "yes" }, `field "silent" is 'yes' (a string); expected a boolean`],
    [{ code: "1", store_history: 1 }, 'field "store_history" is 1 (a number); expected a boolean'],
    [{ code: "1", user_expressions: [] }, 'field "user_expressions" is [] (an array); expected an'],
  ])("%j", async (content, evalue) => {
    const before = await count();
    const reply = await k.request("execute_request", content);
    expect(reply.content).toMatchObject({
      status: "error",
      ename: "InvalidRequest",
      execution_count: before,
    });
    expect(reply.content.evalue).toContain(evalue);
    const outputs = await k.outputs(reply.parent_header.msg_id ?? "");
    expect(types(outputs)).toEqual(["status", "error", "status"]);
    // The refused request took no execution number.
    expect(await count()).toBe(before + 1);
  });
});

test("a cell whose live data nears the heap limit is stopped with MemoryError; the kernel lives", async () => {
  // A small heap, so that filling it is quick.
  const small = await KernelHarness.start({ env: { NODE_OPTIONS: "--max-old-space-size=384" } });
  try {
    const { reply } = await small.execute(
      `const hoard: number[][] = [];
while (true) {
  hoard.push(new Array(250_000).fill(Math.random()));
  await new Promise((r) => setTimeout(r, 0));
}`,
      {},
      50_000,
    );
    expect(reply.content).toMatchObject({ status: "error", ename: "MemoryError" });
    expect(reply.content.evalue).toMatch(/heap is \d+% full/);
    expect(small.alive()).toBe(true);
    // The stopped cell's hoard was released: 100 MB more fit where they could not before.
    const after = await small.execute("new Array(12_500_000).fill(1.5).length");
    expect(after.reply.content.status).toBe("ok");
    expect(result(after.outputs)).toBe("12500000");
  } finally {
    await small.stop();
  }
}, 90_000);
