import pytest

from evals.normalize import contains, normalize, strip_markers, tokens


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hà Tĩnh", "ha tinh"),  # Vietnamese diacritics
        ("Đà Nẵng", "da nang"),  # đ has no decomposition
        ("ＦＵＬＬ  width", "full width"),  # NFKC, case, whitespace
        ("Straße", "strasse"),
        ("18.087", "18087"),
        ("18,087", "18087"),
        ("18 087", "18087"),
        ("18\u202f087", "18087"),  # narrow no-break space
        ("18\u00a0087", "18087"),  # no-break space
        ("1,234,567", "1234567"),
        ("1.234,5", "1234.5"),  # German grouping and decimal comma
        ("3.5", "3.5"),  # one digit after the point: a decimal
        ("3,5", "3.5"),  # decimal comma
        ("0.125", "0.125"),  # a lone leading zero is never grouped
        ("18.0875", "18.0875"),  # four digits after the point: not a group
        ("2019 123", "2019 123"),  # a group has at most three leading digits
        ("1,234.567", "1234.567"),  # mixed separators: only the first one groups
    ],
)
def test_normalize(text, expected):
    assert normalize(text) == expected


@pytest.mark.parametrize("written", ["18.087", "18,087", "18 087", "18\u202f087", "18087"])
def test_every_grouping_of_a_number_matches_every_other(written):
    assert contains(f"Es gab {written} Vorschläge.", "18.087")
    assert contains(f"Es gab {written} Vorschläge.", "18087")


@pytest.mark.parametrize(
    ("text", "phrase", "found"),
    [
        ("In 2029 it ends.", "29", False),  # 29 inside 2029
        ("Version 2.29", "29", False),  # 29 as a fraction
        ("29.5 percent", "29", False),  # 29 as the integer part of a decimal
        ("It rose 3.55 points", "3.5", False),
        ("It rose 13.5 points", "3.5", False),
        ("It rose 3,5 Punkte", "3.5", True),
        ("29 people, then 2029", "29", True),  # a later whole occurrence still counts
        ("the 2020–2025 term", "2025", True),
        ("Tỉnh Hà Tĩnh", "HA TINH", True),
        ("河静省", "河静", True),
        ("anything", "", False),
    ],
)
def test_contains(text, phrase, found):
    assert contains(text, phrase) is found


def test_tokens_split_cjk_into_characters_and_keep_numbers_whole():
    assert tokens("北京是首都。") == ["北", "京", "是", "首", "都"]
    assert tokens("Hà Tĩnh có 18.087 kiến nghị, 3,5%") == [
        "ha",
        "tinh",
        "co",
        "18087",
        "kien",
        "nghi",
        "3.5",
    ]


def test_strip_markers():
    assert strip_markers("It is 29 [1][2].") == "It is 29   ."
