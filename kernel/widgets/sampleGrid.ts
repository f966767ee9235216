/**
 * SampleGrid (kernel side): generated images as one uint8 buffer [n, h, w, c], each with the
 * subgroup the classifier predicted (images are grouped under it), its prompt and the class
 * probabilities (shown on hover).
 */
import { encodePng } from "../../src/io/imageCodec";
import { tileImages } from "../../src/io/imageGrid";
import type { RasterImage } from "../../src/io/rasterImage";
import { DOM_WIDGET_BASE, fairdiffSpec } from "./fairdiffModule";
import { fallbackBlock, note, pngImage, type StaticFallback } from "./staticFallback";
import { Widget } from "./widget";

export interface SampleImages {
  /** [n, h, w, c] row-major; floats are read as [0, 1], bytes as 0..255. */
  pixels: Float32Array | Uint8Array | ArrayLike<number>;
  shape: [number, number, number, number];
  /** One per image. */
  groups: string[];
  prompts: string[];
  /** One per image: group → probability. */
  probabilities?: Record<string, number>[];
}

type State = Record<string, unknown> & {
  pixels: Uint8Array;
  shape: number[];
  items: { group: string; prompt: string; probabilities: Record<string, number> }[];
  scale: number;
  title: string;
};

function toBytes(pixels: SampleImages["pixels"]): Uint8Array {
  if (pixels instanceof Uint8Array) return pixels;
  const out = new Uint8Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) {
    out[i] = Math.round(Math.min(Math.max(pixels[i], 0), 1) * 255);
  }
  return out;
}

export class SampleGrid extends Widget<State> {
  constructor(options: { title?: string; scale?: number; images?: SampleImages } = {}) {
    super(fairdiffSpec("SampleGrid"), {
      ...DOM_WIDGET_BASE,
      pixels: new Uint8Array(0),
      shape: [0, 0, 0, 1],
      items: [],
      scale: options.scale ?? 3,
      title: options.title ?? "Samples by predicted subgroup",
    });
    if (options.images) this.show(options.images);
  }

  /**
   * Shows images grouped by one classifier head's prediction (a HeadPrediction of
   * SubgroupClassifier.predict): arg-max class as the group, every class probability on hover.
   */
  showPredicted(
    pixels: SampleImages["pixels"],
    shape: SampleImages["shape"],
    prompts: string[],
    head: { classes: string[]; probabilities: ArrayLike<number>; predicted: ArrayLike<number> },
  ): void {
    const k = head.classes.length;
    const n = shape[0];
    if (head.predicted.length !== n) {
      throw new Error(`prediction covers ${head.predicted.length} images, shape says ${n}`);
    }
    const groups: string[] = [];
    const probabilities: Record<string, number>[] = [];
    for (let i = 0; i < n; i++) {
      groups.push(head.classes[head.predicted[i]]);
      probabilities.push(
        Object.fromEntries(head.classes.map((c, j) => [c, head.probabilities[i * k + j]])),
      );
    }
    this.show({ pixels, shape, groups, prompts, probabilities });
  }

  show(images: SampleImages): void {
    const [n, h, w, c] = images.shape;
    if (![n, h, w, c].every((d) => Number.isInteger(d) && d >= 0)) {
      throw new Error(`shape must be 4 non-negative integers, got [${images.shape.join(", ")}]`);
    }
    if (c !== 1 && c !== 3) throw new Error(`images need 1 (grey) or 3 (RGB) channels, got ${c}`);
    if (images.pixels.length !== n * h * w * c) {
      throw new Error(
        `pixels has ${images.pixels.length} values, shape [${images.shape.join(", ")}] needs ${n * h * w * c}`,
      );
    }
    for (const [name, list] of [
      ["groups", images.groups],
      ["prompts", images.prompts],
    ] as const) {
      if (list.length !== n) throw new Error(`${name} has ${list.length} entries for ${n} images`);
    }
    this.set({
      pixels: toBytes(images.pixels),
      shape: [n, h, w, c],
      items: images.groups.map((group, i) => ({
        group,
        prompt: images.prompts[i],
        probabilities: images.probabilities?.[i] ?? {},
      })),
    });
  }

  /** The images as one PNG, grouped by predicted subgroup in order of first appearance. */
  override staticFallback(): StaticFallback {
    const title = this.get("title");
    const [n, h, w, c] = this.get("shape");
    const items = this.get("items");
    if (n === 0) {
      return {
        text: `${title}: no images yet`,
        html: fallbackBlock("SampleGrid", title, [note("No images yet.")]),
      };
    }
    const order = [...new Set(items.map((item) => item.group))];
    const indices = order.flatMap((g) => items.flatMap((item, i) => (item.group === g ? [i] : [])));
    const counts = order.map((g) => `${g} ${items.filter((item) => item.group === g).length}`);
    const summary = `${n} images, by predicted subgroup: ${counts.join(", ")}`;
    const pixels = this.get("pixels");
    const per = h * w * c;
    const rasters: RasterImage[] = indices.map((i) => ({
      width: w,
      height: h,
      channels: c as 1 | 3,
      data: Float32Array.from(pixels.subarray(i * per, (i + 1) * per), (v) => v / 255),
    }));
    const png = encodePng(
      tileImages(rasters, { columns: Math.min(8, n), scale: this.get("scale"), gap: 2 }),
    );
    return {
      text: `${title}: ${summary}`,
      html: fallbackBlock("SampleGrid", title, [
        note(`${summary} (grouped in that order).`),
        pngImage(png, `${title}: ${summary}`),
      ]),
    };
  }
}
