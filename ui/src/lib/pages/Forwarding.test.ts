import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { startApp } from '../testing/harness';
import Forwarding from './Forwarding.svelte';

async function page(options = {}) {
  const started = await startApp(options);
  const { container } = render(Forwarding, { app: started.app });
  const card = (key: string) => container.querySelector<HTMLElement>(`[data-setting="${key}"]`)!;
  return { ...started, card, user: userEvent.setup() };
}

const badge = (card: HTMLElement) => card.querySelector('[data-status]')!;

describe('Forwarding', () => {
  it('sends an edit: pending, then synced, and the provider has it', async () => {
    const { card, user, backend } = await page({ sendDelayMs: 60 });
    const always = card('call_forwarding_always');
    const number = within(always).getByLabelText('Forward to');
    expect(number).toHaveValue('2145550100');
    expect(badge(always)).toHaveAttribute('data-status', 'synced');

    await user.clear(number);
    await user.type(number, '2145550111');
    // Save and Revert appear once the draft differs.
    await user.click(within(always).getByRole('button', { name: 'Save' }));

    await waitFor(() => expect(badge(always)).toHaveAttribute('data-status', 'pending'));
    expect(badge(always)).toHaveTextContent('Sending…');
    expect(within(always).queryByRole('button', { name: 'Save' })).toBeNull();

    await waitFor(() => expect(badge(always)).toHaveAttribute('data-status', 'synced'), { timeout: 2000 });
    expect(badge(always)).toHaveTextContent('Saved');
    expect(number).toHaveValue('2145550111');
    const stored = (await backend.settings()).find((s) => s.key === 'call_forwarding_always')!;
    expect(stored.provider_value).toEqual({ key: 'call_forwarding_always', value: { active: false, forward_to: '2145550111', ring_splash: false } });
  });

  it('shows a refused number next to the field, and Enter saves', async () => {
    const { card, user } = await page();
    const busy = card('call_forwarding_busy');
    const number = within(busy).getByLabelText('Forward to');
    await user.clear(number);
    await user.type(number, 'call me{Enter}');

    await waitFor(() => expect(number).toHaveAttribute('aria-invalid', 'true'));
    expect(number).toHaveAccessibleDescription(/'call me' is not a phone number/);
    expect(number).toHaveFocus();
    // Shown at the field only, not a second time below the form.
    expect(within(busy).getAllByText(/is not a phone number/)).toHaveLength(1);
    expect(badge(busy)).toHaveAttribute('data-status', 'synced');
    // The draft stays for correcting; editing clears the stale message.
    expect(within(busy).getByRole('button', { name: 'Revert' })).toBeInTheDocument();
    await user.type(number, 'x');
    expect(number).not.toHaveAttribute('aria-invalid');
  });

  it('turning on without a number marks the number field', async () => {
    const { card, user } = await page();
    const unreachable = card('call_forwarding_not_reachable');
    const toggle = within(unreachable).getByRole('switch', { name: 'When my phone is unreachable' });
    expect(toggle).toHaveAttribute('aria-checked', 'false');
    await user.click(toggle);
    const number = within(unreachable).getByLabelText('Forward to');
    await waitFor(() => expect(number).toHaveAttribute('aria-invalid', 'true'));
    expect(number).toHaveAccessibleDescription('Turning this on needs a number to forward to');

    await user.type(number, '2145559000');
    await user.click(within(unreachable).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(toggle).toHaveAttribute('aria-checked', 'true'));
    await waitFor(() => expect(badge(unreachable)).toHaveAttribute('data-status', 'synced'), { timeout: 2000 });
  });

  it('the switch saves at once', async () => {
    const { card, user, backend } = await page();
    const busy = card('call_forwarding_busy');
    const toggle = within(busy).getByRole('switch', { name: 'When I am busy' });
    expect(toggle).toHaveAttribute('aria-checked', 'true');
    await user.click(toggle);
    await waitFor(() => expect(toggle).toHaveAttribute('aria-checked', 'false'));
    await waitFor(async () => {
      const v = (await backend.settings()).find((s) => s.key === 'call_forwarding_busy')!;
      expect(v.status.status).toBe('synced');
      expect(v.provider_value.value).toMatchObject({ active: false, forward_to: '2145551999' });
    });
  });

  it('holds a conflict until the user keeps theirs or mine', async () => {
    const { card, user, backend } = await page({ sendDelayMs: 10_000 });
    const noAnswer = card('call_forwarding_no_answer');
    await user.selectOptions(within(noAnswer).getByLabelText('After'), '6 rings');
    await user.click(within(noAnswer).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(badge(noAnswer)).toHaveAttribute('data-status', 'pending'));

    // Someone changes it on the provider's portal meanwhile.
    backend.providerChanges({ key: 'call_forwarding_no_answer', value: { active: true, forward_to: '2145550999', number_of_rings: 3 } });
    await waitFor(() => expect(badge(noAnswer)).toHaveAttribute('data-status', 'conflict'));
    const alert = within(noAnswer).getByRole('alert');
    expect(alert).toHaveTextContent('Yours: On, to 2145551999 after 6 rings');
    expect(alert).toHaveTextContent("Your provider's: On, to 2145550999 after 3 rings");

    await user.click(within(noAnswer).getByRole('button', { name: 'Take theirs' }));
    await waitFor(() => expect(badge(noAnswer)).toHaveAttribute('data-status', 'synced'));
    expect(within(noAnswer).getByLabelText('Forward to')).toHaveValue('2145550999');
    expect(within(noAnswer).getByLabelText('After')).toHaveValue('3');
  });

  it('keeps mine after a conflict, and shows a refusal', async () => {
    const { card, user, backend } = await page({ sendDelayMs: 10_000 });
    const always = card('call_forwarding_always');
    await user.click(within(always).getByLabelText('Ring my phone briefly when a call is forwarded'));
    await user.click(within(always).getByRole('button', { name: 'Save' }));
    backend.providerChanges({ key: 'call_forwarding_always', value: { active: true, forward_to: '2145550100', ring_splash: false } });
    await waitFor(() => expect(badge(always)).toHaveAttribute('data-status', 'conflict'));

    backend.refuseNext = 'Ring splash is not allowed on this line';
    await user.click(within(always).getByRole('button', { name: 'Keep mine' }));
    await waitFor(() => expect(badge(always)).toHaveAttribute('data-status', 'pending'));
    backend.flush();
    await waitFor(() => expect(badge(always)).toHaveAttribute('data-status', 'failed'));
    expect(within(always).getByRole('alert')).toHaveTextContent('Your provider refused the change: Ring splash is not allowed on this line');
    await user.click(within(always).getByRole('button', { name: 'Dismiss' }));
    await waitFor(() => expect(badge(always)).toHaveAttribute('data-status', 'synced'));
  });

  it('says when the provider cannot be reached and lets the change be undone', async () => {
    const { card, user, backend } = await page();
    backend.offline = true;
    const busy = card('call_forwarding_busy');
    await user.click(within(busy).getByRole('switch'));
    await waitFor(() => expect(badge(busy)).toHaveTextContent('Waiting'));
    expect(within(busy).getByRole('status')).toHaveTextContent(/could not be reached/);
    await user.click(within(busy).getByRole('button', { name: 'Undo my change' }));
    await waitFor(() => expect(badge(busy)).toHaveAttribute('data-status', 'synced'));
    expect(within(busy).getByRole('switch')).toHaveAttribute('aria-checked', 'true');
  });
});
