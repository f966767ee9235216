/** Feature extractors for Fréchet distances: the project's encoder, radiomics, any graph model. */
export {
  assertImageBatch,
  type FeatureExtractor,
  type FeatureExtractorInfo,
} from "./featureExtractor";
export {
  projectEncoderExtractor,
  defaultFeatureExtractor,
  DEFAULT_ENCODER_FILE,
  DEFAULT_ENCODER_NAME,
  type ProjectEncoderOptions,
} from "./projectEncoderExtractor";
export {
  radiomicExtractor,
  radiomicFeatures,
  radiomicFeatureNames,
  RADIOMIC_FEATURES,
  RADIOMIC_VERSION,
  type RadiomicOptions,
} from "./radiomicExtractor";
export { firstOrderFeatures, FIRST_ORDER_FEATURES, HISTOGRAM_BINS } from "./firstOrderFeatures";
export {
  cooccurrenceMatrix,
  glcmProperties,
  glcmFeatures,
  GLCM_ANGLES,
  GLCM_DISTANCES,
  GLCM_FEATURES,
  GLCM_LEVELS,
  GLCM_PROPERTIES,
  type GlcmProperties,
} from "./glcmFeatures";
export {
  shapeFeatures,
  maskShapeFeatures,
  foregroundMask,
  otsuThresholdBin,
  SHAPE_FEATURES,
} from "./shapeFeatures";
export { imagePlanes, greyLevel, type ImagePlane, type RadiomicColourMode } from "./imagePlane";
export { fileSystemModelHandler } from "./fileSystemModelHandler";
export { graphModelExtractor, type GraphModelExtractorOptions } from "./graphModelExtractor";
export { packageRoot, shippedModelPath } from "./packageRoot";
