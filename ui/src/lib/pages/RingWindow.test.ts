import { render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import { MockBackend } from '../backend/mock';
import RingWindow from './RingWindow.svelte';

let backend: MockBackend;
afterEach(() => backend.dispose());

describe('RingWindow', () => {
  it('shows who calls and on which line, and declines', async () => {
    backend = new MockBackend({ signedIn: true, ringing: true });
    render(RingWindow, { backend });
    expect(await screen.findByRole('heading', { level: 1, name: 'Bea Carter' })).toBeInTheDocument();
    expect(screen.getByText('2145551003 · on 2145551000@deskline.example')).toBeInTheDocument();

    await userEvent.setup().click(screen.getByRole('button', { name: 'Decline' }));
    expect(backend.declined).toHaveLength(1);
    expect(await screen.findByRole('heading', { name: 'No call is ringing' })).toBeInTheDocument();
  });

  it('follows the line: a new call appears, an ended one goes', async () => {
    backend = new MockBackend({ signedIn: true });
    render(RingWindow, { backend });
    expect(await screen.findByRole('heading', { name: 'No call is ringing' })).toBeInTheDocument();
    const first = backend.simulateIncomingCall({ number: '2145550001' });
    backend.simulateIncomingCall({ number: '2145550002', name: 'Second Caller' });
    expect(await screen.findByRole('heading', { name: '2145550001' })).toBeInTheDocument();
    expect(screen.getByText(/1 more ringing/)).toBeInTheDocument();
    backend.emitLine({ type: 'call_ended', call_id: first, line: 'l', reason: 'answered_elsewhere', at: new Date().toISOString() });
    expect(await screen.findByRole('heading', { name: 'Second Caller' })).toBeInTheDocument();
  });

  it('opens the main window', async () => {
    backend = new MockBackend({ signedIn: true, ringing: true });
    render(RingWindow, { backend });
    await screen.findByRole('heading', { name: 'Bea Carter' });
    await userEvent.setup().click(screen.getByRole('button', { name: 'Open Deskline' }));
    await waitFor(() => expect(backend.opened).toEqual([null]));
  });
});
