// Chooses the backend: Tauri's IPC inside the app, the in-memory mock in a plain browser
// (`npm run dev:mock`) and in tests. The Tauri module is part of the main bundle (a few
// kB: loading it on demand would cost the app's first screen one more request); the mock
// is loaded only outside Tauri (the tests import it from `./mock`).
import { inTauri, type Backend } from './backend';
import { tauriBackend } from './tauri';

export { BackendError, FIRST_SCREEN_MAX_AGE_MS, inTauri, takeFirstScreen } from './backend';
export type { Backend, FirstScreen, SignInRequest, Unsubscribe } from './backend';

export async function createBackend(): Promise<Backend> {
  if (inTauri()) return tauriBackend;
  // In a plain browser: `?demo` starts signed in to the demo, `?sync` shows a first sync,
  // `?call` rings the line, `?accounts` offers a known account on the sign-in page,
  // `?dial=tel:…` arrives with a link to call, `?first` shows the first screen from the
  // "cache" while the start-up takes a second.
  const { MockBackend, mockOptionsFromUrl } = await import('./mock');
  return new MockBackend(typeof location === 'undefined' ? {} : mockOptionsFromUrl(location.search));
}
