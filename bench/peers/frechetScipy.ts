/**
 * pytorch-fid's Fréchet distance on Debian's scipy (frechet_scipy.py), fed the same float64
 * moments as .npy files: the peer of the Fréchet tests and of `npm run bench -- fid`.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { GaussianMoments } from "../../src/fairness/featureStatistics";
import { encodeNpy } from "../../src/io/npy";
import { peerScriptPath, runPeerJson } from "./python";

type Moments = Pick<GaussianMoments, "mean" | "covariance">;

export interface ScipyFrechet {
  fd: number;
  /** Best of `repeats`, from the moments to the number. */
  seconds: number;
  /** Whether sqrtm needed pytorch-fid's 1e-6 diagonal retry. */
  retried: boolean;
  max_imag: number;
  scipy: string;
}

/** The Fréchet distance between N(a) and N(b) as pytorch-fid computes it. */
export function scipyFrechet(a: Moments, b: Moments, repeats = 1): ScipyFrechet {
  const d = a.mean.length;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-fid-"));
  try {
    const save = (name: string, data: Float64Array, shape: number[]): void =>
      fs.writeFileSync(path.join(dir, `${name}.npy`), encodeNpy(data, shape));
    save("mu1", a.mean, [d]);
    save("sigma1", a.covariance, [d, d]);
    save("mu2", b.mean, [d]);
    save("sigma2", b.covariance, [d, d]);
    return runPeerJson<ScipyFrechet>(peerScriptPath("frechet_scipy.py"), [dir, String(repeats)]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
