/** A connection URL safe to print or log: the password is replaced by ***. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:\/\/([^:@/]+):[^@/]*@/, '://$1:***@');
  }
}

/**
 * A config safe to print or hand over a pipe that others read (the `serve --ready-json` echo,
 * `--print-config`): the cluster URLs with their passwords redacted. A copy; the input is untouched.
 */
export function redactConfig<T extends { cluster: { primaryUrl?: string | undefined; replicaUrl?: string | undefined } }>(config: Readonly<T>): T {
  const shown = structuredClone(config) as T;
  if (shown.cluster.primaryUrl) shown.cluster.primaryUrl = redactUrl(shown.cluster.primaryUrl);
  if (shown.cluster.replicaUrl) shown.cluster.replicaUrl = redactUrl(shown.cluster.replicaUrl);
  return shown;
}
