/**
 * Method 2's target read against the classifier: one or several single attributes, each an
 * attribute head with a distribution over its classes. Intersections ("a×b") are refused — the
 * loss matches each head's batch-mean probabilities, not the joint distribution. Errors name the
 * bad value.
 */
import type { SubgroupClassifier } from "../classifiers/subgroupClassifier";
import { defineAttribute } from "../data/subgroups";
import { targetToVector } from "../data/targetDistribution";
import type { TargetDistributions } from "./methodEvents";
import { distributionsOf } from "./methodTarget";

export interface HeadTarget {
  attribute: string;
  head: number;
  groups: string[];
  target: number[];
}

/** Validates a target against the classifier's attribute heads; errors name the bad value. */
export function resolveHeadTargets(
  classifier: SubgroupClassifier,
  target: TargetDistributions,
): HeadTarget[] {
  const entries = Object.entries(target ?? {});
  if (entries.length === 0) throw new Error("the target names no attribute");
  return entries.map(([attribute, distribution]) => {
    const head = classifier.tasks.findIndex((t) => t.name === attribute && t.kind === "attribute");
    if (head < 0) {
      const heads = classifier.tasks.filter((t) => t.kind === "attribute").map((t) => t.name);
      throw new Error(
        `target names attribute "${attribute}", which the classifier has no head for (attribute heads: ${heads.join(", ")})`,
      );
    }
    const groups = classifier.tasks[head].classes;
    return {
      attribute,
      head,
      groups,
      target: targetToVector(defineAttribute(attribute, groups), distribution),
    };
  });
}

/** The validated target as attribute → group → p. */
export function headDistributions(heads: HeadTarget[]): TargetDistributions {
  return distributionsOf(heads.map((h) => ({ ...h, name: h.attribute })));
}
