/**
 * The target a method aims at, as every method takes it: a plain distribution (attribute → group
 * → probability) or a getter read every step, so a widget slider can move it mid-run. One
 * resolver turns either into the getter the methods read; each method then checks the value it
 * reads against its own classifier heads or attributes.
 */
import type { TargetDistributions, TargetGetter } from "./methodEvents";
import { MethodOptionError } from "./methodOptionError";

export type TargetOption = TargetDistributions | TargetGetter;

/**
 * The getter a method reads its target through: the getter given, or a constant one for a plain
 * distribution; `fallback` when none is given (a method whose target is optional).
 */
export function targetGetter(
  target: TargetOption | undefined,
  fallback?: TargetGetter,
): TargetGetter {
  if (typeof target === "function") return target;
  if (target === undefined && fallback) return fallback;
  if (target !== null && typeof target === "object" && !Array.isArray(target)) return () => target;
  throw new MethodOptionError(
    "target",
    target,
    "attribute → group → probability, or a function returning it",
  );
}

/** Attributes with their groups and target vector (in group order) as attribute → group → p. */
export function distributionsOf(
  attributes: readonly { name: string; groups: readonly string[]; target: readonly number[] }[],
): TargetDistributions {
  return Object.fromEntries(
    attributes.map((a) => [a.name, Object.fromEntries(a.groups.map((g, i) => [g, a.target[i]]))]),
  );
}

/** Every group of every attribute equally likely. */
export function uniformDistributions(
  attributes: readonly { name: string; groups: readonly string[] }[],
): TargetDistributions {
  return distributionsOf(
    attributes.map((a) => ({ ...a, target: a.groups.map(() => 1 / a.groups.length) })),
  );
}
