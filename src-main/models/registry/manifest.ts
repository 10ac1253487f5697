import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../common/atomic-write.js';

export const MANIFEST_FILE = 'manifest.json';

export const manifestFileSchema = z.object({
  role: z.enum(['model', 'mmproj']),
  /** Relative to the model's folder. */
  fileName: z.string().min(1),
  sizeBytes: z.number().int().nonnegative(),
  sha256: z.string().optional(),
  /** How an imported file got here. */
  placement: z.enum(['downloaded', 'copy', 'hardlink', 'symlink', 'repaired']),
  /** Where it came from: a URI or the original path. */
  origin: z.string().optional(),
});

export const manifestSchema = z.object({
  schemaVersion: z.literal(1),
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/),
  displayName: z.string().min(1),
  family: z.string().optional(),
  promptTemplate: z.enum(['vicuna_v1', 'gguf-jinja']),
  source: z.enum(['catalog', 'url', 'import']),
  catalogId: z.string().optional(),
  embeddingLength: z.number().int().positive().optional(),
  projectorType: z.string(),
  /** The projector was an old file and this is the copy with `clip.projector_type` added. */
  repairedMmproj: z.boolean().optional(),
  files: z.array(manifestFileSchema).length(2),
  installedAt: z.string(),
});

export type ModelManifest = z.infer<typeof manifestSchema>;
export type ManifestFile = z.infer<typeof manifestFileSchema>;

/** A manifest's presence is what makes a folder an installed model: written last, atomically. */
export async function writeManifest(dir: string, manifest: ModelManifest): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(
    join(dir, MANIFEST_FILE),
    `${JSON.stringify(manifestSchema.parse(manifest), null, 2)}\n`,
  );
}

/** The manifest in `dir`, or undefined when there is none or it is unreadable. */
export async function readManifest(dir: string): Promise<ModelManifest | undefined> {
  try {
    const parsed = manifestSchema.safeParse(
      JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')),
    );
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
