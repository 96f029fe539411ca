import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import Main from '../Main.svelte';
import { startApp } from '../testing/harness';

async function withRequest(destination = 'tel:+12145550100') {
  const started = await startApp();
  const { container } = render(Main, { app: started.app });
  const user = userEvent.setup();
  // Something was focused before the link arrived.
  const sync = await screen.findByRole('button', { name: 'Sync now' });
  sync.focus();
  started.backend.emitApp({ type: 'dial_request', destination });
  const dialog = await screen.findByRole('dialog', { name: 'Call +12145550100?' });
  return { ...started, container, dialog, user, sync };
}

describe('DialConfirm', () => {
  it('opens modal with the focus on Call and the page behind inert', async () => {
    const { dialog, container } = await withRequest();
    expect(dialog).toHaveAttribute('aria-modal', 'true');
    expect(dialog).toHaveAccessibleDescription(/A link asked Deskline to call tel:\+12145550100/);
    await waitFor(() => expect(within(dialog).getByRole('button', { name: 'Call' })).toHaveFocus());
    expect(container.querySelector('.layout')).toHaveAttribute('inert');
  });

  it('keeps Tab and Shift+Tab inside', async () => {
    const { dialog, user } = await withRequest();
    const call = within(dialog).getByRole('button', { name: 'Call' });
    const cancel = within(dialog).getByRole('button', { name: 'Cancel' });
    await waitFor(() => expect(call).toHaveFocus());
    await user.tab();
    expect(cancel).toHaveFocus();
    await user.tab();
    expect(call).toHaveFocus();
    await user.tab({ shift: true });
    expect(cancel).toHaveFocus();
  });

  it('Escape cancels without calling and gives the focus back', async () => {
    const { user, backend, app, sync, container } = await withRequest();
    await waitFor(() => expect(screen.getByRole('button', { name: 'Call' })).toHaveFocus());
    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(app.dialRequest).toBeNull();
    expect(backend.dialled).toEqual([]);
    // The shell's copy of the request is taken too: it does not come back at the next start.
    expect(await backend.takePendingDial()).toBeNull();
    expect(sync).toHaveFocus();
    expect(container.querySelector('.layout')).not.toHaveAttribute('inert');
  });

  it('Enter calls, from anywhere in the dialog', async () => {
    const { user, backend, dialog } = await withRequest();
    await waitFor(() => expect(within(dialog).getByRole('button', { name: 'Call' })).toHaveFocus());
    dialog.focus();
    await user.keyboard('{Enter}');
    await waitFor(() => expect(backend.dialled).toEqual(['tel:+12145550100']));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(await screen.findByText(/Calling tel:\+12145550100/)).toBeInTheDocument();
  });

  it('Enter on Cancel cancels', async () => {
    const { user, backend, dialog } = await withRequest();
    await waitFor(() => expect(within(dialog).getByRole('button', { name: 'Call' })).toHaveFocus());
    await user.tab();
    await user.keyboard('{Enter}');
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(backend.dialled).toEqual([]);
  });

  it('waits for the sign-in before asking', async () => {
    const { app, backend } = await startApp({ signedIn: false, pendingDial: 'tel:2145550100' });
    render(Main, { app });
    expect(app.dialRequest).toBe('tel:2145550100');
    expect(screen.queryByRole('dialog')).toBeNull();
    await backend.tryDemo();
    expect(await screen.findByRole('dialog', { name: 'Call 2145550100?' })).toBeInTheDocument();
  });
});
