#!/bin/sh
# Starts redis-server with the ACL users of users.acl (next to this script): QUEUE_PREFIX (default ablate) and the
# passwords REDIS_PASSWORD (default user), REDIS_WORKER_PASSWORD (worker) and REDIS_RECORDER_PASSWORD (recorder) are
# filled in, each password as its sha256 (so no character of it can break the file). The file goes to ACL_FILE (default
# /tmp/users.acl). Any arguments are passed on to redis-server.
set -eu
: "${REDIS_PASSWORD:?set REDIS_PASSWORD}" "${REDIS_WORKER_PASSWORD:?set REDIS_WORKER_PASSWORD}" "${REDIS_RECORDER_PASSWORD:?set REDIS_RECORDER_PASSWORD}"
prefix="${QUEUE_PREFIX:-ablate}"
case "$prefix" in
  *[!A-Za-z0-9._-]*) echo "start.sh: QUEUE_PREFIX may hold only letters, digits, . _ and -, got \"$prefix\"" >&2; exit 2 ;;
esac
sha() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
out="${ACL_FILE:-/tmp/users.acl}"
acl="$(dirname "$0")/users.acl"
[ -r "$acl" ] || { echo "start.sh: cannot read $acl" >&2; exit 1; }
grep -v -e '^#' -e '^[[:space:]]*$' "$acl" | sed \
  -e "s/@PREFIX@/$prefix/g" \
  -e "s/@DEFAULT_PASSWORD@/$(sha "$REDIS_PASSWORD")/" \
  -e "s/@WORKER_PASSWORD@/$(sha "$REDIS_WORKER_PASSWORD")/" \
  -e "s/@RECORDER_PASSWORD@/$(sha "$REDIS_RECORDER_PASSWORD")/" > "$out"
# Never start with fewer users than the file names: Redis would let anyone in as the default user.
[ "$(grep -c '^user ' "$out")" = "$(grep -c '^user ' "$acl")" ] || { echo "start.sh: could not write $out" >&2; exit 1; }
if command -v docker-entrypoint.sh >/dev/null 2>&1; then
  # The official redis image: through its entrypoint, which gives /data to the redis user and drops root, as usual.
  exec docker-entrypoint.sh redis-server --aclfile "$out" "$@"
fi
exec redis-server --aclfile "$out" "$@"
