import { render, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { startApp } from '../testing/harness';
import Ringing from './Ringing.svelte';

async function page() {
  const started = await startApp();
  const { container } = render(Ringing, { app: started.app });
  const card = (key: string) => container.querySelector<HTMLElement>(`[data-setting="${key}"]`)!;
  const stored = async (key: string) => (await started.backend.settings()).find((s) => s.key === key)!;
  return { ...started, card, stored, user: userEvent.setup() };
}

describe('Ringing', () => {
  it('adds Simultaneous Ring numbers and reports a duplicate at the list', async () => {
    const { card, user, stored } = await page();
    const sim = card('simultaneous_ring_personal');
    await user.click(within(sim).getByRole('button', { name: 'Add a number' }));
    const second = within(sim).getByLabelText('Number 2');
    await waitFor(() => expect(second).toHaveFocus());
    await user.type(second, '2145550123');
    await user.click(within(sim).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(second).toHaveAccessibleDescription('2145550123 is listed twice'));

    await user.clear(second);
    await user.type(second, '2145550124');
    await user.click(within(sim).getByLabelText('Ring these numbers anyway'));
    await user.click(within(sim).getByRole('switch', { name: 'Ring other numbers at the same time' }));
    await waitFor(async () => {
      const v = await stored('simultaneous_ring_personal');
      expect(v.status.status).toBe('synced');
      expect(v.provider_value.value).toMatchObject({
        active: true,
        incoming_calls: 'ring_for_all_incoming_calls',
        locations: [{ address: '2145550123' }, { address: '2145550124', answer_confirmation_required: false }],
      });
    });
  });

  it('fills Sequential Ring slots and Anywhere numbers', async () => {
    const { card, user, stored } = await page();
    const seq = card('sequential_ring');
    await user.type(within(seq).getByLabelText('Number 3'), '2145550300');
    await user.selectOptions(within(seq).getByLabelText('Rings for number 3'), '5');
    await user.clear(within(seq).getByLabelText('Number 1'));
    await user.click(within(seq).getByRole('button', { name: 'Save' }));
    await waitFor(async () =>
      expect((await stored('sequential_ring')).provider_value.value).toMatchObject({
        locations: { '3': { address: '2145550300', number_of_rings: 5, answer_confirmation_required: false } },
      }),
    );
    expect(Object.keys(((await stored('sequential_ring')).provider_value.value as { locations: object }).locations)).toEqual(['3']);

    const anywhere = card('broadworks_anywhere');
    await user.type(within(anywhere).getByLabelText('Number to add'), '2145550400');
    await user.type(within(anywhere).getByLabelText('Description'), 'Home');
    await user.click(within(anywhere).getByRole('button', { name: 'Add' }));
    await user.click(within(anywhere).getByRole('button', { name: 'Remove 2145550123' }));
    await user.click(within(anywhere).getByRole('button', { name: 'Save' }));
    await waitFor(async () =>
      expect((await stored('broadworks_anywhere')).provider_value.value).toMatchObject({
        locations: { '2145550400': { phone_number: '2145550400', description: 'Home', active: true } },
      }),
    );
  });

  it('checks the Call Notify address at its field', async () => {
    const { card, user } = await page();
    const notify = card('call_notify');
    const email = within(notify).getByLabelText('E-mail address');
    await user.clear(email);
    await user.type(email, 'dana@localhost{Enter}');
    await waitFor(() => expect(email).toHaveAccessibleDescription('An e-mail address looks like name@example.com'));
  });
});
