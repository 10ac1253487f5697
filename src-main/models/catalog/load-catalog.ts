import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LlavaDeskError } from '../../common/errors.js';
import { catalogSchema, type Catalog, type CatalogEntry } from './schema.js';

/** `models/catalog.json` at the repository (and package) root. */
export const DEFAULT_CATALOG_PATH = fileURLToPath(
  new URL('../../../models/catalog.json', import.meta.url),
);

/** The folder that holds models/catalog.json: where the catalog's `app:` files lie. */
export function appRootOf(catalogPath: string): string {
  return dirname(dirname(catalogPath));
}

export const DEFAULT_APP_ROOT = appRootOf(DEFAULT_CATALOG_PATH);

/** Parses and validates catalog JSON text; throws `CATALOG_INVALID` with zod's issues. */
export function parseCatalog(text: string): Catalog {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new LlavaDeskError('CATALOG_INVALID', 'the model catalog is not valid JSON', {
      cause: error,
    });
  }
  const result = catalogSchema.safeParse(json);
  if (!result.success) {
    const issues = result.error.issues
      .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
      .join('; ');
    throw new LlavaDeskError('CATALOG_INVALID', `the model catalog is invalid: ${issues}`);
  }
  return result.data;
}

export async function loadCatalog(path: string = DEFAULT_CATALOG_PATH): Promise<Catalog> {
  return parseCatalog(await readFile(path, 'utf8'));
}

export function findCatalogEntry(catalog: Catalog, id: string): CatalogEntry | undefined {
  return catalog.models.find((entry) => entry.id === id);
}
