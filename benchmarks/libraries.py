"""Conversion and segmentation candidates on our texts: speed and difference from the reference.

    .venv/bin/python benchmarks/libraries.py [--json] [--cpp-opencc DIR]

The corpus is the five seed reports repeated to about 1 MB (UTF-8). Conversion
candidates: opencc-python-reimplemented (reference), opencc-pyo3, and the C++
``opencc`` package when ``--cpp-opencc DIR`` points at a ``pip install --target DIR
opencc`` (it installs as the module ``opencc`` too, so it cannot share a venv with the
reference). Segmentation: jieba (reference) and rjieba, both with HMM off and the
domain dictionary. Also times the cleaner alone.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEEDS = sorted((ROOT / "seeds" / "documents").glob("*.txt"))


def corpus() -> tuple[list[str], str]:
    texts = [unicodedata.normalize("NFKC", p.read_text(encoding="utf-8")) for p in SEEDS]
    big = "".join(texts)
    reps = max(1, int(1_000_000 / len(big.encode("utf-8"))))
    return texts, big * reps


def best_of(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def conversion_rows(big: str, cpp_dir: str | None) -> list[dict]:
    from opencc import OpenCC as Ref
    from opencc_pyo3 import OpenCC as Pyo3

    mb = len(big.encode("utf-8")) / 1e6
    ref_t, ref_out = best_of(lambda: Ref("t2s").convert(big), repeat=1)
    rows = [{"converter": "opencc-python-reimplemented (reference)", "ms_per_mb": ref_t * 1000 / mb,
             "speedup": 1.0, "chars_differing": 0}]
    pyo3 = Pyo3("t2s")
    t, out = best_of(lambda: pyo3.convert(big))
    rows.append({"converter": "opencc-pyo3", "ms_per_mb": t * 1000 / mb, "speedup": ref_t / t,
                 "chars_differing": sum(a != b for a, b in zip(ref_out, out)) + abs(len(ref_out) - len(out))})
    if cpp_dir:
        code = (
            "import sys,time,json; sys.path.insert(0, sys.argv[1]); import opencc;"
            "big=sys.stdin.read(); cc=opencc.OpenCC('t2s.json'); t=time.perf_counter(); out=cc.convert(big);"
            "print(json.dumps([time.perf_counter()-t, out]))"
        )
        proc = subprocess.run([sys.executable, "-c", code, cpp_dir], input=big, capture_output=True, text=True)
        if proc.returncode == 0:
            t, out = json.loads(proc.stdout)
            rows.append({"converter": "opencc (C++)", "ms_per_mb": t * 1000 / mb, "speedup": ref_t / t,
                         "chars_differing": sum(a != b for a, b in zip(ref_out, out)) + abs(len(ref_out) - len(out))})
        else:
            print(f"C++ opencc not measured: {proc.stderr.strip().splitlines()[-1]}", file=sys.stderr)
    return rows


def segmentation_rows(big: str) -> list[dict]:
    import jieba
    import rjieba

    from pipelines.normalize import get_normalizer, load_user_words

    norm = get_normalizer()  # adds the user words to rjieba
    text, _ = norm.simplify_text(big)
    tok = jieba.Tokenizer()
    t0 = time.perf_counter()
    tok.initialize()
    load_s = time.perf_counter() - t0
    for word, freq in load_user_words():
        tok.add_word(word, freq)
    ref_t, ref = best_of(lambda: tok.lcut(text, HMM=False), repeat=1)
    t, ours = best_of(lambda: rjieba.cut(text, False))
    hmm_t, _ = best_of(lambda: tok.lcut(text, HMM=True), repeat=1)
    same = sum(a == b for a, b in zip(ref, ours))
    return [
        {"segmenter": "jieba, HMM on", "mchars_per_s": len(text) / hmm_t / 1e6, "speedup": ref_t / hmm_t,
         "tokens_differing": None, "dictionary_load_s": load_s},
        {"segmenter": "jieba, HMM off (reference)", "mchars_per_s": len(text) / ref_t / 1e6, "speedup": 1.0,
         "tokens_differing": 0, "dictionary_load_s": load_s},
        {"segmenter": "rjieba, HMM off", "mchars_per_s": len(text) / t / 1e6, "speedup": ref_t / t,
         "tokens_differing": max(len(ref), len(ours)) - same, "dictionary_load_s": None},
    ]


def cleaner_rows(texts: list[str]) -> list[dict]:
    from pipelines.clean import clean_text
    from pipelines.documents import document_from_text

    clean_text(texts[0])  # compile the rule table once
    n = 50
    t, _ = best_of(lambda: [clean_text(x) for _ in range(n) for x in texts])
    chars = sum(len(x) for x in texts) * n
    t2, _ = best_of(lambda: [document_from_text(x, doc_id="b") for _ in range(10) for x in texts])
    return [
        {"stage": "clean_text", "ms_per_doc": t * 1000 / (n * len(texts)), "mchars_per_s": chars / t / 1e6},
        {"stage": "clean + normalize (document_from_text)", "ms_per_doc": t2 * 1000 / (10 * len(texts)),
         "mchars_per_s": sum(len(x) for x in texts) * 10 / t2 / 1e6},
    ]


def print_table(rows: list[dict]) -> None:
    cols = list(rows[0])
    fmt = [max(len(c), *(len(_fmt(r[c])) for r in rows)) for c in cols]
    print("  ".join(c.ljust(w) for c, w in zip(cols, fmt)))
    for r in rows:
        print("  ".join(_fmt(r[c]).ljust(w) for c, w in zip(cols, fmt)))
    print()


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.2f}" if v < 100 else f"{v:.0f}"
    return str(v)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--cpp-opencc", metavar="DIR", help="pip --target directory holding the C++ opencc package")
    args = ap.parse_args()
    texts, big = corpus()
    result = {
        "corpus_mb": round(len(big.encode("utf-8")) / 1e6, 2),
        "conversion": conversion_rows(big, args.cpp_opencc),
        "segmentation": segmentation_rows(big),
        "cleaner": cleaner_rows(texts),
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    print(f"corpus: seed reports repeated to {result['corpus_mb']} MB\n")
    for key in ("conversion", "segmentation", "cleaner"):
        print_table(result[key])


if __name__ == "__main__":
    main()
