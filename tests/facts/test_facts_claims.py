from __future__ import annotations

import pytest

from guardkit._statements import without_emphasis, word_count
from guardkit.facts._scripts import unread_script
from guardkit.facts.claims import extract_claims


@pytest.mark.parametrize(
    ("text", "claims"),
    [
        ("Hi there! Thanks for asking. Is there anything else? Hope this helps!", []),
        ("Refunds take 5 days.", ["Refunds take 5 days."]),
        (
            "Items can be returned within 30 days, and refunds take 5 business days.",
            ["Items can be returned within 30 days", "refunds take 5 business days."],
        ),
        (
            "Express shipping costs $15 and it arrives the next day.",
            ["Express shipping costs $15", "it arrives the next day."],
        ),
        (
            "Dr. Smith joined U.S. Steel in 2001; he left in 2005.",
            ["Dr. Smith joined U.S. Steel in 2001", "he left in 2005."],
        ),
        (
            "The store sells apples and oranges from Spain.",
            ["The store sells apples and oranges from Spain."],
        ),
        # A predicate cut from its subject is checked with the subject put back.
        (
            "It was founded in 1990 and has 200 employees.",
            ["It was founded in 1990", "It has 200 employees."],
        ),
        (
            "Delivery within Germany takes 3 to 5 working days and costs 49 euros.",
            [
                "Delivery within Germany takes 3 to 5 working days",
                "Delivery within Germany costs 49 euros.",
            ],
        ),
        (
            "Inspections are free, and require a booking; cost 89 euros otherwise.",
            [
                "Inspections are free",
                "Inspections require a booking",
                "Inspections cost 89 euros otherwise.",
            ],
        ),
        # No plain subject to put back: the sentence stays one claim.
        (
            "The shop, which opened in 2010, sells bikes and repairs them.",
            ["The shop, which opened in 2010, sells bikes and repairs them."],
        ),
        (
            "Bikes that have been ridden cannot be returned and cost 10 euros to exchange.",
            ["Bikes that have been ridden cannot be returned and cost 10 euros to exchange."],
        ),
        # An -ing word followed by a verb is a subject, not a predicate.
        (
            "Refunds take 5 days, and shipping is free.",
            ["Refunds take 5 days", "shipping is free."],
        ),
        (
            "Refunds take 5 days, and shipping should be free.",
            ["Refunds take 5 days", "shipping should be free."],
        ),
        (
            "The kit includes a pump, including the valve.",
            ["The kit includes a pump, including the valve."],
        ),
        (
            "Sure! Please contact support. What is your order number? It costs 3.5 dollars.",
            ["It costs 3.5 dollars."],
        ),
        # The words that open an answer are no part of its statement; "No refunds" is one.
        ("Yes, refunds are issued within 90 days.", ["refunds are issued within 90 days."]),
        ("No, the warranty lasts 10 years.", ["the warranty lasts 10 years."]),
        ("No refunds are issued after 2 days.", ["No refunds are issued after 2 days."]),
        ("Please note that the warranty lasts 2 years.", ["the warranty lasts 2 years."]),
        ("Hi John, the shop opens at 9.", ["the shop opens at 9."]),
        (
            "Thanks to our partners, shipping is free.",
            ["Thanks to our partners, shipping is free."],
        ),
        ("Dear customers receive a 50% discount.", ["Dear customers receive a 50% discount."]),
        # Lead-ins, list markers, headings and emphasis
        (
            "Here is what I found:\n- The Basic plan costs 5 euros\n- The Pro plan costs 10 euros",
            ["The Basic plan costs 5 euros", "The Pro plan costs 10 euros"],
        ),
        (
            "1. Refunds take 5 days.\n2) Shipping is free",
            ["Refunds take 5 days.", "Shipping is free"],
        ),
        # ... but a number opening one line is no list, and real words stay words
        ("1. FC Koeln won the cup in 1983.", ["1. FC Koeln won the cup in 1983."]),
        ("No. 5 is the number of the item.", ["No. 5 is the number of the item."]),
        ("Note cards are sold in packs of 10.", ["Note cards are sold in packs of 10."]),
        (
            "Cheers was a sitcom that ran for 11 seasons.",
            ["Cheers was a sitcom that ran for 11 seasons."],
        ),
        (
            "If you have any damaged items, refunds take 5 days.",
            ["If you have any damaged items, refunds take 5 days."],
        ),
        ("Please return items within 30 days.", ["Please return items within 30 days."]),
        ("Best regards, Anna", []),
        ("If you have any questions, let me know.", []),
        ("I'm happy to help with anything else you need.", []),
        (
            "Those are refundable, but these cost 5 euros.",
            ["Those are refundable", "these cost 5 euros."],
        ),
        # a word after a determiner is no verb: the subject is the whole noun phrase
        (
            "The end user pays nothing and gets support.",
            ["The end user pays nothing", "The end user gets support."],
        ),
        (
            "Our offices are in Paris, France; Berlin, Germany.",
            ["Our offices are in Paris, France; Berlin, Germany."],
        ),
        (
            "## Refunds\nRefunds are issued within **30 days**.",
            ["Refunds are issued within 30 days."],
        ),
        # A semicolon joins two statements whatever their verbs
        (
            "The frame has a 10-year warranty; the battery lasts 40 hours.",
            ["The frame has a 10-year warranty", "the battery lasts 40 hours."],
        ),
        ("", []),
        # Scripts without spaces between words state facts too; a short "thank you" does not.
        (
            "退货期为三十天。礼品卡不能兑换现金。谢谢\uff01",  # a full-width "!"
            ["退货期为三十天。", "礼品卡不能兑换现金。"],
        ),
        ("ギフトカードは現金に交換できません。", ["ギフトカードは現金に交換できません。"]),
        ("การคืนสินค้าภายในสามสิบวัน", ["การคืนสินค้าภายในสามสิบวัน"]),
        ("你好\uff01", []),
        ("以下是退货政策\ufe13", []),  # a lead-in, its colon in vertical form
        ("Items can be returned within 30 days :)", ["Items can be returned within 30 days :)"]),
        (
            "Refunds take 30 days. (Is the refund issued within a week?) Shipping is free.",
            ["Refunds take 30 days.", "Shipping is free."],
        ),
        ("\uff08\u9000\u8d27\u671f\u662f\u591a\u4e45\uff1f\uff09", []),  # a question in brackets
    ],
)
def test_claims_table(text: str, claims: list[str]) -> None:
    found = extract_claims(text)
    assert [c.text for c in found] == claims
    for c in found:
        span = without_emphasis(" ".join(text[c.start : c.end].split()))
        assert c.text.endswith(span)  # a subject may lead
        assert c.sentence_start <= c.start < c.end <= c.sentence_end


@pytest.mark.parametrize(
    ("text", "scripts", "unread"),
    [
        ("Refunds take 5 days.", ("latin",), None),
        ("Café Zürich öffnet um 9 Uhr.", ("latin",), None),
        ("The 東京 office opens at 9.", ("latin",), None),  # mostly Latin letters
        ("退货期为三十天。", ("latin",), "cjk"),
        ("ギフトカードは現金に交換できません。", ("latin",), "hiragana"),
        ("Товары можно вернуть.", ("latin",), "cyrillic"),
        ("Товары можно вернуть.", ("latin", "cyrillic"), None),
        ("30 / 60 = 0.5", ("cyrillic",), None),  # no letters: nothing unread
        ("Refunds take 5 days.", ("cyrillic",), "latin"),
        ("\uff29\uff34\uff25\uff2d\uff33 ship in 30 days.", ("latin",), None),  # full-width
        ("\U0001d408\U0001d42d\U0001d41e\U0001d426\U0001d42c ship.", ("latin",), None),  # bold
        ("\uff7a\uff70\uff8b\uff70", ("katakana",), None),  # half-width katakana
        ("\u037a\u037a\u037a", ("latin",), "greek"),  # NFKC makes it no letter: its own name
    ],
)
def test_the_script_a_claim_is_in(text: str, scripts: tuple[str, ...], unread: str | None) -> None:
    assert unread_script(text, scripts) == unread


def test_words_glued_to_unspaced_letters_count() -> None:
    assert word_count("iPhone\u5728\u4e2d\u56fd\u5f88\u53d7\u6b22\u8fce and it sells well") == 8
