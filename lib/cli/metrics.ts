import {
  type CloudWatchClient,
  type Dimension,
  GetMetricStatisticsCommand,
} from '@aws-sdk/client-cloudwatch';

/** A figure from CloudWatch, or why there is none. */
export type Figure = { readonly value: number } | { readonly unavailable: string };

/**
 * The statistic of a metric over the last `minutes`: the maximum of the datapoints for
 * Maximum, their sum for Sum. "No data points" is said as such, never shown as 0: an
 * emulator or a quiet period gives none.
 */
export async function figure(
  cloudwatch: CloudWatchClient,
  metric: {
    readonly namespace: string;
    readonly name: string;
    readonly dimensions: readonly Dimension[];
    readonly statistic: 'Sum' | 'Maximum';
  },
  minutes = 15,
  now = new Date(),
): Promise<Figure> {
  try {
    const { Datapoints = [] } = await cloudwatch.send(
      new GetMetricStatisticsCommand({
        Namespace: metric.namespace,
        MetricName: metric.name,
        Dimensions: [...metric.dimensions],
        StartTime: new Date(now.getTime() - minutes * 60_000),
        EndTime: now,
        Period: 60,
        Statistics: [metric.statistic],
      }),
    );
    if (Datapoints.length === 0) return { unavailable: 'no data points' };
    const values = Datapoints.map((d) => d[metric.statistic] ?? 0);
    return {
      value: metric.statistic === 'Sum' ? values.reduce((a, b) => a + b, 0) : Math.max(...values),
    };
  } catch (error) {
    return { unavailable: (error as Error).name || 'error' };
  }
}

export function show(f: Figure, unit = ''): string {
  return 'value' in f
    ? `${Math.round(f.value * 100) / 100}${unit}`
    : `unavailable (${f.unavailable})`;
}
