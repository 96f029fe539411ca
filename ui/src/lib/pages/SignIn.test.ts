import { render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { startApp } from '../testing/harness';
import SignIn from './SignIn.svelte';

async function signedOut(options = {}) {
  const { app, backend } = await startApp({ signedIn: false, ...options });
  expect(app.phase).toBe('signed_out');
  render(SignIn, { app });
  return { app, backend, user: userEvent.setup() };
}

describe('SignIn', () => {
  it('shows a refused sign-in as an alert with the backend’s words', async () => {
    const { user, app } = await signedOut();
    await user.type(screen.getByLabelText('Server address'), 'https://xsp.example.net');
    await user.type(screen.getByLabelText('User ID'), 'jdoe@example.com');
    await user.type(screen.getByLabelText('Password'), 'wrong');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));

    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('The user ID or password was not accepted; check them and sign in again');
    expect(app.phase).toBe('signed_out');
    // Not about one field: no field is marked.
    expect(screen.getByLabelText('Password')).not.toHaveAttribute('aria-invalid');
  });

  it('shows a validation error next to its field and moves the focus there', async () => {
    const { user } = await signedOut();
    await user.type(screen.getByLabelText('Server address'), 'xsp.example.net');
    await user.type(screen.getByLabelText('User ID'), 'not-an-email');
    await user.type(screen.getByLabelText('Password'), 'x');
    await user.keyboard('{Enter}');

    const field = screen.getByLabelText('User ID');
    await waitFor(() => expect(field).toHaveAttribute('aria-invalid', 'true'));
    expect(field).toHaveAccessibleDescription('A user ID is in e-mail form, for example jdoe@example.com');
    expect(field).toHaveFocus();
    expect(screen.getByLabelText('Server address')).not.toHaveAttribute('aria-invalid');

    // An unknown server is about the server field.
    await user.clear(screen.getByLabelText('Server address'));
    await user.type(screen.getByLabelText('Server address'), 'https://nowhere.invalid');
    await user.clear(field);
    await user.type(field, 'jdoe@example.com');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(screen.getByLabelText('Server address')).toHaveAttribute('aria-invalid', 'true'));
    expect(screen.getByLabelText('Server address')).toHaveAccessibleDescription(/No server named https:\/\/nowhere\.invalid could be found/);
    expect(field).not.toHaveAttribute('aria-invalid');
  });

  it('disables the buttons while signing in, then starts the first sync', async () => {
    const { user, app } = await signedOut({ syncStepMs: 5 });
    await user.type(screen.getByLabelText('Server address'), 'https://xsp.deskline.example');
    await user.type(screen.getByLabelText('User ID'), 'dana@deskline.example');
    await user.type(screen.getByLabelText('Password'), 'Deskline-demo-1');
    const submit = screen.getByRole('button', { name: 'Sign in' });
    const click = user.click(submit);
    await waitFor(() => expect(screen.getByRole('button', { name: /Signing in/ })).toBeDisabled());
    expect(screen.getByRole('button', { name: 'Try the demo' })).toBeDisabled();
    await click;
    await waitFor(() => expect(app.phase).not.toBe('signed_out'));
    // The fresh account has no cache yet: the first sync runs, then the app is ready.
    await waitFor(() => expect(app.phase).toBe('ready'), { timeout: 2000 });
    expect(app.state?.signed_in?.user_id).toBe('dana@deskline.example');
  });

  it('opens the demo in one click', async () => {
    const { user, app } = await signedOut();
    await user.click(screen.getByRole('button', { name: 'Try the demo' }));
    await waitFor(() => expect(app.phase).toBe('ready'));
    expect(app.state?.signed_in?.demo).toBe(true);
    expect(app.settings.length).toBeGreaterThan(0);
  });

  it('offers the accounts this computer knows and the start-up error', async () => {
    const { user } = await signedOut({
      knownAccounts: [{ account: 'a', user_id: 'jdoe@example.com', server: 'https://xsp.example.net/', sign_in_automatically: false }],
      startError: 'The keychain has no password for jdoe@example.com: sign in again.',
    });
    expect(screen.getByRole('status')).toHaveTextContent('The keychain has no password');
    await user.click(screen.getByRole('button', { name: /jdoe@example\.com/ }));
    expect(screen.getByLabelText('Server address')).toHaveValue('https://xsp.example.net/');
    expect(screen.getByLabelText('User ID')).toHaveValue('jdoe@example.com');
    expect(screen.getByLabelText('Sign in automatically')).not.toBeChecked();
    await waitFor(() => expect(screen.getByLabelText('Password')).toHaveFocus());
  });
});
