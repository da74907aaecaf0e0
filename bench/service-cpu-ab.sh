#!/bin/sh
# A/B of CPU per request by process, alternated on one cluster:
#   sh bench/service-cpu-ab.sh <checkout A> <checkout B> [rate=100] [duration=20s] [rounds=2] [extra run flags...]
# Each checkout is a tree with bin/esbench.js and node_modules (e.g. `git archive <commit> | tar -x`
# plus a node_modules symlink). The cluster is ESBENCH_DATA_DIR's. Prints one line per run:
# the service's and the primary's CPU ms per request (/proc, measured window), outcomes, load average.
set -eu
A=$1 B=$2 RATE=${3:-100} DUR=${4:-20s} ROUNDS=${5:-2}
shift $(($# < 5 ? $# : 5))
OUT=${AB_RESULTS:-$(mktemp -d)}
mkdir -p "$OUT"
i=0
while [ "$i" -lt "$ROUNDS" ]; do
  for side in A B; do
    dir=$A; [ "$side" = B ] && dir=$B
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    node "$dir/bin/esbench.js" run --rate "$RATE" --duration "$DUR" --warmup 5s --seed 1 --results "$OUT/$side" --json "$@" 2>/dev/null >"$OUT/last.json" || true
    node -e '
      const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      const p = Object.fromEntries(d.cpu.processes.map((x) => [x.process, x.msPerRequest.toFixed(2)]));
      const c = d.load.counters ?? {};
      console.log([process.argv[2], "service", p.service, "primary", p["postgres-primary"], "generator", p.generator, "ok", c.ok, "timeouts", c.timeouts, "load-before", process.argv[3]].join(" "));
    ' "$OUT/last.json" "$side" "$load"
  done
  i=$((i + 1))
done
