export interface Config {
  /** How Backstage's backend reaches Cairn. */
  cairn?: {
    /**
     * Cairn's REST base URL, as the backend reaches it, such as
     * `http://cairn.platform.svc:8080`.
     */
    baseUrl: string;
    /**
     * The bearer token the scaffolder actions send: a Cairn static token with
     * the developer role for the teams that templates create services for
     * (or admin). Unset only for a Cairn running with `--auth-mode none`.
     * @visibility secret
     */
    token?: string;
  };
}
