#!/usr/bin/env bash
# Runs one fuzz target for SECONDS (default 60) on the stable toolchain: libFuzzer's coverage
# guidance without a sanitizer (`-s none`), which needs no nightly. The corpus grows in
# fuzz/corpus/TARGET; seeds made from the vendors' example payloads (fuzz/seeds.py) are added
# when the specifications are at $CONCORD_SPECS_DIR (default ../shared/specs). Further
# arguments go to libFuzzer. Exits non-zero on a crash, its input saved in fuzz/artifacts/.
#   fuzz/run.sh verify 120
#   fuzz/run.sh parse 5 -jobs=2
set -euo pipefail
cd "$(dirname "$0")/.."

target="${1:?usage: fuzz/run.sh TARGET [SECONDS] [libFuzzer flags]}"
seconds="${2:-60}"
shift $(($# < 2 ? $# : 2))
specs="${CONCORD_SPECS_DIR:-../shared/specs}"

corpora=("fuzz/corpus/$target")
mkdir -p "fuzz/corpus/$target"
if [ -d "$specs" ]; then
  [ -d fuzz/corpus/seeds ] || python3 fuzz/seeds.py "$specs" fuzz/corpus/seeds
  corpora+=(fuzz/corpus/seeds)
fi
exec cargo fuzz run --sanitizer none "$target" "${corpora[@]}" -- \
  -max_total_time="$seconds" -max_len=16384 "$@"
