/**
 * `fairdiff sample`: 8 images make a 4 × 2 grid with no empty cell, captioned with the prompt and
 * the settings under the images; without --prompt, the neutral effusion prompt.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createProgram } from "../../src/cli/program";
import { NEUTRAL_EFFUSION_PROMPT } from "../../src/data/cohorts/chestRadiograph";
import { decodeImage } from "../../src/io/imageCodec";

const PROMPT = "Chest Radiography image of a Female White patient diagnosed with Pleural Effusion";

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-sample-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test("8 images: a 4 × 2 grid, every cell drawn, a caption strip below", async () => {
  const out = path.join(dir, "grid.png");
  await createProgram().parseAsync(
    ["sample", "--prompt", PROMPT, "-n", "8", "--steps", "2", "--backend", "wasm", "-o", out],
    { from: "user" },
  );
  const grid = decodeImage(fs.readFileSync(out), out);
  const cell = 32 * 3;
  const gap = 2;
  expect(grid.width).toBe(4 * cell + 5 * gap);
  const imagesHeight = 2 * cell + 3 * gap;
  expect(grid.height).toBeGreaterThan(imagesHeight + 10);
  const at = (x: number, y: number) => grid.data[(y * grid.width + x) * grid.channels];
  // The last cell (column 4, row 2) holds an image: not the flat grey background.
  const values = new Set<number>();
  for (let y = 0; y < cell; y += 8) {
    for (let x = 0; x < cell; x += 8)
      values.add(at(gap + 3 * (cell + gap) + x, gap + cell + gap + y));
  }
  expect(values.size).toBeGreaterThan(3);
  // The caption: bright text pixels in the strip under the images.
  let bright = 0;
  for (let y = imagesHeight; y < grid.height; y++) {
    for (let x = 0; x < grid.width; x++) if (at(x, y) > 0.8) bright++;
  }
  expect(bright).toBeGreaterThan(200);
}, 60_000);

test("without --prompt it draws the neutral effusion prompt that finetune and audit debias", async () => {
  const run = async (name: string, ...prompt: string[]) => {
    const out = path.join(dir, name);
    await createProgram().parseAsync(
      ["sample", ...prompt, "-n", "2", "--steps", "2", "--backend", "wasm", "-o", out],
      { from: "user" },
    );
    return fs.readFileSync(out);
  };
  const implicit = await run("default.png");
  expect(implicit.equals(await run("neutral.png", "--prompt", NEUTRAL_EFFUSION_PROMPT))).toBe(true);
  // Another prompt draws (and captions) another grid.
  expect(implicit.equals(await run("named.png", "--prompt", PROMPT))).toBe(false);
}, 60_000);
