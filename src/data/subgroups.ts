/**
 * Sensitive attributes (sex, race, age band, skin tone …) with named groups, and intersectional
 * attributes built from several of them (sex × race has 2 × 3 = 6 groups).
 */

/** Joins component groups into an intersectional group name, e.g. "Female×Black". */
export const INTERSECTION_SEPARATOR = "×";

export interface SensitiveAttribute {
  /** e.g. "sex", or "sex×race" for an intersection. */
  readonly name: string;
  /** Group names in a fixed order (the order of one-hot vectors and count tables). */
  readonly groups: readonly string[];
  /** The single attributes an intersection is made of; absent for a single attribute. */
  readonly components?: readonly SensitiveAttribute[];
}

/** Per-sample group membership: attribute name → group name. */
export type GroupAssignment = Readonly<Record<string, string>>;

export function defineAttribute(name: string, groups: readonly string[]): SensitiveAttribute {
  if (name.trim() === "") throw new Error("attribute name must not be empty");
  if (name.includes(INTERSECTION_SEPARATOR)) {
    throw new Error(
      `attribute name "${name}" must not contain "${INTERSECTION_SEPARATOR}" (reserved for intersections)`,
    );
  }
  if (groups.length < 2) {
    throw new Error(`attribute "${name}" needs at least 2 groups, got [${groups.join(", ")}]`);
  }
  const seen = new Set<string>();
  for (const group of groups) {
    if (group.trim() === "") throw new Error(`attribute "${name}" has an empty group name`);
    if (group.includes(INTERSECTION_SEPARATOR)) {
      throw new Error(`group "${group}" of "${name}" must not contain "${INTERSECTION_SEPARATOR}"`);
    }
    if (seen.has(group)) throw new Error(`attribute "${name}" lists group "${group}" twice`);
    seen.add(group);
  }
  return Object.freeze({ name, groups: Object.freeze([...groups]) });
}

/** Cartesian product of attributes: groups in row-major order of the components. */
export function intersectAttributes(...attributes: SensitiveAttribute[]): SensitiveAttribute {
  if (attributes.length < 2) throw new Error("an intersection needs at least 2 attributes");
  const components = attributes.flatMap((a) => a.components ?? [a]);
  const names = new Set<string>();
  for (const c of components) {
    if (names.has(c.name)) throw new Error(`attribute "${c.name}" appears twice in intersection`);
    names.add(c.name);
  }
  let groups: string[] = [""];
  for (const c of components) {
    groups = groups.flatMap((prefix) =>
      c.groups.map((g) => (prefix === "" ? g : prefix + INTERSECTION_SEPARATOR + g)),
    );
  }
  return Object.freeze({
    name: components.map((c) => c.name).join(INTERSECTION_SEPARATOR),
    groups: Object.freeze(groups),
    components: Object.freeze(components),
  });
}

/** The group a sample belongs to under `attribute` (joins components for an intersection). */
export function groupOf(attribute: SensitiveAttribute, assignment: GroupAssignment): string {
  const parts = attribute.components ?? [attribute];
  const names = parts.map((part) => {
    const group = assignment[part.name];
    if (group === undefined) {
      throw new Error(`sample has no value for attribute "${part.name}"`);
    }
    if (!part.groups.includes(group)) {
      throw new Error(
        `unknown group "${group}" for attribute "${part.name}" (expected ${part.groups.join(", ")})`,
      );
    }
    return group;
  });
  return names.join(INTERSECTION_SEPARATOR);
}

/** Index of `group` in `attribute.groups`; throws naming the group when it is not there. */
export function groupIndex(attribute: SensitiveAttribute, group: string): number {
  const index = attribute.groups.indexOf(group);
  if (index < 0) {
    throw new Error(
      `unknown group "${group}" for attribute "${attribute.name}" (expected ${attribute.groups.join(", ")})`,
    );
  }
  return index;
}

/** Splits an intersectional group name back into its component assignment. */
export function splitGroup(attribute: SensitiveAttribute, group: string): Record<string, string> {
  groupIndex(attribute, group);
  const parts = attribute.components ?? [attribute];
  const values = parts.length === 1 ? [group] : group.split(INTERSECTION_SEPARATOR);
  const out: Record<string, string> = {};
  parts.forEach((part, i) => (out[part.name] = values[i]));
  return out;
}

/**
 * Resolves an attribute by name among `attributes`, including intersection names such as
 * "sex×race"; throws naming the unknown name.
 */
export function resolveAttribute(
  attributes: readonly SensitiveAttribute[],
  name: string,
): SensitiveAttribute {
  const parts = name.split(INTERSECTION_SEPARATOR);
  const found = parts.map((part) => {
    const attribute = attributes.find((a) => a.name === part);
    if (!attribute) {
      throw new Error(
        `unknown attribute "${part}" (known: ${attributes.map((a) => a.name).join(", ")})`,
      );
    }
    return attribute;
  });
  return found.length === 1 ? found[0] : intersectAttributes(...found);
}
