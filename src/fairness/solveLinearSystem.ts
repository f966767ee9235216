/**
 * Solves a small dense system A x = b by Gaussian elimination with partial pivoting (K ≤ a few
 * dozen groups). A pivot below 1e-12 × the largest entry means the system is singular: an error
 * naming the column.
 */
export function solveLinearSystem(a: number[][], b: number[]): number[] {
  const k = b.length;
  if (a.length !== k || a.some((row) => row.length !== k)) {
    throw new Error(`solveLinearSystem needs a ${k}×${k} matrix for a right-hand side of ${k}`);
  }
  const m = a.map((row, i) => [...row, b[i]]);
  let scale = 0;
  for (const row of a) for (const v of row) scale = Math.max(scale, Math.abs(v));
  for (let col = 0; col < k; col++) {
    let pivot = col;
    for (let r = col + 1; r < k; r++) if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) pivot = r;
    if (!(Math.abs(m[pivot][col]) > 1e-12 * scale)) {
      throw new Error(`matrix is singular (no pivot in column ${col})`);
    }
    [m[col], m[pivot]] = [m[pivot], m[col]];
    for (let r = col + 1; r < k; r++) {
      const f = m[r][col] / m[col][col];
      if (f === 0) continue;
      for (let c = col; c <= k; c++) m[r][c] -= f * m[col][c];
    }
  }
  const x = new Array<number>(k).fill(0);
  for (let r = k - 1; r >= 0; r--) {
    let s = m[r][k];
    for (let c = r + 1; c < k; c++) s -= m[r][c] * x[c];
    x[r] = s / m[r][r];
  }
  return x;
}
