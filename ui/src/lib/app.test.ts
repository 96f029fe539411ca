import { describe, expect, it } from 'vitest';
import { App } from './app.svelte';
import { MockBackend } from './backend/mock';
import type { AccountStatus, LineState } from './bindings';

describe('App', () => {
  it('is ready when the first sync finished while the state was still loading', async () => {
    // The shell's first sync can finish between the app reading the account and deciding
    // what to show: the app must not wait for a sync that is already over.
    const backend = new MockBackend({ signedIn: true, firstSync: true, syncStepMs: 100_000 });
    const original = backend.accountStatus.bind(backend);
    backend.accountStatus = async (): Promise<AccountStatus> => {
      const status = await original();
      // The cache was still empty when read; the sync ends right after.
      (backend as unknown as { emitSync(e: unknown): void }).emitSync({
        type: 'finished',
        account: status.account,
        failed_steps: [],
      });
      return { ...status, last_sync_at: null };
    };
    backend.settings = async () => [];
    const app = new App(backend);
    await app.start();
    expect(app.phase).toBe('ready');
    app.stop();
    backend.dispose();
  });

  it('keeps a line change that arrives while the line is being read', async () => {
    // The line registers while the first screen loads: the read was answered with the
    // state before the change, and its answer arrives after the change's event.
    const backend = new MockBackend({ signedIn: true });
    const connecting: LineState = {
      sip: 'on',
      lines: [{ line: 'sip:dana-pc@deskline.example', label: 'Dana Demo (PC)', state: 'connecting', reason: null }],
      ringing: [],
      missed: 0,
    };
    const registered: LineState = {
      ...connecting,
      lines: [{ ...connecting.lines[0], state: 'registered' }],
    };
    backend.lineState = async () => {
      backend.emitApp({ type: 'line_changed', state: registered });
      return connecting;
    };
    const app = new App(backend);
    await app.start();
    expect(app.line.lines[0].state).toBe('registered');
    app.stop();
    backend.dispose();
  });
});
