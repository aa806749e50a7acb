export * from './frames.js';
export * from './errors.js';
