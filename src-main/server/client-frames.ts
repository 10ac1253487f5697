import type { WireClientMessage } from '../api/contract.js';
import { LlavaDeskError } from '../common/errors.js';
import { DEFAULT_MAX_FILE_BYTES } from '../imaging/decode-options.js';
import { decodeWire } from './wire-codec.js';

// How big a WebSocket message from the page may be, derived from what valid requests need:
//
// - Every request but an image upload is small. The longest is a question or an edit: 100,000
//   UTF-16 units of text (the contract's limit), each at most 6 bytes in JSON (`\u001f`), plus
//   16 image ids and the envelope: under 0.6 MiB. Such frames may be up to 1 MiB.
// - `images.add` carries the image as base64 (4 bytes per 3), at most the imaging limit of
//   256 MiB: 341.4 MiB of base64, plus a small rest (the name, 500 units, and the envelope).
//
// So the socket's limit (ws `maxPayload`; larger frames close the connection with 1009 before
// they are buffered whole) is base64(256 MiB) + 1 MiB, and a frame above 1 MiB is never handed to
// JSON.parse whole: its one base64 run is cut out, the small rest parsed and checked to be an
// image upload, and the run decoded straight into bytes.

/** Largest frame of any request that carries no image. */
export const MAX_SMALL_FRAME_BYTES = 1024 * 1024;
/** Largest image the core accepts (the imaging pipeline's file limit). */
export const MAX_IMAGE_BYTES = DEFAULT_MAX_FILE_BYTES;
/** The WebSocket message limit: one image upload at the image limit. */
export const MAX_FRAME_BYTES = 4 * Math.ceil(MAX_IMAGE_BYTES / 3) + MAX_SMALL_FRAME_BYTES;

const BYTES_MARKER = Buffer.from('{"$bytes":"');
const QUOTE = 0x22;
const BASE64_RUN = /^[A-Za-z0-9+/]*={0,2}$/;

/** A frame that is not a call: answered with this error (and the call's id when it had one). */
export class FrameError extends LlavaDeskError {
  readonly callId: number | null;

  constructor(
    code: 'INVALID_ARGUMENT' | 'REQUEST_TOO_LARGE',
    message: string,
    callId = null as number | null,
  ) {
    super(code, message);
    this.callId = callId;
  }
}

/**
 * The id of a call that is refused unread, from the head of its frame where our pages put it
 * (`{"type":"call","id":N,…`), so that the caller's promise still settles.
 */
function headId(frame: Buffer): number | null {
  const match = /^\{"type":"call","id":(\d{1,15}),/.exec(frame.toString('latin1', 0, 64));
  return match?.[1] !== undefined ? Number(match[1]) : null;
}

function tooLarge(frame: Buffer, id: number | null = headId(frame)): FrameError {
  return new FrameError(
    'REQUEST_TOO_LARGE',
    `A message of ${frame.length} bytes is larger than any request but an image upload may be ` +
      `(${MAX_SMALL_FRAME_BYTES} bytes).`,
    id,
  );
}

function parse(text: string): unknown {
  try {
    return decodeWire(text);
  } catch (error) {
    // Valid JSON nested deeper than the decoder's stack: no call is, so it is refused whole.
    if (error instanceof RangeError) {
      throw new FrameError('INVALID_ARGUMENT', 'The message is nested too deeply.');
    }
    throw new FrameError('INVALID_ARGUMENT', 'The message is not valid JSON.');
  }
}

/** Checks the shape of a call: `{type: 'call', id: integer, method: string, params?: object}`. */
export function asCall(value: unknown): WireClientMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FrameError('INVALID_ARGUMENT', 'A message must be a JSON object.');
  }
  const call = value as Record<string, unknown>;
  const id = Number.isSafeInteger(call['id']) ? (call['id'] as number) : null;
  if (call['type'] !== 'call') {
    throw new FrameError('INVALID_ARGUMENT', 'A message must have type "call".', id);
  }
  if (id === null) throw new FrameError('INVALID_ARGUMENT', 'A call needs a whole-number id.');
  if (typeof call['method'] !== 'string') {
    throw new FrameError('INVALID_ARGUMENT', 'A call needs a method name.', id);
  }
  const params = call['params'];
  if (
    params !== undefined &&
    (typeof params !== 'object' || params === null || Array.isArray(params))
  ) {
    throw new FrameError('INVALID_ARGUMENT', 'The params of a call must be an object.', id);
  }
  return { type: 'call', id, method: call['method'], params };
}

/**
 * Reads one text frame from the page as a call. Throws a FrameError for anything else: not JSON,
 * not a call, or a large frame that is not one image upload.
 */
export function decodeClientFrame(frame: Buffer): WireClientMessage {
  if (frame.length <= MAX_SMALL_FRAME_BYTES) return asCall(parse(frame.toString('utf8')));
  const marker = frame.indexOf(BYTES_MARKER);
  const start = marker + BYTES_MARKER.length;
  const end = marker < 0 ? -1 : frame.indexOf(QUOTE, start);
  if (end < 0 || frame.length - (end - start) > MAX_SMALL_FRAME_BYTES) throw tooLarge(frame);
  const rest = Buffer.concat([frame.subarray(0, start), frame.subarray(end)]).toString('utf8');
  const call = asCall(parse(rest));
  const params = call.params as { data?: unknown } | undefined;
  const holder = params?.data;
  if (call.method !== 'images.add' || !(holder instanceof Uint8Array) || holder.length !== 0) {
    throw tooLarge(frame, call.id);
  }
  const base64 = frame.toString('latin1', start, end);
  if (!BASE64_RUN.test(base64)) {
    throw new FrameError('INVALID_ARGUMENT', 'The image data is not base64.', call.id);
  }
  const bytes = Buffer.from(base64, 'base64');
  return {
    ...call,
    params: { ...params, data: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) },
  };
}
