import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const eslint = new ESLint({ cwd: root });

async function restrictedImportMessages(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === 'no-restricted-imports')
    .map((m) => m.message);
}

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
