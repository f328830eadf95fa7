export interface Config {
  /** How Backstage's backend reaches Cairn. */
  cairn?: {
    /**
     * Cairn's REST base URL, as the backend reaches it, such as
     * `http://cairn.platform.svc:8080`.
     */
    baseUrl: string;
    /**
     * A Cairn static token with the viewer role, for reads that outlast the
     * user's Backstage token (a long wait until ready). Everything a person
     * starts (create, estimate, promotion request) goes to Cairn with that
     * person's Backstage token instead, so Cairn's team and approval rules
     * and its audit log see the user.
     * @visibility secret
     */
    token?: string;
  };
}
