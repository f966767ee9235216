/**
 * The exact GP behind FairDiffusion's σ search: closed-form posteriors, interpolation with small
 * noise, likelihood-based hyperparameters, sklearn's GaussianProcessRegressor as a peer, and the
 * UCB maximiser finding known optima.
 */
import { execFileSync } from "node:child_process";
import { peerHasModules, peerPython } from "../../bench/peers/python";
import {
  GaussianProcess,
  choleskyFactor,
  fitGaussianProcessByLikelihood,
  rbfKernel,
} from "../../src/methods/gaussianProcess";
import {
  maximizeInUnitBox,
  maximizeUpperConfidenceBound,
  upperConfidenceBound,
} from "../../src/methods/upperConfidenceBound";
import { createRng } from "../../src/util/random";
import { testWhen } from "../helpers/requirements";

const hyper = { lengthscale: 0.5, signalVariance: 2, noiseVariance: 0.1 };

test("one observation: posterior mean and variance match the closed form", () => {
  const gp = GaussianProcess.fit([[0.2]], [3], hyper, { standardize: false });
  const x = 0.7;
  const k = rbfKernel([x], [0.2], 0.5, 2);
  expect(k).toBeCloseTo(2 * Math.exp(-(0.5 * 0.5) / (2 * 0.25)), 12);
  const p = gp.predict([x]);
  expect(p.mean).toBeCloseTo((k * 3) / (2 + 0.1), 12);
  expect(p.variance).toBeCloseTo(2 - (k * k) / (2 + 0.1), 12);
  // log N(3; 0, 2.1)
  expect(gp.logMarginalLikelihood).toBeCloseTo(
    -0.5 * (9 / 2.1) - 0.5 * Math.log(2 * Math.PI * 2.1),
    12,
  );
});

test("two observations: posterior equals the 2×2 hand solve", () => {
  const xs = [[0], [1]];
  const ys = [1, -1];
  const gp = GaussianProcess.fit(xs, ys, hyper, { standardize: false });
  const k01 = rbfKernel([0], [1], 0.5, 2);
  const a = 2 + 0.1;
  const det = a * a - k01 * k01;
  const inv = [
    [a / det, -k01 / det],
    [-k01 / det, a / det],
  ];
  const q = [0.3];
  const kq = [rbfKernel(q, [0], 0.5, 2), rbfKernel(q, [1], 0.5, 2)];
  const alpha = [inv[0][0] * 1 + inv[0][1] * -1, inv[1][0] * 1 + inv[1][1] * -1];
  const mean = kq[0] * alpha[0] + kq[1] * alpha[1];
  const quad =
    kq[0] * (inv[0][0] * kq[0] + inv[0][1] * kq[1]) +
    kq[1] * (inv[1][0] * kq[0] + inv[1][1] * kq[1]);
  const p = gp.predict(q);
  expect(p.mean).toBeCloseTo(mean, 12);
  expect(p.variance).toBeCloseTo(2 - quad, 12);
});

test("with tiny noise the posterior interpolates the data and is sure there", () => {
  const rng = createRng(4);
  const xs = Array.from({ length: 8 }, (_, i) => [i / 7, rng.next()]);
  const ys = xs.map(([a, b]) => Math.sin(3 * a) + b * b);
  const gp = GaussianProcess.fit(xs, ys, {
    lengthscale: 0.4,
    signalVariance: 1,
    noiseVariance: 1e-8,
  });
  xs.forEach((x, i) => {
    const p = gp.predict(x);
    expect(p.mean).toBeCloseTo(ys[i], 4);
    expect(p.variance).toBeLessThan(1e-5);
  });
  // Far from the data the variance returns to the prior's (in the outputs' units).
  const far = gp.predict([10, 10]);
  expect(far.variance).toBeGreaterThan(0.9 * gp.outputScale ** 2);
});

test("gradients of the posterior mean and variance match finite differences", () => {
  const rng = createRng(5);
  const xs = Array.from({ length: 10 }, () => [rng.next(), rng.next(), rng.next()]);
  const ys = xs.map(([a, b, c]) => a - 2 * b + Math.cos(4 * c));
  const gp = GaussianProcess.fit(xs, ys, {
    lengthscale: 0.3,
    signalVariance: 1,
    noiseVariance: 0.01,
  });
  const q = [0.4, 0.6, 0.2];
  const p = gp.predictWithGradient(q);
  const h = 1e-6;
  for (let j = 0; j < 3; j++) {
    const up = gp.predict(q.map((v, i) => (i === j ? v + h : v)));
    const down = gp.predict(q.map((v, i) => (i === j ? v - h : v)));
    expect(p.meanGradient[j]).toBeCloseTo((up.mean - down.mean) / (2 * h), 5);
    expect(p.varianceGradient[j]).toBeCloseTo((up.variance - down.variance) / (2 * h), 5);
  }
  const u = upperConfidenceBound(gp, q, 0.1);
  const uUp = upperConfidenceBound(gp, [q[0] + h, q[1], q[2]], 0.1).value;
  const uDown = upperConfidenceBound(gp, [q[0] - h, q[1], q[2]], 0.1).value;
  expect(u.gradient[0]).toBeCloseTo((uUp - uDown) / (2 * h), 5);
  expect(u.value).toBeCloseTo(p.mean + Math.sqrt(0.1) * Math.sqrt(p.variance), 12);
});

test("likelihood grid search prefers a long length scale for a smooth function and a short one for a wiggly one", () => {
  const xs = Array.from({ length: 30 }, (_, i) => [i / 29]);
  const smooth = fitGaussianProcessByLikelihood(
    xs,
    xs.map(([x]) => x),
  );
  const wiggly = fitGaussianProcessByLikelihood(
    xs,
    xs.map(([x]) => Math.sin(40 * x)),
  );
  expect(smooth.hyperparameters.lengthscale).toBeGreaterThan(wiggly.hyperparameters.lengthscale);
  expect(wiggly.hyperparameters.lengthscale).toBeLessThanOrEqual(0.1);
});

test("bad input gets a clear error", () => {
  expect(() => GaussianProcess.fit([], [], hyper)).toThrow(/at least one observation/);
  expect(() => GaussianProcess.fit([[0]], [1, 2], hyper)).toThrow(/1 inputs but 2 outputs/);
  expect(() => GaussianProcess.fit([[0], [0, 1]], [1, 2], hyper)).toThrow(
    /input 1 has 2 dimensions/,
  );
  expect(() => GaussianProcess.fit([[0]], [NaN], hyper)).toThrow(/output 0 is not finite/);
  expect(() => GaussianProcess.fit([[0]], [1], { ...hyper, lengthscale: 0 })).toThrow(
    /lengthscale must be a positive number, got 0/,
  );
  expect(() => choleskyFactor(Float64Array.from([1, 2, 2, 1]), 2)).toThrow(/not positive definite/);
  const gp = GaussianProcess.fit([[0, 0]], [1], hyper);
  expect(() => gp.predict([0])).toThrow(/query has 1 dimensions, the GP has 2/);
});

test("the box maximiser finds the known optimum of a concave quadratic, seeded", () => {
  const c = [0.3, 0.8, 0.55];
  const f = (x: Float64Array) => ({
    value: -x.reduce((s, v, j) => s + (v - c[j]) ** 2, 0),
    gradient: x.map((v, j) => -2 * (v - c[j])),
  });
  const best = maximizeInUnitBox(f, { dimension: 3, seed: 1 });
  best.x.forEach((v, j) => expect(v).toBeCloseTo(c[j], 3));
  // Optimum outside the box: the maximiser sits on the boundary.
  const g = (x: Float64Array) => ({ value: x[0] - x[1], gradient: [1, -1] });
  expect(maximizeInUnitBox(g, { dimension: 2, seed: 2 }).x).toEqual([1, 0]);
  expect(maximizeInUnitBox(f, { dimension: 3, seed: 1 })).toEqual(best);
});

test("UCB maximisation over a GP of a known bump finds the bump", () => {
  const rng = createRng(9);
  const centre = [0.7, 0.25];
  const bump = (x: number[]) =>
    Math.exp(-((x[0] - centre[0]) ** 2 + (x[1] - centre[1]) ** 2) / 0.05);
  const xs = Array.from({ length: 40 }, () => [rng.next(), rng.next()]);
  const gp = fitGaussianProcessByLikelihood(xs, xs.map(bump));
  const best = maximizeUpperConfidenceBound(gp, { seed: 3, beta: 0.01 });
  expect(Math.hypot(best.x[0] - centre[0], best.x[1] - centre[1])).toBeLessThan(0.08);
});

const hasSklearn = peerHasModules(["numpy", "sklearn"]);

testWhen(hasSklearn, "python3-sklearn (apt install python3-sklearn)")(
  "posterior mean, std and log marginal likelihood match sklearn's GaussianProcessRegressor",
  () => {
    const rng = createRng(12);
    const xs = Array.from({ length: 25 }, () => [rng.next(), rng.next(), rng.next()]);
    const ys = xs.map(([a, b, c]) => Math.sin(5 * a) + b * c + 0.1 * rng.normal());
    const queries = Array.from({ length: 6 }, () => [rng.next(), rng.next(), rng.next()]);
    const h = { lengthscale: 0.35, signalVariance: 1.7, noiseVariance: 0.02 };
    const script = `
import json, sys
import numpy as np
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, RBF
d = json.load(sys.stdin)
kernel = ConstantKernel(d["s2"], "fixed") * RBF(d["l"], "fixed")
for normalize in (False, True):
    gp = GaussianProcessRegressor(kernel, alpha=d["noise"], optimizer=None, normalize_y=normalize)
    gp.fit(np.array(d["x"]), np.array(d["y"]))
    mean, std = gp.predict(np.array(d["q"]), return_std=True)
    d["normalized" if normalize else "raw"] = {"mean": mean.tolist(), "std": std.tolist(),
        "lml": float(gp.log_marginal_likelihood_value_)}
print(json.dumps({k: d[k] for k in ("raw", "normalized")}))
`;
    const out = execFileSync(peerPython(), ["-c", script], {
      input: JSON.stringify({
        x: xs,
        y: ys,
        q: queries,
        l: h.lengthscale,
        s2: h.signalVariance,
        noise: h.noiseVariance,
      }),
      encoding: "utf8",
    });
    const peer = JSON.parse(out.trim().split("\n").pop() as string) as Record<
      "raw" | "normalized",
      { mean: number[]; std: number[]; lml: number }
    >;
    const raw = GaussianProcess.fit(xs, ys, h, { standardize: false });
    expect(raw.logMarginalLikelihood).toBeCloseTo(peer.raw.lml, 8);
    queries.forEach((q, i) => {
      const p = raw.predict(q);
      expect(p.mean).toBeCloseTo(peer.raw.mean[i], 9);
      expect(Math.sqrt(p.variance)).toBeCloseTo(peer.raw.std[i], 9);
    });
    const normalized = GaussianProcess.fit(xs, ys, h);
    queries.forEach((q, i) => {
      const p = normalized.predict(q);
      expect(p.mean).toBeCloseTo(peer.normalized.mean[i], 9);
      expect(Math.sqrt(p.variance)).toBeCloseTo(peer.normalized.std[i], 9);
    });
  },
);
