// The per-system parts of the native build (scripts/lib/native-platform.mjs, pe-exports.mjs,
// native-source-fallback.mjs) that can be checked on any machine: macOS and Windows file lists
// are those of node-llama-cpp 3.21.1's published packages; the DLL is a small synthetic PE.
import { describe, expect, it } from 'vitest';
import {
  cmakeGenerator,
  platformPrefix,
  runtimeSearchPath,
  variantLibraries,
} from '../../scripts/lib/native-platform.mjs';
import { PeFormatError, moduleDefinition, readPeExports } from '../../scripts/lib/pe-exports.mjs';
import { sourceBuildReason } from '../../scripts/lib/native-source-fallback.mjs';

const MAC_ARM64_METAL = [
  '_nlcBuildMetadata.json',
  'libggml-base.dylib',
  'libggml-blas.so',
  'libggml-cpu-apple_m1.so',
  'libggml-metal.so',
  'libggml.metal.v0.4.0.dylib',
  'libllama-common.dylib',
  'libllama.metal.v0.4.0.dylib',
  'llama-addon.node',
];
const WIN_X64_CUDA = [
  '_nlcBuildMetadata.json',
  'ggml-base.dll',
  'ggml-cpu-haswell.dll',
  'ggml-cuda.dll',
  'ggml.cuda.v0.4.0.dll',
  'llama-addon.exp',
  'llama-addon.lib',
  'llama-addon.node',
  'llama-common.dll',
  'llama.cuda.v0.4.0.dll',
];

describe('variant libraries per system', () => {
  it('macOS: the Metal build links libllama/libggml by pattern, plug-ins are .so', () => {
    expect(variantLibraries(MAC_ARM64_METAL, 'darwin')).toEqual({
      link: ['libllama.metal.v0.4.0.dylib', 'libggml.metal.v0.4.0.dylib', 'libggml-base.dylib'],
      common: 'libllama-common.dylib',
      backends: ['libggml-blas.so', 'libggml-cpu-apple_m1.so', 'libggml-metal.so'],
    });
  });

  it('Windows: the CUDA build, llama-common.dll is not taken for llama.<gpu>.v<ver>.dll', () => {
    expect(variantLibraries(WIN_X64_CUDA, 'win32')).toEqual({
      link: ['llama.cuda.v0.4.0.dll', 'ggml.cuda.v0.4.0.dll', 'ggml-base.dll'],
      common: 'llama-common.dll',
      backends: ['ggml-cpu-haswell.dll', 'ggml-cuda.dll'],
    });
  });

  it('Linux: a new llama.cpp release suffix is found; a folder of backends only is no variant', () => {
    const files = [
      'libggml-base.so',
      'libggml.v0.9.1.so',
      'libllama.v0.9.1.so',
      'libggml-cpu-x64.so',
    ];
    expect(variantLibraries(files, 'linux')?.link).toEqual([
      'libllama.v0.9.1.so',
      'libggml.v0.9.1.so',
      'libggml-base.so',
    ]);
    expect(variantLibraries(['libggml-cuda.so', 'libggml-base.so'], 'linux')).toBeUndefined();
  });

  it('run-time search paths: $ORIGIN, @loader_path, none on Windows', () => {
    const bins = '/p/node_modules/@node-llama-cpp/x/bins/x';
    expect(runtimeSearchPath('linux', '/p/native/build/linux-x64', bins)).toBe(
      `$ORIGIN/../../../node_modules/@node-llama-cpp/x/bins/x;${bins}`,
    );
    expect(runtimeSearchPath('darwin', '/p/native/build/mac-arm64-metal', bins)).toBe(
      `@loader_path/../../../node_modules/@node-llama-cpp/x/bins/x;${bins}`,
    );
    expect(runtimeSearchPath('win32', 'C:/p/native/build/win-x64', bins)).toBe('');
  });

  it("names and generators: node-llama-cpp's folder names; Visual Studio unless in a developer prompt", () => {
    expect(platformPrefix('darwin', 'arm64')).toBe('mac-arm64');
    expect(platformPrefix('win32', 'x64')).toBe('win-x64');
    expect(cmakeGenerator('win32', { ninja: true, msvcOnPath: false }).name).toBe('Visual Studio');
    expect(cmakeGenerator('win32', { ninja: true, msvcOnPath: true }).name).toBe('Ninja');
    expect(cmakeGenerator('darwin', { ninja: false }).args).toEqual(['-G', 'Unix Makefiles']);
  });
});

/** A PE32+ DLL with one function export (in .text) and one data export (in .rdata). */
function syntheticDll(): Buffer {
  const pe = Buffer.alloc(0x500);
  pe.write('MZ', 0, 'latin1');
  pe.writeUInt32LE(0x40, 0x3c);
  pe.writeUInt32LE(0x00004550, 0x40); // "PE\0\0"
  const coff = 0x44;
  pe.writeUInt16LE(0x8664, coff);
  pe.writeUInt16LE(2, coff + 2);
  pe.writeUInt16LE(240, coff + 16);
  const optional = coff + 20;
  pe.writeUInt16LE(0x20b, optional);
  pe.writeUInt32LE(0x2000, optional + 112); // export directory RVA
  pe.writeUInt32LE(0x100, optional + 116);
  const section = (i: number, name: string, va: number, raw: number, flags: number) => {
    const s = optional + 240 + i * 40;
    pe.write(name, s, 'latin1');
    pe.writeUInt32LE(0x200, s + 8);
    pe.writeUInt32LE(va, s + 12);
    pe.writeUInt32LE(0x200, s + 16);
    pe.writeUInt32LE(raw, s + 20);
    pe.writeUInt32LE(flags, s + 36);
  };
  section(0, '.text', 0x1000, 0x200, 0x60000020);
  section(1, '.rdata', 0x2000, 0x300, 0x40000040);
  const at = (rva: number) => 0x300 + rva - 0x2000;
  const dir = at(0x2000);
  pe.writeUInt32LE(0x2040, dir + 12); // DLL name
  pe.writeUInt32LE(1, dir + 16);
  pe.writeUInt32LE(2, dir + 20);
  pe.writeUInt32LE(2, dir + 24);
  pe.writeUInt32LE(0x2028, dir + 28);
  pe.writeUInt32LE(0x2030, dir + 32);
  pe.writeUInt32LE(0x2038, dir + 36);
  pe.writeUInt32LE(0x1010, at(0x2028)); // ggml_init: code
  pe.writeUInt32LE(0x2100, at(0x202c)); // ggml_table: data
  pe.writeUInt32LE(0x2049, at(0x2030));
  pe.writeUInt32LE(0x2053, at(0x2034));
  pe.writeUInt16LE(0, at(0x2038));
  pe.writeUInt16LE(1, at(0x203a));
  pe.write('ggml.dll\0ggml_init\0ggml_table\0', at(0x2040), 'latin1');
  return pe;
}

describe('import libraries for DLLs without them', () => {
  it('reads the export table and marks data exports DATA in the .def file', () => {
    const table = readPeExports(syntheticDll());
    expect(table.dllName).toBe('ggml.dll');
    expect(table.machine).toBe(0x8664);
    expect(table.exports).toEqual([
      { name: 'ggml_init', data: false },
      { name: 'ggml_table', data: true },
    ]);
    expect(moduleDefinition(table)).toBe(
      'LIBRARY "ggml.dll"\r\nEXPORTS\r\n    ggml_init\r\n    ggml_table DATA\r\n',
    );
  });

  it('refuses a file that is not a PE image with PeFormatError', () => {
    expect(() =>
      readPeExports(Buffer.from('\x7fELF not a dll at all, just some bytes....'.repeat(3))),
    ).toThrow(PeFormatError);
  });
});

describe('when the bridge needs node-llama-cpp built from source', () => {
  const prebuilt = [{ release: 'v0.5.0' }];
  it('forced, unknown platform, no variants, or only another release', () => {
    expect(
      sourceBuildReason({ platformSupported: true, variants: prebuilt, tag: 'v0.5.0', env: {} }),
    ).toBeUndefined();
    expect(
      sourceBuildReason({
        platformSupported: true,
        variants: prebuilt,
        tag: 'v0.5.0',
        env: { LLAVA_DESK_NATIVE_FROM_SOURCE: '1' },
      }),
    ).toBe('LLAVA_DESK_NATIVE_FROM_SOURCE=1');
    expect(
      sourceBuildReason({ platformSupported: false, variants: [], tag: 'v0.5.0', env: {} }),
    ).toMatch(/no prebuilt binaries for this platform/);
    expect(
      sourceBuildReason({ platformSupported: true, variants: [], tag: 'v0.5.0', env: {} }),
    ).toMatch(/no node-llama-cpp prebuilt binaries are installed/);
    expect(
      sourceBuildReason({
        platformSupported: true,
        variants: [{ release: 'v0.4.0' }],
        tag: 'v0.5.0',
        env: {},
      }),
    ).toBe('the installed prebuilt binaries were built from llama.cpp v0.4.0, not v0.5.0');
  });
});
