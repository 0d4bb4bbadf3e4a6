/**
 * @falai/gallery: a self-contained static site of what falai made (cards with the output,
 * prompt, model, seed, cost, date, request id, a rerun command and lineage), built from store
 * records and their saved files, and a small live server on 127.0.0.1 that rebuilds it as jobs
 * finish. A front end: it reads records through `@falai/core`'s public API and decides nothing
 * about requests.
 */
export {
  type BuildGalleryOptions,
  buildGallery,
  type GallerySummary,
  MARKER_FILE,
  mediaStem,
} from './build.js';
export { GalleryError, type GalleryErrorCode } from './errors.js';
export { escapeHtml, jsonForScript, shellWord } from './escape.js';
export {
  type GalleryCost,
  type GalleryInput,
  type GalleryItem,
  type GalleryMedia,
  indexOutputs,
  inputsOf,
  readCost,
  seedText,
} from './items.js';
export { contentSecurityPolicy, type GalleryData, renderPage } from './page.js';
export { type GalleryServer, type ServeGalleryOptions, serveGallery } from './server.js';
