/**
 * One panel of the subgroup histogram widget: plain values, as the kernel sends them
 * (kernel/widgets/subgroupHistogram.ts) and FairDiff Lab's view draws them
 * (extension/src/subgroupHistogram.ts).
 */
export interface HistogramPanel {
  /** Attribute name, or an intersection such as "sex×race". */
  key: string;
  groups: string[];
  generated?: number[];
  lower?: number[];
  upper?: number[];
  target?: number[];
  training?: number[];
  /** Images behind the generated shares. */
  n?: number;
  /** What the generated shares are, e.g. "step 8 · bias vs 40/60 target (Female/Male) 0.025". */
  note?: string;
}
