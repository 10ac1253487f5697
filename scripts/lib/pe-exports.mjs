// The exported names of a Windows DLL, read from its PE export table, and a module-definition
// (.def) file for MSVC's `lib /def:` to turn into an import library.
//
// node-llama-cpp's Windows packages ship llama/ggml as DLLs built with MSVC that export every
// symbol, but no import libraries (.lib) to link against. Reading the export table here needs no
// tool (dumpbin and llvm-dlltool are not on every machine); `lib` comes with every MSVC install
// and CMake knows where it is (CMAKE_AR). Exports that point outside executable sections are data
// and are marked DATA, so only their __imp_ pointer is generated (the headers declare them
// __declspec(dllimport) under GGML_SHARED / LLAMA_SHARED).

const IMAGE_SCN_MEM_EXECUTE = 0x20000000;

export class PeFormatError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'PeFormatError';
  }
}

/**
 * @param {Buffer} pe the DLL's bytes
 * @returns {{ dllName: string, machine: number, exports: { name: string, data: boolean }[] }}
 */
export function readPeExports(pe) {
  const need = (/** @type {boolean} */ ok, /** @type {string} */ what) => {
    if (!ok) throw new PeFormatError(`not a PE file: ${what}`);
  };
  need(pe.length > 0x40 && pe.toString('latin1', 0, 2) === 'MZ', 'no MZ header');
  const peOffset = pe.readUInt32LE(0x3c);
  need(peOffset + 24 <= pe.length && pe.readUInt32LE(peOffset) === 0x00004550, 'no PE signature');
  const coff = peOffset + 4;
  const machine = pe.readUInt16LE(coff);
  const sectionCount = pe.readUInt16LE(coff + 2);
  const optionalSize = pe.readUInt16LE(coff + 16);
  const optional = coff + 20;
  const magic = pe.readUInt16LE(optional);
  need(magic === 0x20b || magic === 0x10b, 'unknown optional header');
  const dataDirs = optional + (magic === 0x20b ? 112 : 96);
  const exportRva = pe.readUInt32LE(dataDirs);
  const sections = [];
  for (let i = 0; i < sectionCount; i++) {
    const s = optional + optionalSize + i * 40;
    sections.push({
      va: pe.readUInt32LE(s + 12),
      size: Math.max(pe.readUInt32LE(s + 8), pe.readUInt32LE(s + 16)),
      raw: pe.readUInt32LE(s + 20),
      flags: pe.readUInt32LE(s + 36),
    });
  }
  const sectionOf = (/** @type {number} */ rva) =>
    sections.find((s) => rva >= s.va && rva < s.va + s.size);
  const offsetOf = (/** @type {number} */ rva) => {
    const s = sectionOf(rva);
    need(s !== undefined, `address 0x${rva.toString(16)} is in no section`);
    return (
      /** @type {{ raw: number, va: number }} */ (s).raw +
      rva -
      /** @type {{ va: number }} */ (s).va
    );
  };
  const cString = (/** @type {number} */ rva) => {
    const start = offsetOf(rva);
    const end = pe.indexOf(0, start);
    return pe.toString('latin1', start, end < 0 ? pe.length : end);
  };
  if (exportRva === 0) return { dllName: '', machine, exports: [] };
  const dir = offsetOf(exportRva);
  const dllName = cString(pe.readUInt32LE(dir + 12));
  const nameCount = pe.readUInt32LE(dir + 24);
  const functions = offsetOf(pe.readUInt32LE(dir + 28));
  const names = offsetOf(pe.readUInt32LE(dir + 32));
  const ordinals = offsetOf(pe.readUInt32LE(dir + 36));
  const exports = [];
  for (let i = 0; i < nameCount; i++) {
    const name = cString(pe.readUInt32LE(names + 4 * i));
    const target = pe.readUInt32LE(functions + 4 * pe.readUInt16LE(ordinals + 2 * i));
    const section = sectionOf(target);
    // a forwarder or an export in a non-executable section is not code
    const data = !section || (section.flags & IMAGE_SCN_MEM_EXECUTE) === 0;
    exports.push({ name, data });
  }
  return { dllName, machine, exports };
}

/**
 * A .def file: `lib /def:<file> /machine:x64 /out:<name>.lib` makes the import library.
 * @param {{ dllName: string, exports: readonly { name: string, data: boolean }[] }} table
 */
export function moduleDefinition(table) {
  const lines = [`LIBRARY "${table.dllName}"`, 'EXPORTS'];
  for (const e of table.exports) lines.push(`    ${e.name}${e.data ? ' DATA' : ''}`);
  return lines.join('\r\n') + '\r\n';
}
