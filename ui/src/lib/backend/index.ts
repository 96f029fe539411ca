// Chooses the backend: Tauri's IPC inside the app, the in-memory mock in a plain browser
// (`npm run dev:mock`) and in tests. The Tauri module is loaded only inside Tauri.
import { inTauri, type Backend } from './backend';
import { MockBackend, mockOptionsFromUrl } from './mock';

export { BackendError, inTauri } from './backend';
export type { Backend, SignInRequest, Unsubscribe } from './backend';
export { MockBackend, mockOptionsFromUrl } from './mock';
export type { MockOptions } from './mock';

export async function createBackend(): Promise<Backend> {
  if (inTauri()) {
    const { tauriBackend } = await import('./tauri');
    return tauriBackend;
  }
  // In a plain browser: `?demo` starts signed in to the demo, `?sync` shows a first sync,
  // `?call` rings the line, `?accounts` offers a known account on the sign-in page,
  // `?dial=tel:…` arrives with a link to call.
  return new MockBackend(typeof location === 'undefined' ? {} : mockOptionsFromUrl(location.search));
}
