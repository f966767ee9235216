/** A thread count from an environment variable, checked: an integer from 1 to `max`. */
export function threadCountFromEnvironment(
  variable: string,
  whenUnset: number,
  max: number,
  maxReason = "",
): number {
  const text = process.env[variable];
  if (text === undefined || text.trim() === "") return whenUnset;
  const value = Number(text.trim());
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new Error(
      `${variable} must be an integer from 1 to ${max}${maxReason ? ` (${maxReason})` : ""}, got "${text}"`,
    );
  }
  return value;
}
