import { testWhen } from "../helpers/requirements";

describe("testWhen", () => {
  const saved = process.env.FAIRDIFF_REQUIRE_ALL;
  afterEach(() => {
    process.env.FAIRDIFF_REQUIRE_ALL = saved;
  });
  it("runs the test when the dependency is there", () => {
    expect(testWhen(true, "x")).toBe(test);
  });
  it("skips when missing and not required", () => {
    process.env.FAIRDIFF_REQUIRE_ALL = "0";
    expect(testWhen(false, "x")).toBe(test.skip);
  });
  it("turns a missing dependency into a failing test under FAIRDIFF_REQUIRE_ALL=1", () => {
    process.env.FAIRDIFF_REQUIRE_ALL = "1";
    const t = testWhen(false, "python3-scipy");
    expect(t).not.toBe(test);
    expect(t).not.toBe(test.skip);
  });
});
