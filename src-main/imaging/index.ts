// The imaging pipeline's public surface: decode, plan, prepare, hashes, thumbnails.
export { decodeImage, readImageFile, type DecodedImage, type ImageInput } from './decode.js';
export {
  DEFAULT_BACKGROUND,
  DEFAULT_MAX_FILE_BYTES,
  DEFAULT_MAX_PIXELS,
  DEFAULT_TIMEOUT_SECONDS,
  type DecodeOptions,
} from './decode-options.js';
export {
  anyResCandidates,
  CLIP_MEAN,
  LLAVA_15_ENCODER,
  padColour,
  type EncoderSpec,
} from './encoder-spec.js';
export { IMAGE_FORMATS, sniffFormat, type ImageFormat } from './formats.js';
export { pixelHash, sourceSha256 } from './hashes.js';
export type { ExifOrientation } from './orientation.js';
export {
  fitIntoCanvas,
  planImage,
  runtimeImageSize,
  runtimeTiling,
  selectBestResolution,
  type Detail,
  type ImagePlan,
  type PlannedBitmap,
  type Tiling,
} from './plan.js';
export {
  planForEncoder,
  prepareForEncoder,
  type ImagePlanReport,
  type ImageReport,
  type PrepareOptions,
  type PreparedBitmap,
  type PreparedImage,
} from './prepare.js';
export { encoderSpecFromMetadata, readEncoderSpec } from './read-encoder-spec.js';
export type { Resolution, RgbBitmap, Size } from './size.js';
export { makeThumbnail, THUMBNAIL_MAX_SIDE, type Thumbnail } from './thumbnail.js';
export {
  estimateTokenCounter,
  llavaNextTokens,
  planTokens,
  tokensPerEncoderImage,
  unpaddedMap,
  type TokenCounter,
  type UnpaddedMap,
} from './tokens.js';
export { prepareImageFiles, type ImagePrepOptions } from './prepare-files.js';
