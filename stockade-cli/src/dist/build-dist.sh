#!/bin/sh
# Lays out the distribution (bin/stockade, lib/stockade-cli.jar, lib/native/) in DIR and
# builds its class archives, one per JDK home given: the JDK's feature version names the
# archive (lib/cds/jdk-N.aot for 25 and later, lib/cds/jdk-N.jsa before). Run by mvn package
# (pom.xml, execution dist-layout) before the dist archive is packed from DIR.
#
# Each archive comes from one training run of bin/stockade itself, so it is made with exactly
# the options it is used with: `stockade run -- /bin/true` in a scratch
# workspace. The run needs a working sandbox on the build machine; a failed run fails the
# build (pass -Dstockade.dist.jdks= to build no archive).
#
# Usage: build-dist.sh DIR CLI_JAR NATIVE_DIR LAUNCHER ["JDK_HOME ..."]
# (the JDK homes may come as one argument, split on spaces: Maven passes its property so)
set -eu

dir=$1 cli_jar=$2 native_dir=$3 launcher=$4
shift 4
set -f
# shellcheck disable=SC2048,SC2086
set -- $*
set +f

rm -rf "$dir"
mkdir -p "$dir/bin" "$dir/lib/native" "$dir/lib/cds"
cp "$launcher" "$dir/bin/stockade"
cp "$cli_jar" "$dir/lib/stockade-cli.jar"
cp "$native_dir/libstockade.so" "$native_dir/stockade-helper" "$dir/lib/native/"
chmod 755 "$dir/bin/stockade" "$dir/lib/native/stockade-helper"
chmod 644 "$dir/lib/stockade-cli.jar" "$dir/lib/native/libstockade.so"

workspace=$(mktemp -d "${TMPDIR:-/tmp}/stockade-dist.XXXXXX")
trap 'rm -rf "$workspace"' EXIT

for jdk in "$@"; do
    [ -n "$jdk" ] || continue
    feature=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$jdk/release" 2>/dev/null || true)
    case $feature in
        ''|*[!0-9]*)
            echo "build-dist: $jdk/release names no JAVA_VERSION: not a JDK home" >&2
            exit 1 ;;
    esac
    # JDK 25: record (the training run), then create; in one step (AOTCacheOutput) the JVM
    # would create the cache in a child JVM, which has no fd 9 for the class path.
    if [ "$feature" -ge 25 ]; then
        archive=$dir/lib/cds/jdk-$feature.aot
        train="-XX:AOTMode=record -XX:AOTConfiguration=$workspace/jdk-$feature.aotconf"
        create="-XX:AOTMode=create -XX:AOTConfiguration=$workspace/jdk-$feature.aotconf"
        create="$create -XX:AOTCache=$archive"
    else
        archive=$dir/lib/cds/jdk-$feature.jsa
        train=-XX:ArchiveClassesAtExit=$archive
        create=
    fi
    rm -f "$archive"
    if ! (cd "$workspace" && JAVA_HOME=$jdk STOCKADE_JAVA_OPTS=$train \
            "$dir/bin/stockade" run --workspace "$workspace" -- /bin/true </dev/null); then
        echo "build-dist: the training run for $archive failed (above); the build machine" \
            "must be able to run a sandbox, or pass -Dstockade.dist.jdks= to skip archives" >&2
        exit 1
    fi
    # The create step only writes the cache; it runs no main class.
    if [ -n "$create" ] && ! JAVA_HOME=$jdk STOCKADE_JAVA_OPTS=$create "$dir/bin/stockade"; then
        echo "build-dist: creating $archive failed (above)" >&2
        exit 1
    fi
    if [ ! -s "$archive" ]; then
        echo "build-dist: $jdk wrote no $archive" >&2
        exit 1
    fi
    chmod 644 "$archive"
done
