/**
 * @deprecated Method 1's names for what is trained, kept for callers that import them
 * (src/study/studySettings.ts, scripts/distributional-alignment.ts): every method now takes the
 * shared `AdapterKind` of adapters.ts.
 */
import { ADAPTER_KINDS, type AdapterKind } from "./adapters";

/** @deprecated use `AdapterKind` */
export type AlignmentTrainableKind = AdapterKind;

/** @deprecated use `ADAPTER_KINDS` */
export const ALIGNMENT_TRAINABLE_KINDS: readonly AdapterKind[] = ADAPTER_KINDS;
