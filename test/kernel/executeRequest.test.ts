/** Checking execute_request content before anything runs (no kernel needed). */
import { parseExecuteRequest } from "../../kernel/executeRequest";

test("a well-formed request keeps its flags; absent optional fields take the spec's defaults", () => {
  expect(parseExecuteRequest({ code: "1" })).toEqual({
    ok: true,
    request: { code: "1", silent: false, storeHistory: true, stopOnError: true },
  });
  // A silent cell never stores history, whatever store_history says.
  expect(
    parseExecuteRequest({
      code: "",
      silent: true,
      store_history: true,
      user_expressions: {},
      allow_stdin: false,
      stop_on_error: false,
    }),
  ).toEqual({
    ok: true,
    request: { code: "", silent: true, storeHistory: false, stopOnError: false },
  });
});

test("every malformed field is named, with its value and what was expected", () => {
  const parsed = parseExecuteRequest({
    code: null,
    allow_stdin: "no",
    stop_on_error: 0,
    user_expressions: "x",
  });
  if (parsed.ok) throw new Error("accepted a malformed request");
  expect(parsed.error.ename).toBe("InvalidRequest");
  expect(parsed.error.evalue).toBe(
    "invalid execute_request: " +
      [
        'field "code" is null; expected a string (the cell\'s source)',
        `field "user_expressions" is 'x' (a string); expected an object mapping names to expressions`,
        `field "allow_stdin" is 'no' (a string); expected a boolean`,
        'field "stop_on_error" is 0 (a number); expected a boolean',
      ].join("; "),
  );
  expect(parsed.error.traceback).toEqual([
    `InvalidRequest: ${parsed.error.evalue}`,
    "Nothing was run.",
  ]);
});

test("a huge malformed value is shown shortened", () => {
  const parsed = parseExecuteRequest({ code: ["x".repeat(10_000), 1, 2, 3, 4, 5, 6] });
  if (parsed.ok) throw new Error("accepted a malformed request");
  expect(parsed.error.evalue.length).toBeLessThan(300);
  expect(parsed.error.evalue).toContain("(an array)");
});
