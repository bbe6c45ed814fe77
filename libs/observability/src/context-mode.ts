// Internal switch, set by initTracing: once OpenTelemetry's AsyncLocalStorage context manager is
// registered, the request id travels in the OpenTelemetry context instead of a storage of its own.
let enabled = false;

export function otelContextEnabled(): boolean {
  return enabled;
}

export function setOtelContextEnabled(value: boolean): void {
  enabled = value;
}
