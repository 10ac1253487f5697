import { join } from 'node:path';
import { LlavaDeskError } from '../common/errors.js';
import { copyBundledFiles, isBundledPair } from './bundled-files.js';
import { DEFAULT_APP_ROOT, findCatalogEntry } from './catalog/load-catalog.js';
import type { Catalog } from './catalog/schema.js';
import { nodeDownloadFs, type DownloadFs } from './download/download-fs.js';
import {
  createDownloadJob,
  removeDownloadSidecars,
  type DownloadJobFile,
  type DownloadJobOptions,
} from './download/download-job.js';
import type { DownloadEvent } from './download/events.js';
import { resolveModelUri } from './download/resolve-uri.js';
import { installPair } from './registry/install-pair.js';
import { slugifyModelId } from './registry/model-id.js';
import { findInstalledModel, type InstalledModel } from './registry/registry.js';

export interface PullRequest {
  /** A catalog id, an `hf:` URI or an http(s) URL of the LLM file. */
  source: string;
  /** The projector's URI, when `source` is a single file. */
  mmproj?: string;
  /** Expected sha256 of the LLM file (`source` a URI). */
  sha256?: string;
  modelsDir: string;
  catalog: Catalog;
  hfBaseUrl: string;
  /** Where `app:` files of the catalog lie (the folder holding models/catalog.json). */
  appRoot?: string;
  token?: string;
  onEvent?: (event: DownloadEvent) => void;
  /** Test and tuning knobs passed to the download job. */
  download?: Pick<
    DownloadJobOptions,
    'fs' | 'retry' | 'idleTimeoutMs' | 'diskMarginBytes' | 'progressIntervalMs'
  >;
}

export interface PullHandle {
  id: string;
  /** Resolves once the pair is downloaded, verified, validated and installed. */
  result: Promise<{ model: InstalledModel; alreadyInstalled: boolean }>;
  cancel(options?: { keepPartial?: boolean }): Promise<void>;
}

interface PullPlan {
  id: string;
  displayName: string;
  family?: string;
  promptTemplate?: 'vicuna_v1' | 'gguf-jinja';
  source: 'catalog' | 'url';
  catalogId?: string;
  files: DownloadJobFile[];
}

function planPull(request: PullRequest): PullPlan {
  const entry = findCatalogEntry(request.catalog, request.source);
  if (entry) {
    return {
      id: entry.id,
      displayName: entry.displayName,
      family: entry.family,
      promptTemplate: entry.promptTemplate,
      source: 'catalog',
      catalogId: entry.id,
      files: entry.files.map((file) => ({
        role: file.role,
        uri: file.uri,
        expectedSha256: file.sha256,
        sha256Source: file.sha256 ? 'catalog' : undefined,
        expectedSize: file.sizeBytes,
        sizeExact: file.sizeExact,
      })),
    };
  }
  if (!/^(hf:|https?:\/\/)/.test(request.source)) {
    throw new LlavaDeskError(
      'MODEL_SOURCE_INVALID',
      `${request.source} is neither a catalog id nor an hf: URI or http(s) URL`,
    );
  }
  if (request.mmproj === undefined) {
    throw new LlavaDeskError(
      'MMPROJ_MISSING',
      'a single GGUF cannot see images: give its projector with --mmproj <uri>',
    );
  }
  if (request.sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(request.sha256)) {
    throw new LlavaDeskError('MODEL_SOURCE_INVALID', '--sha256 must be 64 hexadecimal digits');
  }
  const model = resolveModelUri(request.source, request.hfBaseUrl);
  resolveModelUri(request.mmproj, request.hfBaseUrl);
  return {
    id: slugifyModelId(model.fileName),
    displayName: model.fileName.replace(/\.gguf$/i, ''),
    source: 'url',
    files: [
      {
        role: 'model',
        uri: request.source,
        expectedSha256: request.sha256?.toLowerCase(),
        sha256Source: request.sha256 ? 'user' : undefined,
      },
      { role: 'mmproj', uri: request.mmproj },
    ],
  };
}

/** How a pull gets its files into the pair's folder: a download, or a copy of the app's own. */
interface PairSupplier {
  placement: 'downloaded' | 'copy';
  fetch(): Promise<{ role: 'model' | 'mmproj'; path: string; sha256: string }[]>;
  /** After the pair is installed: what the fetch left beside the files. */
  afterInstall(paths: string[]): Promise<void>;
  cancel(options?: { keepPartial?: boolean }): Promise<void>;
}

function downloadSource(request: PullRequest, plan: PullPlan, dir: string): PairSupplier {
  const fs: DownloadFs = request.download?.fs ?? nodeDownloadFs;
  const job = createDownloadJob({
    ...request.download,
    dir,
    files: plan.files,
    hfBaseUrl: request.hfBaseUrl,
    token: request.token,
    onEvent: request.onEvent,
  });
  return {
    placement: 'downloaded',
    fetch: () => job.start(),
    afterInstall: (paths) => removeDownloadSidecars(fs, paths),
    cancel: (options) => job.cancel(options),
  };
}

/** A catalog pair shipped with the app: copied and checked, nothing downloaded. */
function bundledSource(request: PullRequest, plan: PullPlan, dir: string): PairSupplier {
  return {
    placement: 'copy',
    fetch: () => copyBundledFiles(request.appRoot ?? DEFAULT_APP_ROOT, dir, plan.files),
    afterInstall: async () => undefined,
    // A copy of a few MB: nothing worth cancelling half way.
    cancel: async () => undefined,
  };
}

/**
 * Downloads a pair into `<modelsDir>/<id>/` (resuming what an earlier run left), or copies it
 * there when the app ships it, and installs it.
 */
export function startPull(request: PullRequest): PullHandle {
  const plan = planPull(request);
  const dir = join(request.modelsDir, plan.id);
  const supplier = isBundledPair(plan.files)
    ? bundledSource(request, plan, dir)
    : downloadSource(request, plan, dir);
  const result = (async () => {
    const existing = await findInstalledModel(request.modelsDir, plan.id);
    if (existing) return { model: existing, alreadyInstalled: true };
    const files = await supplier.fetch();
    const model = await installPair({
      modelsDir: request.modelsDir,
      id: plan.id,
      displayName: plan.displayName,
      family: plan.family,
      promptTemplate: plan.promptTemplate,
      source: plan.source,
      catalogId: plan.catalogId,
      files: files.map((file, index) => ({
        role: file.role,
        fileName: file.path.slice(dir.length + 1),
        sha256: file.sha256,
        placement: supplier.placement,
        origin: plan.files[index]?.uri,
      })),
    });
    await supplier.afterInstall(files.map((f) => f.path));
    return { model, alreadyInstalled: false };
  })();
  return { id: plan.id, result, cancel: (options) => supplier.cancel(options) };
}
