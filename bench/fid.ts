/**
 * Fréchet distance benchmark: fairdiff's float64 FD (pivoted Cholesky + symmetric eigenvalues)
 * against pytorch-fid's formula on scipy (`sqrtm` of Σ₁Σ₂) in the same run, on the same moments.
 * Both times run from (μ, Σ) to the number. Prints both, the ratio fairdiff/scipy (goal ≤ 0.5)
 * and the load average, since a shared machine makes single timings noisy.
 *
 *   npm run bench -- fid [--d 2048] [--repeats 1] [--eigen] [--samples N]
 *
 * Covariances are dense and ill-conditioned: diag(s²) + W Wᵀ with s spread over three decades
 * and W d×32 (full rank), or with --samples N the sample covariance of N draws (rank N−1 when
 * N ≤ d). --eigen also times the reference eigendecomposition square root (slow: ~13d³ flops).
 */
import * as os from "node:os";
import { featureStatistics, gaussianMoments } from "../src/fairness/featureStatistics";
import {
  frechetDistanceFromMoments,
  type CovarianceSquareRoot,
} from "../src/fairness/frechetDistance";
import { createRng } from "../src/util/random";
import { scipyFrechet } from "./peers/frechetScipy";
import { peerHasModules } from "./peers/python";

interface Moments {
  mean: Float64Array;
  covariance: Float64Array;
}

function option(args: string[], name: string, fallback: number): number {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
}

function lowRankPlusDiagonal(d: number, seed: number): Moments {
  const rng = createRng(seed);
  const k = 32;
  const w = Float64Array.from({ length: d * k }, () => rng.normal() / Math.sqrt(k));
  const covariance = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += w[i * k + t] * w[j * k + t];
      covariance[i * d + j] = s;
      covariance[j * d + i] = s;
    }
    covariance[i * d + i] += Math.pow(10, -2 + 3 * rng.next()) ** 2;
  }
  return { mean: Float64Array.from({ length: d }, () => rng.normal()), covariance };
}

function sampleMoments(d: number, n: number, seed: number): Moments {
  const rng = createRng(seed);
  const scales = Float64Array.from({ length: d }, () => Math.pow(10, -2 + 3 * rng.next()));
  const x = new Float64Array(n * d);
  for (let r = 0; r < n; r++) for (let c = 0; c < d; c++) x[r * d + c] = scales[c] * rng.normal();
  return gaussianMoments(featureStatistics(x, d));
}

function timeFairdiff(a: Moments, b: Moments, squareRoot: CovarianceSquareRoot, repeats: number) {
  let best = Infinity;
  let distance = NaN;
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    distance = frechetDistanceFromMoments(a.mean, a.covariance, b.mean, b.covariance, {
      squareRoot,
    }).distance;
    best = Math.min(best, (performance.now() - start) / 1000);
  }
  return { seconds: best, distance };
}

export async function main(args: string[]): Promise<void> {
  const d = option(args, "d", 2048);
  const repeats = option(args, "repeats", 1);
  const samples = option(args, "samples", 0);
  const load = () =>
    os
      .loadavg()
      .map((v) => v.toFixed(1))
      .join(" ");
  console.log(
    `Fréchet distance, d = ${d}, ${samples > 0 ? `sample covariances of ${samples} draws` : "full-rank diag + low-rank covariances"}`,
  );
  console.log(
    `machine: ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? "unknown CPU"}; load average ${load()} (shared: timings are noisy)`,
  );
  const a = samples > 0 ? sampleMoments(d, samples, 1) : lowRankPlusDiagonal(d, 1);
  const b = samples > 0 ? sampleMoments(d, samples, 2) : lowRankPlusDiagonal(d, 2);

  const ours = timeFairdiff(a, b, "cholesky", repeats);
  console.log(`fairdiff (cholesky): ${ours.seconds.toFixed(2)} s, FD = ${ours.distance}`);
  if (args.includes("--eigen")) {
    const reference = timeFairdiff(a, b, "eigen", 1);
    console.log(
      `fairdiff (eigen):    ${reference.seconds.toFixed(2)} s, FD = ${reference.distance}`,
    );
  }
  if (!peerHasModules(["numpy", "scipy"])) {
    console.log("scipy peer missing (apt install python3-scipy): ratio not computed");
    return;
  }
  const peer = scipyFrechet(a, b, repeats);
  const relative = Math.abs(ours.distance - peer.fd) / Math.abs(peer.fd);
  console.log(
    `scipy ${peer.scipy} sqrtm (pytorch-fid formula): ${peer.seconds.toFixed(2)} s, FD = ${peer.fd}${peer.retried ? " (needed the 1e-6 retry)" : ""}`,
  );
  console.log(
    `ratio fairdiff/scipy: ${(ours.seconds / peer.seconds).toFixed(2)} (goal ≤ 0.5); relative FD difference ${relative.toExponential(2)}; load average now ${load()}`,
  );
}
