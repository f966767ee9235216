import { createSyntheticCohort, renderPreviewGrid, selectPreviewSamples } from "../../src/data";
import { decodeImage, encodePng } from "../../src/io";

describe("preview grid", () => {
  test("one row per group, columns split by the finding, decodable PNG", async () => {
    const cohort = createSyntheticCohort({ cohort: "derm", size: 120, seed: 2, imageSize: 16 });
    const layout = selectPreviewSamples(cohort, { attribute: "skinTone", perCell: 3 });
    expect(layout.rows).toEqual(["I-II", "III-IV", "V-VI"]);
    layout.indices.forEach((row, r) =>
      row.forEach((cell, label) =>
        cell.forEach((i) => {
          expect(cohort.records[i].attributes.skinTone).toBe(layout.rows[r]);
          expect(cohort.records[i].labels.malignant).toBe(label);
        }),
      ),
    );
    const grid = await renderPreviewGrid(cohort, { attribute: "skinTone", perCell: 3, scale: 2 });
    const png = decodeImage(encodePng(grid), "grid.png");
    expect(png.width).toBe(grid.width);
    expect(grid.height).toBeGreaterThan(3 * 32);
    expect(() => selectPreviewSamples(cohort, { finding: "glaucoma" })).toThrow(
      /unknown finding "glaucoma"/,
    );
  });
});
