/**
 * A caption strip under an image (a sample grid): what was drawn, from which prompt and
 * settings, in the image itself, so the PNG still says so when it is mailed or pasted alone.
 */
import { drawText, GLYPH_ADVANCE, GLYPH_HEIGHT, wrapText } from "./bitmapFont";
import { createRaster, type RasterImage } from "./rasterImage";

export interface CaptionOptions {
  /** Font magnification (default 1: 5 × 7 pixel letters). */
  scale?: number;
  /** Margin around the text in pixels (default 4). */
  margin?: number;
  /** Background and text values in [0, 1] (defaults: the grid's dark grey, near white). */
  background?: number;
  text?: number;
}

/** `image` with `paragraphs` wrapped to its width in a strip below it. */
export function withCaption(
  image: RasterImage,
  paragraphs: readonly string[],
  options: CaptionOptions = {},
): RasterImage {
  const scale = options.scale ?? 1;
  const margin = options.margin ?? 4;
  const maxChars = Math.max(
    1,
    Math.floor((image.width - 2 * margin + scale) / (GLYPH_ADVANCE * scale)),
  );
  const lines = paragraphs.flatMap((p) => wrapText(p, maxChars));
  const lineHeight = (GLYPH_HEIGHT + 3) * scale;
  const stripHeight = lines.length === 0 ? 0 : 2 * margin + lines.length * lineHeight - 3 * scale;
  const out = createRaster(
    image.width,
    image.height + stripHeight,
    image.channels,
    options.background ?? 0.15,
  );
  out.data.set(image.data);
  lines.forEach((line, i) => {
    drawText(
      out,
      line,
      margin,
      image.height + margin + i * lineHeight,
      options.text ?? 0.92,
      scale,
    );
  });
  return out;
}
