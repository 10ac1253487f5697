import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const eslint = new ESLint({ cwd: root });

/** Messages of both layering rules: the module table (boundaries) and the restricted imports. */
async function restrictedImportMessages(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId?.startsWith('boundaries/'))
    .map((m) => m.message);
}

async function boundaryMessages(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId?.startsWith('boundaries/'))
    .map((m) => m.message);
}

const importing = (name: string, from: string): string =>
  `import { ${name} } from '${from}';\nexport const probe = ${name};\n`;

describe('the module table (eslint-plugin-boundaries)', () => {
  it('rejects a low layer importing a higher one', async () => {
    // models/ sits below engine/ (the engine plans fits with models/fit): never the other way.
    const up = await boundaryMessages(
      importing('VisionEngine', '../engine/vision-engine.js'),
      'src-main/models/probe.ts',
    );
    expect(up).toHaveLength(1);
    expect(up[0]).toMatch(/"models" to elements of type "engine"/);
    const down = importing('planModelFit', '../models/fit/plan-model-fit.js');
    expect(await boundaryMessages(down, 'src-main/engine/probe.ts')).toEqual([]);

    expect(
      await boundaryMessages(
        importing('AppCore', '../app/app-core.js'),
        'src-main/engine/probe.ts',
      ),
    ).toHaveLength(1);
    expect(
      await boundaryMessages(
        importing('serializeError', '../common/errors.js'),
        'src-main/api/probe.ts',
      ),
    ).toHaveLength(1);
  });

  it('rejects an import between layers the table does not connect', async () => {
    // chats/ and models/ are both plain services over common/: neither knows the other.
    expect(
      await boundaryMessages(
        importing('inspectGguf', '../models/gguf/inspect-gguf.js'),
        'src-main/chats/probe.ts',
      ),
    ).toHaveLength(1);
    // The capture logic is plain and knows nothing of the shell that drives it.
    expect(
      await boundaryMessages(
        importing('registerApi', '../shell/ipc.js'),
        'src-main/capture/probe.ts',
      ),
    ).toHaveLength(1);
  });

  it('keeps test and script code out of the product, and lets tests use the product', async () => {
    expect(
      await boundaryMessages(
        importing('writeGgufFile', '../../scripts/gguf/writer.js'),
        'src-main/models/probe.ts',
      ),
    ).toHaveLength(1);
    expect(
      await boundaryMessages(
        importing('VisionEngine', '../../src-main/engine/vision-engine.js'),
        'tests/unit/probe.ts',
      ),
    ).toEqual([]);
  });

  it('lets the renderer import only types from src-main/api', async () => {
    const file = 'src-renderer/lib/probe.ts';
    const typeOnly =
      "import type { ErrorCode } from '../../src-main/api/errors.js';\nexport type E = ErrorCode;\n";
    expect(await boundaryMessages(typeOnly, file)).toEqual([]);
    expect(
      await boundaryMessages(importing('ERROR_CODES', '../../src-main/api/errors.js'), file),
    ).toHaveLength(1);
    expect(
      await boundaryMessages(importing('AppCore', '../../src-main/app/app-core.js'), file),
    ).toHaveLength(1);
  });

  it('covers every folder: a file in a folder missing from the table is an error', async () => {
    const messages = await boundaryMessages(
      'export const a = 1;\n',
      'src-main/new-folder/probe.ts',
    );
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/does not belong to any known element/);
  });
});

describe('the layering lint rule', () => {
  it("rejects 'electron' in core services and accepts it in the shell", async () => {
    const code = "import { app } from 'electron';\nexport const a = app;\n";
    expect(await restrictedImportMessages(code, 'src-main/models/probe.ts')).toHaveLength(1);
    expect(await restrictedImportMessages(code, 'src-main/engine/probe.ts')).toHaveLength(1);
    expect(await restrictedImportMessages(code, 'src-main/shell/probe.ts')).toHaveLength(0);
  });

  it('lets the renderer import only types from src-main/api', async () => {
    const file = 'src-renderer/lib/probe.ts';
    const typeOnly =
      "import type { ErrorCode } from '../../src-main/api/errors.js';\nexport type E = ErrorCode;\n";
    const valueFromApi =
      "import { ERROR_CODES } from '../../src-main/api/errors.js';\nexport const c = ERROR_CODES;\n";
    const fromCore =
      "import { serializeError } from '../../src-main/common/errors.js';\nexport const s = serializeError;\n";
    const nodeModule = "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n";
    expect(await restrictedImportMessages(typeOnly, file)).toEqual([]);
    expect(await restrictedImportMessages(valueFromApi, file)).toHaveLength(1);
    expect(await restrictedImportMessages(fromCore, file)).toHaveLength(1);
    expect(await restrictedImportMessages(nodeModule, file)).toHaveLength(1);
  });
});

describe('the shared module rule', () => {
  it('lets the renderer import src-main/shared/ and keeps that folder free of Node and core code', async () => {
    const shared =
      "import { formatBytes } from '../../src-main/shared/format.js';\nexport const f = formatBytes;\n";
    expect(await restrictedImportMessages(shared, 'src-renderer/lib/probe.ts')).toEqual([]);

    const file = 'src-main/shared/probe.ts';
    const typeFromApi =
      "import type { Settings } from '../api/contract.js';\nexport type S = Settings;\n";
    const valueFromApi =
      "import { API_METHODS } from '../api/contract.js';\nexport const m = API_METHODS;\n";
    const fromCore =
      "import { LlavaDeskError } from '../common/errors.js';\nexport const e = LlavaDeskError;\n";
    const nodeModule = "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n";
    const sibling = "import { formatBytes } from './format.js';\nexport const f = formatBytes;\n";
    expect(await restrictedImportMessages(typeFromApi, file)).toEqual([]);
    expect(await restrictedImportMessages(sibling, file)).toEqual([]);
    expect(await restrictedImportMessages(valueFromApi, file)).toHaveLength(1);
    expect(await restrictedImportMessages(fromCore, file)).toHaveLength(1);
    expect(await restrictedImportMessages(nodeModule, file)).toHaveLength(1);
  });
});
