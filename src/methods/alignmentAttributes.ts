/**
 * Reads a target (attribute → group → probability) against the subgroup classifier's attribute
 * heads: single attributes ("sex") and intersections ("sex×race", groups "Female×White"), whose
 * probability per image is the product of the component heads' calibrated probabilities (the
 * heads are read as independent, as the representation audit does). Errors name the bad value.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { SubgroupClassifier } from "../classifiers/subgroupClassifier";
import { defineAttribute, resolveAttribute, type SensitiveAttribute } from "../data/subgroups";
import { targetToVector } from "../data/targetDistribution";
import type { TargetDistributions } from "./methodEvents";

export interface AlignmentAttribute {
  /** "sex", or "sex×race" for an intersection. */
  name: string;
  groups: string[];
  /** Target probability per group, in `groups` order. */
  target: number[];
  /** Classifier head index and class count of each component, in row-major group order. */
  components: { head: number; classes: number }[];
}

/** Validates `target` and resolves each named attribute to classifier heads. */
export function resolveAlignmentAttributes(
  classifier: SubgroupClassifier,
  target: TargetDistributions,
): AlignmentAttribute[] {
  if (target === null || typeof target !== "object") {
    throw new Error(
      `the target must be an object attribute → group → probability, got ${String(target)}`,
    );
  }
  const entries = Object.entries(target);
  if (entries.length === 0) throw new Error("the target names no attribute");
  const heads = classifier.tasks
    .map((task, head) => ({ task, head }))
    .filter(({ task }) => task.kind === "attribute");
  const known: SensitiveAttribute[] = heads.map(({ task }) =>
    defineAttribute(task.name, task.classes),
  );
  return entries.map(([name, distribution]) => {
    let attribute: SensitiveAttribute;
    try {
      attribute = resolveAttribute(known, name);
    } catch (error) {
      throw new Error(
        `target names attribute "${name}", which the classifier cannot read: ${(error as Error).message}`,
      );
    }
    const parts = attribute.components ?? [attribute];
    return {
      name: attribute.name,
      groups: [...attribute.groups],
      target: targetToVector(attribute, distribution),
      components: parts.map((part) => {
        const found = heads.find(({ task }) => task.name === part.name);
        if (!found) throw new Error(`no classifier head "${part.name}"`);
        return { head: found.head, classes: found.task.classes.length };
      }),
    };
  });
}

/** Joint probabilities [n × groups] of an attribute from per-head probabilities [n × classes]. */
export function attributeProbabilities(
  attribute: AlignmentAttribute,
  headProbabilities: ArrayLike<number>[],
  n: number,
): Float64Array {
  const k = attribute.groups.length;
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let g = 0; g < k; g++) {
      let rest = g;
      let probability = 1;
      for (let c = attribute.components.length - 1; c >= 0; c--) {
        const { head, classes } = attribute.components[c];
        probability *= headProbabilities[head][i * classes + (rest % classes)];
        rest = Math.floor(rest / classes);
      }
      out[i * k + g] = probability;
    }
  }
  return out;
}

/**
 * Per image, the log-probability [n × groups] of each of the attribute's groups (row-major, as
 * `attributeProbabilities`), on the tape: the sum of the component heads' log-probabilities
 * (`byHead[h]`, [n × classes], e.g. `calibratedLogProbabilities`). The heads are read as
 * independent, as the representation audit and `attributeProbabilities` do, so a joint group's
 * log-probability is the sum of its components'; broadcasting [n, k₁, 1] + [n, 1, k₂] builds
 * the joint table for any number of components. A single attribute is `byHead[head]` itself.
 */
export function attributeLogProbabilities(
  attribute: AlignmentAttribute,
  byHead: readonly tf.Tensor2D[],
): tf.Tensor2D {
  const [first, ...rest] = attribute.components;
  if (rest.length === 0) return byHead[first.head];
  return tf.tidy(() => {
    const n = byHead[first.head].shape[0];
    let joint: tf.Tensor2D = byHead[first.head];
    let groups = first.classes;
    for (const { head, classes } of rest) {
      const sum = tf.add(
        tf.reshape(joint, [n, groups, 1]),
        tf.reshape(byHead[head], [n, 1, classes]),
      );
      groups *= classes;
      joint = tf.reshape(sum, [n, groups]);
    }
    return joint;
  });
}

/** The component class indices of joint group `group` (row-major, as intersectAttributes). */
export function componentClasses(attribute: AlignmentAttribute, group: number): number[] {
  const out = new Array<number>(attribute.components.length);
  let rest = group;
  for (let c = attribute.components.length - 1; c >= 0; c--) {
    const { classes } = attribute.components[c];
    out[c] = rest % classes;
    rest = Math.floor(rest / classes);
  }
  return out;
}

/**
 * The classifier's attribute heads no targeted attribute reads (e.g. sex and age when the target
 * names race): what Method 1's preservation term keeps as the original image showed it.
 */
export function untargetedAttributes(
  classifier: SubgroupClassifier,
  targeted: readonly AlignmentAttribute[],
): AlignmentAttribute[] {
  const used = new Set(targeted.flatMap((a) => a.components.map((c) => c.head)));
  return classifier.tasks.flatMap((task, head) =>
    task.kind === "attribute" && !used.has(head)
      ? [
          {
            name: task.name,
            groups: [...task.classes],
            target: task.classes.map(() => 1 / task.classes.length),
            components: [{ head, classes: task.classes.length }],
          },
        ]
      : [],
  );
}
