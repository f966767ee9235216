/**
 * Method 1's prior-preservation term (an addition to Shen et al., after DreamBooth's): prompts
 * that name the patient's groups must keep drawing what the original model drew for them.
 * Whatever is trained on the neutral prompt — a LoRA on the text encoder or on the UNet — is
 * shared by every prompt, so a fix for race also moves "… of a Female Black patient …", and
 * the quality audit, whose generated set comes from such captions, sees it (FID +67–172 % on
 * race, docs/measurements/2026-12-06-retrained). The term holds the tuned model's guided noise
 * predictions to the original's (originalPredictionMatch.ts) for the step's prompt naming groups
 * drawn at random, one prompt per image — or, given the model's training captions, for those:
 * the tuned prompt's own finding is then not the only one held (its other findings' prompts went
 * 86–100 % Asian; with the captions caption FID stays within +15 %,
 * docs/measurements/2026-12-06-captions).
 */
import { promptSubject } from "../data/promptSubject";
import type { Rng } from "../util/random";

/**
 * Per image: one of `captions` drawn uniformly when given, else `prompt` naming a group drawn
 * uniformly for every attribute its format can name.
 */
export function priorPrompts(
  prompt: string,
  n: number,
  rng: Rng,
  captions?: readonly string[],
): string[] {
  if (captions) return Array.from({ length: n }, () => captions[rng.int(captions.length)]);
  const subject = promptSubject(prompt);
  return Array.from({ length: n }, () =>
    subject.naming(
      Object.fromEntries(
        subject.nameable.map((attribute) => {
          const groups = subject.choices[attribute];
          return [attribute, groups[rng.int(groups.length)]];
        }),
      ),
    ),
  );
}
