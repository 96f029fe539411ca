// Test helpers: an App over the mock backend, started like the real one, and cleaned up
// after each test. Only test files import this.
import { afterEach } from 'vitest';
import { App } from '../app.svelte';
import { MockBackend, type MockOptions } from '../backend/mock';
import type { Page } from '../settings';

const started: { app: App; backend: MockBackend }[] = [];

afterEach(() => {
  for (const { app, backend } of started.splice(0)) {
    app.stop();
    backend.dispose();
  }
});

/** A signed-in demo app (unless `options` say otherwise) on `page`, with quick sends. */
export async function startApp(options: MockOptions = {}, page?: Page): Promise<{ app: App; backend: MockBackend }> {
  const backend = new MockBackend({ sendDelayMs: 40, signedIn: true, ...options });
  const app = new App(backend);
  started.push({ app, backend });
  await app.start(page);
  return { app, backend };
}
