// nginx site serving the sync dir read-only. It is the default server on its port so
// Debian's welcome page never answers for images.
import { plainPath } from "../quote";
import { SYNC_TEMP_DIR_NAME } from "../hostLayout";

export interface NginxSiteSpec {
  readonly syncDir: string;
  readonly port: number;
  /** Address to bind; absent = every address (IPv4 and IPv6). */
  readonly listenAddress?: string;
}

function listenLines(spec: NginxSiteSpec): string[] {
  // Defence in depth: config validated both (configSchema.ts); nginx text has no quoting,
  // so what is written must still be a number and an IP literal whatever the caller.
  if (!Number.isInteger(spec.port) || spec.port < 1 || spec.port > 65535) {
    throw new Error(`web port must be 1-65535, got ${spec.port}`);
  }
  if (spec.listenAddress === undefined) {
    return [`    listen ${spec.port} default_server;`, `    listen [::]:${spec.port} default_server;`];
  }
  const address = spec.listenAddress;
  if (!/^[0-9a-fA-F.:]+$/.test(address)) {
    throw new Error(`listen address must be an IP literal, got ${JSON.stringify(address)}`);
  }
  const host = address.includes(":") ? `[${address}]` : address;
  return [`    listen ${host}:${spec.port} default_server;`];
}

export function renderNginxSite(spec: NginxSiteSpec): string {
  plainPath("an nginx config", spec.syncDir);
  return [
    "# Managed by lsyncd-cluster; local edits are overwritten.",
    "server {",
    ...listenLines(spec),
    "    server_name _;",
    `    root ${spec.syncDir};`,
    "    autoindex off;",
    // No link inside the root is followed, wherever it points: the sync daemon refuses
    // links (rsyncdConf.ts), so any link here was made locally and is not an image. Only
    // components below the root are checked, so the root itself may sit under a link.
    "    disable_symlinks on from=$document_root;",
    // Browsers must not guess a type from an image's bytes (a pushed "image" that is HTML).
    "    add_header X-Content-Type-Options nosniff always;",
    // No open_file_cache: with it nginx kept answering from a cached descriptor of the
    // replaced file for up to open_file_cache_valid (5 s: truncated copies served after the
    // complete one landed, issue 15). A lookup per request is cheap in the page cache.
    "    sendfile on;",
    "    tcp_nopush on;",
    // rsync's temp dir and any other dot file are never served.
    `    location ^~ /${SYNC_TEMP_DIR_NAME}/ { return 404; }`,
    "    location ~ /\\. { return 404; }",
    "    location / {",
    "        limit_except GET HEAD { deny all; }",
    "        try_files $uri =404;",
    "    }",
    "}",
    "",
  ].join("\n");
}
