// The first screen the shell reads from its cache at start: shown at once, then replaced
// by the live state, never shown where the start-up decides otherwise.
import { render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import { App, MARK_FIRST_SCREEN, MARK_LIVE_STATE } from './app.svelte';
import { FIRST_SCREEN_MAX_AGE_MS, takeFirstScreen, type FirstScreen } from './backend';
import { MockBackend } from './backend/mock';
import type { SettingView } from './bindings';
import Main from './Main.svelte';

const started: { app: App; backend: MockBackend }[] = [];

afterEach(() => {
  performance.clearMarks();
  for (const { app, backend } of started.splice(0)) {
    app.stop();
    backend.dispose();
  }
});

/** An app whose shell takes `startDelayMs` to start, with a first screen from the cache. */
function starting(startDelayMs: number, options: ConstructorParameters<typeof MockBackend>[0] = {}) {
  const backend = new MockBackend({ signedIn: true, firstScreen: true, startDelayMs, sendDelayMs: 40, ...options });
  const app = new App(backend);
  started.push({ app, backend });
  return { app, backend };
}

describe('the first screen from the cache', () => {
  it('is shown at once, before the start-up answers, then the live state replaces it', async () => {
    const { app, backend } = starting(200);
    // The cache said Do Not Disturb is off; by the time the shell answers it is on.
    const live = backend.settings.bind(backend);
    backend.settings = async (): Promise<SettingView[]> =>
      (await live()).map((v) =>
        v.key === 'do_not_disturb' ? { ...v, value: { key: 'do_not_disturb', value: { active: true, ring_splash: false } } } : v,
      );
    const starting_ = app.start();
    expect(app.phase).toBe('ready');
    expect(app.live).toBe(false);
    expect(app.status?.name).toBe('Dana Demo');
    expect(app.setting('do_not_disturb')?.value.value).toMatchObject({ active: false });
    expect(app.history?.logs.length).toBeGreaterThan(0);
    await starting_;
    expect(app.live).toBe(true);
    expect(app.phase).toBe('ready');
    expect(app.setting('do_not_disturb')?.value.value).toMatchObject({ active: true });
    // The page's timeline says so too (the end-to-end test reads it in the real app).
    const [painted] = performance.getEntriesByName(MARK_FIRST_SCREEN);
    const [liveState] = performance.getEntriesByName(MARK_LIVE_STATE);
    expect(painted).toBeDefined();
    expect(liveState).toBeDefined();
    expect(painted.startTime).toBeLessThan(liveState.startTime);
  });

  it('renders the home page with the cached line and recent calls in its first frame', async () => {
    const { app } = starting(10_000);
    void app.start();
    render(Main, { app });
    // Synchronously after the start: nothing has been asked from the shell yet.
    expect(screen.getByRole('heading', { level: 1, name: 'Dana Demo' })).toBeInTheDocument();
    expect(screen.getByText('2145551000')).toBeInTheDocument();
    expect(screen.getByText('Demo line: calls are simulated')).toBeInTheDocument();
    expect(screen.getByRole('switch', { name: 'Forward: When I am busy' })).toHaveAttribute('aria-checked', 'true');
    expect(screen.getByRole('heading', { name: 'Recent calls' })).toBeInTheDocument();
    expect(screen.queryByText('Loading…')).not.toBeInTheDocument();
    expect(screen.queryByText('Opening Deskline…')).not.toBeInTheDocument();
  });

  it('keeps the outbox status of a change that is still on its way', async () => {
    // A change queued before the app was closed is pending in the cache: the first screen
    // says so, it does not show it as synced.
    const backend = new MockBackend({ signedIn: true, sendDelayMs: 60_000 });
    const dnd = (await backend.settings()).find((v) => v.key === 'do_not_disturb');
    if (dnd?.value.key !== 'do_not_disturb') throw new Error('the demo has Do Not Disturb');
    await backend.editSetting({ key: 'do_not_disturb', value: { ...dnd.value.value, active: true } });
    const first: FirstScreen = {
      state: await backend.appState(),
      status: await backend.accountStatus(),
      settings: await backend.settings(),
      history: await backend.callHistory(),
      line: await backend.lineState(),
      read_at_ms: Date.now(),
    };
    backend.firstScreen = () => first;
    const slow = backend.appState.bind(backend);
    backend.appState = () => new Promise((resolve) => setTimeout(() => resolve(slow()), 10_000));
    const app = new App(backend);
    started.push({ app, backend });
    void app.start();
    render(Main, { app });
    expect(app.setting('do_not_disturb')?.status.status).toBe('pending');
    expect(screen.getByRole('switch', { name: 'Do Not Disturb' })).toHaveAttribute('aria-checked', 'true');
    expect(screen.getByText('1 change on the way to your provider.')).toBeInTheDocument();
  });

  it('does not say whether an account line is connected before the start-up says so', async () => {
    const backend = new MockBackend({ signedIn: true });
    const first: FirstScreen = {
      state: { ...(await backend.appState()), signed_in: { account: 'dana@xsp', user_id: 'dana@example.com', server: 'https://xsp.example.net/', demo: false } },
      status: await backend.accountStatus(),
      settings: await backend.settings(),
      history: await backend.callHistory(),
      line: null,
      read_at_ms: Date.now(),
    };
    backend.firstScreen = () => first;
    let answer: (() => void) | null = null;
    const slow = backend.lineState.bind(backend);
    backend.lineState = () =>
      new Promise((resolve) => {
        answer = () => resolve(slow());
      });
    const app = new App(backend);
    started.push({ app, backend });
    void app.start();
    render(Main, { app });
    expect(screen.getByText('Starting…')).toBeInTheDocument();
    expect(screen.queryByText('No soft-client line to connect')).not.toBeInTheDocument();
    await waitFor(() => expect(answer).not.toBeNull());
    answer!();
    expect(await screen.findByText('Demo line: calls are simulated')).toBeInTheDocument();
    expect(app.lineKnown).toBe(true);
  });

  it('gives way to the sign-in page when the start-up does not resume the account', async () => {
    const { app, backend } = starting(0);
    const live = backend.appState.bind(backend);
    backend.appState = async () => ({ ...(await live()), signed_in: null, start_error: 'The saved password was refused.' });
    await app.start();
    expect(app.phase).toBe('signed_out');
    expect(app.status).toBeNull();
    expect(app.settings).toEqual([]);
    expect(app.history).toBeNull();
    expect(app.live).toBe(true);
  });

  it('is not used without a cached line (the first sync page shows instead)', async () => {
    const { app, backend } = starting(0, { signedIn: false, firstSync: true, syncStepMs: 100_000 });
    const first = backend.firstScreen();
    expect(first?.status.last_sync_at).toBeNull();
    backend.firstScreen = () => first;
    await app.start();
    expect(app.phase).toBe('syncing');
  });
});

describe('takeFirstScreen', () => {
  const now = 1_800_000_000_000;
  const screenAt = (read_at_ms: number) =>
    ({
      state: { signed_in: { account: 'a', user_id: 'u', server: 's', demo: true }, known_accounts: [], preferences: { start_at_login: false, ring_window: true, ring_window_on_top: true }, version: '1', start_error: null },
      status: {},
      settings: [],
      history: { logs: [], calls: [] },
      line: null,
      read_at_ms,
    }) as unknown as FirstScreen;

  it('takes it once', () => {
    const holder: Record<string, unknown> = { k: screenAt(now) };
    expect(takeFirstScreen(holder, 'k', now)).not.toBeNull();
    expect(takeFirstScreen(holder, 'k', now)).toBeNull();
  });

  it('refuses one read long ago (a page loaded again much later) or malformed', () => {
    expect(takeFirstScreen({ k: screenAt(now - FIRST_SCREEN_MAX_AGE_MS - 1) }, 'k', now)).toBeNull();
    expect(takeFirstScreen({ k: screenAt(now - 1000) }, 'k', now)).not.toBeNull();
    expect(takeFirstScreen({ k: 'nonsense' }, 'k', now)).toBeNull();
    expect(takeFirstScreen({ k: { ...screenAt(now), state: { signed_in: null } } }, 'k', now)).toBeNull();
    expect(takeFirstScreen({}, 'k', now)).toBeNull();
  });
});
