/**
 * A cell ending in `display(...)` or `display.html(...)` shows only its display_data: the handle
 * the call returns is not echoed as an execute_result (IPython's display returns None). A handle
 * named on its own (`h`) is still shown.
 */
import { parseCell, ts } from "../executor/typescript";
import { DisplayHandle } from "./display";

type Node = import("@tslab/typescript-for-tslab").Node;
type Expression = import("@tslab/typescript-for-tslab").Expression;

export function isDisplayCallResult(code: string, value: unknown): boolean {
  if (!(value instanceof DisplayHandle)) return false;
  const file = parseCell(code);
  const last = file.statements[file.statements.length - 1];
  if (!last || !ts.isExpressionStatement(last)) return false;
  let expression = withoutParentheses(last.expression);
  if (ts.isAwaitExpression(expression)) expression = withoutParentheses(expression.expression);
  if (!ts.isCallExpression(expression)) return false;
  const callee = expression.expression;
  const isDisplay = (node: Node) => ts.isIdentifier(node) && node.text === "display";
  return (
    isDisplay(callee) || (ts.isPropertyAccessExpression(callee) && isDisplay(callee.expression))
  );
}

function withoutParentheses(expression: Expression): Expression {
  while (ts.isParenthesizedExpression(expression)) expression = expression.expression;
  return expression;
}
