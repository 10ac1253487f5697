import type {
  ApiResponse,
  EventName,
  EventPayload,
  MethodName,
  MethodParams,
  MethodResult,
  SerializedError,
} from '../../../src-main/api/contract';

/** An error the core answered with: branch on `code`, show `message`. */
export class ApiError extends Error {
  readonly code: string;

  constructor(error: SerializedError | { code: string; message: string }) {
    super(error.message);
    this.name = 'ApiError';
    this.code = error.code;
  }
}

export type ConnectionState = 'connecting' | 'open' | 'closed';

/** The renderer's one way to the core, whatever carries it (WebSocket or the Electron preload). */
export interface ApiClient {
  call<M extends MethodName>(method: M, params: MethodParams<M>): Promise<MethodResult<M>>;
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
  /** Called with the connection state now and at every change (always 'open' in Electron). */
  onConnection(listener: (state: ConnectionState) => void): () => void;
}

/** The transport underneath a client: a raw invoke and a raw event subscription. */
export interface Transport {
  invoke(method: string, params: unknown): Promise<ApiResponse>;
  subscribe(event: string, listener: (payload: unknown) => void): () => void;
  onConnection(listener: (state: ConnectionState) => void): () => void;
}

export function clientOver(transport: Transport): ApiClient {
  return {
    async call<M extends MethodName>(method: M, params: MethodParams<M>) {
      const response = await transport.invoke(method, params);
      if (!response.ok) throw new ApiError(response.error);
      return response.value as MethodResult<M>;
    },
    on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void) {
      return transport.subscribe(event, (payload) => listener(payload as EventPayload<E>));
    },
    onConnection: (listener) => transport.onConnection(listener),
  };
}
