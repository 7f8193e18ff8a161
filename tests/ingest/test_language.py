import importlib.util

import pytest

from assistant.settings import Settings, bundled_corpus
from ingest.cleaning import clean_text
from ingest.errors import PluginError
from ingest.interfaces import LanguageDetector
from ingest.language import LinguaDetector, make_language_detector

CORPUS_LANGUAGES = {"000": "de", "001": "de", "002": "ar", "003": "hu", "004": "de"}
QUESTIONS = {
    "Ai chủ trì hội nghị ở Bắc Ninh?": "vi",
    "Tỉnh đã tổ chức bao nhiêu cuộc đối thoại?": "vi",
    "谁主持了会议？": "zh",
    "北宁省开展了多少个模式": "zh",
    "من ترأس المؤتمر؟": "ar",
    "كم عدد الحوارات التي تم تنظيمها؟": "ar",
    "Кто возглавлял конференцию?": "ru",
    "Сколько диалогов было организовано?": "ru",
    "Who chaired the conference?": "en",
    "How many dialogues were organized?": "en",
    "Wer leitete die Konferenz?": "de",
    "Wie viele Dialoge wurden organisiert?": "de",
    "Ki vezette az ülést?": "hu",
    "Hány párbeszédet szerveztek?": "hu",
    "誰が会議を主宰しましたか？": "ja",
    "対話は何回行われましたか": "ja",
}


@pytest.fixture(scope="module", params=["lingua", "py3langid"])
def detector(request: pytest.FixtureRequest) -> LanguageDetector:
    if request.param == "py3langid":
        pytest.importorskip("py3langid")
    return make_language_detector(Settings(language_detector=request.param))


@pytest.mark.parametrize(("question", "language"), QUESTIONS.items())
def test_short_questions(detector: LanguageDetector, question: str, language: str):
    assert detector.detect(question) == language


@pytest.mark.parametrize(("prefix", "language"), CORPUS_LANGUAGES.items())
def test_corpus_documents(detector: LanguageDetector, prefix: str, language: str):
    text = clean_text(next(bundled_corpus().glob(f"{prefix}_*.txt")).read_text("utf-8")).text
    assert detector.detect(text) == language


@pytest.mark.parametrize("text", ["", "   ", "12345 !!!", "ok"])
def test_undecidable_is_und(detector: LanguageDetector, text: str):
    assert detector.detect(text) == "und"


def test_factory_builds_lingua_by_default():
    assert isinstance(make_language_detector(Settings()), LinguaDetector)


def test_py3langid_without_the_package_is_a_clear_error(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "py3langid" else real_find_spec(name, *args),
    )
    with pytest.raises(PluginError, match="py3langid package is not installed"):
        make_language_detector(Settings(language_detector="py3langid"))
