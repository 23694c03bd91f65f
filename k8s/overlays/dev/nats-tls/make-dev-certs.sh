#!/bin/sh
# DEVELOPMENT ONLY: makes the NATS TLS material committed next to this script, for the dev overlay.
# The private key tls.key is public (it is in the repository): never use these files in
# production. For production, see docs/operations.md (cert-manager, or these same openssl steps
# with a CA you keep).
#
# ca.crt   a throw-away CA (its key is deleted at the end, so it signs nothing more)
# tls.crt  the NATS servers' certificate: serverAuth for clients, clientAuth for the routes that
#          one server dials to another; SANs for every pod behind the headless Service and for
#          the nats-client Service
# tls.key  its key
#
# Usage: sh k8s/overlays/dev/nats-tls/make-dev-certs.sh   (overwrites the three files)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ns=tally-ordering
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
  -subj "/CN=Tally NATS development CA (DEVELOPMENT ONLY)" -keyout "$work/ca.key" -out "$here/ca.crt" 2>/dev/null
cat > "$work/ext" <<EXT
basicConstraints=CA:FALSE
keyUsage=digitalSignature
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=DNS:*.nats.$ns.svc.cluster.local,DNS:nats.$ns.svc.cluster.local,DNS:nats-client.$ns.svc.cluster.local,DNS:nats-client.$ns.svc
EXT
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=nats.$ns (DEVELOPMENT ONLY)" \
  -keyout "$here/tls.key" -out "$work/tls.csr" 2>/dev/null
openssl x509 -req -in "$work/tls.csr" -CA "$here/ca.crt" -CAkey "$work/ca.key" -CAcreateserial \
  -CAserial "$work/ca.srl" -days 3650 -extfile "$work/ext" -out "$here/tls.crt" 2>/dev/null
echo "wrote $here/ca.crt, tls.crt and tls.key (DEVELOPMENT ONLY)"
