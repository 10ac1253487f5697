/** A folder-safe id from a model name or file name: `LLaVA v1.5 Q4_K_M.gguf` → `llava-v1.5-q4_k_m`. */
export function slugifyModelId(name: string): string {
  const slug = name
    .replace(/\.gguf$/i, '')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .replace(/-+$/, '')
    .slice(0, 80);
  return slug === '' ? 'model' : slug;
}

export const isValidModelId = (id: string): boolean => /^[a-z0-9][a-z0-9._-]*$/.test(id);
