import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Result } from '../api/result.js';
import type { RawBitmap } from './bmp-decode.js';

/*
 * HEIC/HEIF through heic-decode (libheif-js, WebAssembly): sharp's prebuilt libvips has libheif
 * for AVIF but no HEVC decoder. The WASM decode is synchronous, so it runs in a worker thread
 * that is terminated when it overruns: a hostile file cannot hang or crash the process.
 */

/** Why a decode failed; decode.ts turns it into the imaging error of that reason. */
export interface HeicFailure {
  reason: 'corrupt' | 'too-large' | 'timeout';
  message: string;
}

export type HeicResult = Result<RawBitmap, HeicFailure>;

interface WorkerReply {
  ok: boolean;
  reason?: 'corrupt' | 'too-large';
  message?: string;
  width?: number;
  height?: number;
  data?: Uint8Array;
}

// Plain CommonJS run with `eval`, so it works the same from the TypeScript sources under the test
// runner and from the compiled dist/ without a separate worker file to locate.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const decode = require(workerData.modulePath);
(async () => {
  let images;
  try {
    images = await decode.all({ buffer: workerData.bytes });
    const first = images[0];
    if (!first) throw new Error('the file holds no image');
    if (first.width * first.height > workerData.maxPixels) {
      parentPort.postMessage({ ok: false, reason: 'too-large',
        message: first.width + ' x ' + first.height + ' pixels is over the limit' });
      return;
    }
    const { width, height, data } = await first.decode();
    const pixels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    parentPort.postMessage({ ok: true, width, height, data: pixels }, [pixels.buffer]);
  } catch (error) {
    parentPort.postMessage({ ok: false, reason: 'corrupt',
      message: String((error && error.message) || error) });
  } finally {
    if (images) images.dispose();
  }
})();
`;

function heicModulePath(): string {
  return createRequire(import.meta.url).resolve('heic-decode');
}

/** Decodes the primary (first top-level) image of a HEIC/HEIF file to RGBA. Never throws. */
export function decodeHeic(
  bytes: Uint8Array,
  maxPixels: number,
  timeoutSeconds: number,
): Promise<HeicResult> {
  return new Promise((resolve) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { bytes, maxPixels, modulePath: heicModulePath() },
      stdout: true,
      stderr: true,
    });
    let settled = false;
    const finish = (result: HeicResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      resolve(result);
    };
    const timer = setTimeout(() => {
      finish({ ok: false, error: { reason: 'timeout', message: 'timed out' } });
    }, timeoutSeconds * 1000);
    worker.on('message', (reply: WorkerReply) => {
      if (reply.ok && reply.data && reply.width && reply.height) {
        const data = Buffer.from(reply.data.buffer, reply.data.byteOffset, reply.data.byteLength);
        finish({
          ok: true,
          value: { width: reply.width, height: reply.height, channels: 4, data },
        });
      } else {
        finish({
          ok: false,
          error: { reason: reply.reason ?? 'corrupt', message: reply.message ?? 'decode failed' },
        });
      }
    });
    worker.on('error', (error) =>
      finish({ ok: false, error: { reason: 'corrupt', message: error.message } }),
    );
    worker.on('exit', () =>
      finish({
        ok: false,
        error: { reason: 'corrupt', message: 'the decoder stopped without an answer' },
      }),
    );
  });
}
