import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import Main from './Main.svelte';
import { startApp } from './testing/harness';

describe('Main window keyboard', () => {
  it('Ctrl+W closes the window to the tray; other keys do not', async () => {
    const { app, backend } = await startApp();
    render(Main, { app });
    expect(await screen.findByRole('heading', { level: 1, name: 'Dana Demo' })).toBeInTheDocument();
    const user = userEvent.setup();
    await user.keyboard('w');
    await user.keyboard('{Alt>}w{/Alt}');
    expect(backend.closedWindows).toBe(0);
    await user.keyboard('{Control>}w{/Control}');
    expect(backend.closedWindows).toBe(1);
  });

  it('Alt+number opens the page in that place of the navigation', async () => {
    const { app } = await startApp();
    render(Main, { app });
    await screen.findByRole('heading', { level: 1, name: 'Dana Demo' });
    const user = userEvent.setup();
    await user.keyboard('{Alt>}2{/Alt}');
    expect(app.page).not.toBe('home');
  });
});
