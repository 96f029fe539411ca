// Every screen of the app, rendered against the mock backend, checked with axe-core: any
// violation of impact "serious" or "critical" fails.
//
// jsdom has no layout and no rendering, so the rules that need them are off here (the
// app_desktop e2e suite runs axe-core with every rule in the real web view, on every page
// in the light theme and on the home page in the dark one):
// - color-contrast, link-in-text-block: need computed colours of rendered pixels (canvas);
// - target-size: needs the boxes' real sizes (every box is 0×0 in jsdom).
// The document gets the language and title that index.html gives it.
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import axe from 'axe-core';
import { beforeAll, describe, expect, it } from 'vitest';
import Main from './Main.svelte';
import RingWindow from './pages/RingWindow.svelte';
import { MockBackend } from './backend/mock';
import { PAGES, type Page } from './settings';
import { startApp } from './testing/harness';

beforeAll(() => {
  document.documentElement.lang = 'en';
  document.title = 'Deskline';
  // jsdom has no canvas; axe then skips its icon-font heuristics instead of logging errors.
  HTMLCanvasElement.prototype.getContext = (() => null) as typeof HTMLCanvasElement.prototype.getContext;
});

async function check(label: string) {
  const result = await axe.run(document.body, {
    rules: {
      'color-contrast': { enabled: false },
      'link-in-text-block': { enabled: false },
      'target-size': { enabled: false },
    },
    resultTypes: ['violations'],
  });
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const report = bad.map((v) => `${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.map((n) => n.html).join('\n  ')}`);
  expect(report, `${label}\n${report.join('\n')}`).toEqual([]);
}

/** Waits until nothing on the page says it is loading. */
async function settled() {
  await waitFor(() => expect(screen.queryAllByText(/^(Loading…|Asking your provider…|Checking your line…)$/)).toEqual([]));
}

describe('accessibility (axe)', () => {
  it('the check itself catches a violation in jsdom', async () => {
    const bad = document.createElement('div');
    bad.innerHTML = '<input type="text"><button></button>';
    document.body.append(bad);
    await expect(check('self-test')).rejects.toThrow(/label \(critical\)|button-name \(critical\)/);
    bad.remove();
  });

  it.each(PAGES.map((p) => [p.id] as [Page]))('the %s page', async (page) => {
    const { app } = await startApp({}, page);
    render(Main, { app });
    await screen.findByRole('heading', { level: 1 });
    await settled();
    await check(page);
  });

  it('the sign-in page, empty and with errors', async () => {
    const { app } = await startApp({
      signedIn: false,
      knownAccounts: [{ account: 'a', user_id: 'jdoe@example.com', server: 'https://xsp.example.net/', sign_in_automatically: true }],
      startError: 'The keychain has no password: sign in again.',
    });
    render(Main, { app });
    await screen.findByRole('heading', { name: 'Sign in to Deskline' });
    await check('sign-in');
    const user = userEvent.setup();
    await user.type(screen.getByLabelText('User ID'), 'nope');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(screen.getByLabelText('Server address')).toHaveAttribute('aria-invalid', 'true'));
    await check('sign-in with a field error');
    await user.type(screen.getByLabelText('Server address'), 'https://xsp.example.net');
    await user.clear(screen.getByLabelText('User ID'));
    await user.type(screen.getByLabelText('User ID'), 'jdoe@example.com');
    await user.type(screen.getByLabelText('Password'), 'bad');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    await screen.findByText(/not accepted/);
    await check('sign-in refused');
  });

  it('the first sync', async () => {
    const { app } = await startApp({ firstSync: true, syncStepMs: 50 });
    render(Main, { app });
    await waitFor(() => expect(screen.getByRole('progressbar')).toHaveAttribute('aria-valuenow'));
    await check('syncing');
  });

  it('settings in every state: error at a field, conflict, refusal, waiting', async () => {
    const { app, backend } = await startApp({ sendDelayMs: 10_000 }, 'forwarding');
    const { container } = render(Main, { app });
    const user = userEvent.setup();
    const card = (key: string) => container.querySelector<HTMLElement>(`[data-setting="${key}"]`)!;
    await screen.findByRole('heading', { name: 'Forwarding' });

    const busy = within(card('call_forwarding_busy')).getByLabelText('Forward to');
    await user.clear(busy);
    await user.type(busy, 'nope{Enter}');
    await waitFor(() => expect(busy).toHaveAttribute('aria-invalid', 'true'));

    await user.click(within(card('call_forwarding_no_answer')).getByRole('switch'));
    backend.providerChanges({ key: 'call_forwarding_no_answer', value: { active: true, forward_to: '2145550999', number_of_rings: 3 } });
    await within(card('call_forwarding_no_answer')).findByRole('button', { name: 'Keep mine' });

    backend.refuseNext = 'Not allowed';
    await user.click(within(card('call_forwarding_always')).getByRole('switch'));
    await waitFor(() => expect(card('call_forwarding_always').querySelector('[data-status="pending"]')).not.toBeNull());
    backend.flush();
    await within(card('call_forwarding_always')).findByRole('button', { name: 'Dismiss' });

    backend.offline = true;
    await user.click(within(card('call_forwarding_not_reachable')).getByRole('switch'));
    await check('forwarding with errors');
  });

  it('the directory with results, the dial dialog and messages', async () => {
    const { app, backend } = await startApp({}, 'directory');
    render(Main, { app });
    const user = userEvent.setup();
    await user.type(await screen.findByRole('combobox'), 'al');
    await waitFor(() => expect(screen.getAllByRole('option')).toHaveLength(3));
    await user.keyboard('{ArrowDown}');
    app.toast('info', 'Your line is up to date.');
    app.toast('error', 'Something failed.');
    await check('directory results');

    backend.emitApp({ type: 'dial_request', destination: 'sip:alice@deskline.example' });
    await screen.findByRole('dialog');
    await check('dial dialog');
  });

  it('the home page with a call ringing and changes to review', async () => {
    const { app, backend } = await startApp({ ringing: true, sendDelayMs: 10_000 });
    backend.refuseNext = 'No';
    await app.applyEdit({ key: 'call_waiting', value: { active: false } });
    backend.flush();
    render(Main, { app });
    await screen.findByRole('heading', { name: 'Incoming call' });
    await screen.findByRole('heading', { name: 'Changes' });
    await settled();
    await check('home, busy');
  });

  it('the ringing window, ringing and idle', async () => {
    const backend = new MockBackend({ signedIn: true, ringing: true });
    render(RingWindow, { backend });
    await screen.findByRole('heading', { name: 'Bea Carter' });
    await check('ringing window');
    await userEvent.setup().click(screen.getByRole('button', { name: 'Decline' }));
    await screen.findByRole('heading', { name: 'No call is ringing' });
    await check('ringing window, idle');
    backend.dispose();
  });
});
