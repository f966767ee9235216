/**
 * Prompted distillation for Method 1 (an addition to Shen et al.): the tuned model, on the
 * neutral prompt, is taught the original model's guided noise predictions for the prompt naming
 * each image's target groups, at one chain step, on the latents of the original model's chain
 * for that named prompt from the image's noise (originalPredictionMatch.ts): noise by noise, the
 * tuned prompt learns to follow the named prompt's path. (On the tuned model's own latents it
 * learns a blend of the groups' predictions instead, which reaches the target more slowly: race
 * gap 0.186 against 0.092, docs/measurements/2026-12-06-distillation.)
 *
 * Distributional alignment still decides which image goes to which group — by one exact
 * optimal-transport assignment per step (sampledGroups), not the confident averaged targets of
 * the cross-entropy, which give no image of an all-male batch a confident "Female" (measured:
 * sex × race left sex at 97 % male). The original model, which draws every group well when the
 * prompt names it (cxr-mini: 100 % Asian for "an Asian patient", 100 % Black, 78 % White), says
 * how. The classifier stays out of the gradient, so nothing is learnt that fools it more cheaply
 * than drawing the group (docs/measurements/2026-12-06-prompted: with the cross-entropy, the race
 * gap and the tuned prompt's FID moved together along one curve). Groups a prompt's format cannot
 * name (age on chest radiographs) reach the teacher through classifier guidance (groupGuidance.ts,
 * on by default); with it off they are left to the cross-entropy.
 */
import type { SubgroupClassifier } from "../classifiers/subgroupClassifier";
import { promptSubject, promptSubjectReader } from "../data/promptSubject";
import type { AlignmentAttribute } from "./alignmentAttributes";
import { namedGroups } from "./promptedReferences";

export interface DistillationPromptInputs {
  classifier: SubgroupClassifier;
  /** The step's prompt per image. */
  prompts: readonly string[];
  attributes: readonly AlignmentAttribute[];
  /** Per targeted attribute: each image's target group (one exact assignment: sampledGroups). */
  targets: readonly Int32Array[];
}

/** Per image: its prompt naming, for every targeted attribute it can name, the image's target. */
export function distillationPrompts(inputs: DistillationPromptInputs): string[] {
  const { classifier, prompts, attributes, targets } = inputs;
  const subjectOf = promptSubjectReader();
  return prompts.map((prompt, i) => {
    const subject = subjectOf(prompt);
    const nameable = new Set(subject.nameable);
    const named: Record<string, string> = {};
    attributes.forEach((attribute, a) => {
      for (const [name, value] of namedGroups(classifier, attribute, targets[a][i])) {
        if (nameable.has(name)) named[name] = value;
      }
    });
    return subject.naming(named);
  });
}

/**
 * Per targeted attribute: whether the distillation carries it, leaving it out of the
 * cross-entropy — every attribute when its teacher is classifier-guided (groupGuidance.ts), else
 * those whose every component `prompt`'s format names; the others (age on chest radiographs)
 * keep the cross-entropy.
 */
export function distilledAttributes(
  classifier: SubgroupClassifier,
  prompt: string,
  attributes: readonly AlignmentAttribute[],
  guided = false,
): boolean[] {
  if (guided) return attributes.map(() => true);
  const nameable = new Set(promptSubject(prompt).nameable);
  return attributes.map((attribute) =>
    attribute.components.every(({ head }) => nameable.has(classifier.tasks[head].name)),
  );
}
