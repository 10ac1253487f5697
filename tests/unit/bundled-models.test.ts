import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bundledPath } from '../../src-main/models/bundled-files.js';
import {
  DEFAULT_APP_ROOT,
  findCatalogEntry,
  loadCatalog,
  parseCatalog,
} from '../../src-main/models/catalog/load-catalog.js';
import type { Catalog } from '../../src-main/models/catalog/schema.js';
import { startPull } from '../../src-main/models/pull.js';
import { findInstalledModel } from '../../src-main/models/registry/registry.js';

// The shapes demo is a catalog pair shipped with the app (`app:` files): installed by a checked
// copy, with no network (hfBaseUrl points nowhere).

let dir: string;
const NOWHERE = 'http://127.0.0.1:9';

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llava-desk-bundled-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('models shipped with the app', () => {
  it('installs the shapes demo from the app’s own files, checked against the catalog', async () => {
    const catalog = await loadCatalog();
    const entry = findCatalogEntry(catalog, 'shapes-demo');
    expect(entry?.displayName).toBe('Shapes demo model (a few MB)');
    const modelsDir = join(dir, 'models');
    const { result } = startPull({ source: 'shapes-demo', modelsDir, catalog, hfBaseUrl: NOWHERE });
    const { model, alreadyInstalled } = await result;
    expect(alreadyInstalled).toBe(false);
    expect(model.manifest.catalogId).toBe('shapes-demo');
    expect(model.manifest.promptTemplate).toBe('vicuna_v1');
    const installed = await readdir(join(modelsDir, 'shapes-demo'));
    expect(installed).toEqual(expect.arrayContaining(['shapes-llm.gguf', 'shapes-mmproj.gguf']));
    expect(installed.some((name) => name.endsWith('.part'))).toBe(false);
    const original = await readFile(
      join(DEFAULT_APP_ROOT, 'tests/fixtures/shapes-model/shapes-llm.gguf'),
    );
    expect((await readFile(model.modelPath)).equals(original)).toBe(true);
    // a second install finds it installed
    const again = await startPull({ source: 'shapes-demo', modelsDir, catalog, hfBaseUrl: NOWHERE })
      .result;
    expect(again.alreadyInstalled).toBe(true);
  });

  it('refuses a shipped file whose sha256 is not the catalog’s, and installs nothing', async () => {
    const catalog = await loadCatalog();
    const entry = findCatalogEntry(catalog, 'shapes-demo')!;
    const tampered: Catalog = {
      ...catalog,
      models: [
        ...catalog.models.filter((m) => m.id !== entry.id),
        {
          ...entry,
          files: entry.files.map((f) =>
            f.role === 'mmproj' ? { ...f, sha256: '0'.repeat(64) } : f,
          ),
        },
      ],
    };
    const modelsDir = join(dir, 'models');
    const pull = startPull({
      source: 'shapes-demo',
      modelsDir,
      catalog: tampered,
      hfBaseUrl: NOWHERE,
    });
    await expect(pull.result).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    expect(await findInstalledModel(modelsDir, 'shapes-demo')).toBeUndefined();
  });

  it('reports a shipped file that is missing with a typed error', async () => {
    const catalog = await loadCatalog();
    const pull = startPull({
      source: 'shapes-demo',
      modelsDir: join(dir, 'models'),
      catalog,
      hfBaseUrl: NOWHERE,
      appRoot: join(dir, 'an-app-without-its-files'),
    });
    await expect(pull.result).rejects.toMatchObject({ code: 'MODEL_FILE_MISSING' });
  });

  it('reads app: paths only inside the app folder', () => {
    expect(bundledPath('/app', 'app:tests/fixtures/x.gguf')).toBe(
      join('/app', 'tests/fixtures/x.gguf'),
    );
    for (const uri of [
      'app:../x.gguf',
      'app:a/../../x.gguf',
      'app:/etc/passwd',
      'app:',
      'file:x.gguf',
    ]) {
      expect(() => bundledPath('/app', uri), uri).toThrow(
        expect.objectContaining({ code: 'MODEL_SOURCE_INVALID' }),
      );
    }
  });

  it('accepts app: files in a catalog only with exact sizes and sha256', async () => {
    const catalog = await loadCatalog();
    const entry = findCatalogEntry(catalog, 'shapes-demo')!;
    const withoutHash = {
      ...catalog,
      models: catalog.models.map((m) =>
        m.id === entry.id ? { ...m, files: m.files.map(({ sha256: _, ...f }) => f) } : m,
      ),
    };
    expect(() => parseCatalog(JSON.stringify(withoutHash))).toThrow(
      expect.objectContaining({ code: 'CATALOG_INVALID' }),
    );
  });
});
