/** The narrow Prometheus port used by `prometheus.query`. (Filled in by the verification-gates work.) */
export interface PrometheusApi {
  readonly baseUrl: string;
}
