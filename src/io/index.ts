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
