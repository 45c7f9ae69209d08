#!/usr/bin/env bash
# Fuzzes the console line parser and option checking (fuzz/fuzz_targets/console_line.rs) for a
# bounded time. NOT part of CI: run it by hand, before a release or after touching
# src/console.rs, src/command.rs, src/numbers.rs, src/period.rs or a plugin's options.
#
#   scripts/fuzz.sh            # 60 seconds
#   scripts/fuzz.sh 600        # ten minutes
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and a C++ compiler (libfuzzer-sys builds
# libFuzzer). It works on stable Rust: `--sanitizer none` leaves out AddressSanitizer, whose
# `-Zsanitizer` flag needs nightly, and metricord has no unsafe code for it to check; a panic is
# still a crash. fuzz/ is its own workspace with its own target dir (fuzz/target), so this never
# touches the main build. CARGO_BUILD_JOBS defaults to 1 here; export another value to go faster.
#
# Reading a crash: libFuzzer stops at the first panic and prints the panic message with its
# location, then writes the input to fuzz/artifacts/console_line/crash-<sha1>. Replay it with
#   cargo fuzz run --sanitizer none console_line fuzz/artifacts/console_line/crash-<sha1>
# (from the repo root or fuzz/), look at it with `cat -v <file>` (or its bytes with
# `cargo fuzz fmt --sanitizer none console_line <file>`), and shrink it with
#   cargo fuzz tmin --sanitizer none console_line <file>
# Once fixed, copy it into fuzz/corpus/console_line/ as crash-<what-it-was> so every later run
# replays it first.
#
# New inputs that reach new code land in fuzz/corpus/console_line/ during the run; at the end
# the corpus is minimised (see below) so what is committed stays small. The hand-written seeds
# are kept whatever the minimisation says; commit the corpus after a run.
set -euo pipefail

seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
    echo "usage: $0 [seconds]   (default 60)" >&2
    exit 2
fi

cd "$(dirname "$0")/.."
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is missing: cargo install cargo-fuzz" >&2
    exit 1
fi
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"

target=console_line
corpus="fuzz/corpus/$target"
flags=(--sanitizer none --fuzz-dir fuzz)

cargo fuzz build "${flags[@]}" "$target"

status=0
cargo fuzz run "${flags[@]}" "$target" "$corpus" -- \
    -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 || status=$?

# Minimise, even after a crash, so the committed corpus stays small (a few hundred files, tens
# of KB). The hand-written seeds (descriptive names) are always kept; inputs libFuzzer found are
# named by the SHA-1 of their content, and only those reaching an edge no seed reaches are kept.
# This is `cargo fuzz cmin` run by hand, since cmin cannot start from the seeds: plain cmin keeps
# an input for every hit-count bucket of every edge (thousands of files after a minute), while
# counting edges only (-use_counters=0) and picking a small set that covers them all
# (-set_cover_merge=1) keeps the same edge coverage.
bin="fuzz/target/$(rustc -vV | sed -n 's/^host: //p')/release/$target"
kept="fuzz/target/cmin-$target"
rm -rf "$kept"
mkdir -p "$kept"
for file in "$corpus"/*; do
    [[ "${file##*/}" =~ ^[0-9a-f]{40}$ ]] || cp -p "$file" "$kept"/
done
"$bin" -merge=1 -use_counters=0 -set_cover_merge=1 "$kept" "$corpus"
find "$corpus" -maxdepth 1 -type f -delete
mv "$kept"/* "$corpus"/
rmdir "$kept"
echo "corpus: $(find "$corpus" -type f | wc -l) files, $(cat "$corpus"/* | wc -c) bytes"

if [ "$status" -ne 0 ]; then
    echo "fuzzing found a crash: see the panic above and fuzz/artifacts/$target/" >&2
fi
exit "$status"
