"""The fast libraries against the reference ones the user named, on our own texts.

Tolerances (README, "Libraries"):
- conversion (opencc-pyo3 vs opencc-python-reimplemented, t2s): the only characters that
  differ are 著 -> 着 where 著 is the aspect particle (mainland standard form); at most 0.5%
  of the characters of a text.
- segmentation (rjieba vs jieba, HMM off, same user dictionary): identical tokens.
"""

import unicodedata
from pathlib import Path

import pytest

from pipelines.normalize import get_normalizer, is_word_token, load_user_words

SEEDS = Path(__file__).resolve().parents[1] / "seeds" / "documents"
#: (reference, ours) character pairs allowed to differ.
ALLOWED_CONVERSION_DIFFS = {("著", "着")}


def seed_texts():
    return [unicodedata.normalize("NFKC", p.read_text(encoding="utf-8")) for p in sorted(SEEDS.glob("*.txt"))]


@pytest.fixture(scope="module")
def reference_t2s():
    from opencc import OpenCC  # opencc-python-reimplemented

    return OpenCC("t2s").convert


@pytest.fixture(scope="module")
def reference_jieba():
    import jieba

    tok = jieba.Tokenizer()
    for word, freq in load_user_words():
        tok.add_word(word, freq)
    return tok


@pytest.mark.parametrize("index", range(5))
def test_conversion_matches_reference_within_tolerance(index, reference_t2s):
    text = seed_texts()[index]
    norm = get_normalizer()
    ours = norm._t2s(text)
    ref = reference_t2s(text)
    assert len(ours) == len(ref)
    diffs = [(r, o) for r, o in zip(ref, ours) if r != o]
    assert set(diffs) <= ALLOWED_CONVERSION_DIFFS, set(diffs) - ALLOWED_CONVERSION_DIFFS
    assert len(diffs) <= 0.005 * len(text)


def test_conversion_keeps_zhu_where_it_is_not_the_particle():
    norm = get_normalizer()
    assert norm.simplify_meta("著名的著作,他看著我") == "著名的著作,他看着我"


def test_script_detection_on_seeds():
    norm = get_normalizer()
    assert [norm.detect_script(t) for t in seed_texts()] == ["hant", "hant", "hans", "hans", "hans"]
    assert norm.detect_script("") == "hans"


@pytest.mark.parametrize("index", range(5))
def test_segmentation_identical_to_jieba_without_hmm(index, reference_jieba):
    norm = get_normalizer()
    text, _ = norm.simplify_text(seed_texts()[index])
    ref = [t for t in reference_jieba.lcut(text, HMM=False) if is_word_token(t)]
    assert norm.tokens(text) == ref


def test_domain_words_are_single_tokens():
    norm = get_normalizer()
    tokens = norm.tokens("增强四个意识,做到两个维护,落实三会一课和主题党日,最高检坚持党建引领。")
    for word in ("四个意识", "两个维护", "三会一课", "主题党日", "最高检", "党建引领"):
        assert word in tokens


def test_keywords_agree_with_jieba_tfidf(reference_jieba):
    """Our TF-IDF over rjieba tokens picks mostly what jieba.analyse picks (same IDF, same stop words)."""
    import jieba.analyse

    norm = get_normalizer()
    extractor = jieba.analyse.TFIDF()
    extractor.tokenizer = reference_jieba
    extractor.stop_words = set(extractor.stop_words) | set(norm._stop)
    for text in seed_texts():
        simplified, _ = norm.simplify_text(text)
        ours = norm.keywords(norm.tokens(simplified))
        ref = extractor.extract_tags(simplified, topK=10)
        assert len(ours) == 10
        assert len(set(ours) & set(ref)) >= 6, (ours, ref)
        assert not set(ours) & norm._stop


def test_normalizer_is_built_once_per_process():
    assert get_normalizer() is get_normalizer()


def test_nfkc_makes_crawled_text_match_seed_form():
    norm = get_normalizer()
    text, script = norm.simplify_text("党建工作，“四个意识”：１２３")
    assert text == "党建工作,“四个意识”:123" and script == "hans"
