/**
 * Which training timesteps an n-step sampler visits (diffusers' `timestep_spacing`; see
 * "Common Diffusion Noise Schedules and Sample Steps are Flawed", Lin et al. 2023, table 2).
 */

export type TimestepSpacing = "leading" | "trailing" | "linspace";

/** Descending inference timesteps, each in [0, trainTimesteps). */
export function inferenceTimesteps(
  steps: number,
  trainTimesteps: number,
  spacing: TimestepSpacing,
  stepsOffset = 0,
): Int32Array {
  if (!Number.isInteger(steps) || steps < 1 || steps > trainTimesteps) {
    throw new Error(`inference steps must be an integer in [1, ${trainTimesteps}], got ${steps}`);
  }
  const out = new Int32Array(steps);
  if (spacing === "leading") {
    const ratio = Math.floor(trainTimesteps / steps);
    for (let i = 0; i < steps; i++) out[i] = (steps - 1 - i) * ratio + stepsOffset;
  } else if (spacing === "trailing") {
    const ratio = trainTimesteps / steps;
    for (let i = 0; i < steps; i++) out[i] = Math.round(trainTimesteps - i * ratio) - 1;
  } else if (spacing === "linspace") {
    for (let i = 0; i < steps; i++) {
      const value = steps === 1 ? 0 : ((trainTimesteps - 1) * (steps - 1 - i)) / (steps - 1);
      out[i] = Math.round(value);
    }
  } else {
    throw new Error(
      `unknown timestep spacing "${String(spacing)}": expected leading, trailing or linspace`,
    );
  }
  for (const t of out) {
    if (t < 0 || t >= trainTimesteps) {
      throw new Error(`timestep ${t} outside [0, ${trainTimesteps}); lower stepsOffset`);
    }
  }
  return out;
}
