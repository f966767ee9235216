/**
 * The peer the Fréchet-distance tests compare against: pytorch-fid's formula on Debian's scipy
 * (bench/peers/frechet_scipy.py), fed the same float64 moments as .npy files.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { peerHasModules, runPeerJson } from "../../bench/peers/python";
import type { GaussianMoments } from "../../src/fairness/featureStatistics";
import { encodeNpy } from "../../src/io/npy";

const PEER = path.join(__dirname, "../../bench/peers/frechet_scipy.py");

export const hasScipy = peerHasModules(["numpy", "scipy"]);
export const SCIPY_REQUIREMENT = "python3-scipy (apt install python3-scipy)";

export interface ScipyFrechet {
  fd: number;
  seconds: number;
  /** Whether sqrtm needed pytorch-fid's 1e-6 diagonal retry. */
  retried: boolean;
  max_imag: number;
}

/** The Fréchet distance between N(a) and N(b) as pytorch-fid computes it. */
export function scipyFrechet(a: GaussianMoments, b: GaussianMoments): ScipyFrechet {
  const d = a.dimension;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-fid-"));
  try {
    const save = (name: string, data: Float64Array, shape: number[]): void =>
      fs.writeFileSync(path.join(dir, `${name}.npy`), encodeNpy(data, shape));
    save("mu1", a.mean, [d]);
    save("sigma1", a.covariance, [d, d]);
    save("mu2", b.mean, [d]);
    save("sigma2", b.covariance, [d, d]);
    return runPeerJson<ScipyFrechet>(PEER, [dir]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
