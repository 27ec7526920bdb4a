#!/usr/bin/env bash
# Runs the whole benchmark suite and renders docs/benchmarks.md from its JMH JSON (one command:
# builds the library and the module, runs every benchmark, renders). Under 15 minutes on 2 cores.
#   benchmarks/run.sh           the suite
#   benchmarks/run.sh --quick   a smoke run: one short iteration of everything
# Results (JMH JSON, logs) stay in benchmarks/target/results/.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
quick=false
case "${1:-}" in
  "") ;;
  --quick) quick=true ;;
  *) echo "usage: benchmarks/run.sh [--quick]" >&2; exit 2 ;;
esac

results=$here/target/results
say() { printf 'run.sh: %s\n' "$*"; }
notes=()

# The CLI runs on each JDK the machine has (this one's, and every other JDK home under
# /usr/lib/jvm of a newer feature version): the distribution gets a start-up archive for each
# (-Dstockade.dist.jdks), and the CLI is measured on each.
jdk_feature() { sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release" 2>/dev/null; }
default_jdk=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.home = //p')
jdks=$default_jdk
for release in /usr/lib/jvm/*/release; do
  home=$(dirname "$release")
  [[ -L $home ]] && continue
  feature=$(jdk_feature "$home")
  if [[ -n $feature && $feature -gt $(jdk_feature "$default_jdk") ]]; then
    jdks="$jdks $home"
  fi
done

say "building the reactor (library, CLI with start-up archives for: $jdks, benchmarks)"
(cd "$repo" && mvn -B -q -DskipTests install "-Dstockade.dist.jdks=$jdks" </dev/null)
jar=$here/target/benchmarks.jar
rm -rf "$results"
mkdir -p "$results"
# The CLI's workspace is its working directory, which must not hold its own installation
# (benchmarks/target/dist): every benchmark runs from a scratch directory.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cd "$scratch"

export STOCKADE_BENCH_TRY_SYSCALL=$repo/stockade/target/native/tools/try-syscall
dist=$(find "$repo/stockade-cli/target" -maxdepth 1 -name 'stockade-*-dist.tar.gz' | head -n 1)
if [[ -n "$dist" ]]; then
  mkdir -p "$here/target/dist"
  tar -xzf "$dist" -C "$here/target/dist"
  launcher=$(find "$here/target/dist" -path '*/bin/stockade' -type f | head -n 1)
  export STOCKADE_BENCH_CLI=$launcher
else
  export STOCKADE_BENCH_CLI="java -jar $repo/stockade-cli/target/stockade-cli.jar"
  notes+=("The CLI was run as \`java -jar stockade-cli/target/stockade-cli.jar\`: no distribution with bin/stockade was built.")
fi

if command -v bwrap >/dev/null 2>&1; then
  spawn_select='SpawnLatencyBenchmark'
  cli_select='CliBenchmark'
else
  say "bwrap is not installed (scripts/install-build-deps installs it): its benchmarks are skipped"
  notes+=("bwrap was not installed: its benchmarks were skipped.")
  spawn_select='SpawnLatencyBenchmark\.(processBuilder|stockade.*)$'
  cli_select='CliBenchmark\.(stockadeRun|stockadeVersion|jvmAlone|bareTrue)$'
fi

if $quick; then
  timed=(-wi 1 -w 500ms -i 1 -r 1s -f 1)
  build_pairs=1
  syscall_calls=20000
  rounds=20
else
  timed=()
  build_pairs=7
  syscall_calls=200000
  rounds=100
fi

jmh() {
  local name=$1
  shift
  say "JMH: $name"
  java -jar "$jar" "$@" -rf json -rff "$results/$name.json" </dev/null >"$results/$name.log" 2>&1 \
    || { tail -n 30 "$results/$name.log" >&2; say "error: $name failed (log: $results/$name.log)"; exit 1; }
  grep -E '^(Benchmark|[A-Z][A-Za-z]+Benchmark\.)' "$results/$name.log" | grep -v ':p[0-9]' || true
}

jmh spawn-latency "$spawn_select" "${timed[@]}"
jmh warm-spawn WarmSpawnBenchmark "${timed[@]}"
jmh throughput ThroughputBenchmark "${timed[@]}"
jmh heap-size HeapSizeBenchmark "${timed[@]}"
jmh syscall-cost SyscallCostBenchmark -p calls="1,$syscall_calls" "${timed[@]}"
jmh cli "$cli_select" -p "jdk=${jdks// /,}" "${timed[@]}"
jmh policy-compile PolicyCompileBenchmark "${timed[@]}"
jmh native-call NativeCallBenchmark "${timed[@]}"

say "set-up breakdown ($rounds spawns per policy)"
java -cp "$jar" dev.stockade.benchmarks.SetupBreakdown "$results/setup-breakdown.json" "$rounds"
say "CPU per spawn ($((rounds * 3)) spawns per policy)"
java -cp "$jar" dev.stockade.benchmarks.SpawnCpu "$results/spawn-cpu.json" "$((rounds * 3))"
say "real build steps, inside and outside ($build_pairs pairs each)"
java -cp "$jar" dev.stockade.benchmarks.BuildSteps "$results/build-steps.json" "$build_pairs"
say "the kernel's own cost of the namespaces ($((rounds * 3)) rounds)"
"$repo/stockade/target/native/tools/namespace-cost" "$((rounds * 3))" >"$results/namespace-cost.json"

# The CLI's CPU time (user + system, children included), which JMH does not measure; per JDK.
cli_rounds=10
read -r -a cli_words <<<"$STOCKADE_BENCH_CLI"
TIMEFORMAT='%R %U %S'
{
  printf '{"command": "%s run -- /bin/true", "rounds": %s, "jdks": [' "$STOCKADE_BENCH_CLI" "$cli_rounds"
  sep=""
  for jdk in $jdks; do
    cpu=$( { time (for ((i = 0; i < cli_rounds; i++)); do
      JAVA_HOME=$jdk "${cli_words[@]}" run -- /bin/true >/dev/null 2>&1; done) ; } 2>&1 )
    read -r wall user sys <<<"$cpu"
    printf '%s\n {"jdk": "%s", "feature": %s, "cpuSecondsPerRun": %s, "wallSecondsPerRun": %s}' \
      "$sep" "$jdk" "$(jdk_feature "$jdk")" \
      "$(awk -v u="$user" -v s="$sys" -v n="$cli_rounds" 'BEGIN { printf "%.4f", (u + s) / n }')" \
      "$(awk -v w="$wall" -v n="$cli_rounds" 'BEGIN { printf "%.4f", w / n }')"
    sep=","
  done
  printf ']}\n'
} >"$results/cli-cpu.json"

{
  printf '{"date": "%s", "commit": "%s", "cores": %s, "quick": %s,\n' \
    "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(git -C "$repo" rev-parse --short HEAD)" "$(nproc)" "$quick"
  printf ' "machine": "%s, %s cores, kernel %s", "java": "%s",\n' \
    "$(. /etc/os-release && echo "$PRETTY_NAME")" "$(nproc)" "$(uname -r)" \
    "$(java -version 2>&1 | head -n 1 | tr -d '"')"
  printf ' "notes": ['
  sep=""
  for n in "${notes[@]}"; do printf '%s"%s"' "$sep" "${n//\"/\\\"}"; sep=", "; done
  printf ']}\n'
} >"$results/run.json"

say "rendering docs/benchmarks.md"
java -cp "$jar" dev.stockade.benchmarks.report.Report "$results" "$repo/docs" "$here/history.md"
say "done: docs/benchmarks.md, docs/benchmarks/*.png, results in $results"
