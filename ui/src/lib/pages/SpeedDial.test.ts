import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { startApp } from '../testing/harness';
import SpeedDial from './SpeedDial.svelte';

describe('SpeedDial', () => {
  it('edits Speed Dial 8 and shows a bad number at its row', async () => {
    const { app, backend } = await startApp();
    const { container } = render(SpeedDial, { app });
    const card = container.querySelector<HTMLElement>('[data-setting="speed_dial_8"]')!;
    const user = userEvent.setup();
    await user.type(within(card).getByLabelText('Number for code 3'), '12-ab');
    await user.click(within(card).getByRole('button', { name: 'Save' }));
    const field = within(card).getByLabelText('Number for code 3');
    await waitFor(() => expect(field).toHaveAttribute('aria-invalid', 'true'));
    expect(field).toHaveAccessibleDescription(/is not a phone number/);
    expect(within(card).getByLabelText('Number for code 2')).not.toHaveAttribute('aria-invalid');

    await user.clear(field);
    await user.type(field, '2145550103');
    await user.type(within(card).getByLabelText('Description for code 3'), 'Reception');
    // Emptying a row removes the code.
    await user.clear(within(card).getByLabelText('Number for code 5'));
    await user.clear(within(card).getByLabelText('Description for code 5'));
    await user.click(within(card).getByRole('button', { name: 'Save' }));
    await waitFor(async () => {
      const v = (await backend.settings()).find((s) => s.key === 'speed_dial_8')!;
      expect(v.status.status).toBe('synced');
      expect(v.provider_value.value).toEqual({
        entries: { '2': { number: '2145550100', description: 'Front desk' }, '3': { number: '2145550103', description: 'Reception' } },
      });
    });
  });

  it('adds and removes Speed Dial 100 codes', async () => {
    const { app, backend } = await startApp();
    const { container } = render(SpeedDial, { app });
    const card = container.querySelector<HTMLElement>('[data-setting="speed_dial_100"]')!;
    const user = userEvent.setup();
    await user.type(within(card).getByLabelText('Code'), '10');
    await user.type(within(card).getByLabelText('Number'), '2145550999');
    await user.click(within(card).getByRole('button', { name: 'Add' }));
    expect(within(card).getByRole('alert')).toHaveTextContent('Code 10 is already used');

    await user.clear(within(card).getByLabelText('Code'));
    await user.type(within(card).getByLabelText('Code'), '07');
    await user.click(within(card).getByRole('button', { name: 'Add' }));
    await user.click(within(card).getByRole('button', { name: 'Save' }));
    expect(await within(card).findByText('Write speed codes without leading zeros')).toBeInTheDocument();

    await user.click(within(card).getByRole('button', { name: 'Remove code 07' }));
    await user.click(within(card).getByRole('button', { name: 'Remove code 10' }));
    await user.click(within(card).getByRole('button', { name: 'Save' }));
    await waitFor(async () => {
      const v = (await backend.settings()).find((s) => s.key === 'speed_dial_100')!;
      expect(v.provider_value.value).toEqual({ prefix: '#', entries: {} });
    });
  });
});
