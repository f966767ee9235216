/**
 * Peer check: fairdiff's Fréchet distance equals pytorch-fid's formula run on Debian's scipy
 * (sqrtm of Σ₁Σ₂, real part, 1e-6 diagonal retry) within 1e-6 relative, for full-rank and
 * rank-deficient (fewer samples than dimensions) covariances. Both sides read the same float64
 * moments, exchanged as .npy files.
 */
import { featureStatistics, gaussianMoments } from "../../src/fairness/featureStatistics";
import { frechetDistance } from "../../src/fairness/frechetDistance";
import { testWhen } from "../helpers/requirements";
import { sampleFeatures } from "./gaussianSamples";
import { hasScipy, SCIPY_REQUIREMENT, scipyFrechet } from "./scipyFrechet";

interface Case {
  d: number;
  n1: number;
  n2: number;
  /** Also check the eigendecomposition square root (slow at large d). */
  eigenToo: boolean;
}

const cases: Case[] = [
  { d: 16, n1: 200, n2: 150, eigenToo: true },
  { d: 16, n1: 9, n2: 12, eigenToo: true },
  { d: 64, n1: 600, n2: 400, eigenToo: true },
  { d: 64, n1: 40, n2: 25, eigenToo: true },
  { d: 256, n1: 1200, n2: 900, eigenToo: true },
  { d: 256, n1: 100, n2: 180, eigenToo: true },
  // One case at 2048 (scipy's sqrtm alone takes ~10–20 s there): rank-deficient on both sides.
  { d: 2048, n1: 1000, n2: 700, eigenToo: false },
];

describe("Fréchet distance vs pytorch-fid on scipy", () => {
  for (const c of cases) {
    const label = `d=${c.d}, n1=${c.n1}, n2=${c.n2}${c.n1 <= c.d || c.n2 <= c.d ? " (rank-deficient)" : ""}`;
    testWhen(hasScipy, SCIPY_REQUIREMENT)(
      label,
      () => {
        const a = gaussianMoments(
          featureStatistics(sampleFeatures({ dimension: c.d, count: c.n1, seed: c.d }), c.d),
        );
        const b = gaussianMoments(
          featureStatistics(
            sampleFeatures({ dimension: c.d, count: c.n2, seed: c.d + 1, shift: 0.3 }),
            c.d,
          ),
        );
        const peer = scipyFrechet(a, b);
        const ours = frechetDistance(a, b);
        const relative = Math.abs(ours.distance - peer.fd) / Math.abs(peer.fd);
        console.log(
          `${label}: fairdiff ${ours.distance} (rank ${ours.factorRank}), scipy ${peer.fd}, ` +
            `relative ${relative.toExponential(2)}, retried ${peer.retried}, max imag ${peer.max_imag.toExponential(2)}`,
        );
        expect(peer.retried).toBe(false);
        expect(relative).toBeLessThan(1e-6);
        if (c.eigenToo) {
          const reference = frechetDistance(a, b, { squareRoot: "eigen" });
          const relativeEigen = Math.abs(reference.distance - peer.fd) / Math.abs(peer.fd);
          console.log(`${label}: eigen square root relative ${relativeEigen.toExponential(2)}`);
          expect(relativeEigen).toBeLessThan(1e-6);
        }
      },
      240_000,
    );
  }
});
