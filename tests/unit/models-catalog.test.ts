import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { LlavaDeskError } from '../../src-main/common/errors.js';
import {
  DEFAULT_CATALOG_PATH,
  findCatalogEntry,
  loadCatalog,
  parseCatalog,
} from '../../src-main/models/catalog/load-catalog.js';
import { resolveModelUri, safeFileName } from '../../src-main/models/download/resolve-uri.js';

describe('the model catalog', () => {
  it('parses, with one default and every required family', async () => {
    const catalog = await loadCatalog();
    const ids = catalog.models.map((m) => m.id);
    for (const id of [
      'llava-1.5-7b-q4_k_m',
      'llava-1.5-7b-q5_k_m',
      'llava-1.5-7b-q8_0',
      'llava-1.5-13b-q4_k',
      'llava-1.6-mistral-7b-q4_k_m',
      'gemma-3-4b-it-q4_k_m',
      'smolvlm-500m-instruct-q8_0',
    ]) {
      expect(ids).toContain(id);
    }
    expect(catalog.models.filter((m) => m.default).map((m) => m.id)).toEqual([
      'llava-1.5-7b-q4_k_m',
    ]);
    expect(findCatalogEntry(catalog, 'llava-1.5-7b-q4_k_m')?.promptTemplate).toBe('vicuna_v1');
    expect(findCatalogEntry(catalog, 'gemma-3-4b-it-q4_k_m')?.promptTemplate).toBe('gguf-jinja');
    for (const entry of catalog.models) {
      expect(entry.source.length, entry.id).toBeGreaterThan(20);
      expect(entry.files.map((f) => f.role).sort()).toEqual(['mmproj', 'model']);
    }
    expect(catalog.models.some((m) => m.lowMemory)).toBe(true);
  });

  it('rejects a catalog with duplicate ids, a missing projector or a bad checksum', async () => {
    const text = await readFile(DEFAULT_CATALOG_PATH, 'utf8');
    const good = JSON.parse(text) as { models: Record<string, unknown>[] };
    const bad = (mutate: (c: typeof good) => void): string => {
      const copy = structuredClone(good);
      mutate(copy);
      return JSON.stringify(copy);
    };
    const cases = [
      bad((c) => c.models.push({ ...c.models[1], id: c.models[0]?.id })),
      bad((c) => {
        const m = c.models[0] as { files: { role: string }[] };
        m.files = [m.files[0] as { role: string }, { ...m.files[0], role: 'model' }];
      }),
      bad((c) => {
        const m = c.models[0] as { files: { sha256?: string }[] };
        (m.files[0] as { sha256?: string }).sha256 = 'not-hex';
      }),
      '{ not json',
    ];
    for (const text of cases) {
      expect(() => parseCatalog(text)).toThrow(LlavaDeskError);
      try {
        parseCatalog(text);
      } catch (error) {
        expect((error as LlavaDeskError).code).toBe('CATALOG_INVALID');
      }
    }
  });
});

describe('model URIs', () => {
  it('resolves hf: URIs below the hub base and keeps http(s) URLs', () => {
    const hf = resolveModelUri(
      'hf:second-state/Llava-v1.5-7B-GGUF/llava-v1.5-7b-Q4_K_M.gguf',
      'https://huggingface.co',
    );
    expect(hf.url).toBe(
      'https://huggingface.co/second-state/Llava-v1.5-7B-GGUF/resolve/main/llava-v1.5-7b-Q4_K_M.gguf',
    );
    expect(hf).toMatchObject({ fileName: 'llava-v1.5-7b-Q4_K_M.gguf', isHub: true });
    const local = resolveModelUri('hf:org/repo/sub/dir/m.gguf', 'http://127.0.0.1:9/hf');
    expect(local.url).toBe('http://127.0.0.1:9/hf/org/repo/resolve/main/sub/dir/m.gguf');
    const url = resolveModelUri('https://example.org/files/a%20b.gguf?x=1');
    expect(url).toMatchObject({ fileName: 'a b.gguf', isHub: false });
  });

  it('rejects other schemes and never yields a file name that leaves its folder', () => {
    expect(() => resolveModelUri('file:///etc/passwd')).toThrow(LlavaDeskError);
    expect(() => resolveModelUri('not a uri')).toThrow(LlavaDeskError);
    expect(safeFileName('..')).toBe('_');
    expect(safeFileName('a/b\\c')).toBe('a_b_c');
    expect(resolveModelUri('https://example.org/x/..%2F..%2Fevil.gguf').fileName).not.toContain(
      '/',
    );
  });
});
