import { z } from 'zod';
import type { DownloadFs } from './download-fs.js';

/**
 * The sidecar next to a download (`<file>.download.json`): enough to resume after a restart with
 * `Range` + `If-Range`, and to know a finished file was verified.
 */
export const partialStateSchema = z.object({
  version: z.literal(1),
  url: z.string(),
  /** Total size the server reported, once known. */
  totalBytes: z.number().int().nonnegative().optional(),
  etag: z.string().optional(),
  lastModified: z.string().optional(),
  /** The checksum the finished file must have, and where it came from. */
  expectedSha256: z.string().optional(),
  sha256Source: z.enum(['catalog', 'user', 'hub']).optional(),
  /** Set once the file is complete, verified and renamed to its final name. */
  completedSha256: z.string().optional(),
});

export type PartialState = z.infer<typeof partialStateSchema>;

export const partialPathFor = (finalPath: string): string => `${finalPath}.part`;
export const statePathFor = (finalPath: string): string => `${finalPath}.download.json`;

export async function readPartialState(
  fs: DownloadFs,
  finalPath: string,
): Promise<PartialState | undefined> {
  const text = await fs.readText(statePathFor(finalPath));
  if (text === undefined) return undefined;
  try {
    const parsed = partialStateSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined; // a torn or foreign sidecar: start over rather than trust it
  }
}

export async function writePartialState(
  fs: DownloadFs,
  finalPath: string,
  state: PartialState,
): Promise<void> {
  await fs.writeTextAtomic(statePathFor(finalPath), `${JSON.stringify(state, null, 2)}\n`);
}
