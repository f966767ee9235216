/**
 * Before and after: two audits of the same prompts (a model before and after a fix) compared
 * share by share — one row per prompt × attribute × group, as a long-format table.
 */
import type { Interval } from "../fairness/interval";
import type { AttributeRepresentation } from "./attributeRepresentation";
import type { PromptRepresentation } from "./representationAudit";

export interface ShareChange {
  prompt: string;
  /** An attribute ("sex") or an intersection ("sex×race"). */
  attribute: string;
  group: string;
  before: Interval;
  after: Interval;
  /** after − before, of the point estimates. */
  change: number;
}

const audited = (p: PromptRepresentation): AttributeRepresentation[] => [
  ...p.attributes,
  ...p.intersections,
];

/**
 * Every share both audits measured: prompts and attributes only one of them has are left out;
 * an attribute whose groups differ between the two is an error, and so is having nothing in
 * common.
 */
export function compareRepresentation(
  before: readonly PromptRepresentation[],
  after: readonly PromptRepresentation[],
): ShareChange[] {
  const rows: ShareChange[] = [];
  for (const b of before) {
    const a = after.find((p) => p.prompt === b.prompt);
    if (!a) continue;
    for (const attributeBefore of audited(b)) {
      const attributeAfter = audited(a).find((x) => x.attribute === attributeBefore.attribute);
      if (!attributeAfter) continue;
      const groups = attributeBefore.groups;
      if (groups.join("\u0000") !== attributeAfter.groups.join("\u0000")) {
        throw new Error(
          `"${attributeBefore.attribute}" has groups [${groups.join(", ")}] before and [${attributeAfter.groups.join(", ")}] after, for prompt "${b.prompt}"`,
        );
      }
      groups.forEach((group, g) => {
        const was = attributeBefore.proportions[g];
        const now = attributeAfter.proportions[g];
        rows.push({
          prompt: b.prompt,
          attribute: attributeBefore.attribute,
          group,
          before: { ...was },
          after: { ...now },
          change: now.estimate - was.estimate,
        });
      });
    }
  }
  if (rows.length === 0) {
    throw new Error(
      `the two reports share no prompt and attribute (before: ${before.map((p) => `"${p.prompt}"`).join(", ")}; after: ${after.map((p) => `"${p.prompt}"`).join(", ")})`,
    );
  }
  return rows;
}
