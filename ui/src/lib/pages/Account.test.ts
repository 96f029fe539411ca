import { render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import { startApp } from '../testing/harness';
import Account from './Account.svelte';

afterEach(() => {
  localStorage.clear();
  document.documentElement.removeAttribute('data-theme');
});

describe('Account', () => {
  it('saves preferences and the theme', async () => {
    const { app, backend } = await startApp();
    render(Account, { app });
    const user = userEvent.setup();
    await user.click(screen.getByLabelText('Start Deskline when I log in to this computer'));
    await waitFor(async () => expect((await backend.appState()).preferences.start_at_login).toBe(true));
    expect(app.state?.preferences.start_at_login).toBe(true);

    await user.click(screen.getByLabelText('Show a small window when a call rings'));
    await waitFor(() => expect(screen.getByLabelText('Keep that window on top of other windows')).toBeDisabled());

    await user.click(screen.getByRole('radio', { name: 'Dark' }));
    expect(document.documentElement).toHaveAttribute('data-theme', 'dark');
    expect(localStorage.getItem('deskline.theme')).toBe('dark');
    await user.click(screen.getByRole('radio', { name: 'Same as the system' }));
    expect(document.documentElement).not.toHaveAttribute('data-theme');
  });

  it('does not drop unsent changes without asking', async () => {
    const { app, backend } = await startApp({ firstSync: false, signedIn: false });
    // A real (non-demo) account with a change still waiting for the provider.
    await backend.signIn({ server: 'https://xsp.deskline.example', userId: 'dana@deskline.example', password: 'Deskline-demo-1', signInAutomatically: true });
    await waitFor(async () => expect((await backend.settings()).length).toBe(16), { timeout: 3000 });
    await app.loadState();
    backend.offline = true;
    await app.applyEdit({ key: 'call_waiting', value: { active: false } });
    render(Account, { app });
    const user = userEvent.setup();

    await user.click(screen.getByRole('button', { name: 'Sign out' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('1 change(s) have not reached your provider yet');
    expect(app.phase).toBe('ready');
    await user.click(screen.getByRole('button', { name: 'Sign out anyway and drop them' }));
    await waitFor(() => expect(app.phase).toBe('signed_out'));
    // Signed out but remembered: the sign-in page offers the account again.
    expect(app.state?.known_accounts.map((k) => k.user_id)).toEqual(['dana@deskline.example']);
  });

  it('forgets the account after confirming', async () => {
    const { app, backend } = await startApp({ signedIn: false, syncStepMs: 1 });
    await backend.signIn({ server: 'https://xsp.deskline.example', userId: 'dana@deskline.example', password: 'Deskline-demo-1', signInAutomatically: true });
    await app.loadState();
    render(Account, { app });
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Sign out and forget…' }));
    const confirm = screen.getByRole('button', { name: 'Forget and sign out' });
    expect(confirm).toHaveFocus();
    await user.click(confirm);
    await waitFor(() => expect(app.phase).toBe('signed_out'));
    expect(app.state?.known_accounts).toEqual([]);
  });
});
