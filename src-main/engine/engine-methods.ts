import type { AskResult, EngineInfo, EngineLoadOptions, TokenEvent } from '../api/engine.js';
import type { CompletionRequest, ManyOutcome } from './vision-engine.js';

/** The engine process's RPC methods (see process/rpc-protocol.ts for the wire format). */
export type EngineMethods = {
  load: { params: EngineLoadOptions; result: EngineInfo; event: never };
  complete: { params: CompletionRequest; result: AskResult; event: TokenEvent };
  completeMany: {
    params: { requests: CompletionRequest[] };
    result: ManyOutcome[];
    event: { index: number } & TokenEvent;
  };
  closeSession: { params: { sessionId: string }; result: null; event: never };
  unload: { params: Record<string, never>; result: null; event: never };
  pid: { params: Record<string, never>; result: number; event: never };
};
