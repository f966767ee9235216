/**
 * Peer check for the covariances real extractors produce: features that never vary (dead ReLU
 * units of the project encoder, a shape feature of an always-empty mask) give covariances with
 * exactly zero rows and columns — singular however many images there are. fairdiff's Fréchet
 * distance equals pytorch-fid's formula on Debian's scipy within 1e-6 relative there too, with
 * more images than dimensions and with fewer.
 */
import { featureStatistics, gaussianMoments } from "../../src/fairness/featureStatistics";
import { frechetDistance } from "../../src/fairness/frechetDistance";
import { testWhen } from "../helpers/requirements";
import { sampleFeatures } from "./gaussianSamples";
import { hasScipy, SCIPY_REQUIREMENT, scipyFrechet } from "./scipyFrechet";

/** Columns 0–9 dead (always 0), 10–12 constant 1.5: exactly zero variance. */
function withDeadUnits(features: Float64Array, d: number): Float64Array {
  const out = Float64Array.from(features);
  for (let r = 0; r < out.length / d; r++) {
    for (let c = 0; c < 13; c++) out[r * d + c] = c < 10 ? 0 : 1.5;
  }
  return out;
}

const cases = [
  { d: 64, n1: 300, n2: 200 },
  { d: 64, n1: 40, n2: 30 },
];

describe("Fréchet distance with zero-variance features vs pytorch-fid on scipy", () => {
  for (const c of cases) {
    testWhen(hasScipy, SCIPY_REQUIREMENT)(
      `d=${c.d}, n1=${c.n1}, n2=${c.n2}, 13 constant features`,
      () => {
        const side = (n: number, seed: number, shift: number) =>
          gaussianMoments(
            featureStatistics(
              withDeadUnits(sampleFeatures({ dimension: c.d, count: n, seed, shift }), c.d),
              c.d,
            ),
          );
        const a = side(c.n1, 7, 0);
        const b = side(c.n2, 8, 0.2);
        expect(a.covariance[0]).toBe(0);
        const peer = scipyFrechet(a, b);
        const ours = frechetDistance(a, b);
        const eigen = frechetDistance(a, b, { squareRoot: "eigen" });
        const relative = Math.abs(ours.distance - peer.fd) / Math.abs(peer.fd);
        console.log(
          `d=${c.d} n1=${c.n1} n2=${c.n2}: fairdiff ${ours.distance} (rank ${ours.factorRank}), scipy ${peer.fd}, relative ${relative.toExponential(2)}`,
        );
        expect(peer.retried).toBe(false);
        expect(ours.factorRank).toBeLessThanOrEqual(Math.min(c.d - 13, Math.min(c.n1, c.n2) - 1));
        expect(relative).toBeLessThan(1e-6);
        expect(Math.abs(eigen.distance - peer.fd) / Math.abs(peer.fd)).toBeLessThan(1e-6);
      },
      60_000,
    );
  }
});
