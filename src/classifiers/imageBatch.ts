/** Images in [0, 1] → a [B, H, W, C] tensor, checking every image has the network's size. */
import * as tf from "@tensorflow/tfjs-core";
import type { RasterImage } from "../io/rasterImage";

export function imagesToUnitTensor(
  images: RasterImage[],
  shape: { imageSize: number; imageChannels: number },
): tf.Tensor4D {
  const { imageSize, imageChannels } = shape;
  const per = imageSize * imageSize * imageChannels;
  const values = new Float32Array(images.length * per);
  images.forEach((image, i) => {
    if (
      image.width !== imageSize ||
      image.height !== imageSize ||
      image.channels !== imageChannels
    ) {
      throw new Error(
        `image ${i} is ${image.width}×${image.height}×${image.channels}, the classifier needs ${imageSize}×${imageSize}×${imageChannels}`,
      );
    }
    values.set(image.data, i * per);
  });
  return tf.tensor4d(values, [images.length, imageSize, imageSize, imageChannels]);
}
