import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cleanKeyword,
  keywordKey,
  mergeKeywords,
  normaliseKeywords,
  parseKeywordList,
  parseVocabulary,
  splitKeywords,
} from '../../src-main/batch/keywords.js';

const answer = (text: string) => splitKeywords(text);

describe('catalogue keywords', () => {
  it('trims punctuation and list markers, keeps what is inside a word', () => {
    expect(cleanKeyword('  "Sunset." ')).toBe('Sunset');
    expect(cleanKeyword('1. red bike')).toBe('red bike');
    expect(cleanKeyword('- #streetphotography!')).toBe('streetphotography');
    expect(cleanKeyword('(black-and-white)')).toBe('black-and-white');
    expect(cleanKeyword("rock'n'roll")).toBe("rock'n'roll");
    expect(cleanKeyword('U.S.A.')).toBe('U.S.A');
    expect(cleanKeyword('city   lights')).toBe('city lights');
  });

  it('merges duplicates and singular/plural twins, keeping the first one met', () => {
    const { keywords } = normaliseKeywords(
      answer('Dogs, dog, DOG, puppies, puppy, city lights, City light, glass, glasses, bus'),
    );
    expect(keywords).toEqual(['Dogs', 'puppies', 'city lights', 'glass', 'bus']);
    expect(
      normaliseKeywords(answer('beach, beaches, child, children, leaf, leaves')).keywords,
    ).toEqual(['beach', 'child', 'leaf']);
  });

  it('cases as asked', () => {
    const text = answer('Red Bike, eiffel tower, BLACK-and-white');
    expect(normaliseKeywords(text).keywords).toEqual([
      'Red Bike',
      'eiffel tower',
      'BLACK-and-white',
    ]);
    expect(normaliseKeywords(text, { case: 'lower' }).keywords).toEqual([
      'red bike',
      'eiffel tower',
      'black-and-white',
    ]);
    expect(normaliseKeywords(text, { case: 'title' }).keywords).toEqual([
      'Red Bike',
      'Eiffel Tower',
      'Black-And-White',
    ]);
  });

  it('drops excluded words, keeps at most max, in the answer order', () => {
    const result = normaliseKeywords(answer('photo, bike, image, red, street, sunset'), {
      exclude: ['Photos', 'image'],
      max: 3,
    });
    expect(result.keywords).toEqual(['bike', 'red', 'street']);
  });

  it('keeps only vocabulary terms, spelled as the vocabulary spells them, and reports the rest', () => {
    const vocabulary = parseVocabulary(
      [
        '[Places]',
        '\tItaly',
        '\t\tTuscany',
        'Animals',
        '\tDog',
        '\t\t{hound}',
        '\tBicycle',
        '\t\t{bike}',
        '# a comment',
        '',
      ].join('\n'),
    );
    const result = normaliseKeywords(answer('bikes, Hounds, tuscany, sunset, Sunsets, car'), {
      vocabulary,
    });
    expect(result.keywords).toEqual(['Bicycle', 'Dog', 'Tuscany']);
    expect(result.paths).toEqual([
      ['Animals', 'Bicycle'],
      ['Animals', 'Dog'],
      ['Places', 'Italy', 'Tuscany'],
    ]);
    expect(result.notInVocabulary).toEqual(['sunset', 'car']);
  });

  it('reads a plain list and a Lightroom export alike', () => {
    expect(parseKeywordList('\uFEFFphoto\r\n  image \n# no\n\n[Category]\n{alias}\n')).toEqual([
      'photo',
      'image',
      'Category',
      'alias',
    ]);
    expect([...parseVocabulary('dog\ncat\n').values()].map((t) => t.name)).toEqual(['dog', 'cat']);
  });

  it('merges with the keywords an image has: theirs first, no twins added', () => {
    expect(mergeKeywords(['Holiday', 'Dogs'], ['dog', 'holiday', 'beach'])).toEqual([
      'Holiday',
      'Dogs',
      'beach',
    ]);
  });
});

const word = fc.stringMatching(/^[A-Za-zéü' .,;!?"-]{0,14}$/);
const words = fc.array(word, { maxLength: 25 });

describe('catalogue keywords (properties)', () => {
  it('never keeps two keywords that are the same keyword, nor an empty one', () => {
    fc.assert(
      fc.property(words, fc.constantFrom('as-is', 'lower', 'title' as const), (raw, style) => {
        const { keywords } = normaliseKeywords(raw, { case: style });
        const keys = keywords.map(keywordKey);
        expect(new Set(keys).size).toBe(keys.length);
        expect(keywords.every((k) => k !== '' && k === cleanKeyword(k))).toBe(true);
      }),
    );
  });

  it('is idempotent: normalising its own output changes nothing', () => {
    fc.assert(
      fc.property(words, fc.constantFrom('as-is', 'lower', 'title' as const), (raw, style) => {
        const once = normaliseKeywords(raw, { case: style }).keywords;
        expect(normaliseKeywords(once, { case: style }).keywords).toEqual(once);
      }),
    );
  });

  it('respects max, exclude and the vocabulary', () => {
    fc.assert(
      fc.property(words, words, words, fc.nat(10), (raw, exclude, vocab, max) => {
        const vocabulary = parseVocabulary(vocab.join('\n'));
        const result = normaliseKeywords(raw, { exclude, vocabulary, max });
        expect(result.keywords.length).toBeLessThanOrEqual(max);
        const excluded = new Set(exclude.map(keywordKey));
        for (const k of result.keywords) {
          expect(excluded.has(keywordKey(k))).toBe(false);
          expect(vocabulary.get(keywordKey(k))?.name).toBe(k);
        }
        for (const k of result.notInVocabulary) expect(vocabulary.has(keywordKey(k))).toBe(false);
      }),
    );
  });

  it('merging keeps every existing keyword in order and adds each new one at most once', () => {
    fc.assert(
      fc.property(words, words, (existing, added) => {
        const merged = mergeKeywords(existing, added);
        expect(merged.slice(0, existing.length)).toEqual(existing);
        const tail = merged.slice(existing.length).map(keywordKey);
        expect(new Set(tail).size).toBe(tail.length);
        const had = new Set(existing.map(keywordKey));
        expect(tail.every((k) => !had.has(k))).toBe(true);
      }),
    );
  });
});
