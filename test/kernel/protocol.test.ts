/** The kernel over the wire, as a frontend sees it: one real kernel process for the suite. */
import { existsSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { KernelHarness, types, type Msg } from "./helpers/kernelHarness";

jest.setTimeout(60_000);

let k: KernelHarness;

beforeAll(async () => {
  // A notebook folder with no node_modules: "fairdiff" must resolve anyway.
  k = await KernelHarness.start({ cwd: mkdtempSync(path.join(os.tmpdir(), "notebook-")) });
}, 90_000);

afterAll(async () => {
  await k?.stop();
});

// A test that fails midway must not leave a cell running into the next test.
afterEach(() => k?.settle(), 90_000);

/** Polls `condition` (real state, not a guessed delay) until it holds. */
async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const ofType = (msgs: Msg[], type: string) => msgs.filter((m) => m.header.msg_type === type);

test("kernel_info_reply has status ok and describes TypeScript", async () => {
  const reply = await k.request("kernel_info_request", {});
  expect(reply.header.msg_type).toBe("kernel_info_reply");
  expect(reply.content.status).toBe("ok");
  expect(reply.content.protocol_version).toBe("5.3");
  expect(reply.content.language_info.name).toBe("typescript");
  expect(reply.content.language_info.file_extension).toBe(".ts");
  const outputs = await k.outputs(reply.parent_header.msg_id ?? "");
  expect(types(outputs)).toEqual(["status", "status"]);
  expect(outputs.map((m) => m.content.execution_state)).toEqual(["busy", "idle"]);
});

test("execute: busy, execute_input, stream, execute_result, idle, in that order", async () => {
  const { reply, outputs } = await k.execute('console.log("hello, world"); 6 * 7');
  expect(reply.content).toMatchObject({ status: "ok", execution_count: expect.any(Number) });
  expect(types(outputs)).toEqual(["status", "execute_input", "stream", "execute_result", "status"]);
  expect(outputs[1].content.code).toBe('console.log("hello, world"); 6 * 7');
  expect(outputs[2].content).toEqual({ name: "stdout", text: "hello, world\n" });
  expect(outputs[3].content.data["text/plain"]).toBe("42");
  expect(outputs[3].content.execution_count).toBe(reply.content.execution_count);
});

test("every message id is unique", async () => {
  const ids = k.iopub.map((m) => m.header.msg_id);
  expect(new Set(ids).size).toBe(ids.length);
});

test("variables persist across cells and top-level await works", async () => {
  await k.execute("let counter = 40;");
  const { outputs } = await k.execute("await new Promise((r) => setTimeout(r, 20)); counter + 2");
  expect(ofType(outputs, "execute_result")[0].content.data["text/plain"]).toBe("42");
});

test("stderr is a stream of its own", async () => {
  const { outputs } = await k.execute('console.error("careful")');
  expect(ofType(outputs, "stream")[0].content).toEqual({ name: "stderr", text: "careful\n" });
});

test("a compile error names the cell line and column", async () => {
  const { reply, outputs } = await k.execute("const a = 1;\n\nconst b: string = a;");
  expect(reply.content.status).toBe("error");
  expect(reply.content.ename).toBe("CompileError");
  expect(reply.content.evalue).toContain("line 3, column 7");
  const errors = ofType(outputs, "error");
  expect(errors).toHaveLength(1);
  expect(errors[0].content.traceback.join("\n")).toContain("const b: string = a;");
});

test("a runtime error has ename, evalue and a traceback without kernel frames", async () => {
  const { reply, outputs } = await k.execute(
    'function f() { throw new RangeError("too far"); }\nf()',
  );
  expect(reply.content).toMatchObject({ status: "error", ename: "RangeError", evalue: "too far" });
  const tb: string[] = ofType(outputs, "error")[0].content.traceback;
  expect(tb[0]).toBe("RangeError: too far");
  expect(tb.join("\n")).not.toContain("dist/kernel");
});

test("a value with toMimeBundle() shows its rich representations", async () => {
  const { outputs } = await k.execute(
    'const report = { toMimeBundle: () => ({ "text/html": "<table></table>", "application/json": { n: 3 } }) };\nreport',
  );
  const data = ofType(outputs, "execute_result")[0].content.data;
  expect(data["text/html"]).toBe("<table></table>");
  expect(data["application/json"]).toEqual({ n: 3 });
  expect(typeof data["text/plain"]).toBe("string");
});

test("display helpers send display_data for html, markdown, svg, png, plotly and any bundle", async () => {
  const { reply, outputs } = await k.execute(`
display.html("<b>bold</b>");
display.markdown("# title");
display.svg("<svg></svg>");
display.png(new Uint8Array([137, 80, 78, 71]));
display.plotly({ data: [{ x: [1, 2], y: [3, 4], type: "scatter" }], layout: { title: "t" } });
display.bundle({ "application/x-fairdiff+json": { ok: true }, "text/plain": "fairdiff thing" });
`);
  expect(reply.content.status).toBe("ok");
  const shown = ofType(outputs, "display_data").map((m) => m.content.data);
  expect(shown[0]["text/html"]).toBe("<b>bold</b>");
  expect(shown[1]["text/markdown"]).toBe("# title");
  expect(shown[2]["image/svg+xml"]).toBe("<svg></svg>");
  expect(Buffer.from(shown[3]["image/png"], "base64")).toEqual(Buffer.from([137, 80, 78, 71]));
  expect(shown[4]["application/vnd.plotly.v1+json"].data[0].y).toEqual([3, 4]);
  expect(shown[5]["application/x-fairdiff+json"]).toEqual({ ok: true });
  for (const d of shown) expect(typeof d["text/plain"]).toBe("string");
});

test("a display call as the last expression shows only its display_data", async () => {
  for (const code of [
    'display.html("<b>x</b>")',
    "display({ n: 1 })",
    '(display.markdown("*m*"))',
  ]) {
    const { reply, outputs } = await k.execute(code);
    expect(reply.content.status).toBe("ok");
    expect(types(outputs)).toEqual(["status", "execute_input", "display_data", "status"]);
  }
  // The handle named on its own is an ordinary value and is shown.
  const named = await k.execute('const shownHandle = display.html("y");\nshownHandle');
  expect(ofType(named.outputs, "execute_result")).toHaveLength(1);
});

test("a display can be updated in place, and clear_output is sent", async () => {
  const { outputs } = await k.execute(`
const h = display.html("step 0");
for (let i = 1; i <= 500; i++) h.update(html("step " + i));
clearOutput(true);
`);
  const shown = ofType(outputs, "display_data")[0];
  const updates = ofType(outputs, "update_display_data");
  // 500 synchronous updates coalesce: the first goes at once, the last is never lost.
  expect(updates.length).toBeGreaterThanOrEqual(1);
  expect(updates.length).toBeLessThan(10);
  expect(updates[updates.length - 1].content.data["text/html"]).toBe("step 500");
  expect(updates[0].content.transient.display_id).toBe(shown.content.transient.display_id);
  expect(ofType(outputs, "clear_output")[0].content).toEqual({ wait: true });
});

test("cells can import fairdiff from a notebook folder without node_modules", async () => {
  const { reply, outputs } = await k.execute(
    'import { createRng } from "fairdiff";\nconst r = createRng(7);\n[r.next() >= 0, typeof r.int(3)]',
    {},
    100_000,
  );
  expect(reply.content.status).toBe("ok");
  expect(ofType(outputs, "execute_result")[0].content.data["text/plain"]).toBe(
    "[ true, 'number' ]",
  );
}, 120_000); // loading the library under a loaded machine

test("is_complete distinguishes complete, incomplete and invalid code", async () => {
  const status = async (code: string) => (await k.request("is_complete_request", { code })).content;
  expect((await status("let x = 1;")).status).toBe("complete");
  expect(await status("function f() {")).toMatchObject({ status: "incomplete", indent: "  " });
  expect((await status("let = 5 +* 3;")).status).toBe("invalid");
});

test("complete and inspect use the type checker, including earlier cells", async () => {
  await k.execute("const trainingLossValue = 0.5;");
  const c = await k.request("complete_request", { code: "trainingLo", cursor_pos: 10 });
  expect(c.content).toMatchObject({ status: "ok", cursor_start: 0, cursor_end: 10 });
  expect(c.content.matches).toContain("trainingLossValue");
  const i = await k.request("inspect_request", {
    code: "kernelAbortSignal",
    cursor_pos: 5,
    detail_level: 0,
  });
  expect(i.content.found).toBe(true);
  expect(i.content.data["text/plain"]).toContain("AbortSignal");
});

test("history: tail, range and search", async () => {
  await k.execute("const historyMarker = 1;");
  const tail = await k.request("history_request", {
    hist_access_type: "tail",
    n: 1,
    output: false,
    raw: true,
  });
  expect(tail.content.history).toHaveLength(1);
  const [session, line, input] = tail.content.history[0];
  expect(input).toBe("const historyMarker = 1;");
  const range = await k.request("history_request", {
    hist_access_type: "range",
    session,
    start: line,
    stop: line + 1,
    output: false,
    raw: true,
  });
  expect(range.content.history).toEqual([[session, line, input]]);
  const search = await k.request("history_request", {
    hist_access_type: "search",
    pattern: "const history*",
    output: false,
    raw: true,
  });
  expect(search.content.history.map((h: unknown[]) => h[2])).toEqual(["const historyMarker = 1;"]);
});

test("stdin: input() asks the frontend when allowed, fails clearly when not", async () => {
  const pending = k.execute('const name = await input("who? "); "hi " + name', {
    allow_stdin: true,
  });
  const request = await k.nextStdin();
  expect(request.header.msg_type).toBe("input_request");
  expect(request.content).toEqual({ prompt: "who? ", password: false });
  await k.send("stdin", "input_reply", { value: "ada" });
  const { outputs } = await pending;
  expect(ofType(outputs, "execute_result")[0].content.data["text/plain"]).toBe("'hi ada'");
  const refused = await k.execute('await input("x")', { allow_stdin: false });
  expect(refused.reply.content.status).toBe("error");
  expect(refused.reply.content.evalue).toContain("allow_stdin");
});

test("interrupt_request (message mode) aborts the cell's AbortSignal and stops its loop", async () => {
  // Declared in its own cell: a failed (interrupted) cell's declarations are not kept.
  await k.execute("let iterations = 0;");
  const run = await k.startExecute(`
const signal = kernelAbortSignal();
while (!signal.aborted) { iterations++; await new Promise((r) => setTimeout(r, 5)); }
"stopped"`);
  // Once the cell has started, the kernel reaches the interrupt only after the loop's first await.
  await k.started(run.id);
  const reply = await k.request("interrupt_request", {}, { channel: "control" });
  expect(reply.content.status).toBe("ok");
  const { reply: execReply } = await run.done;
  expect(execReply.content).toMatchObject({ status: "error", ename: "KeyboardInterrupt" });
  // The loop itself observed the abort and ended (it no longer advances).
  const a = await k.execute("iterations");
  await new Promise((r) => setTimeout(r, 100));
  const b = await k.execute("iterations");
  const value = (x: { outputs: Msg[] }) =>
    Number(ofType(x.outputs, "execute_result")[0].content.data["text/plain"]);
  expect(value(a)).toBeGreaterThan(0);
  expect(value(b)).toBe(value(a));
});

test("SIGINT (signal mode) interrupts a synchronous loop and the async training loop", async () => {
  // The cell says when it spins (a SIGINT that lands while it still compiles is lost).
  const marker = path.join(mkdtempSync(path.join(os.tmpdir(), "spin-")), "spinning");
  const sync = await k.startExecute(
    `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "");\nlet spins = 0;\nwhile (true) { spins++; }`,
  );
  await until(() => existsSync(marker), 30_000);
  k.process.kill("SIGINT");
  expect((await sync.done).reply.content).toMatchObject({
    status: "error",
    ename: "KeyboardInterrupt",
  });
  // Started means the kernel has made this cell's abort signal: the SIGINT aborts that one.
  const asyncRun = await k.startExecute("await sleep(60_000); 1");
  await k.started(asyncRun.id);
  k.process.kill("SIGINT");
  expect((await asyncRun.done).reply.content).toMatchObject({
    status: "error",
    ename: "KeyboardInterrupt",
  });
  expect(k.alive()).toBe(true);
});

test("after an error, queued cells are aborted when stop_on_error is set", async () => {
  // The first cell fails only when the test says so, after the second is surely queued.
  const asked = k.nextStdin();
  const first = await k.startExecute('await input("fail now? ");\nthrow new Error("first")', {
    allow_stdin: true,
  });
  await asked;
  const second = await k.startExecute("1");
  // Shell requests are handled in order: once this is answered, the second cell is queued.
  await k.request("kernel_info_request", {});
  await k.send("stdin", "input_reply", { value: "yes" });
  expect((await first.done).reply.content).toMatchObject({ status: "error", evalue: "first" });
  expect((await second.done).reply.content.status).toBe("aborted");
});

test("comm_info lists comms, filtered by target name", async () => {
  await k.execute('openComm("fairdiff.test", { hello: 1 })');
  const all = await k.request("comm_info_request", {});
  expect(all.content.status).toBe("ok");
  const targets = Object.values(all.content.comms as Record<string, { target_name: string }>);
  expect(targets.map((t) => t.target_name)).toContain("fairdiff.test");
  const none = await k.request("comm_info_request", { target_name: "no.such.target" });
  expect(none.content.comms).toEqual({});
});
