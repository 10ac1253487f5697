// Writing the description and keywords into the image file itself (opt-in: --embed). ExifTool
// writes a temporary copy; the copy's decoded pixels must hash the same as the original's and
// its XMP must read back as written before it replaces the image. The original is kept next to
// it as photo.jpg_original (ExifTool's own naming) unless the job says not to.
import { constants } from 'node:fs';
import { copyFile, link, rm, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { commitTempFile, tempPathFor } from '../common/atomic-write.js';
import { LlavaDeskError } from '../common/errors.js';
import {
  decodeImage,
  pixelHash,
  readImageFile,
  sniffFormat,
  sourceSha256,
  type ImageFormat,
  type ImageInput,
} from '../imaging/index.js';
import { listValue, readTags, writeTags, type ExifTool, type TagValues } from './exiftool.js';
import { mergeKeywords } from './keywords.js';
import { xmlSafe, type Metadata } from './xmp-sidecar.js';

type Block = 'xmp' | 'iptc' | 'exif';

/** What each format holds, as ExifTool writes it (PNG's IPTC would be non-standard: left out). */
export const EMBED_BLOCKS: Readonly<Partial<Record<ImageFormat, readonly Block[]>>> = {
  jpeg: ['xmp', 'iptc', 'exif'],
  tiff: ['xmp', 'iptc', 'exif'],
  png: ['xmp', 'exif'],
  webp: ['xmp', 'exif'],
  heic: ['xmp', 'exif'],
  avif: ['xmp', 'exif'],
  gif: ['xmp'],
};

/** The backup of `image` kept by an embedding job. */
export function backupPath(image: string): string {
  return `${image}_original`;
}

/** The project's pixel hash of the decoded image (upright sRGB at full size). */
async function pixelsOf(input: ImageInput): Promise<string> {
  return pixelHash((await decodeImage(input)).pixels);
}

async function keepBackup(image: string): Promise<void> {
  const backup = backupPath(image);
  // The first backup is the true original: a later run never replaces it.
  if (
    await stat(backup).then(
      () => true,
      () => false,
    )
  )
    return;
  try {
    // A second name for the original's data: the rename that follows leaves it untouched.
    await link(image, backup);
  } catch {
    await copyFile(image, backup, constants.COPYFILE_EXCL);
  }
}

export interface EmbedOptions {
  /** Keep the original as photo.jpg_original (default true). */
  backup?: boolean;
}

/**
 * Writes `meta` into the image (XMP dc:description and dc:subject, IPTC Caption-Abstract and
 * Keywords, EXIF ImageDescription, as the format holds them; keywords merged with the image's
 * own). Returns the sha256 of the new file. EMBED_UNSUPPORTED for formats ExifTool cannot write
 * (BMP, SVG), EMBED_PIXELS_CHANGED if the decoded pixels differ; the image is then untouched.
 */
export async function embedMetadata(
  et: ExifTool,
  image: string,
  meta: Metadata,
  options: EmbedOptions = {},
): Promise<string> {
  const name = basename(image);
  const original = await readImageFile(image);
  original.name = name;
  const sniff = sniffFormat(original.bytes);
  const blocks = sniff.kind === 'image' ? EMBED_BLOCKS[sniff.format] : undefined;
  if (!blocks) {
    const what = sniff.kind === 'image' ? sniff.format.toUpperCase() : 'this kind of';
    throw new LlavaDeskError(
      'EMBED_UNSUPPORTED',
      `${name}: ${what} files cannot hold the description (ExifTool cannot write them); use an XMP sidecar.`,
    );
  }
  const before = await pixelsOf(original);
  const current = await readTags(et, image, ['XMP-dc:Subject', 'IPTC:Keywords']);
  const existing = listValue(current.values['XMP-dc:Subject'] ?? current.values['IPTC:Keywords']);
  const description = xmlSafe(meta.description);
  const keywords = meta.keywords?.length
    ? mergeKeywords(existing, meta.keywords.map(xmlSafe))
    : undefined;
  // With its language: without it ExifTool would drop the other languages' descriptions.
  const tags: TagValues = { 'XMP-dc:Description-x-default': description };
  if (keywords) tags['XMP-dc:Subject'] = keywords;
  if (meta.hierarchical?.length) {
    const have = listValue(
      (await readTags(et, image, ['XMP-lr:HierarchicalSubject'])).values[
        'XMP-lr:HierarchicalSubject'
      ],
    );
    tags['XMP-lr:HierarchicalSubject'] = mergeKeywords(have, meta.hierarchical.map(xmlSafe));
  }
  if (blocks.includes('iptc')) {
    tags['IPTC:CodedCharacterSet'] = 'UTF8';
    tags['IPTC:Caption-Abstract'] = description;
    if (keywords) tags['IPTC:Keywords'] = keywords;
  }
  if (blocks.includes('exif')) tags['IFD0:ImageDescription'] = description;

  const temp = tempPathFor(image, true);
  let written: ImageInput;
  try {
    await copyFile(image, temp, constants.COPYFILE_EXCL);
    await writeTags(et, temp, tags);
    const read = await readTags(et, temp, ['XMP-dc:Description']);
    if (read.values['XMP-dc:Description'] !== description) {
      throw new LlavaDeskError(
        'METADATA_WRITE_FAILED',
        `${name}: ExifTool's copy did not read back as written; the image was left as it is.`,
      );
    }
    written = await readImageFile(temp);
    written.name = name;
    if ((await pixelsOf(written)) !== before) {
      throw new LlavaDeskError(
        'EMBED_PIXELS_CHANGED',
        `${name}: the pixels would have changed; the image was left as it is.`,
      );
    }
    if (options.backup !== false) await keepBackup(image);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await commitTempFile(temp, image);
  return sourceSha256(written.bytes);
}
