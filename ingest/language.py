"""Offline language identification for documents, chunks and questions."""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Sequence

from ingest import plugins
from ingest.errors import PluginError
from ingest.interfaces import LanguageDetector
from ingest.settings import IngestSettings

UNDETERMINED = "und"

# ISO 639-1 codes the detector chooses among. A closed set keeps short texts from being
# assigned to rarely relevant languages ("Wer ist der Parteisekretär?" scored Estonian).
SUPPORTED_LANGUAGES = (
    *("ar", "bg", "bn", "cs", "da", "de", "el", "en", "es", "fa", "fi", "fr", "he", "hi"),
    *("hr", "hu", "id", "it", "ja", "ko", "nl", "pl", "pt", "ro", "ru", "sk", "sl", "sr"),
    *("sv", "th", "tr", "uk", "vi", "zh"),
)

# Lingua's confidences sum to one over all candidates, so on a short question even a clear
# winner can score low in absolute terms; what marks it as decided is its lead over the
# runner-up ("Where is Bac Ninh?" -> en 0.18 vs pt 0.14 is decided, "ok" is not).
MIN_LEAD_RATIO = 1.25
# Lingua's low-accuracy mode (trigrams only: ~1 s and ~0.1 GB to load) is as good as the
# full mode from about this length on; shorter texts, i.e. questions, need the full models
# (~5 s and ~0.8 GB, loaded on the first short text).
LONG_TEXT_CHARS = 120
# Detection time grows with the text (~1.4 s/MB); a document's opening is evidence enough.
SAMPLE_CHARS = 10_000


class LinguaDetector:
    def __init__(self, languages: Sequence[str] = SUPPORTED_LANGUAGES):
        from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

        chosen = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in languages]
        # Both load their models lazily, per script, on first use.
        self._quick = (
            LanguageDetectorBuilder.from_languages(*chosen).with_low_accuracy_mode().build()
        )
        self._precise = LanguageDetectorBuilder.from_languages(*chosen).build()

    def detect(self, text: str) -> str:
        text = text[:SAMPLE_CHARS]
        if not any(ch.isalpha() for ch in text):
            return UNDETERMINED
        detector = self._quick if len(text) >= LONG_TEXT_CHARS else self._precise
        ranked = detector.compute_language_confidence_values(text)
        if not ranked or ranked[0].value == 0:
            return UNDETERMINED
        if len(ranked) > 1 and ranked[0].value < MIN_LEAD_RATIO * ranked[1].value:
            return UNDETERMINED
        return ranked[0].language.iso_code_639_1.name.lower()


class Py3LangidDetector:
    """Smaller and faster than lingua, weaker on short texts."""

    def __init__(self, languages: Sequence[str] = SUPPORTED_LANGUAGES):
        import py3langid

        py3langid.set_languages(list(languages))
        self._rank = py3langid.rank

    def detect(self, text: str) -> str:
        text = text[:SAMPLE_CHARS]
        if not any(ch.isalpha() for ch in text):
            return UNDETERMINED
        # Scores are log-probabilities: the lead ratio becomes a difference.
        (best, score), (_, runner_up) = self._rank(text)[:2]
        return best if score - runner_up >= math.log(MIN_LEAD_RATIO) else UNDETERMINED


def make_language_detector(settings: IngestSettings) -> LanguageDetector:
    """The detector ``language_detector`` names (``ingest.plugins``)."""
    return plugins.create("language_detector", settings.language_detector, settings)


def make_lingua(settings: IngestSettings) -> LinguaDetector:
    return LinguaDetector()


def make_py3langid(settings: IngestSettings) -> Py3LangidDetector:
    if importlib.util.find_spec("py3langid") is None:
        raise PluginError(
            "language_detector = 'py3langid' but the py3langid package is not installed; "
            "install it (pip install py3langid) or use the default 'lingua'."
        )
    return Py3LangidDetector()
