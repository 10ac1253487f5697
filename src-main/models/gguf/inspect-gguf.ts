import { open, stat } from 'node:fs/promises';
import { LlavaDeskError } from '../../common/errors.js';
import { tensorByteLength } from './ggml-type-sizes.js';
import { GGUF_MAGIC_BYTES } from './header-layout.js';
import { readGgufHeader, type GgufHeader } from './read-values.js';

/** What the app needs to know about one GGUF file before it is paired or loaded. */
export interface GgufSummary {
  path: string;
  sizeBytes: number;
  role: 'model' | 'mmproj';
  architecture: string;
  name?: string;
  /** LLM: the width its token embeddings have (an mmproj must project to this). */
  embeddingLength?: number;
  /** mmproj: the width of the projector's output, when it can be told. */
  projectionWidth?: number;
  /** mmproj: `clip.projector_type`; missing in the 2023 conversions. */
  projectorType?: string;
  /** mmproj: whether the tensors are LLaVA's two-layer MLP (`mm.0`, `mm.2`). */
  hasMlpProjector?: boolean;
  hasChatTemplate: boolean;
  contextLength?: number;
}

/** Tokenizer arrays are the bulk of a header and are not needed here. */
const IGNORED_KEYS: ReadonlySet<string> = new Set([
  'tokenizer.ggml.tokens',
  'tokenizer.ggml.scores',
  'tokenizer.ggml.token_type',
  'tokenizer.ggml.merges',
]);

function metadataValue(info: GgufHeader, key: string): unknown {
  return info.metadata.get(key);
}

const asNumber = (value: unknown): number | undefined =>
  typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : undefined;

async function readMagic(path: string): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    const magic = Buffer.alloc(4);
    const { bytesRead } = await file.read(magic, 0, 4, 0);
    return magic.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

/** Output width of a projector from its tensors (the last layer of the known projector kinds). */
export function projectionWidthOf(info: GgufHeader): number | undefined {
  const tensors = info.tensors;
  const dims = (name: string): readonly number[] | undefined =>
    tensors.find((t) => t.name === name)?.dimensions;
  // Gemma 3 multiplies by the transposed matrix: its output width is ne0.
  const gemma = dims('mm.input_projection.weight');
  if (gemma?.[0] !== undefined) return Number(gemma[0]);
  for (const name of ['mm.model.fc.weight', 'mm.2.weight', 'mm.model.mlp.3.weight']) {
    const d = dims(name);
    if (d?.[1] !== undefined) return Number(d[1]);
  }
  // Any other `mm.<n>.weight` stack: the highest-numbered layer is the output.
  const numbered = tensors
    .map((t) => ({ t, n: /^mm\.(\d+)\.weight$/.exec(t.name)?.[1] }))
    .filter((x): x is { t: (typeof tensors)[number]; n: string } => x.n !== undefined)
    .sort((a, b) => Number(b.n) - Number(a.n))[0];
  if (numbered?.t.dimensions[1] !== undefined) return Number(numbered.t.dimensions[1]);
  return asNumber(metadataValue(info, 'clip.vision.projection_dim'));
}

/** The end of the last tensor's data, when every tensor type is known. */
function requiredFileSize(info: GgufHeader): number | undefined {
  let end = info.dataOffset;
  for (const tensor of info.tensors) {
    const bytes = tensorByteLength(tensor.ggmlType, tensor.dimensions);
    if (bytes === undefined) return undefined;
    end = Math.max(end, tensor.fileOffset + bytes);
  }
  return end;
}

/**
 * Reads a GGUF's header and checks the file is whole. Typed errors: `MODEL_FILE_MISSING`,
 * `NOT_GGUF`, `GGUF_TRUNCATED`.
 */
export async function inspectGguf(path: string): Promise<GgufSummary> {
  let sizeBytes: number;
  try {
    const stats = await stat(path);
    if (!stats.isFile()) throw new LlavaDeskError('MODEL_FILE_MISSING', `${path} is not a file`);
    sizeBytes = stats.size;
  } catch (error) {
    if (error instanceof LlavaDeskError) throw error;
    throw new LlavaDeskError('MODEL_FILE_MISSING', `model file not found: ${path}`, {
      cause: error,
    });
  }
  const magic = await readMagic(path);
  if (magic.length < 4) {
    throw new LlavaDeskError('NOT_GGUF', `${path} is not a GGUF file (${sizeBytes} bytes)`);
  }
  if (!magic.equals(GGUF_MAGIC_BYTES)) {
    throw new LlavaDeskError('NOT_GGUF', `${path} is not a GGUF file`);
  }

  let info: GgufHeader;
  try {
    info = await readGgufHeader(path, IGNORED_KEYS);
  } catch (error) {
    throw new LlavaDeskError(
      'GGUF_TRUNCATED',
      `${path}: the GGUF header is cut short or damaged (${(error as Error).message})`,
      { cause: error },
    );
  }
  const required = requiredFileSize(info);
  if (required !== undefined && sizeBytes < required) {
    throw new LlavaDeskError(
      'GGUF_TRUNCATED',
      `${path} is incomplete: ${sizeBytes} bytes of ${required} (an interrupted download or copy?)`,
    );
  }

  const architecture = String(metadataValue(info, 'general.architecture') ?? 'unknown');
  const isMmproj = architecture === 'clip' || metadataValue(info, 'general.type') === 'mmproj';
  const arch = (key: string): unknown => metadataValue(info, `${architecture}.${key}`);
  const tensorNames = new Set(info.tensors.map((t) => t.name));
  const summary: GgufSummary = {
    path,
    sizeBytes,
    role: isMmproj ? 'mmproj' : 'model',
    architecture,
    name: (metadataValue(info, 'general.name') as string | undefined) ?? undefined,
    hasChatTemplate: typeof metadataValue(info, 'tokenizer.chat_template') === 'string',
  };
  if (isMmproj) {
    summary.projectionWidth = projectionWidthOf(info);
    const projectorType = metadataValue(info, 'clip.projector_type');
    if (typeof projectorType === 'string') summary.projectorType = projectorType;
    summary.hasMlpProjector = tensorNames.has('mm.0.weight') && tensorNames.has('mm.2.weight');
  } else {
    summary.embeddingLength = asNumber(arch('embedding_length'));
    summary.contextLength = asNumber(arch('context_length'));
  }
  return summary;
}
