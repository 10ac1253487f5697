/*
 * SVG decision: rasterise (librsvg inside sharp), but only self-contained drawings. librsvg given
 * a buffer has no base URL and does not fetch, and the app never passes one; on top of that this
 * check refuses, before librsvg sees the file, anything that could reach outside it or expand
 * without bound: a DOCTYPE (entities, billion laughs, XXE), external `href`s, `url(...)` to
 * anything but a fragment or a data: URI, CSS `@import`, and XInclude. A refused SVG is
 * IMAGE_UNSUPPORTED with the reason; exporting it to PNG always works.
 */

export const MAX_SVG_BYTES = 8 * 1024 * 1024;

/** Why an SVG is refused, or undefined when it is self-contained. */
export function svgRefusal(bytes: Uint8Array): string | undefined {
  if (bytes.length > MAX_SVG_BYTES) return 'SVG files over 8 MiB are not rasterised';
  const text = Buffer.from(bytes).toString('utf8');
  if (/<!DOCTYPE[^>]*\[|<!ENTITY/i.test(text)) {
    return 'SVG with a DOCTYPE that declares entities is refused (entity expansion)';
  }
  if (/<(?:\w+:)?include\b|xi:include/i.test(text)) return 'SVG with XInclude is refused';
  if (/@import\b/i.test(text)) return 'SVG with CSS @import is refused (external reference)';
  const hrefs = text.matchAll(/\b(?:xlink:)?href\s*=\s*(["'])(.*?)\1/gis);
  for (const [, , value = ''] of hrefs) {
    if (!isInternalReference(value)) {
      return `SVG with an external reference (${value.slice(0, 60)}) is refused`;
    }
  }
  const urls = text.matchAll(/url\(\s*(["']?)(.*?)\1\s*\)/gis);
  for (const [, , value = ''] of urls) {
    if (!isInternalReference(value)) {
      return `SVG with an external reference (${value.slice(0, 60)}) is refused`;
    }
  }
  return undefined;
}

function isInternalReference(value: string): boolean {
  const trimmed = value.trim();
  return trimmed.startsWith('#') || /^data:/i.test(trimmed);
}

/** Render scale for a small SVG: vector art is drawn sharp at the size the encoder will use. */
export function svgDensity(longSide: number, targetLongSide = 1008, maxScale = 8): number {
  if (longSide <= 0 || longSide >= targetLongSide) return 72;
  return 72 * Math.min(maxScale, targetLongSide / longSide);
}
