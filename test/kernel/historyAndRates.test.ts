/** History queries and the iopub rate governor, without a kernel. */
import { globToRegExp, History } from "../../kernel/history";
import { RateGovernor } from "../../kernel/output/rateGovernor";

test("history tail, range and glob search (unique, n)", () => {
  const h = new History();
  ["a = 1", "b = 2", "a = 1", "c"].forEach((input, i) =>
    h.add({ line: i + 1, input, output: String(i) }),
  );
  expect(h.query({ hist_access_type: "tail", n: 2 })).toEqual([
    [1, 3, "a = 1"],
    [1, 4, "c"],
  ]);
  expect(
    h.query({ hist_access_type: "range", session: 1, start: 2, stop: 3, output: true }),
  ).toEqual([[1, 2, ["b = 2", "1"]]]);
  expect(h.query({ hist_access_type: "search", pattern: "a*" })).toHaveLength(2);
  expect(h.query({ hist_access_type: "search", pattern: "a*", unique: true })).toEqual([
    [1, 3, "a = 1"],
  ]);
  expect(h.query({ hist_access_type: "range", session: 7, start: 1 })).toEqual([]);
  expect(globToRegExp("1?2*").test("1 2 + 3")).toBe(true);
  expect(globToRegExp("x.y").test("xzy")).toBe(false);
});

test("the governor allows its budget per window, then asks to wait until the oldest expires", () => {
  let now = 0;
  const g = new RateGovernor(
    { windowMs: 1000, messagesPerSecond: 3, streamBytesPerSecond: 100 },
    () => now,
  );
  for (let i = 0; i < 3; i++) {
    expect(g.delayFor(0)).toBe(0);
    g.record("comm_msg", 0);
    now += 100;
  }
  expect(g.delayFor(0)).toBe(700);
  g.record("status", 0); // not counted, as in jupyter_server
  now = 1001;
  expect(g.delayFor(0)).toBe(0);
  expect(g.delayFor(1000)).toBeGreaterThan(0); // stream bytes over budget
});
