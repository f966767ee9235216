/**
 * Loads a package only when the user has installed it. tfjs-node(-gpu) and friends are never
 * hard dependencies (their install downloads a binary that many machines cannot reach).
 */
export interface OptionalModuleResult<T> {
  module?: T;
  /** Why it could not be loaded, in words a user can act on. */
  reason?: string;
}

export function loadOptionalModule<T = unknown>(name: string): OptionalModuleResult<T> {
  let resolved: string;
  try {
    resolved = require.resolve(name);
  } catch {
    return { reason: `${name} is not installed` };
  }
  try {
    return { module: require(resolved) as T };
  } catch (error) {
    return { reason: `${name} is installed but failed to load: ${(error as Error).message}` };
  }
}
