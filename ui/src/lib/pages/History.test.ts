import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { startApp } from '../testing/harness';
import History from './History.svelte';

describe('History', () => {
  it('merges the provider logs with the calls Deskline saw, newest first, missed calls marked', async () => {
    const { app, backend } = await startApp();
    await backend.dial('2145551007', null); // placed now, not in the provider's log yet
    const call = backend.simulateIncomingCall({ number: '2145553333', name: 'New Caller' });
    backend.emitLine({ type: 'call_ended', call_id: call, line: 'l', reason: 'missed', at: new Date().toISOString() });
    render(History, { app });

    const table = await screen.findByRole('table');
    const rows = within(table).getAllByRole('row').slice(1);
    // 6 provider logs + 2 of Deskline's own.
    expect(rows).toHaveLength(8);
    const first = rows.slice(0, 2).map((r) => r.textContent);
    expect(first.some((t) => t?.includes('New Caller'))).toBe(true);
    expect(first.some((t) => t?.includes('2145551007') && t.includes('seen by Deskline'))).toBe(true);

    const missed = rows.filter((r) => r.getAttribute('data-kind') === 'missed');
    expect(missed).toHaveLength(3);
    missed.forEach((r) => {
      expect(r).toHaveClass('missed');
      expect(r).toHaveTextContent('Missed'); // not by colour alone
    });
  });

  it('calls back in one click and filters to missed calls', async () => {
    const { app, backend } = await startApp();
    render(History, { app });
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Call back Bea Carter' }));
    await waitFor(() => expect(backend.dialled).toEqual(['2145551003']));

    await user.click(screen.getByRole('radio', { name: 'Missed' }));
    const rows = within(screen.getByRole('table')).getAllByRole('row').slice(1);
    expect(rows.map((r) => r.getAttribute('data-kind'))).toEqual(['missed', 'missed']);
  });

  it('marks the missed calls as seen', async () => {
    const { app, backend } = await startApp();
    const call = backend.simulateIncomingCall();
    backend.emitLine({ type: 'call_ended', call_id: call, line: 'l', reason: 'missed', at: new Date().toISOString() });
    await waitFor(() => expect(app.line.missed).toBe(1));
    render(History, { app });
    await waitFor(() => expect(app.line.missed).toBe(0));
  });
});
