/**
 * Captions drawn into PNG grids: the 5 × 7 font draws the pixels its glyphs say, text wraps to
 * the grid's width, and the caption strip sits under the untouched image.
 */
import { drawText, textWidth, wrapText, GLYPH_HEIGHT } from "../../src/io/bitmapFont";
import { withCaption } from "../../src/io/imageCaption";
import { createRaster } from "../../src/io/rasterImage";

function lit(image: ReturnType<typeof createRaster>): string[] {
  const rows: string[] = [];
  for (let y = 0; y < image.height; y++) {
    let row = "";
    for (let x = 0; x < image.width; x++) row += image.data[y * image.width + x] > 0.5 ? "#" : ".";
    rows.push(row);
  }
  return rows;
}

test("glyphs draw the pixels they encode, scaled, clipped at the edges", () => {
  const image = createRaster(11, 7, 1, 0);
  drawText(image, "Hi", 0, 0);
  expect(lit(image)).toEqual([
    "#...#...#..",
    "#...#......",
    "#...#..##..",
    "#####...#..",
    "#...#...#..",
    "#...#...#..",
    "#...#..###.",
  ]);
  const big = createRaster(10, 14, 1, 0);
  drawText(big, "l", 0, 0, 1, 2);
  expect(lit(big)[0]).toBe("..####....");
  expect(lit(big)[13]).toBe("..######..");
  drawText(createRaster(3, 3, 1, 0), "×·unknown✓", -2, -2); // clipped, no throw
  // Upper case keeps its own glyphs; a character the font lacks is drawn as "?".
  const unknown = createRaster(5, 7, 1, 0);
  drawText(unknown, "✓", 0, 0);
  const question = createRaster(5, 7, 1, 0);
  drawText(question, "?", 0, 0);
  expect(lit(unknown)).toEqual(lit(question));
  expect(textWidth("abc", 2)).toBe((3 * 6 - 1) * 2);
});

test("text wraps at spaces to the width, long words are cut", () => {
  expect(wrapText("Chest Radiography image of a patient", 16)).toEqual([
    "Chest",
    "Radiography",
    "image of a",
    "patient",
  ]);
  expect(wrapText("abcdefghij", 4)).toEqual(["abcd", "efgh", "ij"]);
  expect(() => wrapText("x", 0)).toThrow(/at least 1 character/);
});

test("the caption strip sits below the image, the image itself unchanged", () => {
  const image = createRaster(60, 20, 1, 0.5);
  const captioned = withCaption(image, ["a prompt that wraps to two lines"], { margin: 2 });
  expect(captioned.width).toBe(60);
  // 9 characters fit in 60 − 2·2 pixels (6 px each, the last without its space): 4 lines.
  expect(captioned.height).toBe(20 + 2 * 2 + 4 * (GLYPH_HEIGHT + 3) - 3);
  expect(captioned.data.subarray(0, 60 * 20)).toEqual(image.data);
  const strip = Array.from(captioned.data.subarray(60 * 20));
  expect(strip.some((v) => v > 0.9)).toBe(true);
  expect(withCaption(image, []).height).toBe(20);
});
