/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// Node's `process` (the config runs in Node; @types/node is not a dependency).
declare const process: { env: Record<string, string | undefined> };

// The app is served by Tauri from ui/dist (no dev server in the committed config).
// `npm run dev:mock` serves the UI in a plain browser against the mock backend.
export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  build: {
    target: 'es2022',
    sourcemap: false,
    // One small bundle: the web view loads it from the binary, no network.
    cssCodeSplit: false,
  },
  server: { port: 5173, strictPort: true },
  resolve: process.env.VITEST ? { conditions: ['browser'] } : undefined,
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
    setupFiles: ['src/test-setup.ts'],
  },
});
