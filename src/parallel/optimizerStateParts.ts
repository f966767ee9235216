/**
 * Optimizer state split by variables: data-parallel replicas each keep the slots of the
 * variables they update (updatePartition.ts); a checkpoint holds the whole, in the layout one
 * replica writes, so a run resumes with any number of replicas.
 */
import type { OptimizerState } from "./optimizerSpec";

type Slot = OptimizerState["slots"][number];

/** A slot's variable and kind from its name, `<variable>/<kind>` (adamW.ts). */
function parseSlot(slot: Slot): { variable: number; kind: string } {
  const match = /^(\d+)\/(.+)$/.exec(slot.name);
  if (!match) throw new Error(`optimizer slot "${slot.name}" is not named <variable>/<kind>`);
  return { variable: Number(match[1]), kind: match[2] };
}

/** The slots of variables [first, end) of a whole state, numbered from 0 as that part's own. */
export function statePart(state: OptimizerState, first: number, end: number): OptimizerState {
  const slots: Slot[] = [];
  for (const slot of state.slots) {
    const { variable, kind } = parseSlot(slot);
    if (variable >= first && variable < end)
      slots.push({ ...slot, name: `${variable - first}/${kind}` });
  }
  return { iterations: state.iterations, slots };
}

/**
 * The whole state from its parts, each given with its first variable and numbered from 0: every
 * kind's slots in variable order, kinds in the order the parts hold them (one replica's layout).
 */
export function joinStateParts(parts: { first: number; state: OptimizerState }[]): OptimizerState {
  const iterations = parts[0]?.state.iterations ?? 0;
  if (parts.some((p) => p.state.iterations !== iterations)) {
    throw new Error(
      `replicas' optimizer states disagree on the step: ${parts.map((p) => p.state.iterations).join(", ")}`,
    );
  }
  const byKind = new Map<string, Slot[]>();
  for (const { first, state } of parts) {
    for (const slot of state.slots) {
      const { variable, kind } = parseSlot(slot);
      const list = byKind.get(kind) ?? [];
      list.push({ ...slot, name: `${first + variable}/${kind}` });
      byKind.set(kind, list);
    }
  }
  return { iterations, slots: [...byKind.values()].flat() };
}
