/**
 * A labelled grid of examples by subgroup: one row per group of an attribute, columns split by
 * a finding (absent | present), several examples per cell. Labels use the built-in bitmap font,
 * so the grid needs no font files and renders the same everywhere.
 */
import { drawText, GLYPH_HEIGHT, textWidth } from "../io/bitmapFont";
import { createRaster, toRgb, type RasterImage } from "../io/rasterImage";
import type { MedicalDataset, SampleRecord } from "./medicalSample";
import { resolveAttribute, groupOf } from "./subgroups";

export interface PreviewOptions {
  /** Attribute (or intersection like "sex×race") whose groups form the rows; default the first. */
  attribute?: string;
  /** Finding that splits the columns; default the dataset's first finding. */
  finding?: string;
  /** Examples per (group, finding value) cell; default 4. */
  perCell?: number;
  /** Integer up-scaling of each image (nearest neighbour); default 3. */
  scale?: number;
}

interface Layout {
  rows: string[];
  finding: string;
  /** indices[row][column 0 = absent, 1 = present] = sample indices. */
  indices: number[][][];
}

/** Picks the first `perCell` records of each (group, finding value). Missing cells stay short. */
export function selectPreviewSamples(
  dataset: Pick<MedicalDataset, "attributes" | "findings" | "records">,
  options: PreviewOptions = {},
): Layout {
  const attribute = resolveAttribute(
    dataset.attributes,
    options.attribute ?? dataset.attributes[0].name,
  );
  const finding = options.finding ?? dataset.findings[0];
  if (!dataset.findings.includes(finding)) {
    throw new Error(`unknown finding "${finding}" (known: ${dataset.findings.join(", ")})`);
  }
  const perCell = options.perCell ?? 4;
  const indices = attribute.groups.map(() => [[], []] as number[][]);
  dataset.records.forEach((record: SampleRecord, index) => {
    const known = (attribute.components ?? [attribute]).every((c) => c.name in record.attributes);
    const label = record.labels[finding];
    if (!known || (label !== 0 && label !== 1)) return;
    const row = attribute.groups.indexOf(groupOf(attribute, record.attributes));
    const cell = indices[row][label];
    if (cell.length < perCell) cell.push(index);
  });
  return { rows: [...attribute.groups], finding, indices };
}

export async function renderPreviewGrid(
  dataset: MedicalDataset,
  options: PreviewOptions = {},
): Promise<RasterImage> {
  const layout = selectPreviewSamples(dataset, options);
  const perCell = options.perCell ?? 4;
  const scale = options.scale ?? 3;
  const tileW = dataset.width * scale;
  const tileH = dataset.height * scale;
  const gap = 2;
  const pad = 6;
  const textScale = tileH >= 48 ? 2 : 1;
  const labelWidth = Math.max(...layout.rows.map((r) => textWidth(r, textScale))) + 2 * pad;
  const cellWidth = perCell * (tileW + gap) - gap;
  const header = GLYPH_HEIGHT * textScale + 2 * pad;
  const width = labelWidth + 2 * (cellWidth + pad) + pad;
  const height = header + layout.rows.length * (tileH + gap) + pad;
  const grid = createRaster(width, height, 3, 0.12);

  const columns = [`${layout.finding}: no`, `${layout.finding}: yes`];
  columns.forEach((title, col) => {
    const x0 = labelWidth + col * (cellWidth + pad);
    drawText(
      grid,
      title,
      x0 + Math.max(0, (cellWidth - textWidth(title, textScale)) >> 1),
      pad,
      [1, 1, 0.6],
      textScale,
    );
  });
  for (let row = 0; row < layout.rows.length; row++) {
    const y0 = header + row * (tileH + gap);
    drawText(
      grid,
      layout.rows[row],
      pad,
      y0 + ((tileH - GLYPH_HEIGHT * textScale) >> 1),
      1,
      textScale,
    );
    for (let col = 0; col < 2; col++) {
      const cell = layout.indices[row][col];
      for (let k = 0; k < cell.length; k++) {
        const image = toRgb((await dataset.load(cell[k])).image);
        const x0 = labelWidth + col * (cellWidth + pad) + k * (tileW + gap);
        blitScaled(grid, image, x0, y0, scale);
      }
    }
  }
  return grid;
}

function blitScaled(
  target: RasterImage,
  image: RasterImage,
  x0: number,
  y0: number,
  scale: number,
) {
  for (let y = 0; y < image.height * scale; y++) {
    const ty = y0 + y;
    if (ty >= target.height) break;
    const sy = Math.floor(y / scale);
    for (let x = 0; x < image.width * scale; x++) {
      const tx = x0 + x;
      if (tx >= target.width) break;
      const s = (sy * image.width + Math.floor(x / scale)) * 3;
      const t = (ty * target.width + tx) * 3;
      target.data[t] = image.data[s];
      target.data[t + 1] = image.data[s + 1];
      target.data[t + 2] = image.data[s + 2];
    }
  }
}
