import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { startApp } from '../testing/harness';
import Toasts from './Toasts.svelte';

describe('Toasts', () => {
  it('announces information politely and errors assertively, and can be dismissed', async () => {
    const { app } = await startApp();
    const { container } = render(Toasts, { app });
    app.toast('info', 'Your line is up to date.');
    app.toast('error', 'The provider could not be reached.');
    const polite = container.querySelector('[aria-live="polite"]')!;
    const assertive = container.querySelector('[aria-live="assertive"]')!;
    expect(await within(polite as HTMLElement).findByText('Your line is up to date.')).toBeInTheDocument();
    expect(within(assertive as HTMLElement).getByText('The provider could not be reached.')).toBeInTheDocument();

    await userEvent.setup().click(screen.getByRole('button', { name: 'Dismiss message: The provider could not be reached.' }));
    expect(screen.queryByText('The provider could not be reached.')).toBeNull();
    expect(app.toasts.map((t) => t.text)).toEqual(['Your line is up to date.']);
  });
});
