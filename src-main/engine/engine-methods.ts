import type {
  AskResult,
  EngineInfo,
  EngineLoadOptions,
  ImageEmbeddings,
  PreparedImage,
  TokenEvent,
} from '../api/engine.js';
import type { CompletionRequest, ManyOutcome } from './vision-engine.js';

/** The engine process's RPC methods (see process/rpc-messages.ts for the wire format). */
export type EngineMethods = {
  load: { params: EngineLoadOptions; result: EngineInfo; event: never };
  complete: { params: CompletionRequest; result: AskResult; event: TokenEvent };
  completeMany: {
    params: { requests: CompletionRequest[] };
    result: ManyOutcome[];
    event: { index: number } & TokenEvent;
  };
  /** Diagnostics: the images' embeddings as fed to the LLM (`llava-desk embed`). */
  embedImages: { params: { images: PreparedImage[] }; result: ImageEmbeddings; event: never };
  /** `keepCache`: the sequence's tokens stay as a prefix other sessions may copy. */
  closeSession: {
    params: { sessionId: string; keepCache?: boolean };
    result: null;
    event: never;
  };
  unload: { params: Record<string, never>; result: null; event: never };
  pid: { params: Record<string, never>; result: number; event: never };
};
