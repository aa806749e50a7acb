export * from './frames.js';
export * from './errors.js';
export * from './limits.js';
export * from './frame-types.js';
export * from './decode-error.js';
export * from './codec.js';
export * from './blob-http.js';
