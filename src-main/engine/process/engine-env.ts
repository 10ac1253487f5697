/**
 * The engine process's environment: libuv's thread pool cut to one thread. Every native call of
 * the engine (prompt evaluation, each decode step) is an async worker on that pool; with the
 * default four threads consecutive steps land on different threads, and ggml's CPU backend keeps
 * a team of compute threads per calling thread (OpenMP), so idle teams spin beside the working
 * one: generation measured 12% slower on 2 cores (21 against 24 tokens/s). The engine runs one
 * native call at a time anyway. A value the user set is kept.
 */
export function engineProcessEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value;
  out['UV_THREADPOOL_SIZE'] ??= '1';
  return out;
}
