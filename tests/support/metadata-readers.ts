// Two independent readers of what the batch writes: ExifTool's own `-X` dump (the bundled
// ExifTool, run as a program, not through the code under test) and exifr (a JavaScript reader).
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import type * as Exifr from 'exifr';
import { exiftoolPath } from 'exiftool-vendored';

const run = promisify(execFile);
// exifr's CommonJS build: its ES build's default export lacks `sidecar` under Vite's resolution.
const exifr = createRequire(import.meta.url)('exifr') as typeof Exifr;

/** `exiftool -X -a file` as tag -> values in the order ExifTool lists them. */
export async function exiftoolX(file: string): Promise<Map<string, string[]>> {
  const { stdout } = await run(await exiftoolPath(), ['-X', '-a', file], {
    maxBuffer: 16 * 1024 * 1024,
  });
  const tags = new Map<string, string[]>();
  const description = /<rdf:Description[^>]*>([\s\S]*)<\/rdf:Description>/.exec(stdout)?.[1] ?? '';
  for (const match of description.matchAll(/<([\w-]+:[\w-]+)>([\s\S]*?)<\/\1>/g)) {
    const [, tag, value] = match;
    if (!tag || value === undefined) continue;
    // A list is an rdf:Bag / rdf:Seq / rdf:Alt of rdf:li items: one value each.
    const items = [...value.matchAll(/<rdf:li[^>]*>([\s\S]*?)<\/rdf:li>/g)].map((m) => m[1] ?? '');
    tags.set(tag, [...(tags.get(tag) ?? []), ...(items.length > 0 ? items : [value.trim()])]);
  }
  return tags;
}

/** Groups whose tags describe the file, not its metadata (name, size, dates, ExifTool's notes). */
const FILE_GROUPS = /^(System|File|ExifTool|Composite):/;

/**
 * The `-X` tags of `after` that differ from `before`, leaving out the file's own facts, the
 * XMP toolkit name (it names the last writer) and the tags in `written`. An empty value counts
 * as absent: ExifTool drops an empty list (darktable's `<darktable:masks_history><rdf:Seq/>`),
 * which a reader takes as no entries either way.
 */
export function changedTags(
  before: Map<string, string[]>,
  after: Map<string, string[]>,
  written: readonly string[],
): string[] {
  const skip = (tag: string): boolean =>
    FILE_GROUPS.test(tag) || tag === 'XMP-x:XMPToolkit' || written.includes(tag);
  const values = (map: Map<string, string[]>, tag: string): string =>
    JSON.stringify((map.get(tag) ?? []).filter((v) => v !== ''));
  const changed: string[] = [];
  for (const tag of new Set([...before.keys(), ...after.keys()])) {
    if (skip(tag)) continue;
    if (values(before, tag) !== values(after, tag)) changed.push(tag);
  }
  return changed;
}

/** exifr leaves XML's character references in XMP text as they are; undone here. */
export function xmlDecoded(value: string): string {
  return value
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#x([0-9a-f]+);/gi, (_m, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&amp;/g, '&');
}

export interface ExifrView {
  description?: string;
  subject: string[];
  hierarchical: string[];
  namespaces: string[];
  iptcCaption?: string;
  iptcKeywords: string[];
  imageDescription?: string;
}

type Lang = { lang?: string; value?: string };

function list(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map((v) => String(v));
}

function defaultLang(value: unknown): string | undefined {
  const items = (Array.isArray(value) ? value : [value]) as Array<Lang | string | undefined>;
  for (const item of items) {
    if (typeof item === 'string') return xmlDecoded(item);
    if (item && (item.lang === 'x-default' || item.lang === undefined) && item.value !== undefined)
      return xmlDecoded(item.value);
  }
  return undefined;
}

/** What exifr reads from an XMP sidecar or an image (`iptc: false` where exifr fails on it). */
export async function exifrRead(
  file: string,
  options: { iptc?: boolean } = {},
): Promise<ExifrView> {
  const isSidecar = file.toLowerCase().endsWith('.xmp');
  const raw = (
    isSidecar
      ? await exifr.sidecar(file)
      : await exifr.parse(file, {
          xmp: true,
          iptc: options.iptc !== false,
          ifd0: {},
          mergeOutput: false,
        })
  ) as Record<string, Record<string, unknown> | undefined> | undefined;
  const dc = raw?.['dc'] ?? {};
  const iptc = raw?.['iptc'] ?? {};
  // exifr reads IPTC text as Latin-1 whatever CodedCharacterSet says: re-read its bytes as UTF-8.
  const utf8 = (s: string): string => Buffer.from(s, 'latin1').toString('utf8');
  const caption = iptc['Caption'];
  const imageDescription = raw?.['ifd0']?.['ImageDescription'];
  return {
    ...(defaultLang(dc['description']) !== undefined
      ? { description: defaultLang(dc['description']) }
      : {}),
    subject: list(dc['subject']).map(xmlDecoded),
    hierarchical: list(raw?.['lr']?.['hierarchicalSubject']).map(xmlDecoded),
    namespaces: Object.keys(raw?.['xmlns'] ?? {}),
    ...(typeof caption === 'string' ? { iptcCaption: utf8(caption) } : {}),
    iptcKeywords: list(iptc['Keywords']).map(utf8),
    ...(typeof imageDescription === 'string' ? { imageDescription } : {}),
  };
}

/** The namespace prefixes an XMP file declares (read from its text). */
export function declaredPrefixes(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...new Set([...text.matchAll(/xmlns:([\w-]+)=/g)].map((m) => m[1] ?? ''))].sort();
}

/** ExifTool processes that are children of this process (Linux: read from /proc). */
export function exiftoolChildren(): number[] {
  if (process.platform !== 'linux') return [];
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (ppid === process.pid && cmdline.includes('exiftool')) pids.push(Number(entry));
    } catch {
      // the process ended while being read
    }
  }
  return pids;
}
