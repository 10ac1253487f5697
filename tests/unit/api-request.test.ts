import { describe, expect, it } from 'vitest';
import { ApiError, toApiError } from '../../src-main/server/api-errors.js';
import { base64Bytes, imageUrlBytes } from '../../src-main/server/api-images.js';
import { LlavaDeskError } from '../../src-main/common/errors.js';
import { StopMatcher } from '../../src-main/server/stop-matcher.js';

function run(stops: string[], pieces: string[]): { text: string; stopped: boolean } {
  const matcher = new StopMatcher(stops);
  let text = '';
  for (const piece of pieces) text += matcher.push(piece);
  text += matcher.flush();
  return { text, stopped: matcher.stopped };
}

describe('StopMatcher', () => {
  it('cuts at a stop string split over pieces and releases nothing after it', () => {
    expect(run(['END'], ['Hello E', 'N', 'D and more'])).toEqual({ text: 'Hello ', stopped: true });
    expect(run(['\n\n', 'User:'], ['a\n', '\nb'])).toEqual({ text: 'a', stopped: true });
    expect(run(['User:'], ['x Us', 'er:'])).toEqual({ text: 'x ', stopped: true });
  });

  it('releases held-back text that turned out not to be a stop string', () => {
    expect(run(['END'], ['Hello E', 'x'])).toEqual({ text: 'Hello Ex', stopped: false });
    expect(run(['END'], ['EN'])).toEqual({ text: 'EN', stopped: false });
    expect(run([], ['a', 'b'])).toEqual({ text: 'ab', stopped: false });
    expect(run([''], ['a'])).toEqual({ text: 'a', stopped: false });
  });

  it('cuts at the earliest of several stop strings', () => {
    expect(run(['b', 'a'], ['xab'])).toEqual({ text: 'x', stopped: true });
  });
});

describe('request images', () => {
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47]);

  it('decodes data URLs and base64, never a path or a network URL', () => {
    expect(
      Buffer.from(imageUrlBytes(`data:image/png;base64,${png.toString('base64')}`, 'i')),
    ).toEqual(png);
    expect(Buffer.from(base64Bytes(png.toString('base64url'), 'i'))).toEqual(png);
    for (const url of ['/etc/passwd', 'file:///etc/passwd', 'C:\\\\x.png', 'ftp://x/y.png']) {
      expect(() => imageUrlBytes(url, 'i'), url).toThrow(
        expect.objectContaining({ status: 400, code: 'invalid_image_url' }),
      );
    }
    expect(() => imageUrlBytes('https://example.com/x.png', 'i')).toThrow(
      expect.objectContaining({ status: 400, code: 'image_url_not_allowed' }),
    );
    for (const text of ['', 'not base64!', 'a']) {
      expect(() => base64Bytes(text, 'i'), text).toThrow(ApiError);
    }
  });
});

describe('toApiError', () => {
  it('maps the app’s error codes to the statuses clients expect', () => {
    const status = (code: ConstructorParameters<typeof LlavaDeskError>[0]): number =>
      toApiError(new LlavaDeskError(code, 'x')).status;
    expect(status('IMAGE_CORRUPT')).toBe(400);
    expect(status('IMAGE_UNSUPPORTED')).toBe(400);
    expect(status('CONTEXT_FULL')).toBe(400);
    expect(status('MODEL_NOT_INSTALLED')).toBe(404);
    expect(status('REQUEST_TOO_LARGE')).toBe(413);
    expect(status('ENGINE_CRASHED')).toBe(503);
    expect(status('INTERNAL')).toBe(500);
    expect(toApiError(new Error('boom')).status).toBe(500);
  });
});
