/**
 * The CloudWatch namespace of every Eventbox metric: the runtimes publish to it and the
 * constructs' alarms, dashboards and the CLI read from it.
 */
export const METRICS_NAMESPACE = 'Eventbox';
