"""Hand-written probes of known weaknesses of the verifier.

1. Facts restated from a sentence that says two things. Answers rarely quote their source. They
   restate one fact of a sentence that holds two ("takes 3 days and costs 49 euros" -> "costs
   49 euros"), drop a modifier, or put a number in other words. Each probe has a supported
   restatement and a contradicted twin of the same form with one fact changed, so a model that
   judges the form instead of the fact gets half of them wrong.
2. Claims about another subject. "Delivery to Germany costs 89 euros" is neither supported nor
   contradicted by "Delivery to Austria costs 89 euros": the evidence says nothing about
   Germany. A model that reads any changed name as a contradiction flags true answers whenever
   a neighbouring fact is retrieved. Each probe pairs such a claim (not enough info) with a twin
   about the same subject with its value changed (contradicted).
3. Unrelated text with numbers. Evidence about something else ("The weather report for day 3
   mentioned light winds.") says nothing about "The Eiffel Tower was completed in 1889.": not
   enough info. The same unrelated sentences repeated beside the fact must not outvote it: the
   fact's claim stays supported and its changed twin contradicted.
4. A sentence checked against itself. It entails itself, but the model, trained on many
   near-copies with one number changed, may call it contradicted. The runtime supports such
   pairs without the model (``guardkit.verifier._quotes``); this group reports how often the
   model alone would have got them right.

Written for this benchmark, not drawn from any training source.

    python benchmarks/verifier_probes.py [--model DIR ...] [--out FILE.json]

Prints, per model, the share of restatement probes whose most likely label is the right one,
the mean P(supported) of the supported and of the contradicted claims, how the other-subject
and unrelated claims are labelled, how often a fact beside unrelated text is judged right, and
how often a sentence checked against itself is called supported by the model alone and by the
runtime.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from guardkit.verifier import DEFAULT_MODEL, OnnxVerifier

# (evidence, supported restatement, contradicted twin)
PROBES: list[tuple[str, str, str]] = [
    (
        "Standard delivery within Germany takes 3 to 5 working days and costs 49 euros.",
        "Delivery within Germany costs 49 euros.",
        "Delivery within Germany costs 29 euros.",
    ),
    (
        "The battery reaches 80 percent in 3 hours and a full charge in 5 hours.",
        "A full charge takes 5 hours.",
        "A full charge takes 8 hours.",
    ),
    (
        "The museum opened in 1921 and welcomes about 40,000 visitors a year.",
        "The museum welcomes about 40,000 visitors a year.",
        "The museum welcomes about 90,000 visitors a year.",
    ),
    (
        "Our support line is staffed from 8 am to 6 pm and answers most calls within 2 minutes.",
        "Most calls are answered within 2 minutes.",
        "Most calls are answered within 20 minutes.",
    ),
    (
        "The bridge was completed in 1937 and spans 1,280 metres.",
        "The bridge spans 1,280 metres.",
        "The bridge spans 2,100 metres.",
    ),
    (
        "Members get free shipping on every order and a 10 percent discount on accessories.",
        "Members get a 10 percent discount on accessories.",
        "Members get a 25 percent discount on accessories.",
    ),
    (
        "The trial enrolled 412 patients and ran for 18 months.",
        "The trial ran for 18 months.",
        "The trial ran for 30 months.",
    ),
    (
        "The lake lies at 1,870 metres above sea level and freezes over in most winters.",
        "The lake lies at 1,870 metres.",
        "The lake lies at 870 metres.",
    ),
    (
        "The frame weighs 2.1 kg and carries riders of up to 120 kg.",
        "Riders of up to 120 kg can use the frame.",
        "Riders of up to 150 kg can use the frame.",
    ),
    (
        "The company employs 350 people and has offices in Lyon and Porto.",
        "The company has an office in Porto.",
        "The company has an office in Madrid.",
    ),
    (
        "Returns are accepted within 30 days of delivery, and refunds are paid within 14 days.",
        "Refunds are paid within 14 days.",
        "Refunds are paid within 60 days.",
    ),
    (
        "The novel was published in 1962 and sold two million copies in its first year.",
        "The novel sold two million copies in its first year.",
        "The novel sold five million copies in its first year.",
    ),
    (
        "The warranty covers the motor for 2 years and the battery for 1 year.",
        "The battery is covered for 1 year.",
        "The battery is covered for 3 years.",
    ),
    (
        "The train leaves Vienna at 7:40 and reaches Salzburg two and a half hours later.",
        "The train reaches Salzburg two and a half hours after leaving Vienna.",
        "The train reaches Salzburg four hours after leaving Vienna.",
    ),
    (
        "The festival lasts four days and draws around 60,000 people.",
        "Around 60,000 people attend the festival.",
        "Around 6,000 people attend the festival.",
    ),
    (
        "The plan costs 12 euros a month and includes 50 GB of data.",
        "The plan includes 50 GB of data.",
        "The plan includes 5 GB of data.",
    ),
]


# (evidence, claim about another subject: not enough info, same subject changed: contradicted)
OTHER_SUBJECT: list[tuple[str, str, str]] = [
    (
        "Delivery to Austria costs 89 euros.",
        "Delivery to Germany costs 89 euros.",
        "Delivery to Austria costs 49 euros.",
    ),
    (
        "The Hamburg store opens at 9:00.",
        "The Berlin store opens at 9:00.",
        "The Hamburg store opens at 10:00.",
    ),
    (
        "Marie Curie was born in Warsaw.",
        "Pierre Curie was born in Warsaw.",
        "Marie Curie was born in Paris.",
    ),
    (
        "The Nordlicht 625 battery has a range of 120 kilometres.",
        "The Nordlicht 500 battery has a range of 120 kilometres.",
        "The Nordlicht 625 battery has a range of 90 kilometres.",
    ),
    (
        "Python was created by Guido van Rossum.",
        "Ruby was created by Guido van Rossum.",
        "Python was created by Yukihiro Matsumoto.",
    ),
    (
        "The premium plan includes 100 GB of storage.",
        "The basic plan includes 100 GB of storage.",
        "The premium plan includes 10 GB of storage.",
    ),
    (
        "Flights from Oslo to Bergen take 55 minutes.",
        "Flights from Oslo to Tromso take 55 minutes.",
        "Flights from Oslo to Bergen take 2 hours.",
    ),
    (
        "The 2019 model weighs 14 kilograms.",
        "The 2021 model weighs 14 kilograms.",
        "The 2019 model weighs 19 kilograms.",
    ),
]


# (unrelated evidence with numbers, claim with numbers about something else: not enough info)
UNRELATED: list[tuple[str, str]] = [
    (
        "The weather report for day 3 mentioned light winds.",
        "The Eiffel Tower was completed in 1889.",
    ),
    ("Store 12 sold 340 umbrellas in March.", "The bridge spans 1,280 metres."),
    ("The 14 bus leaves every 20 minutes.", "The novel sold two million copies in 1962."),
    ("Room 204 seats 36 students.", "The trial enrolled 412 patients."),
    ("The recipe needs 3 eggs and 250 grams of flour.", "The lake lies at 1,870 metres."),
    ("Flight 88 landed 15 minutes early.", "The museum welcomes 40,000 visitors a year."),
    ("The garden has 7 apple trees and 2 ponds.", "The plan costs 12 euros a month."),
    ("Chapter 5 runs to 42 pages.", "The festival lasts four days."),
]

# (fact sentence, supported claim, contradicted twin); the fact is shown after FILLER
BESIDE: list[tuple[str, str, str]] = [
    (
        "The Eiffel Tower is in Paris and was completed in 1889.",
        "The Eiffel Tower was completed in 1889.",
        "The Eiffel Tower was completed in 1925.",
    ),
    (
        "Refunds are paid within 14 days of the return.",
        "Refunds are paid within 14 days.",
        "Refunds are paid within 60 days.",
    ),
    (
        "The frame carries riders of up to 120 kg.",
        "Riders of up to 120 kg can use the frame.",
        "Riders of up to 150 kg can use the frame.",
    ),
    (
        "The Hamburg store opens at 9:00 on weekdays.",
        "The Hamburg store opens at 9:00 on weekdays.",
        "The Hamburg store opens at 11:00 on weekdays.",
    ),
]
# Sentences with numbers and two facts, as help centres write them.
VERBATIM: list[str] = [
    "Orders placed before 2 pm ship the same day, and orders after 2 pm ship the next day.",
    "The gym is open from 6:00 to 22:00 on weekdays and from 8:00 to 20:00 at weekends.",
    "Tickets cost 12 euros for adults and 6 euros for children under 14.",
    "The tent weighs 2.3 kilograms and sleeps up to 3 people.",
    "Parcels over 30 kilograms cannot be sent by standard post, but they can go by freight.",
    "The printer prints 40 pages a minute and holds 500 sheets of paper.",
    "Members get 10 percent off every order and free delivery above 50 euros.",
    "The course runs for 8 weeks, with 2 lessons of 90 minutes each week.",
    "The lake is 14 kilometres long and up to 120 metres deep.",
    "Refunds are paid within 14 days, and store credit is issued at once.",
    "The warranty lasts 3 years for the motor and 1 year for the display.",
    "Our office in Leeds is open Monday to Thursday from 9:00 to 17:00 and on Friday until 15:00.",
]
FILLER = " ".join(f"The weather report for day {i} mentioned light winds." for i in range(40))


def measure(folder: Path) -> dict[str, float]:
    verifier = OnnxVerifier(folder)
    pairs = [(e, c) for e, s, x in PROBES for c in (s, x)]
    probs = verifier.probs_array(pairs)  # columns: supported, contradicted, not enough info
    sup, con = probs[0::2], probs[1::2]
    right = np.concatenate([sup.argmax(1) == 0, con.argmax(1) == 1])
    other = verifier.probs_array([(e, c) for e, o, x in OTHER_SUBJECT for c in (o, x)])
    other_label, changed_label = other[0::2].argmax(1), other[1::2].argmax(1)
    unrelated = verifier.probs_array(UNRELATED).argmax(1)
    beside = verifier.probs_array(
        [(f"{FILLER} {fact}", c) for fact, s, x in BESIDE for c in (s, x)]
    ).argmax(1)
    itself = [(v, v) for v in VERBATIM]
    verbatim_model = verifier.model_probs(itself).argmax(1)
    verbatim_runtime = verifier.probs_array(itself).argmax(1)
    return {
        "probes": float(len(PROBES)),
        "accuracy": float(right.mean()),
        "supported_right": float((sup.argmax(1) == 0).mean()),
        "contradicted_right": float((con.argmax(1) == 1).mean()),
        "p_supported_of_supported": float(sup[:, 0].mean()),
        "p_supported_of_contradicted": float(con[:, 0].mean()),
        "other_subject_probes": float(len(OTHER_SUBJECT)),
        "other_subject_not_enough_info": float((other_label == 2).mean()),
        "other_subject_contradicted": float((other_label == 1).mean()),
        "other_subject_supported": float((other_label == 0).mean()),
        "same_subject_changed_contradicted": float((changed_label == 1).mean()),
        "unrelated_probes": float(len(UNRELATED)),
        "unrelated_not_enough_info": float((unrelated == 2).mean()),
        "unrelated_contradicted": float((unrelated == 1).mean()),
        "beside_filler_probes": float(len(BESIDE)),
        "beside_filler_supported_right": float((beside[0::2] == 0).mean()),
        "beside_filler_contradicted_right": float((beside[1::2] == 1).mean()),
        "verbatim_probes": float(len(VERBATIM)),
        "verbatim_model_supported": float((verbatim_model == 0).mean()),
        "verbatim_model_contradicted": float((verbatim_model == 1).mean()),
        "verbatim_runtime_supported": float((verbatim_runtime == 0).mean()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, action="append", default=None)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    results = {str(m): measure(m) for m in (args.model or [DEFAULT_MODEL])}
    for name, r in results.items():
        print(
            f"{Path(name).name}: {r['accuracy']:.3f} right "
            f"(supported {r['supported_right']:.3f}, contradicted {r['contradicted_right']:.3f}); "
            f"mean P(supported) {r['p_supported_of_supported']:.3f} for supported, "
            f"{r['p_supported_of_contradicted']:.3f} for contradicted claims; "
            f"other subject: {r['other_subject_not_enough_info']:.3f} not enough info (right), "
            f"{r['other_subject_contradicted']:.3f} contradicted, "
            f"{r['other_subject_supported']:.3f} supported; same subject changed: "
            f"{r['same_subject_changed_contradicted']:.3f} contradicted (right); unrelated: "
            f"{r['unrelated_not_enough_info']:.3f} not enough info (right), "
            f"{r['unrelated_contradicted']:.3f} contradicted; fact beside unrelated text: "
            f"{r['beside_filler_supported_right']:.3f} supported, "
            f"{r['beside_filler_contradicted_right']:.3f} changed twin contradicted (right); "
            f"a sentence against itself: the model alone {r['verbatim_model_supported']:.3f} "
            f"supported, {r['verbatim_model_contradicted']:.3f} contradicted; the runtime "
            f"{r['verbatim_runtime_supported']:.3f} supported"
        )
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
