/**
 * Anti-aliased drawing in normalised coordinates ([0, 1] across the image, y down) on a
 * RasterImage, so a cohort renders the same anatomy at any image size. Each shape touches only
 * its bounding box, which keeps generation at tens of thousands of 32×32 images per second.
 */
import type { RasterImage } from "../../io/rasterImage";

/** Per-channel colour (length = channels) or one value for every channel. */
export type Paint = number | readonly number[];

export interface ShapeStyle {
  /** "blend" paints over (alpha compositing); "add" adds paint × coverage (densities sum). */
  mode?: "blend" | "add";
  /** Opacity multiplier in [0, 1]. */
  opacity?: number;
  /** Width of the soft edge in normalised units (≥ one pixel is applied regardless). */
  feather?: number;
}

function channelValue(paint: Paint, ch: number): number {
  return typeof paint === "number" ? paint : paint[ch];
}

function apply(
  image: RasterImage,
  index: number,
  coverage: number,
  paint: Paint,
  style: ShapeStyle,
): void {
  const alpha = coverage * (style.opacity ?? 1);
  if (alpha <= 0) return;
  const c = image.channels;
  const d = image.data;
  const base = index * c;
  if (style.mode === "add") {
    for (let ch = 0; ch < c; ch++) d[base + ch] += alpha * channelValue(paint, ch);
  } else {
    for (let ch = 0; ch < c; ch++) {
      d[base + ch] += alpha * (channelValue(paint, ch) - d[base + ch]);
    }
  }
}

function edgeWidth(image: RasterImage, style: ShapeStyle): number {
  return Math.max(style.feather ?? 0, 1 / Math.min(image.width, image.height));
}

/** Coverage from a signed distance (positive inside) and an edge width. */
function coverageOf(signedDistance: number, edge: number): number {
  const t = 0.5 + signedDistance / edge;
  return t <= 0 ? 0 : t >= 1 ? 1 : t * t * (3 - 2 * t);
}

function pixelBox(
  image: RasterImage,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
): [number, number, number, number] {
  return [
    Math.max(0, Math.floor(x0 * image.width)),
    Math.max(0, Math.floor(y0 * image.height)),
    Math.min(image.width - 1, Math.ceil(x1 * image.width)),
    Math.min(image.height - 1, Math.ceil(y1 * image.height)),
  ];
}

/**
 * A star-shaped region: radius(θ) around (cx, cy), with θ measured in the rotated frame.
 * Ellipses and irregular lesion borders are both this shape.
 */
export function fillPolar(
  image: RasterImage,
  cx: number,
  cy: number,
  maxRadius: number,
  radiusAt: (theta: number) => number,
  paint: Paint,
  style: ShapeStyle = {},
): void {
  const edge = edgeWidth(image, style);
  const reach = maxRadius + edge;
  const [px0, py0, px1, py1] = pixelBox(image, cx - reach, cy - reach, cx + reach, cy + reach);
  for (let py = py0; py <= py1; py++) {
    const y = (py + 0.5) / image.height - cy;
    for (let px = px0; px <= px1; px++) {
      const x = (px + 0.5) / image.width - cx;
      const r = Math.sqrt(x * x + y * y);
      const cover = coverageOf(radiusAt(Math.atan2(y, x)) - r, edge);
      if (cover > 0) apply(image, py * image.width + px, cover, paint, style);
    }
  }
}

export function fillEllipse(
  image: RasterImage,
  cx: number,
  cy: number,
  rx: number,
  ry: number,
  paint: Paint,
  style: ShapeStyle = {},
  angle = 0,
): void {
  const edge = edgeWidth(image, style);
  const reach = Math.max(rx, ry) + edge;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const [px0, py0, px1, py1] = pixelBox(image, cx - reach, cy - reach, cx + reach, cy + reach);
  for (let py = py0; py <= py1; py++) {
    const y = (py + 0.5) / image.height - cy;
    for (let px = px0; px <= px1; px++) {
      const x = (px + 0.5) / image.width - cx;
      const u = (x * cos + y * sin) / rx;
      const v = (y * cos - x * sin) / ry;
      const q = Math.sqrt(u * u + v * v);
      // Radial distance to the boundary: |p| (1/q − 1), exact along rays from the centre.
      const r = Math.sqrt(x * x + y * y);
      const signed = q > 1e-9 ? r * (1 / q - 1) : Math.min(rx, ry);
      const cover = coverageOf(signed, edge);
      if (cover > 0) apply(image, py * image.width + px, cover, paint, style);
    }
  }
}

/**
 * A polyline of round-capped segments (vessels, hairs, ribs, clavicles). Coverage comes from the
 * distance to the nearest segment, so joints are not painted twice.
 */
export function strokePath(
  image: RasterImage,
  points: readonly (readonly [number, number])[],
  width: number,
  paint: Paint,
  style: ShapeStyle = {},
): void {
  if (points.length < 2) return;
  const edge = edgeWidth(image, style);
  const half = width / 2;
  const reach = half + edge;
  const w = image.width;
  const distance = scratchDistances(w * image.height);
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const [x, y] of points) {
    minX = Math.min(minX, x);
    minY = Math.min(minY, y);
    maxX = Math.max(maxX, x);
    maxY = Math.max(maxY, y);
  }
  const [ux0, uy0, ux1, uy1] = pixelBox(
    image,
    minX - reach,
    minY - reach,
    maxX + reach,
    maxY + reach,
  );
  for (let py = uy0; py <= uy1; py++) distance.fill(Infinity, py * w + ux0, py * w + ux1 + 1);
  for (let s = 0; s + 1 < points.length; s++) {
    const [ax, ay] = points[s];
    const [bx, by] = points[s + 1];
    const [px0, py0, px1, py1] = pixelBox(
      image,
      Math.min(ax, bx) - reach,
      Math.min(ay, by) - reach,
      Math.max(ax, bx) + reach,
      Math.max(ay, by) + reach,
    );
    const dx = bx - ax;
    const dy = by - ay;
    const len2 = dx * dx + dy * dy || 1e-12;
    for (let py = py0; py <= py1; py++) {
      const y = (py + 0.5) / image.height;
      for (let px = px0; px <= px1; px++) {
        const x = (px + 0.5) / w;
        let t = ((x - ax) * dx + (y - ay) * dy) / len2;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        const ex = x - ax - t * dx;
        const ey = y - ay - t * dy;
        const d2 = ex * ex + ey * ey;
        const k = py * w + px;
        if (d2 < distance[k]) distance[k] = d2;
      }
    }
  }
  for (let py = uy0; py <= uy1; py++) {
    for (let px = ux0; px <= ux1; px++) {
      const d2 = distance[py * w + px];
      if (d2 === Infinity) continue;
      const cover = coverageOf(half - Math.sqrt(d2), edge);
      if (cover > 0) apply(image, py * w + px, cover, paint, style);
    }
  }
}

let scratch = new Float64Array(0);
function scratchDistances(size: number): Float64Array {
  if (scratch.length < size) scratch = new Float64Array(size);
  return scratch;
}

/** Points along a quadratic Bézier curve, for smooth vessels and hairs. */
export function bezierPoints(
  from: readonly [number, number],
  control: readonly [number, number],
  to: readonly [number, number],
  segments = 6,
): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i <= segments; i++) {
    const t = i / segments;
    const a = (1 - t) * (1 - t);
    const b = 2 * (1 - t) * t;
    const c = t * t;
    out.push([a * from[0] + b * control[0] + c * to[0], a * from[1] + b * control[1] + c * to[1]]);
  }
  return out;
}

/** Paints every pixel for which `mask(x, y)` (normalised coords) returns a coverage > 0. */
export function fillWhere(
  image: RasterImage,
  box: readonly [number, number, number, number],
  mask: (x: number, y: number) => number,
  paint: Paint,
  style: ShapeStyle = {},
): void {
  const [px0, py0, px1, py1] = pixelBox(image, box[0], box[1], box[2], box[3]);
  for (let py = py0; py <= py1; py++) {
    const y = (py + 0.5) / image.height;
    for (let px = px0; px <= px1; px++) {
      const cover = mask((px + 0.5) / image.width, y);
      if (cover > 0) apply(image, py * image.width + px, Math.min(cover, 1), paint, style);
    }
  }
}

let normalTable: Float32Array | undefined;
/** 4096 standard-normal quantiles: pixel noise by table lookup is ~10× faster than Box–Muller. */
function normalQuantiles(): Float32Array {
  if (normalTable) return normalTable;
  const n = 4096;
  normalTable = new Float32Array(n);
  for (let i = 0; i < n; i++) normalTable[i] = inverseNormal((i + 0.5) / n);
  return normalTable;
}

/** Acklam's rational approximation of the standard normal quantile (|error| < 1.2e-9). */
function inverseNormal(p: number): number {
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972,
    -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734,
    4.374664141464968, 2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low || p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(p < low ? p : 1 - p));
    const x =
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    return p < low ? x : -x;
  }
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}

/** Gaussian pixel noise (sensor / quantum noise), drawn from a quantile table with `uint32`. */
export function addNoise(image: RasterImage, sd: number, uint32: () => number): void {
  const table = normalQuantiles();
  const d = image.data;
  // Two 12-bit table indices per 32-bit draw.
  for (let i = 0; i < d.length; i += 2) {
    const r = uint32();
    d[i] += sd * table[r & 4095];
    if (i + 1 < d.length) d[i + 1] += sd * table[(r >>> 16) & 4095];
  }
}

export { coverageOf as smoothCoverage };
