// What differs per operating system when the native bridge is linked against node-llama-cpp's
// libraries: their file names, how the addon finds them at run time, and (Windows) the import
// libraries the linker needs. Used by scripts/build-native.mjs.
//
// File names (node-llama-cpp 3.21/3.22 packages; `v<ver>` is the llama.cpp release and changes
// with it, and GPU variants add `.metal` / `.cuda` / `.vulkan` before it, so they are matched by
// pattern):
//   Linux    libllama[.<gpu>].v<ver>.so   libggml[.<gpu>].v<ver>.so   libggml-base.so
//            libllama-common.so           backends libggml-<name>.so
//   macOS    libllama[.<gpu>].v<ver>.dylib  libggml[.<gpu>].v<ver>.dylib  libggml-base.dylib
//            libllama-common.dylib        backend plug-ins libggml-<name>.so
//            (install names @rpath/<file>; node-llama-cpp's addon has rpath @loader_path)
//   Windows  llama[.<gpu>].v<ver>.dll     ggml[.<gpu>].v<ver>.dll     ggml-base.dll
//            llama-common.dll             backends ggml-<name>.dll    (no import libraries)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { moduleDefinition, readPeExports } from './pe-exports.mjs';

/** @typedef {'linux' | 'darwin' | 'win32'} SupportedPlatform */

/** @param {NodeJS.Platform} platform @returns {platform is SupportedPlatform} */
export function isSupportedPlatform(platform) {
  return platform === 'linux' || platform === 'darwin' || platform === 'win32';
}

/** node-llama-cpp's name for a platform and architecture, e.g. linux-x64, mac-arm64, win-x64. */
export function platformPrefix(platform = process.platform, arch = process.arch) {
  const name = { linux: 'linux', darwin: 'mac', win32: 'win' }[platform] ?? platform;
  return `${name}-${arch}`;
}

/** @param {SupportedPlatform} platform */
export function libraryNaming(platform) {
  if (platform === 'win32')
    return {
      llama: /^llama(\.[^-]+)?\.dll$/,
      ggml: /^ggml(\.[^-]+)?\.dll$/,
      ggmlBase: 'ggml-base.dll',
      common: 'llama-common.dll',
      backend: /^ggml-.+\.dll$/,
    };
  const ext = platform === 'darwin' ? 'dylib' : 'so';
  return {
    llama: new RegExp(`^libllama(\\.[^-]+)?\\.${ext}$`),
    ggml: new RegExp(`^libggml(\\.[^-]+)?\\.${ext}$`),
    ggmlBase: `libggml-base.${ext}`,
    common: `libllama-common.${ext}`,
    // macOS backend plug-ins are .so too
    backend: /^libggml-.+\.so$/,
  };
}

/**
 * The libraries to link from one variant's folder, or undefined when the folder lacks them (e.g.
 * node-llama-cpp's cuda-ext package only adds fallback backends).
 * @param {readonly string[]} files the folder's file names
 * @param {SupportedPlatform} platform
 */
export function variantLibraries(files, platform) {
  const n = libraryNaming(platform);
  const libllama = files.find((f) => n.llama.test(f));
  const libggml = files.find((f) => n.ggml.test(f));
  const libggmlBase = files.find((f) => f === n.ggmlBase);
  if (!libllama || !libggml || !libggmlBase) return undefined;
  return {
    link: [libllama, libggml, libggmlBase],
    common: files.includes(n.common) ? n.common : undefined,
    backends: files.filter((f) => n.backend.test(f) && f !== n.ggmlBase),
  };
}

/**
 * Where a binary in `fromDir` finds the variant's libraries at run time: a relative entry (the
 * tree can move, e.g. into a packaged app) and the absolute one. Windows has no rpath: there the
 * libraries are found because node-llama-cpp has loaded them (by name) before the bridge, and
 * the command-line tools get copies next to them (copyRuntimeLibraries).
 * @param {SupportedPlatform} platform @param {string} fromDir @param {string} binsDir
 */
export function runtimeSearchPath(platform, fromDir, binsDir) {
  if (platform === 'win32') return '';
  const origin = platform === 'darwin' ? '@loader_path' : '$ORIGIN';
  return [`${origin}/${relative(fromDir, binsDir).replace(/\\/g, '/')}`, binsDir].join(';');
}

/** @param {string} arch */
export function windowsMachine(arch = process.arch) {
  return { x64: 'x64', arm64: 'arm64', ia32: 'x86' }[arch] ?? arch;
}

/**
 * Windows: a .def file per DLL (from its export table); CMake turns each into an import library
 * with MSVC's `lib` (native/CMakeLists.txt). Returns the .def paths in the order of `dlls`.
 * @param {readonly string[]} dlls full paths @param {string} outDir
 */
export function writeModuleDefinitions(dlls, outDir) {
  mkdirSync(outDir, { recursive: true });
  return dlls.map((dll) => {
    const table = readPeExports(readFileSync(dll));
    const name = dll.replace(/^.*[\\/]/, '').replace(/\.dll$/i, '');
    const def = join(outDir, `${name}.def`);
    writeFileSync(def, moduleDefinition({ ...table, dllName: table.dllName || `${name}.dll` }));
    return def;
  });
}

/**
 * CMake generator: Ninja where it can work (on Windows only inside a Visual Studio developer
 * prompt, where cl.exe is on PATH), else Make, or on Windows the newest Visual Studio.
 * @param {SupportedPlatform} platform @param {{ ninja: boolean, msvcOnPath?: boolean }} tools
 */
export function cmakeGenerator(platform, tools) {
  if (platform === 'win32') {
    if (tools.ninja && tools.msvcOnPath) return { name: 'Ninja', args: ['-G', 'Ninja'] };
    return { name: 'Visual Studio', args: ['-A', windowsMachine() === 'arm64' ? 'ARM64' : 'x64'] };
  }
  const name = tools.ninja ? 'Ninja' : 'Unix Makefiles';
  return { name, args: ['-G', name] };
}

/** How to get the toolchain, per system (for the error messages). @param {string} tool */
export function installHint(tool, platform = process.platform) {
  switch (platform) {
    case 'linux':
      return `install it, e.g. "sudo apt-get install ${tool}" (Debian/Ubuntu) or "sudo dnf install ${tool}" (Fedora)`;
    case 'darwin':
      return tool === 'cmake'
        ? 'install it with "brew install cmake" (or from cmake.org)'
        : 'install the Xcode command line tools: "xcode-select --install"';
    case 'win32':
      return tool === 'cmake' || tool === 'a C++ compiler'
        ? 'install Visual Studio 2022 Build Tools with the "Desktop development with C++" workload (it includes CMake)'
        : `install ${tool} and make sure it is on PATH`;
    default:
      return `install ${tool} and make sure it is on PATH`;
  }
}
