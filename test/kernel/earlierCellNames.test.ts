/**
 * Names declared in earlier cells, used in every syntactic position: object shorthand,
 * destructuring (renamed too), function arguments, destructuring assignment, live `let` updates.
 */
import { KernelHarness, type Msg } from "./helpers/kernelHarness";

jest.setTimeout(60_000);

let k: KernelHarness;

beforeAll(async () => {
  k = await KernelHarness.start();
  const setup = await k.execute(
    "const a = 1;\nconst obj = { x: 5, y: 6 };\nlet q = 1;\nfunction tenTimes(o: { a: number }) { return o.a * 10; }",
  );
  expect(setup.reply.content.status).toBe("ok");
}, 90_000);

afterAll(async () => {
  await k?.stop();
});

/** The cell's execute_result as text, or its error. */
async function result(code: string): Promise<string> {
  const { reply, outputs } = await k.execute(code);
  if (reply.content.status !== "ok") {
    throw new Error(`${code} failed: ${reply.content.ename}: ${reply.content.evalue}`);
  }
  const shown = outputs.filter((m: Msg) => m.header.msg_type === "execute_result");
  return shown.length === 0 ? "<none>" : String(shown[0].content.data["text/plain"]);
}

test("object shorthand of an earlier cell's name", async () => {
  expect(await result("({ a })")).toBe("{ a: 1 }");
  expect(await result("({ a, b: 2 })")).toBe("{ a: 1, b: 2 }");
});

test("shorthand in a function argument", async () => {
  expect(await result("tenTimes({ a })")).toBe("10");
});

test("a local name shadowing an earlier one stays local in shorthand", async () => {
  expect(await result("function wrap(a: number) { return { a }; }\nwrap(3)")).toBe("{ a: 3 }");
});

test("destructuring an earlier cell's object, plain and renamed", async () => {
  expect(await result("const { x } = obj;\nx")).toBe("5");
  expect(await result("const { y: renamedY } = obj;\nrenamedY")).toBe("6");
  expect(await result("function firstX({ x }: typeof obj) { return x; }\nfirstX(obj)")).toBe("5");
});

test("destructuring assignment to an earlier `let` updates it for later cells", async () => {
  expect(await result("({ q } = { q: 7 });\nq")).toBe("7");
  expect(await result("q")).toBe("7");
  expect(await result("({ q = 9 } = {});\nq")).toBe("9");
});

test("a closure's updates to its cell's `let` are seen by later cells", async () => {
  await result("let calls = 0;\nconst call = () => calls++;");
  expect(await result("call(); call();\ncalls")).toBe("2");
  expect(await result("calls")).toBe("2");
});

test("cells without declarations still see imports via import() and report type errors", async () => {
  expect(await result("(await import('node:path')).basename('/a/b')")).toBe("'b'");
  const { reply } = await k.execute("const s: string = a;");
  expect(reply.content).toMatchObject({ status: "error", ename: "CompileError" });
  expect(reply.content.evalue).toContain("not assignable to type 'string'");
});
