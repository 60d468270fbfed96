# Kafka secured with SASL_SSL (SCRAM-SHA-512), ACLs and a controller listener on mutual TLS:
# the broker's properties, the SCRAM credentials stored at format time and the clients'
# librdkafka properties, shared by scripts/stack.sh --secure (scripts/lib/stack-kafka.sh), the
# compose stack's broker (docker/kafka-entrypoint.sh) and scripts/compose-secrets.sh.
# shellcheck shell=bash
# Needs nothing but bash and coreutils (it runs in the Kafka image too).

# The principals: the administrator (wf4ctl, the tools, the brokers between themselves) and
# one per service, whose ACLs `wf4ctl acls` derives from the catalogue.
KAFKA_SASL_USERS=(admin claimer scraper committer)

# kafka_sasl_passwords PATTERN: a random password in the file printf PATTERN USER names, for
# each user whose file does not exist yet (mode 600).
kafka_sasl_passwords() {
    local u f
    for u in "${KAFKA_SASL_USERS[@]}"; do
        # shellcheck disable=SC2059 # PATTERN is the format on purpose
        f=$(printf "$1" "$u")
        [[ -s $f ]] && continue
        (umask 077 && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$f")
    done
}

# kafka_sasl_server_conf LISTEN ADVERTISED CONTROLLER KEYSTORE KEYSTORE_PASSWORD CA ADMIN_PASSWORD:
# the listener and security lines of server.properties. LISTEN and ADVERTISED are host:port
# of the SASL_SSL listener (clients and the brokers between themselves, as admin);
# CONTROLLER host:port is the KRaft controller's listener, on TLS with client certificates
# (the brokers' certificate, CN=wf4-broker, is its principal). KEYSTORE is a PKCS12 file
# (scripts/tls-make.sh), CA the PEM the certificates are verified against.
kafka_sasl_server_conf() {
    cat <<EOF
listeners=SASL_SSL://$1,CONTROLLER://$3
advertised.listeners=SASL_SSL://$2
listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:SSL
inter.broker.listener.name=SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$7";
ssl.keystore.type=PKCS12
ssl.keystore.location=$4
ssl.keystore.password=$5
ssl.truststore.type=PEM
ssl.truststore.location=$6
listener.name.controller.ssl.client.auth=required
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:admin;User:CN=wf4-broker
EOF
}

# kafka_sasl_format_args PATTERN: StorageTool format's --add-scram arguments, one a line, for
# every user, the password read from the file printf PATTERN USER names.
kafka_sasl_format_args() {
    local u f
    for u in "${KAFKA_SASL_USERS[@]}"; do
        # shellcheck disable=SC2059
        f=$(printf "$1" "$u")
        [[ -s $f ]] || { echo "kafka-sasl.sh: no password file $f for $u" >&2; return 1; }
        printf -- '--add-scram\nSCRAM-SHA-512=[name=%s,password=%s]\n' "$u" "$(cat "$f")"
    done
}

# kafka_sasl_client_props USER CA [PASSWORD]: a client's librdkafka properties (comma-separated).
# Without PASSWORD none is set: give it as WF4_KAFKA_PASSWORD(_FILE).
kafka_sasl_client_props() {
    echo "security.protocol=SASL_SSL,sasl.mechanisms=SCRAM-SHA-512,sasl.username=$1${3:+,sasl.password=$3},ssl.ca.location=$2"
}
