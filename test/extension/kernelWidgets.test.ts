/**
 * fairdiff's kernel-side widgets against a real kernel process, speaking the widget protocol the
 * way JupyterLab's widget manager does: model module and version range, frontend updates that
 * the kernel validates, points streamed as Float64 buffers and coalesced, and the dashboard
 * turning method events into histogram panels and metric traces.
 */
import { KernelHarness, type Msg } from "../kernel/helpers/kernelHarness";

jest.setTimeout(60_000);

let k: KernelHarness;

beforeAll(async () => {
  k = await KernelHarness.start();
}, 90_000);

afterAll(async () => {
  await k?.stop();
});

const ofType = (msgs: Msg[], type: string) => msgs.filter((m) => m.header.msg_type === type);

/** Runs a cell; returns its stdout and iopub messages, failing on a cell error. */
async function run(code: string): Promise<{ stdout: string; outputs: Msg[] }> {
  const { reply, outputs } = await k.execute(code);
  if (reply.content.status !== "ok") {
    throw new Error(`${reply.content.ename}: ${reply.content.evalue}\n${code}`);
  }
  const stdout = ofType(outputs, "stream")
    .map((m) => m.content.text)
    .join("");
  return { stdout, outputs };
}

async function commMsg(commId: string, data: Record<string, unknown>, buffers: Buffer[] = []) {
  const id = await k.send("shell", "comm_msg", { comm_id: commId, data }, buffers);
  return k.outputs(id);
}

function openOf(outputs: Msg[], modelName: string): Msg {
  const open = ofType(outputs, "comm_open").find(
    (m) => m.content.data.state._model_name === modelName,
  );
  if (!open) throw new Error(`no comm_open for ${modelName}`);
  return open;
}

test("TargetDistribution opens a fairdiff-jupyterlab model with a uniform target", async () => {
  const { outputs } = await run(
    'const target = new TargetDistribution({ attributes: { sex: ["Female", "Male"], race: ["White", "Black", "Asian"] }, presets: { cohort: { sex: { Female: 0.4, Male: 0.6 } } } });\ntarget',
  );
  const open = openOf(outputs, "TargetDistributionModel");
  expect(open.content.data.state).toMatchObject({
    _model_module: "fairdiff-jupyterlab",
    _model_module_version: "^0.1.0",
    _view_name: "TargetDistributionView",
    _view_module: "fairdiff-jupyterlab",
    attributes: [
      { name: "sex", groups: ["Female", "Male"] },
      { name: "race", groups: ["White", "Black", "Asian"] },
    ],
    value: { sex: { Female: 0.5, Male: 0.5 } },
    presets: [{ name: "cohort", value: { sex: { Female: 0.4, Male: 0.6 } } }],
  });
  expect(open.content.data.state.value.race.Asian).toBeCloseTo(1 / 3, 12);
  const shown = ofType(outputs, "execute_result")[0].content.data;
  expect(shown["application/vnd.jupyter.widget-view+json"].model_id).toBe(open.content.comm_id);
});

test("a slider update from the frontend reaches the getter a running loop reads", async () => {
  const { outputs } = await run("console.log(target.modelId)");
  const id = ofType(outputs, "stream")[0].content.text.trim();
  const value = {
    sex: { Female: 0.7, Male: 0.3 },
    race: { White: 0.2, Black: 0.4, Asian: 0.4 },
  };
  const reply = await commMsg(id, { method: "update", state: { value }, buffer_paths: [] });
  expect(ofType(reply, "comm_msg")[0].content.data.method).toBe("echo_update");
  const { stdout } = await run(
    "const read = target.getter();\nconsole.log(JSON.stringify(read()))",
  );
  expect(JSON.parse(stdout)).toEqual(value);
});

test("a frontend target that does not sum to 1 is refused and the frontend told to revert", async () => {
  const { outputs } = await run("console.log(target.modelId)");
  const id = ofType(outputs, "stream")[0].content.text.trim();
  const bad = { sex: { Female: 0.9, Male: 0.4 }, race: { White: 0.2, Black: 0.4, Asian: 0.4 } };
  const reply = await commMsg(id, { method: "update", state: { value: bad }, buffer_paths: [] });
  const revert = ofType(reply, "comm_msg").map((m) => m.content.data);
  expect(revert).toEqual([
    expect.objectContaining({
      method: "update",
      state: { value: { sex: { Female: 0.7, Male: 0.3 }, race: expect.any(Object) } },
    }),
  ]);
  expect(k.stderr).toMatch(/sum/);
  const { stdout } = await run("console.log(JSON.stringify(read().sex))");
  expect(JSON.parse(stdout)).toEqual({ Female: 0.7, Male: 0.3 });
});

test("MetricsPlot streams new points as Float64 (step, value) buffers, coalesced", async () => {
  const { outputs } = await run(
    'const metrics = new MetricsPlot();\nfor (let i = 0; i < 200; i++) metrics.push(i, { FID: 100 - i, "bias sex": i / 200 }, "left");\nawait sleep(200);\nmetrics',
  );
  const open = openOf(outputs, "MetricsPlotModel");
  const appends = ofType(outputs, "comm_msg").filter(
    (m) => m.content.comm_id === open.content.comm_id && m.content.data.method === "custom",
  );
  // 200 pushes in one synchronous loop: the first goes at once, the rest in one later flush.
  expect(appends.length).toBeGreaterThanOrEqual(1);
  expect(appends.length).toBeLessThanOrEqual(3);
  const points: Record<number, number[]> = {};
  for (const m of appends) {
    const { content } = m.content.data;
    expect(content.method).toBe("append");
    expect(content.traces.map((t: { name: string }) => t.name)).toEqual(["FID", "bias sex"]);
    content.chunks.forEach((trace: number, i: number) => {
      const b = m.buffers[i];
      const pairs = new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
      (points[trace] ??= []).push(...pairs);
    });
  }
  expect(points[0].length).toBe(400);
  expect(points[0].slice(0, 4)).toEqual([0, 100, 1, 99]);
  expect(points[1].slice(-2)).toEqual([199, 199 / 200]);
  const { stdout } = await run('console.log(metrics.series()["FID"].value.length)');
  expect(stdout.trim()).toBe("200");
});

test("the dashboard turns method events into histogram panels, metric points and status", async () => {
  // MethodEvent-shaped values from a small real computation: a running share of "Female" in a
  // seeded coin-flip stream stands in for the classifier's count.
  const { outputs } = await run(`import type { MethodEvent } from "fairdiff";
const dashboard = new TrainingDashboard({ target: { attributes: { sex: ["Female", "Male"] } }, training: { sex: { Female: 0.15, Male: 0.85 } } });
const titlesBefore = [dashboard.metrics.get("left_title"), dashboard.metrics.get("right_title")];
async function* events(): AsyncGenerator<MethodEvent> {
  let female = 0, seed = 7;
  for (let step = 1; step <= 6; step++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    if (seed / 2147483648 < 0.5) female++;
    const share = female / step;
    yield { type: "step", method: "align", step, totalSteps: 6, losses: { total: 1 / step }, target: dashboard.target.value, detail: {}, biasEstimate: { sex: Math.abs(share - 0.5) * 2 }, learningRate: 1e-3, imagesPerSecond: 10, elapsedMs: step };
    if (step % 3 === 0) {
      const w = 1.96 * Math.sqrt(share * (1 - share) / step);
      yield { type: "evaluation", method: "align", step, elapsedMs: 1, evaluationShare: 0.1,
        attributes: [{ attribute: "sex", groups: ["Female", "Male"], proportions: [share, 1 - share],
          intervals: [{ estimate: share, lower: share - w, upper: share + w, level: 0.95, n: step, method: "wald" }, { estimate: 1 - share, lower: 1 - share - w, upper: 1 - share + w, level: 0.95, n: step, method: "wald" }],
          target: [0.5, 0.5], bias: Math.abs(share - 0.5) * 2, n: step }],
        quality: { extractor: { name: "x", kind: "radiomic", dimension: 2, description: "" }, overall: { value: 40 - step, nGenerated: 8, nReal: 8 },
          ...(step > 3 ? { overallKid: { value: 0.01 / step, nGenerated: 8, nReal: 8, subsets: 0 } } : {}),
          byAttribute: [{ attribute: "sex", groups: ["Female", "Male"], perGroup: [{ value: 41 - step, nGenerated: 4, nReal: 4 }, { value: 39 - step, nGenerated: 4, nReal: 4 }],
            ...(step > 3 ? { perGroupKid: [{ value: 0.02 / step, nGenerated: 4, nReal: 4, subsets: 0 }, { value: NaN, nGenerated: 4, nReal: 4, subsets: 0 }] } : {}),
            esFid: 42 - step, notes: [] }], elapsedMs: 1 } };
    }
  }
  yield { type: "done", method: "align", steps: 6, elapsedMs: 6, aborted: false };
}
const summary = await dashboard.run(events());
console.log(JSON.stringify({ summary, panels: dashboard.histogram.panels, series: Object.keys(dashboard.metrics.series()), traces: dashboard.metrics.get("traces"), kid: dashboard.metrics.series()["KID ×10³ sex=Female"], titlesBefore, leftTitle: dashboard.metrics.get("left_title"), rightTitle: dashboard.metrics.get("right_title"), status: dashboard.get("status") }));
dashboard`);
  const line = ofType(outputs, "stream")
    .map((m) => m.content.text)
    .join("");
  const result = JSON.parse(line);
  expect(result.summary).toMatchObject({ steps: 6, evaluations: 2, aborted: false });
  expect(result.panels).toEqual([
    expect.objectContaining({
      key: "sex",
      groups: ["Female", "Male"],
      training: [0.15, 0.85],
      target: [0.5, 0.5],
      n: 6,
      // The bias is named with the target it is measured against, and the evaluation's step.
      note: expect.stringMatching(
        /^evaluation at step 6 · bias vs 50\/50 target \(Female\/Male\) \d\.\d{3}$/,
      ),
    }),
  ]);
  // The first evaluation carries no KID, the second does: KID joins FID on the left axis, on
  // the scale its first figures set (×10³ for these), and the axis says so; a NaN group KID is
  // no point.
  expect(result.series.sort()).toEqual(
    [
      "FID",
      "FID sex=Female",
      "FID sex=Male",
      "ES-FID sex",
      "bias sex vs target (evaluation)",
      "bias sex vs target (batch)",
      "KID ×10³",
      "KID ×10³ sex=Female",
    ].sort(),
  );
  const axisOf = (name: string) =>
    result.traces.find((t: { name: string; axis: string }) => t.name === name)?.axis;
  expect(axisOf("KID ×10³")).toBe("left");
  expect(axisOf("KID ×10³ sex=Female")).toBe("left");
  expect(axisOf("FID")).toBe("left");
  expect(result.kid.step).toEqual([6]);
  expect(result.kid.value[0]).toBeCloseTo((0.02 / 6) * 1e3, 12);
  expect(result.leftTitle).toBe("FID · KID ×10³");
  // Before any point the axes name no metric; each is named with its first series.
  expect(result.titlesBefore).toEqual(["", ""]);
  expect(result.rightTitle).toBe("bias");
  expect(result.status).toMatch(/^done after 6 steps/);
  const open = openOf(outputs, "TrainingDashboardModel");
  const state = open.content.data.state;
  for (const part of ["target", "histogram", "metrics"]) expect(state[part]).toMatch(/^IPY_MODEL_/);
  expect(state.can_start).toBe(false);
  // The kernel's backend and mode, for the header (no useBackend() in this kernel yet).
  expect(state).toMatchObject({ backend: "no backend yet", mode: "full" });
});

test("Stop from the frontend aborts the run's AbortController", async () => {
  const { outputs } = await run(`
const stopper = new TrainingDashboard({ target: { attributes: { sex: ["Female", "Male"] } } });
const ctl = new AbortController();
async function* endless(signal: AbortSignal) {
  for (let step = 1; !signal.aborted; step++) {
    yield { type: "step", method: "align", step, totalSteps: 1000, losses: {}, target: {}, detail: {}, biasEstimate: {}, learningRate: 0, imagesPerSecond: 0, elapsedMs: 0 } as const;
    await sleep(20);
  }
}
const stopped = stopper.run(endless(ctl.signal), ctl);
console.log(stopper.modelId);`);
  const id = ofType(outputs, "stream")[0].content.text.trim();
  await commMsg(id, { method: "custom", content: { event: "stop" } });
  const { stdout } = await run("console.log(JSON.stringify(await stopped), ctl.signal.aborted)");
  expect(stdout).toMatch(/"aborted":true/);
  expect(stdout.trim().endsWith("true")).toBe(true);
});

test("SampleGrid sends images as one uint8 buffer grouped by predicted class", async () => {
  const { outputs } = await run(`
const grid = new SampleGrid();
grid.showPredicted(new Float32Array([0, 0.5, 1, 1, 0, 0.25, 0.75, 1]), [2, 2, 2, 1], ["p <b>1</b>", "p2"],
  { classes: ["Female", "Male"], probabilities: new Float32Array([0.9, 0.1, 0.2, 0.8]), predicted: new Int32Array([0, 1]) });
await sleep(100);
grid`);
  const open = openOf(outputs, "SampleGridModel");
  const update = ofType(outputs, "comm_msg").find(
    (m) => m.content.comm_id === open.content.comm_id && m.content.data.state?.items,
  )!;
  expect(update.content.data.buffer_paths).toEqual([["pixels"]]);
  expect([...update.buffers[0]]).toEqual([0, 128, 255, 255, 0, 64, 191, 255]);
  expect(update.content.data.state.shape).toEqual([2, 2, 2, 1]);
  expect(update.content.data.state.items[1]).toEqual({
    group: "Male",
    prompt: "p2",
    probabilities: { Female: expect.closeTo(0.2, 6), Male: expect.closeTo(0.8, 6) },
  });
});

test("after Stop, Resume continues the run from the step it stopped at, numbered on", async () => {
  // A StartRun as a method would be started: it takes the steps left (the model keeps what the
  // stopped run learnt) and reports them from 1; the dashboard numbers them on.
  const { outputs } = await run(`
const resumable = new TrainingDashboard({ target: { attributes: { sex: ["Female", "Male"] } } });
const TOTAL = 12;
const calls: number[] = [];
const firstRun = resumable.run(async function* (target, signal, resume) {
  calls.push(resume.stepsDone);
  const steps = TOTAL - resume.stepsDone;
  let step = 0;
  for (; step < steps && !signal.aborted; step++) {
    yield { type: "step", method: "align", step: step + 1, totalSteps: steps, losses: { total: 1 }, target: target(), detail: {}, biasEstimate: { sex: 0.5 }, learningRate: 0, imagesPerSecond: 1, elapsedMs: 0 } as const;
    await sleep(30, new AbortController().signal);
  }
  yield { type: "done", method: "align", steps: step, elapsedMs: 0, aborted: step < steps } as const;
});
console.log(resumable.modelId);`);
  const id = ofType(outputs, "stream")[0].content.text.trim();
  await new Promise((r) => setTimeout(r, 150));
  await commMsg(id, { method: "custom", content: { event: "stop" } });
  const stopped = await run(
    "const s1 = await firstRun;\nconsole.log(JSON.stringify({ s1, state: resumable.getState() }))",
  );
  const first = JSON.parse(stopped.stdout);
  expect(first.s1.aborted).toBe(true);
  const done = first.state.step as number;
  expect(done).toBeGreaterThan(0);
  expect(done).toBeLessThan(12);
  // Stopped: Start is enabled and offers to resume after the last step taken.
  expect(first.state).toMatchObject({ running: false, can_start: true, resume_step: done });
  expect(first.state.status).toMatch(
    new RegExp(`^stopped after step ${done} of 12 \\([\\d.]+ s\\) — Resume continues$`),
  );

  await commMsg(id, { method: "custom", content: { event: "start" } });
  const resumed = await run(`const s2 = await resumable.finished!;
console.log(JSON.stringify({ s2, calls, state: resumable.getState(), steps: resumable.metrics.series()["bias sex vs target (batch)"].step }))`);
  const second = JSON.parse(resumed.stdout);
  expect(second.calls).toEqual([0, done]);
  expect(second.s2).toMatchObject({ steps: 12 - done, aborted: false });
  // One continuous curve, steps 1..12, and the run is complete: nothing left to resume.
  expect(second.steps).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  expect(second.state).toMatchObject({
    running: false,
    can_start: false,
    resume_step: 0,
    step: 12,
    total_steps: 12,
  });
  expect(second.state.status).toMatch(/^done after 12 steps/);
});

test("a run that continues its state file keeps its own step numbers when resumed", async () => {
  // As a method resuming from \`stateFile\` reports it: the same total, steps numbered on itself.
  // The header shows the backend this kernel's useBackend() chose.
  const { stdout } = await run(`import { useBackend } from "fairdiff";
await useBackend("cpu");
const fromState = new TrainingDashboard({ target: { attributes: { sex: ["Female", "Male"] } } });
let saved = 0;
await fromState.run(async function* (target, signal, resume) {
  let step = saved;
  for (; step < 6 && !(step === 3 && resume.stepsDone === 0); step++) {
    yield { type: "step", method: "align", step: step + 1, totalSteps: 6, losses: { total: 1 }, target: target(), detail: {}, biasEstimate: { sex: 0.5 }, learningRate: 0, imagesPerSecond: 1, elapsedMs: 0 } as const;
  }
  saved = step;
  yield { type: "done", method: "align", steps: step, elapsedMs: 0, aborted: step < 6 } as const;
});
console.log(JSON.stringify({ id: fromState.modelId, state: fromState.getState() }));`);
  const stopped = JSON.parse(stdout);
  expect(stopped.state).toMatchObject({ can_start: true, resume_step: 3, backend: "cpu" });
  await commMsg(stopped.id, { method: "custom", content: { event: "start" } });
  const resumed = await run(`await fromState.finished;
console.log(JSON.stringify({ steps: fromState.metrics.series()["bias sex vs target (batch)"].step, status: fromState.get("status") }))`);
  const result = JSON.parse(resumed.stdout);
  expect(result.steps).toEqual([1, 2, 3, 4, 5, 6]);
  expect(result.status).toMatch(/^done after 6 steps/);
});
