import { z } from 'zod';
import { isBundledPair, isBundledUri } from '../bundled-files.js';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256');

/** `hf:<owner>/<repo>/<path-in-repo>`, an http(s) URL, or `app:<path>` for a file shipped with the app. */
export const modelUriSchema = z
  .string()
  .refine(
    (uri) =>
      /^hf:[^/\s]+\/[^/\s]+\/\S+$/.test(uri) || /^https?:\/\/\S+$/.test(uri) || isBundledUri(uri),
    'an hf:<owner>/<repo>/<file> URI, an http(s) URL or app:<path>',
  );

export const catalogFileSchema = z.object({
  role: z.enum(['model', 'mmproj']),
  uri: modelUriSchema,
  /** Size in bytes. Exact when `sizeExact`; otherwise the hub's rounded figure (for disk checks). */
  sizeBytes: z.number().int().positive(),
  sizeExact: z.boolean(),
  /** Known checksum; when absent the downloader uses the hash the hub reports at download time. */
  sha256: sha256Hex.optional(),
});

export const promptTemplateSchema = z.enum(['vicuna_v1', 'gguf-jinja']);

export const catalogEntrySchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lowercase id: letters, digits, . _ -'),
    displayName: z.string().min(1),
    family: z.enum(['llava-1.5', 'llava-1.6', 'gemma-3', 'smolvlm']),
    parameters: z.string().min(1),
    quantization: z.string().min(1),
    /** `vicuna_v1`: the app applies LLaVA-1.5's template; `gguf-jinja`: the GGUF's own template. */
    promptTemplate: promptTemplateSchema,
    default: z.boolean().optional(),
    /** One line on what the model is for, shown beside its name (a demo says what it knows). */
    description: z.string().min(1).optional(),
    lowMemory: z.boolean().optional(),
    /** The projector ships without `clip.projector_type`; the installer writes a repaired copy. */
    mmprojNeedsRepair: z.boolean().optional(),
    license: z.string().min(1),
    files: z.array(catalogFileSchema).length(2),
    memory: z.object({
      /** Estimated RAM to run on CPU with the default context (LLM + projector + KV cache). */
      cpuRamBytes: z.number().int().positive(),
      /** Smallest sensible machine: total RAM below this is not offered by default. */
      minTotalRamBytes: z.number().int().positive(),
    }),
    /** Where the names, sizes and checksums come from. */
    source: z.string().min(1),
  })
  .refine(
    (entry) =>
      entry.files.some((f) => f.role === 'model') && entry.files.some((f) => f.role === 'mmproj'),
    { message: 'a pair needs one model file and one mmproj file', path: ['files'] },
  )
  .refine(
    (entry) =>
      entry.files.every((f) => !isBundledUri(f.uri)) ||
      (isBundledPair(entry.files) &&
        entry.files.every((f) => f.sha256 !== undefined && f.sizeExact)),
    {
      message: 'a pair shipped with the app has both files app: with exact sizes and sha256',
      path: ['files'],
    },
  );

export const catalogSchema = z
  .object({
    schemaVersion: z.literal(1),
    models: z.array(catalogEntrySchema).min(1),
  })
  .refine((c) => new Set(c.models.map((m) => m.id)).size === c.models.length, {
    message: 'catalog ids must be unique',
    path: ['models'],
  })
  .refine((c) => c.models.filter((m) => m.default === true).length === 1, {
    message: 'exactly one catalog entry is the default',
    path: ['models'],
  });

export type CatalogFile = z.infer<typeof catalogFileSchema>;
export type CatalogEntry = z.infer<typeof catalogEntrySchema>;
export type Catalog = z.infer<typeof catalogSchema>;
export type PromptTemplate = z.infer<typeof promptTemplateSchema>;
