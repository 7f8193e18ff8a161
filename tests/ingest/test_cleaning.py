from pathlib import Path

import pytest

from assistant.settings import bundled_corpus
from ingest.cleaning import TITLE_MAX_CHARS, clean_text, derive_title

FOOTER_WORDS = ("Quelle", "Kommentar (0)", "مصدر", "تعليق (0)", "Forrás", "Hozzászólás (0)")


def corpus(name_prefix: str) -> str:
    return next(bundled_corpus().glob(f"{name_prefix}_*.txt")).read_text(encoding="utf-8")


@pytest.mark.parametrize("path", sorted(bundled_corpus().glob("*.txt")), ids=lambda p: p.name[:3])
def test_corpus_footers_are_gone_and_body_kept(path: Path):
    raw = path.read_text(encoding="utf-8")
    text = clean_text(raw).text
    last_line = text.rsplit("\n", 1)[-1]
    assert last_line not in FOOTER_WORDS
    assert not any(text.endswith(word) for word in FOOTER_WORDS)
    assert "\n\n\n" not in text
    assert text.split("\n", 1)[0] == raw.split("\n", 1)[0]  # the lead paragraph is untouched
    assert len(text) > 0.9 * len(raw.strip())


def test_german_byline_footer_and_photo_credit():
    text = clean_text(corpus("001")).text
    assert not text.endswith("Le Thi")
    assert "Foto: L.Thi" not in text
    # The caption itself stays: it carries a fact (who met whom).
    assert "Die Delegation der Massenmobilisierungskommission" in text


def test_german_source_url_is_kept_as_the_documents_url():
    cleaned = clean_text(corpus("004"))
    assert (
        cleaned.url
        == "https://kinhtedothi.vn/bac-ninh-trien-khai-nhieu-mo-hinh-thi-diem-dan-van-kheo.html"
    )
    assert "kinhtedothi" not in cleaned.text
    assert cleaned.text.endswith("bereitgestellt werden.")


def test_arabic_byline_footer_and_repeated_caption():
    raw = corpus("002")
    text = clean_text(raw).text
    caption = (
        "ترأس المؤتمر نائب السكرتير الدائم للجنة الحزب الإقليمية تران ذي دونج "
        "ورئيس لجنة التعبئة الجماهيرية للجنة الحزب الإقليمية ترونج ثانه هوين."
    )
    assert raw.count(caption) == 2
    assert text.count(caption) == 1
    assert "ثو ها" not in text
    assert " |" not in text
    assert text.endswith("ومسؤولياتهم...")


def test_hungarian_footer():
    text = clean_text(corpus("003")).text
    assert text.endswith("az emberek körében.")
    assert "Hozzászólás" not in text


def test_source_line_without_url_gives_no_url_and_markers_work_in_any_language():
    cleaned = clean_text("Ein Satz über Bac Ninh.\nNguồn: VnExpress\nBình luận (3)\n")
    assert cleaned.text == "Ein Satz über Bac Ninh."
    assert cleaned.url is None


def test_a_short_closing_sentence_is_not_taken_for_a_byline():
    text = clean_text("Erster Absatz mit Inhalt.\nDas war alles.\nQuelle\n").text
    assert text.endswith("Das war alles.")


def test_title_is_the_first_sentence_shortened():
    text = clean_text(corpus("000")).text
    title = derive_title(text, "de")
    assert text.startswith(title.rstrip("…"))
    assert len(title) <= TITLE_MAX_CHARS + 1
    assert title.endswith("…")
    assert derive_title("Kurz. Zweiter Satz.", "de") == "Kurz."
