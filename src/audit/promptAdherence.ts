/**
 * Attribute adherence: when a prompt names a group ("… of a Female White patient …"), the share
 * of its images the classifier puts in that group, with a Wilson interval.
 */
import { wilsonInterval, type Interval } from "../fairness";

/** The group of `groups` the prompt names as a whole word (case-sensitive), if exactly one. */
export function namedGroup(prompt: string, groups: readonly string[]): string | undefined {
  const words = new Set(prompt.split(/[^A-Za-z0-9+<>=-]+/).filter((w) => w.length > 0));
  const named = groups.filter((g) => g.split(/\s+/).every((part) => words.has(part)));
  return named.length === 1 ? named[0] : undefined;
}

export interface Adherence {
  group: string;
  rate: Interval;
}

export function adherence(
  prompt: string,
  groups: readonly string[],
  predicted: ArrayLike<number>,
): Adherence | undefined {
  const group = namedGroup(prompt, groups);
  if (group === undefined) return undefined;
  const index = groups.indexOf(group);
  let hits = 0;
  for (let i = 0; i < predicted.length; i++) if (predicted[i] === index) hits += 1;
  return { group, rate: wilsonInterval(hits, predicted.length) };
}
