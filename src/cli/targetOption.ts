/**
 * `--target`, one parser for every command that takes it (audit, finetune): "attribute=Group:p,
 * Group:p", several joined by ";" or by repeating the flag, an intersection as
 * "sex×race=Female×White:0.5,…" ("*" may stand for "×"). `parseTargetSpecs` checks the syntax
 * before anything loads; `checkTargets` checks the groups once the classifier says what they are.
 */
import type { SubgroupClassifier } from "../classifiers/subgroupClassifier";
import { defineAttribute, INTERSECTION_SEPARATOR } from "../data/subgroups";
import { validateTarget } from "../data/targetDistribution";
import { componentAttributes } from "../methods/startFix";

export type TargetSpecs = Record<string, Record<string, number>>;

export function parseTargetSpecs(specs: readonly string[]): TargetSpecs {
  const targets: TargetSpecs = {};
  for (const spec of specs.flatMap((s) => s.split(";")).map((s) => s.trim())) {
    if (spec === "") continue;
    const equals = spec.indexOf("=");
    if (equals <= 0) throw new Error(`--target "${spec}" must look like sex=Female:0.5,Male:0.5`);
    const attribute = spec.slice(0, equals).trim().replaceAll("*", INTERSECTION_SEPARATOR);
    if (attribute in targets) throw new Error(`--target gives "${attribute}" twice`);
    const target: Record<string, number> = {};
    for (const entry of spec.slice(equals + 1).split(",")) {
      const colon = entry.lastIndexOf(":");
      const group = entry.slice(0, colon).trim().replaceAll("*", INTERSECTION_SEPARATOR);
      const raw = entry.slice(colon + 1).trim();
      const value = Number(raw);
      if (colon <= 0 || raw === "" || !Number.isFinite(value))
        throw new Error(`--target "${attribute}": "${entry.trim()}" must look like Group:0.5`);
      if (group in target) throw new Error(`--target "${attribute}" gives group "${group}" twice`);
      target[group] = value;
    }
    targets[attribute] = target;
  }
  return targets;
}

/**
 * Each target against its attribute's groups: unknown attribute or group, a missing group, a sum
 * off 1 — each an error naming it. `groupsOf` knows the attributes and intersections in play.
 */
export function checkTargets(
  targets: TargetSpecs,
  groupsOf: ReadonlyMap<string, readonly string[]>,
): TargetSpecs {
  const checked: TargetSpecs = {};
  for (const [attribute, target] of Object.entries(targets)) {
    const groups = groupsOf.get(attribute);
    if (!groups)
      throw new Error(
        `--target names unknown attribute "${attribute}" (known: ${[...groupsOf.keys()].join(", ")})`,
      );
    // An intersection's name joins its components with "×", which a single attribute may not.
    const definition = attribute.includes(INTERSECTION_SEPARATOR)
      ? { name: attribute, groups }
      : defineAttribute(attribute, groups);
    checked[attribute] = { ...validateTarget(definition, target) };
  }
  return checked;
}

/** Syntax and groups in one call, for commands that know the groups up front. */
export function parseTargets(
  specs: readonly string[],
  groupsOf: ReadonlyMap<string, readonly string[]>,
): TargetSpecs {
  return checkTargets(parseTargetSpecs(specs), groupsOf);
}

/**
 * The groups of each attribute and of each intersection of them ("sex×race" → "Female×Asian",
 * …), from a function giving an attribute's groups (a classifier head's classes).
 */
export function groupsWithIntersections(
  attributes: readonly string[],
  intersections: readonly (readonly string[])[],
  groupsOfAttribute: (name: string) => readonly string[],
): Map<string, readonly string[]> {
  const groupsOf = new Map<string, readonly string[]>(
    attributes.map((name) => [name, groupsOfAttribute(name)]),
  );
  for (const names of intersections) {
    const joint = names.reduce<string[]>(
      (acc, name) =>
        acc.flatMap((g) =>
          groupsOfAttribute(name).map((c) => (g === "" ? c : `${g}${INTERSECTION_SEPARATOR}${c}`)),
        ),
      [""],
    );
    groupsOf.set(names.join(INTERSECTION_SEPARATOR), joint);
  }
  return groupsOf;
}

/** The targets checked against the classifier's groups (intersections included). */
export function targetsForClassifier(
  specs: TargetSpecs,
  classifier: SubgroupClassifier,
): TargetSpecs {
  const names = Object.keys(specs);
  const groupsOf = groupsWithIntersections(
    componentAttributes(specs).filter((name) => classifier.tasks.some((t) => t.name === name)),
    names
      .filter((n) => n.includes(INTERSECTION_SEPARATOR))
      .map((n) => n.split(INTERSECTION_SEPARATOR)),
    (name) => classifier.task(name).classes,
  );
  return checkTargets(specs, groupsOf);
}
