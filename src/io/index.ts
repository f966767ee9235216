/** File formats and image primitives: PNG/JPEG, npy/npz, CSV, resizing, a bitmap font. */
export {
  createRaster,
  toGrayscale,
  toRgb,
  withChannels,
  clampUnit,
  type RasterImage,
  type ChannelCount,
} from "./rasterImage";
export { resizeImage } from "./resizeImage";
export {
  decodeImage,
  encodePng,
  encodeJpeg,
  detectImageFormat,
  type ImageFormat,
} from "./imageCodec";
export { drawText, textWidth } from "./bitmapFont";
export { parseCsv, type CsvTable } from "./csv";
export { parseNpy, encodeNpy, type NpyArray, type NpyData } from "./npy";
export { openNpz, openNpzFile, encodeNpz, type NpzArchive } from "./npz";
export { crc32 } from "./zipArchive";
export { saveCheckpoint, loadCheckpoint, type Checkpoint } from "./checkpoint";
export { writeFileAtomic } from "./atomicWrite";
