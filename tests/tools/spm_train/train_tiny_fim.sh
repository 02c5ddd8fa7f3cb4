#!/usr/bin/env bash
# Trains configs/tokenizer/tiny-fim.model: the SentencePiece tokenizer of tune's embedded tiny
# default model. 512 pieces like the hf-reference tiny models (ids 0-2 = <unk> <s> </s>, byte
# fallback, identity normalization), plus the StarCoder-style FIM and repo-level tokens as
# user-defined symbols, so that tune's FIM discovery finds them (eot falls back to </s>).
#
# The corpus is Debian 12's own Python standard library and libstdc++ headers, so the result is
# reproducible on the project's build image:  tests/tools/spm_train/train_tiny_fim.sh [OUT_DIR]
set -euo pipefail
out_dir="${1:-configs/tokenizer}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# ~2 MB of real Python and C++, in a fixed order.
{
  find /usr/lib/python3.11 -maxdepth 1 -name '*.py' | LC_ALL=C sort | head -n 60
  find /usr/include/c++/12/bits -name '*.h' | LC_ALL=C sort | head -n 40
} | xargs cat > "$work/corpus.txt"

mkdir -p "$out_dir"
out_dir="$(cd "$out_dir" && pwd)"
# Relative paths: the model records its training flags, and must not record the temp dir.
cd "$work"
spm_train \
  --input=corpus.txt --model_prefix=tiny-fim --random_seed=1 \
  --model_type=bpe --vocab_size=512 --byte_fallback=true --character_coverage=1.0 \
  --normalization_rule_name=identity --remove_extra_whitespaces=false --split_digits=true \
  --max_sentence_length=100000 --num_threads=1 --minloglevel=1 \
  --user_defined_symbols='<fim_prefix>,<fim_middle>,<fim_suffix>,<fim_pad>,<repo_name>,<file_sep>'
cp tiny-fim.model "$out_dir/tiny-fim.model"
echo "wrote $out_dir/tiny-fim.model ($(stat -c %s "$out_dir/tiny-fim.model") bytes)"
