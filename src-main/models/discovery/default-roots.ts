import { homedir } from 'node:os';
import { join } from 'node:path';

export type DiscoverySource = 'lmstudio' | 'jan' | 'llama.cpp' | 'ollama';

/** Folders where other apps keep GGUF models. Injectable: tests pass their own. */
export type DiscoveryRoots = Record<DiscoverySource, string[]>;

/** Where LM Studio, Jan, llama.cpp's cache and Ollama keep models on this OS. */
export function defaultDiscoveryRoots(
  env: NodeJS.ProcessEnv = process.env,
  home: string = homedir(),
  platform: NodeJS.Platform = process.platform,
): DiscoveryRoots {
  const appData =
    platform === 'win32'
      ? (env.APPDATA ?? join(home, 'AppData', 'Roaming'))
      : platform === 'darwin'
        ? join(home, 'Library', 'Application Support')
        : (env.XDG_DATA_HOME ?? join(home, '.local', 'share'));
  const cache =
    platform === 'win32'
      ? (env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'))
      : platform === 'darwin'
        ? join(home, 'Library', 'Caches')
        : (env.XDG_CACHE_HOME ?? join(home, '.cache'));
  return {
    lmstudio: [join(home, '.lmstudio', 'models'), join(home, '.cache', 'lm-studio', 'models')],
    jan: [join(home, 'jan', 'models'), join(appData, 'Jan', 'data', 'llamacpp', 'models')],
    'llama.cpp': env.LLAMA_CACHE ? [env.LLAMA_CACHE] : [join(cache, 'llama.cpp')],
    ollama: [env.OLLAMA_MODELS ?? join(home, '.ollama', 'models')],
  };
}
