/**
 * Top-level await in the forms a notebook writes: `for await` over a method's events, and
 * `await (expr)` (a parenthesised operand); both used to fail outside an async function.
 */
import { outputsText as text, useNotebookKernel } from "./helpers/notebookKernel";

const kernel = useNotebookKernel();

test("for await at the top level of a cell", async () => {
  const { reply, outputs } = await kernel().execute(
    "async function* events() { yield 1; yield 2; }\nlet total = 0;\nfor await (const e of events()) total += e;\ntotal",
  );
  expect([reply.content.status, reply.content.evalue]).toEqual(["ok", undefined]);
  expect(text(outputs)).toContain('"text/plain":"3"');
});

test("await of a parenthesised expression", async () => {
  const paren = await kernel().execute("const a = await (Promise.resolve(20));\na + 1");
  expect([paren.reply.content.status, paren.reply.content.evalue]).toEqual(["ok", undefined]);
  expect(text(paren.outputs)).toContain('"text/plain":"21"');
});
