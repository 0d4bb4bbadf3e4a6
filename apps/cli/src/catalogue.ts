import type { FalaiSettings, ModelCatalogue } from '@falai/core';

/** What the CLI's catalogue is built from (a command's settings, key and folders). */
export interface CliCatalogueOptions {
  readonly settings: FalaiSettings;
  /** oclif's cache folder: `FALAI_CACHE_DIR`, else `$XDG_CACHE_HOME/falai`, else `~/.cache/falai`. */
  readonly cacheDir: string;
  /** The key as the command resolves it (`--key` first), read only when a call needs it. */
  readonly key: () => Promise<string>;
  readonly userAgent: string;
}

/**
 * fal's catalogue with its cache in falai's cache folder, at the Platform API the settings
 * name (`FALAI_API_URL`, or `<FALAI_BASE_URL>/v1` for the emulator). Loaded only by commands
 * that use it: the model registry (definitions of endpoints without a model file), `models
 * search`, `pricing`, `models import <endpoint>`.
 */
export async function openCatalogue(options: CliCatalogueOptions): Promise<ModelCatalogue> {
  const { createModelCatalogue } = await import('@falai/core');
  return createModelCatalogue({
    cacheDir: options.cacheDir,
    settings: options.settings,
    credentials: options.key,
    userAgent: options.userAgent,
  });
}

/** `0.15 USD/images`, `0.0004 USD/1000 characters`: a unit price as fal states it. */
export function priceText(price: {
  readonly unitPrice: number;
  readonly unit: string;
  readonly currency: string;
}): string {
  return `${price.unitPrice} ${price.currency}/${price.unit}`;
}
