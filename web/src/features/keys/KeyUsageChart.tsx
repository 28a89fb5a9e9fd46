import { BarChart } from '@mantine/charts';
import '@mantine/charts/styles.css';
import dayjs from 'dayjs';
import { eachDay } from '../../lib/days';
import type { KeyUsage, Outcome } from '../../lib/types';

const SERIES: Array<{ name: Outcome; label: string; color: string }> = [
  { name: 'success', label: 'Succeeded', color: 'teal.6' },
  { name: 'client_error', label: 'Client errors', color: 'yellow.6' },
  { name: 'server_error', label: 'Server errors', color: 'red.6' },
  { name: 'rejected', label: 'Rejected (bad key or limits)', color: 'gray.6' },
];

/**
 * Requests per day by outcome, the outcomes side by side (grouped, not stacked: a stack would
 * read as a total), one group per day of the range (days without calls are zero).
 */
export default function KeyUsageChart({ usage }: { usage: KeyUsage }) {
  const byDay = new Map(
    eachDay(usage.from, usage.to).map((day): [string, Record<Outcome, number>] => [day, { success: 0, client_error: 0, server_error: 0, rejected: 0 }]),
  );
  for (const item of usage.items) {
    const row = byDay.get(item.day);
    if (row) row[item.outcome] += item.count;
  }
  const data = [...byDay].map(([day, counts]) => ({ day: dayjs(day).format('D MMM'), ...counts }));
  return (
    <BarChart
      h={240}
      data={data}
      dataKey="day"
      series={SERIES}
      withLegend
      legendProps={{ verticalAlign: 'bottom' }}
      tickLine="y"
      gridAxis="y"
      xAxisProps={{ interval: 'preserveStartEnd', minTickGap: 16 }}
      yAxisProps={{ allowDecimals: false, width: 40 }}
      aria-label="Requests per day by outcome, this billing period"
    />
  );
}
