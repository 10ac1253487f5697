import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { parseKeywords, jobPrompt, defaultMaxTokens } from '../../src-main/batch/presets.js';
import { COLUMNS, csvField, renderCsv, renderJsonl } from '../../src-main/batch/tables.js';
import type { DoneRecord } from '../../src-main/batch/types.js';
import { renderXmp, xmlText } from '../../src-main/batch/xmp.js';

function record(path: string, text: string): DoneRecord {
  return {
    status: 'done',
    path,
    sha256: 'ab'.repeat(32),
    width: 640,
    height: 480,
    model: 'm.gguf',
    prompt: 'Say "hi", then stop.',
    text,
    tokens: 12,
    ms: 1234.56,
    run: 'r',
    at: '2026-01-01T00:00:00.000Z',
  };
}

const awkward = [
  'plain',
  'with, comma',
  'with "quotes" inside',
  'two\nlines',
  'crlf\r\ninside',
  '  leading and trailing  ',
  '=SUM(A1) café ☕ 日本語',
  '',
];

describe('CSV (RFC 4180)', () => {
  it('quotes only what needs it and doubles quotes', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "x"')).toBe('"say ""x"""');
    expect(csvField('a\nb')).toBe('"a\nb"');
    expect(csvField(42)).toBe('42');
  });

  it('parses back to the same rows with csv-parse, CRLF between records', () => {
    const records = awkward.map((t, i) => record(`dir/ñ ${i}.jpg`, t));
    const csv = renderCsv(records);
    expect(csv.endsWith('\r\n')).toBe(true);
    const rows = parse(csv, { columns: true, relax_column_count: false }) as Array<
      Record<string, string>
    >;
    expect(Object.keys(rows[0] ?? {})).toEqual([...COLUMNS]);
    expect(rows.map((r) => r['text'])).toEqual(awkward);
    expect(rows.map((r) => r['path'])).toEqual(records.map((r) => r.path));
    expect(rows[0]?.['ms']).toBe('1235');
    expect(rows[0]?.['prompt']).toBe('Say "hi", then stop.');
  });
});

describe('JSONL', () => {
  it('writes one object per line with the documented fields', () => {
    const lines = renderJsonl(awkward.map((t, i) => record(`p${i}.png`, t)))
      .split('\n')
      .filter((l) => l !== '');
    expect(lines).toHaveLength(awkward.length);
    const first = JSON.parse(lines[1] ?? '') as Record<string, unknown>;
    expect(Object.keys(first)).toEqual([...COLUMNS]);
    expect(first['text']).toBe('with, comma');
  });
});

describe('XMP', () => {
  it('escapes markup and drops characters XML cannot hold', () => {
    expect(xmlText('a < b & "c" > d')).toBe('a &lt; b &amp; &quot;c&quot; &gt; d');
    expect(xmlText('bell\u0007 nul\u0000 ok\ttab')).toBe('bell nul ok\ttab');
    expect(xmlText('lone \uD800 surrogate')).toBe('lone  surrogate');
  });

  it('holds dc:description, and dc:subject only for keywords', () => {
    const plain = renderXmp('A <red> bike');
    expect(plain).toContain('<rdf:li xml:lang="x-default">A &lt;red&gt; bike</rdf:li>');
    expect(plain).not.toContain('dc:subject');
    const tagged = renderXmp('bike, red', ['bike', 'red']);
    expect(tagged).toContain('<rdf:li>bike</rdf:li>');
    expect(tagged).toContain('<dc:subject>');
  });
});

describe('presets', () => {
  it('splits keyword answers, dropping numbering, duplicates and a final full stop', () => {
    expect(parseKeywords('1. Bike, red; street\n- bike\n* Sunset.')).toEqual([
      'Bike',
      'red',
      'street',
      'Sunset',
    ]);
  });

  it('builds the prompt and the token budget', () => {
    expect(jobPrompt({ preset: 'caption' })).toMatch(/caption/);
    expect(jobPrompt({ prompt: 'What?', short: true })).toMatch(/^What\?\n.*single word/);
    expect(jobPrompt({})).toBe('Describe this image in detail.');
    expect(defaultMaxTokens({ preset: 'keywords' })).toBe(64);
    expect(defaultMaxTokens({ prompt: 'x' })).toBe(256);
  });
});
