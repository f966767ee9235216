/**
 * The assignment problem: given an n×n cost matrix, the permutation σ minimising Σ_i C[i][σ(i)].
 * Hungarian algorithm with row/column potentials and shortest augmenting paths (Kuhn–Munkres in
 * the Jonker–Volgenant form), O(n³) — a few milliseconds for the n ≤ 64 batches used to pick
 * distributional-alignment targets.
 */

/** `cost` is row-major n×n. Returns `assignment[row] = column`. */
export function solveAssignment(cost: ArrayLike<number>, n: number): Int32Array {
  if (!Number.isInteger(n) || n < 1) throw new Error(`assignment size must be ≥ 1, got ${n}`);
  if (cost.length !== n * n) {
    throw new Error(`cost matrix has ${cost.length} entries, expected ${n}×${n} = ${n * n}`);
  }
  for (let i = 0; i < cost.length; i++) {
    if (!Number.isFinite(cost[i])) {
      throw new Error(`cost[${Math.floor(i / n)}][${i % n}] is not finite: ${cost[i]}`);
    }
  }
  // 1-based arrays with a virtual column 0, as in the classic formulation.
  const rowPotential = new Float64Array(n + 1);
  const columnPotential = new Float64Array(n + 1);
  const rowOfColumn = new Int32Array(n + 1); // 0 = column free
  const previousColumn = new Int32Array(n + 1);
  const slack = new Float64Array(n + 1);
  const visited = new Uint8Array(n + 1);
  for (let row = 1; row <= n; row++) {
    rowOfColumn[0] = row;
    let column = 0;
    slack.fill(Infinity);
    visited.fill(0);
    // Grow a shortest-path tree from `row` until it reaches a free column.
    do {
      visited[column] = 1;
      const current = rowOfColumn[column];
      let delta = Infinity;
      let next = 0;
      for (let j = 1; j <= n; j++) {
        if (visited[j]) continue;
        const reduced =
          cost[(current - 1) * n + (j - 1)] - rowPotential[current] - columnPotential[j];
        if (reduced < slack[j]) {
          slack[j] = reduced;
          previousColumn[j] = column;
        }
        if (slack[j] < delta) {
          delta = slack[j];
          next = j;
        }
      }
      for (let j = 0; j <= n; j++) {
        if (visited[j]) {
          rowPotential[rowOfColumn[j]] += delta;
          columnPotential[j] -= delta;
        } else {
          slack[j] -= delta;
        }
      }
      column = next;
    } while (rowOfColumn[column] !== 0);
    // Flip the augmenting path.
    do {
      const before = previousColumn[column];
      rowOfColumn[column] = rowOfColumn[before];
      column = before;
    } while (column !== 0);
  }
  const assignment = new Int32Array(n);
  for (let j = 1; j <= n; j++) assignment[rowOfColumn[j] - 1] = j - 1;
  return assignment;
}

/** Σ_i C[i][σ(i)] of an assignment. */
export function assignmentCost(cost: ArrayLike<number>, assignment: ArrayLike<number>): number {
  const n = assignment.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += cost[i * n + assignment[i]];
  return total;
}
