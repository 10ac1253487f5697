import { Ollama } from 'ollama';
import OpenAI from 'openai';
import type { ServeProcess } from './serve-process.js';

/** The official `openai` and `ollama` clients, pointed at a running serve's loopback origin. */
export function apiClients(serve: Pick<ServeProcess, 'port'>): { openai: OpenAI; ollama: Ollama } {
  const origin = `http://127.0.0.1:${serve.port}`;
  return {
    openai: new OpenAI({ baseURL: `${origin}/v1`, apiKey: 'unused-on-loopback', maxRetries: 0 }),
    ollama: new Ollama({ host: origin }),
  };
}

/** PNG bytes as an OpenAI `image_url` data URL. */
export const dataUrl = (bytes: Buffer): string =>
  `data:image/png;base64,${bytes.toString('base64')}`;
