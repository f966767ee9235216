/**
 * How the widgets name the target a bias is measured against: "40/60" (shares in percent, in
 * the groups' order). A bias is a distance to a target, and the target can move mid-run (the
 * slider), so every bias shown says which one.
 */
export function targetLabel(shares: readonly number[]): string {
  return shares.map((p) => String(Number((p * 100).toFixed(1)))).join("/");
}

/** "bias vs 40/60 target (Female/Male)". */
export function biasAgainst(groups: readonly string[], target: readonly number[]): string {
  return `bias vs ${targetLabel(target)} target (${groups.join("/")})`;
}
