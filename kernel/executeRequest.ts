/**
 * The content of an execute_request, checked before anything runs: a malformed request (no code,
 * code that is not a string, a flag that is not a boolean) is refused with an error reply naming
 * the field, the value and what was expected, rather than run as something it does not say.
 */
import { inspect } from "node:util";
import type { CellError } from "./executor/cellError";
import type { Content } from "./wire/message";

export interface ExecuteRequest {
  code: string;
  silent: boolean;
  storeHistory: boolean;
  stopOnError: boolean;
}

export type ParsedExecuteRequest =
  { ok: true; request: ExecuteRequest } | { ok: false; error: CellError };

type Check = (value: unknown) => boolean;

const isBoolean: Check = (v) => typeof v === "boolean";
const isObject: Check = (v) => typeof v === "object" && v !== null && !Array.isArray(v);

/** field → [required, check, what is expected]; fields the spec marks optional may be absent. */
const FIELDS: Record<string, [boolean, Check, string]> = {
  code: [true, (v) => typeof v === "string", "a string (the cell's source)"],
  silent: [false, isBoolean, "a boolean"],
  store_history: [false, isBoolean, "a boolean"],
  user_expressions: [false, isObject, "an object mapping names to expressions"],
  allow_stdin: [false, isBoolean, "a boolean"],
  stop_on_error: [false, isBoolean, "a boolean"],
};

export function parseExecuteRequest(content: Content): ParsedExecuteRequest {
  const problems: string[] = [];
  for (const [field, [required, check, expected]] of Object.entries(FIELDS)) {
    const value = content[field];
    if (value === undefined) {
      if (required) problems.push(`field "${field}" is missing; expected ${expected}`);
    } else if (!check(value)) {
      problems.push(`field "${field}" is ${describe(value)}; expected ${expected}`);
    }
  }
  if (problems.length > 0) {
    const evalue = `invalid execute_request: ${problems.join("; ")}`;
    return {
      ok: false,
      error: {
        ename: "InvalidRequest",
        evalue,
        traceback: [`InvalidRequest: ${evalue}`, "Nothing was run."],
      },
    };
  }
  const silent = content.silent === true;
  return {
    ok: true,
    request: {
      code: content.code as string,
      silent,
      storeHistory: !silent && content.store_history !== false,
      stopOnError: content.stop_on_error !== false,
    },
  };
}

/** `42 (a number)`, `null`, `[ 1 ] (an array)`. */
function describe(value: unknown): string {
  if (value === null) return "null";
  const kind = Array.isArray(value) ? "array" : typeof value;
  const article = /^[aeiou]/.test(kind) ? "an" : "a";
  return `${inspect(value, { depth: 1, breakLength: Infinity, maxStringLength: 80, maxArrayLength: 5 })} (${article} ${kind})`;
}
