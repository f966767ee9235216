/**
 * PNG and JPEG decoding/encoding with maintained pure-JS libraries (pngjs, jpeg-js): no native
 * build, nothing downloaded at install time. The format is detected from the file's magic bytes,
 * not its extension, and a corrupt file is an error naming it.
 */
import * as jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { createRaster, withChannels, type ChannelCount, type RasterImage } from "./rasterImage";

export type ImageFormat = "png" | "jpeg";

/** Refuse absurd headers before allocating (a corrupt file can claim gigapixels). */
const MAX_PIXELS = 64 * 1024 * 1024;

export function detectImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (
    bytes.length >= 8 &&
    bytes[0] === 0x89 &&
    bytes[1] === 0x50 &&
    bytes[2] === 0x4e &&
    bytes[3] === 0x47
  ) {
    return "png";
  }
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff)
    return "jpeg";
  return undefined;
}

function fromRgba(width: number, height: number, rgba: Uint8Array, grayscaleSource: boolean) {
  const channels: ChannelCount = grayscaleSource ? 1 : 3;
  const out = createRaster(width, height, channels);
  const n = width * height;
  if (channels === 1) {
    for (let p = 0; p < n; p++) out.data[p] = rgba[p * 4] / 255;
  } else {
    for (let p = 0; p < n; p++) {
      out.data[p * 3] = rgba[p * 4] / 255;
      out.data[p * 3 + 1] = rgba[p * 4 + 1] / 255;
      out.data[p * 3 + 2] = rgba[p * 4 + 2] / 255;
    }
  }
  return out;
}

function isGray(rgba: Uint8Array): boolean {
  for (let i = 0; i < rgba.length; i += 4) {
    if (rgba[i] !== rgba[i + 1] || rgba[i] !== rgba[i + 2]) return false;
  }
  return true;
}

/**
 * Decodes PNG or JPEG bytes into a RasterImage (alpha dropped). With `channels` given the result
 * is converted (luma for grayscale); otherwise a grayscale source gives 1 channel, colour 3.
 * `name` (usually the path) appears in every error.
 */
export function decodeImage(bytes: Uint8Array, name: string, channels?: ChannelCount): RasterImage {
  const format = detectImageFormat(bytes);
  if (!format) {
    throw new Error(`cannot decode image ${name}: not a PNG or JPEG file (${bytes.length} bytes)`);
  }
  let image: RasterImage;
  try {
    if (format === "png") {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      const rgba = new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength);
      image = fromRgba(png.width, png.height, rgba, isGray(rgba));
    } else {
      const decoded = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        maxResolutionInMP: MAX_PIXELS / 1e6,
        maxMemoryUsageInMB: 1024,
      });
      image = fromRgba(decoded.width, decoded.height, decoded.data, isGray(decoded.data));
    }
  } catch (error) {
    throw new Error(`cannot decode image ${name}: corrupt ${format} (${(error as Error).message})`);
  }
  return channels ? withChannels(image, channels) : image;
}

function toRgbaBytes(image: RasterImage): Buffer {
  const n = image.width * image.height;
  const out = Buffer.alloc(n * 4);
  const byte = (v: number) => Math.round((v < 0 ? 0 : v > 1 ? 1 : v) * 255);
  for (let p = 0; p < n; p++) {
    if (image.channels === 1) {
      const v = byte(image.data[p]);
      out[p * 4] = v;
      out[p * 4 + 1] = v;
      out[p * 4 + 2] = v;
    } else {
      out[p * 4] = byte(image.data[p * 3]);
      out[p * 4 + 1] = byte(image.data[p * 3 + 1]);
      out[p * 4 + 2] = byte(image.data[p * 3 + 2]);
    }
    out[p * 4 + 3] = 255;
  }
  return out;
}

export function encodePng(image: RasterImage): Uint8Array {
  const png = new PNG({ width: image.width, height: image.height });
  png.data = toRgbaBytes(image);
  return new Uint8Array(PNG.sync.write(png, { colorType: image.channels === 1 ? 0 : 2 }));
}

/** JPEG encoding (lossy); used mainly to write test fixtures in HAM10000/CheXpert's format. */
export function encodeJpeg(image: RasterImage, quality = 90): Uint8Array {
  const encoded = jpeg.encode(
    { width: image.width, height: image.height, data: toRgbaBytes(image) },
    quality,
  );
  return new Uint8Array(encoded.data);
}
