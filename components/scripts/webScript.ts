// web: nginx serves the sync dir read-only as the default server on its port. Debian's
// default site would shadow it, so it is disabled, and restored by delete.
import { sh } from "../quote";
import { NginxSiteSpec, renderNginxSite } from "../render/nginxSite";
import { script, writeFile } from "./bash";
import { NGINX_DEFAULT_LINK, NGINX_SITE, NGINX_SITE_LINK, STATE_DIR } from "../hostLayout";

const DEFAULT_DISABLED_MARK = `${STATE_DIR}/nginx-default-site-disabled`;

export function webCreate(spec: NginxSiteSpec): string {
  return script([
    writeFile({ path: NGINX_SITE, content: renderNginxSite(spec), mode: "0644" }),
    `if ! [ -L ${sh(NGINX_SITE_LINK)} ] || [ "$(readlink ${sh(NGINX_SITE_LINK)})" != ${sh(NGINX_SITE)} ]; then`,
    `  ln -sfn ${sh(NGINX_SITE)} ${sh(NGINX_SITE_LINK)}`,
    "  LSC_CHANGED=$((LSC_CHANGED + 1))",
    "fi",
    `if [ -L ${sh(NGINX_DEFAULT_LINK)} ]; then`,
    `  readlink ${sh(NGINX_DEFAULT_LINK)} >${sh(DEFAULT_DISABLED_MARK)}`,
    `  rm -f ${sh(NGINX_DEFAULT_LINK)}`,
    "  LSC_CHANGED=$((LSC_CHANGED + 1))",
    "fi",
    "nginx -t -q",
    "systemctl enable nginx >/dev/null 2>&1",
    "if ! systemctl is-active --quiet nginx; then",
    "  systemctl start nginx",
    'elif [ "$LSC_CHANGED" -gt 0 ]; then',
    "  systemctl reload nginx",
    "fi",
  ]);
}

export function webDelete(): string {
  return script([
    `lsc_remove ${sh(NGINX_SITE_LINK)} ${sh(NGINX_SITE)}`,
    `if [ -s ${sh(DEFAULT_DISABLED_MARK)} ] && [ ! -e ${sh(NGINX_DEFAULT_LINK)} ]; then`,
    `  ln -s "$(cat ${sh(DEFAULT_DISABLED_MARK)})" ${sh(NGINX_DEFAULT_LINK)}`,
    "fi",
    `rm -f ${sh(DEFAULT_DISABLED_MARK)}`,
    'if [ "$LSC_CHANGED" -gt 0 ] && systemctl is-active --quiet nginx; then',
    "  nginx -t -q",
    "  systemctl reload nginx",
    "fi",
  ]);
}
