/// <reference types="vitest/config" />
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { serviceWorkerPlugin } from './build/sw-plugin.ts';

export default defineConfig({
  // Relative asset URLs: the relay may serve the app at any path (a secret one in censored places).
  base: './',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1200,
  },
  plugins: [serviceWorkerPlugin()],
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    environment: 'node',
    alias: { 'node:test': fileURLToPath(new URL('./test/node-test-shim.ts', import.meta.url)) },
  },
});
