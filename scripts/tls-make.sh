#!/usr/bin/env bash
# A private CA and server certificates signed by it: the TLS of the secured stacks
# (scripts/stack.sh up --secure and the compose stack's one-shot `certs` service).
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: scripts/tls-make.sh [--days N] [--keep] DIR NAME=SAN[,SAN...]...

Makes DIR/ca.pem and DIR/ca.key (a new CA, CN "wf4 stack CA"), and for each NAME a key and
a certificate signed by the CA (CN=NAME, the subjectAltNames given, e.g.
DNS:kafka or IP:127.0.0.1,DNS:localhost; usable as server and client), as DIR/NAME.pem and
DIR/NAME.key, and a PKCS12 keystore DIR/NAME.p12 (key, certificate, CA) whose password is in
DIR/NAME.p12.password (Java servers: Kafka). Keys and passwords are mode 600.
  --days N   validity of the CA and the certificates (default 30)
  --keep     do nothing when DIR/ca.pem exists already (a one-shot service run again)
EOF
}

days=30 keep=0
while (($#)); do
    case $1 in
        --days) days=${2:?--days N}; shift ;;
        --keep) keep=1 ;;
        -h | --help) usage; exit 0 ;;
        -*) usage >&2; exit 2 ;;
        *) break ;;
    esac
    shift
done
(($# >= 2)) || { usage >&2; exit 2; }
dir=$1
shift
if ((keep)) && [[ -s $dir/ca.pem ]]; then
    echo "tls-make.sh: $dir/ca.pem exists: kept" >&2
    exit 0
fi
mkdir -p "$dir"
cd "$dir"
umask 077
rm -f ca.* ./*.pem ./*.key ./*.csr ./*.ext ./*.p12 ./*.p12.password

openssl req -x509 -newkey rsa:2048 -nodes -days "$days" -subj '/CN=wf4 stack CA' \
    -keyout ca.key -out ca.pem 2>/dev/null
for spec in "$@"; do
    name=${spec%%=*} san=${spec#*=}
    [[ $spec == *=* && $name =~ ^[A-Za-z0-9._-]+$ && -n $san ]] ||
        { echo "tls-make.sh: NAME=SAN expected, not '$spec'" >&2; exit 2; }
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$name" -keyout "$name.key" -out "$name.csr" 2>/dev/null
    printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$san" >"$name.ext"
    openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days "$days" \
        -extfile "$name.ext" -out "$name.pem" 2>/dev/null
    od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$name.p12.password"
    openssl pkcs12 -export -in "$name.pem" -inkey "$name.key" -certfile ca.pem -name "$name" \
        -passout "file:$name.p12.password" -out "$name.p12"
    rm -f "$name.csr" "$name.ext"
done
rm -f ca.srl
# The CA and the certificates are public; keys, keystores and their passwords are not.
chmod 644 ./*.pem
echo "tls-make.sh: CA and certificates for ${*%%=*} made in $dir (valid $days days)" >&2
