import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { startApp } from '../testing/harness';
import Home from './Home.svelte';

describe('Home', () => {
  it('shows the line at a glance', async () => {
    const { app } = await startApp();
    render(Home, { app });
    expect(screen.getByRole('heading', { level: 1, name: 'Dana Demo' })).toBeInTheDocument();
    expect(screen.getByText('2145551000')).toBeInTheDocument();
    expect(screen.getByText('Demo line: calls are simulated')).toBeInTheDocument();
    expect(screen.getByRole('switch', { name: 'Forward: When I am busy' })).toHaveAttribute('aria-checked', 'true');
    // No number to forward to yet: set it up instead of a switch.
    expect(screen.getByRole('button', { name: /Set up forwarding when my phone is unreachable/ })).toBeInTheDocument();
  });

  it('toggles Do Not Disturb and forwarding in one click', async () => {
    const { app, backend } = await startApp();
    render(Home, { app });
    const user = userEvent.setup();
    const dnd = screen.getByRole('switch', { name: 'Do Not Disturb' });
    await user.click(dnd);
    await waitFor(() => expect(dnd).toHaveAttribute('aria-checked', 'true'));
    await user.click(screen.getByRole('switch', { name: 'Forward: All calls' }));
    await waitFor(async () => {
      const s = await backend.accountStatus();
      expect(s.do_not_disturb).toBe(true);
      expect(s.forwarding.find((f) => f.kind === 'always')).toMatchObject({ active: true, to: '2145550100', pending: false });
    });
  });

  it('a refused toggle stays as it was and says why', async () => {
    const { app, backend } = await startApp();
    render(Home, { app });
    backend.editSetting = async () => {
      throw new (await import('../backend')).BackendError('network', 'Deskline could not save the change.');
    };
    const dnd = screen.getByRole('switch', { name: 'Do Not Disturb' });
    await userEvent.setup().click(dnd);
    await waitFor(() => expect(app.toasts.map((t) => t.text)).toContain('Deskline could not save the change.'));
    expect(dnd).toHaveAttribute('aria-checked', 'false');
  });

  it('lists recent calls with click-to-dial, and a ringing call with Decline', async () => {
    const { app, backend } = await startApp({ ringing: true });
    render(Home, { app });
    const user = userEvent.setup();
    const recent = screen.getByRole('region', { name: 'Recent calls' });
    await user.click(await within(recent).findByRole('button', { name: 'Call Bea Carter' }));
    await waitFor(() => expect(backend.dialled).toEqual(['2145551003']));

    const ringing = screen.getByRole('region', { name: 'Incoming call' });
    await user.click(within(ringing).getByRole('button', { name: 'Decline the call from Bea Carter' }));
    await waitFor(() => expect(screen.queryByRole('region', { name: 'Incoming call' })).toBeNull());
    expect(backend.declined).toHaveLength(1);
  });
});
