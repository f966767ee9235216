/** Noise schedules against their closed forms and against values from diffusers' own tests. */
import { betaSchedule, cumulativeAlphas } from "../../src/schedulers/betaSchedule";
import { DDIMScheduler } from "../../src/schedulers/ddimScheduler";
import { DDPMScheduler } from "../../src/schedulers/ddpmScheduler";
import { NoiseSchedule } from "../../src/schedulers/noiseSchedule";

const ddpmLinear = { betaSchedule: "linear", betaStart: 0.0001, betaEnd: 0.02 } as const;

describe("beta schedules", () => {
  test("linear runs from betaStart to betaEnd in equal steps", () => {
    const betas = betaSchedule({
      schedule: "linear",
      trainTimesteps: 1000,
      betaStart: 1e-4,
      betaEnd: 0.02,
    });
    expect(betas.length).toBe(1000);
    expect(betas[0]).toBeCloseTo(1e-4, 12);
    expect(betas[999]).toBeCloseTo(0.02, 12);
    expect(betas[500] - betas[499]).toBeCloseTo((0.02 - 1e-4) / 999, 12);
  });

  test("scaled_linear is linear in √β (Stable Diffusion)", () => {
    const betas = betaSchedule({
      schedule: "scaled_linear",
      trainTimesteps: 1000,
      betaStart: 0.00085,
      betaEnd: 0.012,
    });
    expect(betas[0]).toBeCloseTo(0.00085, 12);
    expect(betas[999]).toBeCloseTo(0.012, 12);
    const step = Math.sqrt(betas[1]) - Math.sqrt(betas[0]);
    expect(Math.sqrt(betas[700]) - Math.sqrt(betas[699])).toBeCloseTo(step, 12);
  });

  test("squaredcos_cap_v2 telescopes to ᾱ_t = f((t+1)/T)/f(0) until the cap", () => {
    const T = 1000;
    const f = (u: number) => Math.cos(((u + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    const alphasCumprod = cumulativeAlphas(
      betaSchedule({
        schedule: "squaredcos_cap_v2",
        trainTimesteps: T,
        betaStart: 1e-4,
        betaEnd: 0.02,
      }),
    );
    for (const t of [0, 10, 250, 500, 900, 990]) {
      expect(alphasCumprod[t]).toBeCloseTo(f((t + 1) / T) / f(0), 10);
    }
    const betas = betaSchedule({
      schedule: "squaredcos_cap_v2",
      trainTimesteps: T,
      betaStart: 1e-4,
      betaEnd: 0.02,
    });
    expect(Math.max(...betas)).toBeLessThanOrEqual(0.999);
    expect(betas[T - 1]).toBe(0.999);
  });

  test("alphasCumprod is the running product of 1 − β", () => {
    const schedule = new NoiseSchedule(ddpmLinear);
    let product = 1;
    for (let t = 0; t < 1000; t++) {
      product *= 1 - schedule.betas[t];
      expect(schedule.alphasCumprod[t]).toBeCloseTo(product, 14);
    }
    // DDPM's linear schedule ends near ᾱ_T ≈ 4.04e−5 (√ᾱ_T ≈ 0.00635).
    expect(schedule.alphasCumprod[999]).toBeCloseTo(4.036e-5, 7);
  });

  test("Stable Diffusion's terminal √ᾱ_T is 0.068265 (Lin et al. 2023)", () => {
    const schedule = new NoiseSchedule({
      betaSchedule: "scaled_linear",
      betaStart: 0.00085,
      betaEnd: 0.012,
    });
    expect(Math.sqrt(schedule.alphasCumprod[999])).toBeCloseTo(0.068265, 5);
  });

  test("DDPM and DDIM step variances equal diffusers' test values (to their 1e-5)", () => {
    const near = (value: number, expected: number) =>
      expect(Math.abs(value - expected)).toBeLessThan(1e-5);
    const ddpm = new DDPMScheduler(ddpmLinear);
    near(ddpm.variance(0, -1), 0);
    near(ddpm.variance(487, 486), 0.00979);
    near(ddpm.variance(999, 998), 0.02);
    const ddim = new DDIMScheduler(ddpmLinear);
    near(ddim.variance(420, 400), 0.14771);
    near(ddim.variance(980, 960), 0.3246);
    near(ddim.variance(487, 486), 0.00979);
    near(ddim.variance(999, 998), 0.02);
  });

  test("bad settings fail with the value named", () => {
    expect(() => new NoiseSchedule({ betaSchedule: "cosine" as never })).toThrow(/cosine/);
    expect(() => new NoiseSchedule({ predictionType: "x0" as never })).toThrow(/x0/);
    expect(() => new NoiseSchedule({ betaStart: 0.5, betaEnd: 0.1 })).toThrow(/0.5/);
  });
});
