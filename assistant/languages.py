"""ISO 639-1 codes to English language names. The small local model follows the answer
language only when the prompt names it ("Answer in Vietnamese."), so the answer prompt
needs the name, not the code."""

from __future__ import annotations

DEFAULT_LANGUAGE = "en"

LANGUAGE_NAMES = {
    "ar": "Arabic",
    "bg": "Bulgarian",
    "bn": "Bengali",
    "cs": "Czech",
    "da": "Danish",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "et": "Estonian",
    "fa": "Persian",
    "fi": "Finnish",
    "fr": "French",
    "he": "Hebrew",
    "hi": "Hindi",
    "hr": "Croatian",
    "hu": "Hungarian",
    "id": "Indonesian",
    "it": "Italian",
    "ja": "Japanese",
    "km": "Khmer",
    "ko": "Korean",
    "lo": "Lao",
    "lt": "Lithuanian",
    "lv": "Latvian",
    "ms": "Malay",
    "nl": "Dutch",
    "no": "Norwegian",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sk": "Slovak",
    "sl": "Slovenian",
    "sr": "Serbian",
    "sv": "Swedish",
    "sw": "Swahili",
    "th": "Thai",
    "tl": "Tagalog",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "ur": "Urdu",
    "vi": "Vietnamese",
    "zh": "Chinese",
}


def language_code(code: str | None) -> str:
    """The lower-case language part of a tag: "pt-BR", "pt_br" and " PT " are "pt"."""
    return (code or "").strip().lower().replace("_", "-").split("-")[0]


def normalize_language(code: str | None) -> str:
    """A lower-case ISO 639-1 code; "und", empty and unknown codes become English, because
    the prompt must name some language."""
    code = language_code(code)
    return code if code in LANGUAGE_NAMES else DEFAULT_LANGUAGE


def language_name(code: str | None) -> str:
    return LANGUAGE_NAMES[normalize_language(code)]
