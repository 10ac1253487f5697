import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodeIcns, encodeIco } from '../../scripts/make-icons.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);

interface LoadedConfig {
  asarUnpack?: string[];
  electronFuses?: Record<string, boolean>;
  npmRebuild?: boolean;
  mac?: { target?: Array<{ target: string; arch: string[] }>; icon?: string };
  win?: { target?: Array<{ target: string }>; icon?: string };
  linux?: { target?: string[]; icon?: string };
}

// electron-builder's own loader and schema validation (pinned version), run without packaging.
const { getConfig, validateConfiguration } =
  require('app-builder-lib/out/util/config/config.js') as {
    getConfig(dir: string, path: string | null, extra: null): Promise<LoadedConfig>;
    validateConfiguration(config: LoadedConfig, logger: unknown): Promise<void>;
  };
const { DebugLogger } = require('builder-util') as {
  DebugLogger: new (enabled: boolean) => unknown;
};

describe('electron-builder.yml', () => {
  it('passes electron-builder’s schema and sets the fuses', async () => {
    const config = await getConfig(root, null, null);
    await validateConfiguration(config, new DebugLogger(false));
    expect(config.electronFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      onlyLoadAppFromAsar: true,
      enableEmbeddedAsarIntegrityValidation: true,
    });
    expect(config.npmRebuild).toBe(false);
  });

  it('targets dmg (arm64, x64), nsis, AppImage and deb with existing icons', async () => {
    const config = await getConfig(root, null, null);
    expect(config.mac?.target).toEqual([{ target: 'dmg', arch: ['arm64', 'x64'] }]);
    expect(config.win?.target?.map((t) => t.target)).toEqual(['nsis']);
    expect(config.linux?.target).toEqual(['AppImage', 'deb']);
    for (const icon of [config.mac?.icon, config.win?.icon, config.linux?.icon]) {
      expect(icon && existsSync(join(root, icon)), icon).toBe(true);
    }
  });

  it('unpacks every native binary from the asar', async () => {
    const config = await getConfig(root, null, null);
    expect(config.asarUnpack).toEqual(
      expect.arrayContaining([
        'native/build/**',
        'node_modules/@node-llama-cpp/**',
        'node_modules/node-llama-cpp/bins/**',
        'node_modules/@img/**',
        // ExifTool runs as a program, found by exiftool-vendored in app.asar.unpacked.
        'node_modules/exiftool-vendored.pl/**',
        'node_modules/exiftool-vendored.exe/**',
      ]),
    );
  });
});

describe('icons', () => {
  it('the committed icons are real ICO/ICNS/PNG files', async () => {
    const ico = readFileSync(join(root, 'resources/icon.ico'));
    expect([ico.readUInt16LE(0), ico.readUInt16LE(2)]).toEqual([0, 1]);
    const icns = readFileSync(join(root, 'resources/icon.icns'));
    expect(icns.subarray(0, 4).toString('ascii')).toBe('icns');
    expect(icns.readUInt32BE(4)).toBe(icns.length);
    const meta = await sharp(join(root, 'resources/icon.png')).metadata();
    expect([meta.width, meta.height]).toEqual([1024, 1024]);
  });

  it('the encoders write valid directories', () => {
    const png = Buffer.from([1, 2, 3]);
    const ico = encodeIco([{ size: 256, png }]);
    expect(ico.readUInt16LE(4)).toBe(1);
    expect(ico.readUInt8(6)).toBe(0);
    expect(ico.readUInt32LE(6 + 8)).toBe(3);
    expect(ico.readUInt32LE(6 + 12)).toBe(22);
    const icns = encodeIcns([{ type: 'ic10', png }]);
    expect(icns.length).toBe(8 + 8 + 3);
    expect(icns.subarray(8, 12).toString('ascii')).toBe('ic10');
  });
});
