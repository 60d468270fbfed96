#!/usr/bin/env bash
# Installs what the build and the local stack need on a fresh Debian bookworm machine (idempotent).
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
WF4_LOG_TAG=install

APT_PACKAGES=(
    build-essential cmake pkg-config ninja-build clang clang-format libclang-rt-14-dev
    librdkafka-dev libavro-dev libcurl4-openssl-dev libpq-dev postgresql postgresql-contrib
    libgumbo-dev libjansson-dev libmicrohttpd-dev libcmocka-dev libuchardet-dev libidn2-dev
    libphonenumber-dev
    kcat pgbouncer openjdk-17-jre-headless maven curl jq prometheus
)
MAVEN_CENTRAL=https://repo.maven.apache.org/maven2/

usage() {
    cat <<EOF
Usage: scripts/install.sh [--help]

Installs, on Debian bookworm, everything the build, the tests and scripts/stack.sh need:
  1. apt packages (skipped when dpkg says all are installed):
     ${APT_PACKAGES[*]}
  2. Apache Kafka $WF4_KAFKA_VERSION jars from Maven Central (scripts/kafka-pom.xml)
     into $WF4_KAFKA_JARS_DIR
  3. Apicurio Registry $WF4_APICURIO_VERSION from Maven Central, unpacked
     into $WF4_APICURIO_DIR

Each step writes a stamp recording its versions after success; a second run finds the
stamps and downloads nothing. One line per step says "cached" or what was fetched.
Fails with a clear message when Maven Central cannot be reached.
EOF
}

# as_root CMD...: runs CMD as root (directly, or through sudo when not root).
as_root() {
    if ((EUID == 0)); then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

step_apt() {
    local missing=() pkg status
    for pkg in "${APT_PACKAGES[@]}"; do
        status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
        [[ $status == ii* ]] || missing+=("$pkg")
    done
    if ((${#missing[@]} == 0)); then
        log "apt: cached (all ${#APT_PACKAGES[@]} packages installed)"
        return 0
    fi
    log "apt: installing ${missing[*]}"
    # Slim images lack man dirs (openjdk's postinst needs them); the stack runs its own
    # PostgreSQL cluster, so the package must not create and start a system one.
    as_root mkdir -p /usr/share/man/man1 /etc/postgresql-common
    if [[ ! -e /etc/postgresql-common/createcluster.conf ]]; then
        echo 'create_main_cluster = false' | as_root tee /etc/postgresql-common/createcluster.conf >/dev/null
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    log "apt: installed ${#missing[@]} package(s)"
}

# mvn_failed WHAT LOGFILE: explains a Maven failure, telling an unreachable Central apart.
mvn_failed() {
    local what=$1 logfile=$2
    tail -n 20 "$logfile" >&2 || true
    if ! curl -sSf -o /dev/null --max-time 15 "$MAVEN_CENTRAL" 2>/dev/null; then
        die "$what: Maven Central ($MAVEN_CENTRAL) cannot be reached from this machine." \
            "The stack needs the real Kafka/Apicurio jars; there is no substitute. Log: $logfile"
    fi
    die "$what: mvn failed (Maven Central answers; see the log above and $logfile)"
}

step_kafka_jars() {
    local pom=$WF4_ROOT/scripts/kafka-pom.xml stamp want tmp logfile n size
    stamp=$WF4_KAFKA_JARS_DIR/.stamp
    want="kafka=$WF4_KAFKA_VERSION slf4j-reload4j=$WF4_SLF4J_VERSION pom-sha256=$(sha256sum "$pom" | cut -c1-64)"
    if [[ -f $stamp && $(<"$stamp") == "$want" && -f $WF4_KAFKA_JARS_DIR/kafka_2.13-$WF4_KAFKA_VERSION.jar ]]; then
        log "kafka jars: cached ($(find "$WF4_KAFKA_JARS_DIR" -name '*.jar' | wc -l) jars, Kafka $WF4_KAFKA_VERSION)"
        return 0
    fi
    command -v mvn >/dev/null || die "mvn not found (the apt step installs maven)"
    mkdir -p "$WF4_CACHE_DIR"
    tmp=$WF4_CACHE_DIR/kafka-jars.tmp
    logfile=$WF4_CACHE_DIR/kafka-jars.mvn.log
    rm -rf "$tmp"
    # The pom's directory must stay clean: copy it into the cache and run Maven there.
    mkdir -p "$tmp/project"
    cp "$pom" "$tmp/project/pom.xml"
    if ! mvn -B -q -f "$tmp/project/pom.xml" dependency:copy-dependencies \
        -DoutputDirectory="$tmp/jars" >"$logfile" 2>&1; then
        mvn_failed "kafka jars" "$logfile"
    fi
    [[ -f $tmp/jars/kafka_2.13-$WF4_KAFKA_VERSION.jar ]] || die "kafka jars: kafka_2.13-$WF4_KAFKA_VERSION.jar missing after mvn"
    rm -rf "$WF4_KAFKA_JARS_DIR"
    mv "$tmp/jars" "$WF4_KAFKA_JARS_DIR"
    rm -rf "$tmp"
    echo "$want" >"$stamp"
    n=$(find "$WF4_KAFKA_JARS_DIR" -name '*.jar' | wc -l)
    size=$(du -sh "$WF4_KAFKA_JARS_DIR" | cut -f1)
    log "kafka jars: fetched $n jars ($size) for Kafka $WF4_KAFKA_VERSION into $WF4_KAFKA_JARS_DIR"
}

step_apicurio() {
    local stamp want tmp logfile tarball runner
    stamp=$WF4_APICURIO_DIR/.stamp
    want="apicurio-registry-app=$WF4_APICURIO_VERSION"
    runner=$(find "$WF4_APICURIO_DIR" -maxdepth 3 -name "apicurio-registry-app-*-runner.jar" 2>/dev/null | head -n1 || true)
    if [[ -f $stamp && $(<"$stamp") == "$want" && -n $runner ]]; then
        log "apicurio: cached ($WF4_APICURIO_VERSION, $runner)"
        return 0
    fi
    command -v mvn >/dev/null || die "mvn not found (the apt step installs maven)"
    mkdir -p "$WF4_CACHE_DIR"
    tmp=$WF4_CACHE_DIR/apicurio.tmp
    logfile=$WF4_CACHE_DIR/apicurio.mvn.log
    rm -rf "$tmp"
    mkdir -p "$tmp/dl" "$tmp/unpacked"
    if ! (cd "$tmp" && mvn -B -q "$WF4_DEP_PLUGIN:copy" \
        -Dartifact="io.apicurio:apicurio-registry-app:$WF4_APICURIO_VERSION:tar.gz:all" \
        -DoutputDirectory="$tmp/dl") >"$logfile" 2>&1; then
        mvn_failed "apicurio" "$logfile"
    fi
    tarball=$(find "$tmp/dl" -name '*.tar.gz' | head -n1)
    [[ -n $tarball ]] || die "apicurio: no tarball after mvn (log: $logfile)"
    tar -xzf "$tarball" -C "$tmp/unpacked"
    runner=$(find "$tmp/unpacked" -maxdepth 3 -name "apicurio-registry-app-*-runner.jar" | head -n1)
    [[ -n $runner ]] || die "apicurio: no *-runner.jar in $tarball"
    rm -rf "$WF4_APICURIO_DIR"
    mv "$tmp/unpacked" "$WF4_APICURIO_DIR"
    rm -rf "$tmp"
    echo "$want" >"$stamp"
    log "apicurio: fetched $WF4_APICURIO_VERSION ($(du -sh "$WF4_APICURIO_DIR" | cut -f1) unpacked) into $WF4_APICURIO_DIR"
}

main() {
    case "${1:-}" in
        -h | --help) usage; return 0 ;;
        "") ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
    local t0 t
    t0=$(now_ms)
    # Two runs at once (two test.sh in one checkout) must not fill the same cache dirs.
    mkdir -p "$WF4_CACHE_DIR"
    exec 9>"$WF4_CACHE_DIR/.install.lock"
    flock 9
    for step in step_apt step_kafka_jars step_apicurio; do
        t=$(now_ms)
        "$step"
        log "  (${step#step_}: $(($(now_ms) - t)) ms)"
    done
    log "done in $(($(now_ms) - t0)) ms"
}

main "$@"
