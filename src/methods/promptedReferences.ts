/**
 * Prompted references for Method 1's semantic term. Shen et al. compare each fine-tuned image
 * with the original model's image from the same noise, and weigh that lighter where the target
 * asks the image to change group — so an image that must change is held by little but the
 * classifier, and drifts wherever the classifier is fooled most cheaply (quality falls). Here
 * such an image is compared instead with what the original model draws from the same noise when
 * the prompt names the target's groups ("… of a Black patient …"): a reference that already
 * shows the change, at the original model's quality, held at full weight. Untargeted attributes
 * the original image shows confidently are named too, so the reference keeps them.
 */
import type { SubgroupClassifier } from "../classifiers/subgroupClassifier";
import { promptSubjectReader } from "../data/promptSubject";
import { componentClasses, type AlignmentAttribute } from "./alignmentAttributes";

export interface PromptedReferenceInputs {
  classifier: SubgroupClassifier;
  /** The step's prompt per image. */
  prompts: readonly string[];
  attributes: readonly AlignmentAttribute[];
  /** Per targeted attribute: each image's confident target group, −1 for none. */
  labels: readonly Int32Array[];
  /** Per targeted attribute: the group the original image shows. */
  referenceGroups: readonly Int32Array[];
  /** Untargeted attributes and the group the original image shows confidently (−1: unsure). */
  held: readonly AlignmentAttribute[];
  heldGroups: readonly Int32Array[];
}

/** The classifier's head name → group of `attribute`'s group `group` (one entry per component). */
export function namedGroups(
  classifier: SubgroupClassifier,
  attribute: AlignmentAttribute,
  group: number,
): [string, string][] {
  const classes = componentClasses(attribute, group);
  return attribute.components.map(({ head }, c) => {
    const task = classifier.tasks[head];
    return [task.name, task.classes[classes[c]]];
  });
}

/**
 * Per image: the prompt naming its target groups where a confident target differs from what the
 * original image shows and the prompt's format can name every attribute that changes; undefined
 * elsewhere (the image keeps the plain reference and Shen et al.'s lighter weight).
 */
export function promptedReferencePrompts(inputs: PromptedReferenceInputs): (string | undefined)[] {
  const { classifier, prompts, attributes, labels, referenceGroups, held, heldGroups } = inputs;
  const subjectOf = promptSubjectReader();
  return prompts.map((prompt, i) => {
    const changed = attributes.filter(
      (_, a) => labels[a][i] >= 0 && labels[a][i] !== referenceGroups[a][i],
    );
    if (changed.length === 0) return undefined;
    const subject = subjectOf(prompt);
    const nameable = new Set(subject.nameable);
    const named: Record<string, string> = {};
    for (const [a, attribute] of attributes.entries()) {
      if (labels[a][i] < 0) continue;
      const groups = namedGroups(classifier, attribute, labels[a][i]);
      if (changed.includes(attribute) && groups.some(([name]) => !nameable.has(name))) {
        return undefined;
      }
      for (const [name, group] of groups) if (nameable.has(name)) named[name] = group;
    }
    held.forEach((attribute, h) => {
      if (heldGroups[h][i] < 0) return;
      for (const [name, group] of namedGroups(classifier, attribute, heldGroups[h][i])) {
        if (nameable.has(name)) named[name] = group;
      }
    });
    return subject.naming(named);
  });
}
