/**
 * Tests that need an outside peer (Debian's torch, scipy, Jupyter, chromium) skip when it is
 * missing — unless FAIRDIFF_REQUIRE_ALL=1 (as in CI), where a missing peer fails the run.
 */
export function requireAll(): boolean {
  return process.env.FAIRDIFF_REQUIRE_ALL === "1";
}

/**
 * Returns `test` when `available`, else `test.skip` — or, under FAIRDIFF_REQUIRE_ALL=1, a test
 * that fails and names what to install.
 */
export function testWhen(available: boolean, missing: string): jest.It {
  if (available) return test;
  if (requireAll()) {
    const failing = ((name: string) =>
      test(name, () => {
        throw new Error(`required dependency missing: ${missing}`);
      })) as unknown as jest.It;
    return failing;
  }
  return test.skip;
}
