import { render, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { startApp } from '../testing/harness';
import Syncing from './Syncing.svelte';

describe('Syncing', () => {
  it('shows the first sync as a progress bar, then the app is ready', async () => {
    const { app } = await startApp({ firstSync: true, syncStepMs: 15 });
    expect(app.phase).toBe('syncing');
    render(Syncing, { app });
    const bar = screen.getByRole('progressbar', { name: 'First sync' });
    await waitFor(() => expect(Number(bar.getAttribute('aria-valuenow'))).toBeGreaterThan(0));
    expect(bar).toHaveAttribute('aria-valuemin', '0');
    expect(bar).toHaveAttribute('aria-valuemax', '22');
    expect(bar.getAttribute('aria-valuetext')).toMatch(/^\d+ of 22 steps, just read /);
    expect(screen.getByText(/^Read: /)).toBeInTheDocument();
    await waitFor(() => expect(app.phase).toBe('ready'), { timeout: 3000 });
    await waitFor(() => expect(app.settings.length).toBe(16));
  });
});
