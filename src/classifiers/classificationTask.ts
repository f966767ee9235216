/**
 * What a subgroup classifier predicts: one head per sensitive attribute (its groups) and per
 * finding (absent / present), read from a sample's labels.
 */
import type { SampleRecord } from "../data/medicalSample";
import type { SensitiveAttribute } from "../data/subgroups";

export interface ClassificationTask {
  name: string;
  kind: "attribute" | "finding";
  classes: string[];
}

export const FINDING_CLASSES = ["absent", "present"];

export function tasksFor(
  attributes: readonly SensitiveAttribute[],
  findings: readonly string[],
): ClassificationTask[] {
  return [
    ...attributes.map((a) => ({
      name: a.name,
      kind: "attribute" as const,
      classes: [...a.groups],
    })),
    ...findings.map((f) => ({ name: f, kind: "finding" as const, classes: [...FINDING_CLASSES] })),
  ];
}

/** The class index of a record for a task, or −1 when the record does not say (unknown sex…). */
export function classOf(task: ClassificationTask, record: SampleRecord): number {
  if (task.kind === "finding") {
    const label = record.labels[task.name];
    return label === 1 ? 1 : label === 0 ? 0 : -1;
  }
  const group = record.attributes[task.name];
  return group === undefined ? -1 : task.classes.indexOf(group);
}
