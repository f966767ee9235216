/**
 * A dataset whose images are files (PNG/JPEG) or arrays in .npz files: records up front, images
 * decoded on demand, resized to one size and channel count, and kept in a bounded cache.
 */
import { existsSync, readFileSync } from "fs";
import { decodeImage } from "../../io/imageCodec";
import { withChannels, type ChannelCount, type RasterImage } from "../../io/rasterImage";
import { resizeImage } from "../../io/resizeImage";
import { createImageCache, type ImageCache } from "../imageCache";
import {
  checkIndex,
  type MedicalDataset,
  type MedicalSample,
  type SampleRecord,
} from "../medicalSample";
import type { SensitiveAttribute } from "../subgroups";
import type { SkipReport } from "./skipReport";

export interface ImageOptions {
  /** Output width and height (default 64). Images are resized, not cropped. */
  imageSize?: number;
  /** 1 = grayscale (luma), 3 = RGB. */
  channels?: ChannelCount;
  /** Decoded images kept in memory (default 1024; 0 disables the cache). */
  cacheSize?: number;
}

export interface FileImageDataset extends MedicalDataset {
  /** Rows skipped while reading metadata (always present; zero when nothing was skipped). */
  readonly skipReport: SkipReport;
  readonly cache: ImageCache;
}

/** Reads and decodes an image file; a missing or corrupt file is an error naming its path. */
export function readImageFile(path: string): RasterImage {
  if (!existsSync(path)) throw new Error(`image file not found: ${path}`);
  return decodeImage(readFileSync(path), path);
}

export function fitImage(image: RasterImage, size: number, channels: ChannelCount): RasterImage {
  return resizeImage(withChannels(image, channels), size, size);
}

export function createFileImageDataset(args: {
  name: string;
  attributes: readonly SensitiveAttribute[];
  findings: readonly string[];
  records: readonly SampleRecord[];
  /** Decodes record i's image at its native size. */
  readImage: (index: number) => RasterImage;
  skipReport: SkipReport;
  options: ImageOptions;
  defaultChannels: ChannelCount;
}): FileImageDataset {
  const size = args.options.imageSize ?? 64;
  if (!Number.isInteger(size) || size < 1)
    throw new Error(`imageSize must be a positive integer, got ${size}`);
  const channels = args.options.channels ?? args.defaultChannels;
  if (channels !== 1 && channels !== 3)
    throw new Error(`channels must be 1 or 3, got ${String(channels)}`);
  const cache = createImageCache(args.options.cacheSize ?? 1024);
  const dataset: FileImageDataset = {
    name: args.name,
    attributes: args.attributes,
    findings: args.findings,
    records: args.records,
    width: size,
    height: size,
    channels,
    skipReport: args.skipReport,
    cache,
    async load(index: number): Promise<MedicalSample> {
      checkIndex(dataset, index);
      const record = args.records[index];
      const image = cache.getOrCreate(record.id, () =>
        fitImage(args.readImage(index), size, channels),
      );
      return { ...record, image };
    },
  };
  return dataset;
}
