# shellcheck shell=bash
# Sourced by the compose scripts: the environment for docker-compose 1.29.2 on this machine.
# - /usr/bin first: Debian's docker 20.10 client (BuildKit builds); another `docker` earlier on
#   the PATH may lack buildx.
# - docker-compose builds through the docker CLI with BuildKit.
# - WF4_EXTRA_CA_CERTS: the host's locally added CA certificates (base64 PEM), passed to the
#   image builds so that Maven reaches Central through a TLS-intercepting proxy, if any.
export PATH="/usr/bin:/usr/sbin:/bin:/sbin:$PATH"
export DOCKER_BUILDKIT=1 COMPOSE_DOCKER_CLI_BUILD=1
if [ -z "${WF4_EXTRA_CA_CERTS+x}" ]; then
  WF4_EXTRA_CA_CERTS=""
  for _crt in /usr/local/share/ca-certificates/*.crt /usr/local/share/ca-certificates/*/*.crt; do
    [ -f "$_crt" ] || continue
    WF4_EXTRA_CA_CERTS="$WF4_EXTRA_CA_CERTS$(cat "$_crt")
"
  done
  unset _crt
  if [ -n "$WF4_EXTRA_CA_CERTS" ]; then
    WF4_EXTRA_CA_CERTS=$(printf '%s' "$WF4_EXTRA_CA_CERTS" | base64 -w0)
  fi
  export WF4_EXTRA_CA_CERTS
fi
