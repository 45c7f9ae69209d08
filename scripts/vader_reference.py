#!/usr/bin/env python3
"""Reference vectors for `/sentiment text:` from the Python VADER itself.

Scores every text of CORPUS below with vaderSentiment 3.3.2, the reference implementation, and
writes tests/fixtures/vader_reference.json: per text its group, the text, neg, neu, pos,
compound (the package's own rounding: 3 decimals, 4 for compound) and the verdict at VADER's
+-0.05 cut-offs. The test `the_plugin_scores_every_reference_text_as_python_vader_does` in
plugins/sentiment.rs replays the fixture on every `cargo test`; Python is needed only to
regenerate it. NOT part of CI. Rerun after changing CORPUS:

    python3 -m venv /tmp/vader && /tmp/vader/bin/pip install vaderSentiment==3.3.2
    /tmp/vader/bin/python scripts/vader_reference.py      # from the repo root

CPython 3.11, 3.12 and 3.13 write the same fixture (but for its "python" field), because a text
whose scores depend on the interpreter is refused rather than written. Two things in the
reference do depend on it:
- `sum()` of the valences: a plain running total up to CPython 3.11, compensated for floats
  from 3.12, for ints among floats too from 3.14. Where positive and negative valences cancel,
  one interpreter's sum is 0.0 and another's is 2e-16, and VADER adds the "!" and "?" emphasis
  only to a non-zero sum, so the same text scores 0.0 on one and +-0.2 or more on another. The
  Rust crate follows CPython 3.14. `interpreter_dependent` scores each text under all three sums
  and refuses the text if they disagree.
- Unicode casing (`str.isupper()`, `str.lower()`) follows the interpreter's Unicode version; the
  Rust crate follows Unicode 16 (CPython 3.14). A text with a character this interpreter does
  not know (category Cn) is refused.
"""

import json
import math
import sys
import unicodedata
from importlib import metadata
from pathlib import Path

from vaderSentiment import vaderSentiment as vader

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "vader_reference.json"

REFERENCE = "3.3.2"

# The longest text the plugin accepts (its `text` option's max_len).
MAX_TEXT = 4000

# The four misread texts first, then one group per rule of VADER and per kind of input
# the bot meets. Groups are only labels for reading a failure.
CORPUS = {
    "issue": [
        "The package arrived today!!!",
        "No one liked it.",
        "That cake is to die for",
        "The food was at least good.",
    ],
    "plain": [
        "I love this brand, the service was great!",
        "Terrible support, I hate waiting. Awful.",
        "The new store opens on Monday.",
        "Our order was delivered on time.",
        "Worst customer service ever.",
        "Best coffee in town, hands down.",
        "The app keeps crashing after the update.",
        "Thanks for the quick reply, really helpful",
        "meh",
        "It's okay I guess",
        "Shipping took three weeks and the box was crushed.",
        "Happy birthday to our amazing team!",
        "I'm disappointed with the quality.",
        "The concert was fantastic and the crowd was wonderful.",
        "This is fine.",
        "refund please",
    ],
    "negation": [
        "The coffee is not good.",
        "The coffee is not bad.",
        "Not bad at all",
        "I don't like it.",
        "I do not dislike it.",
        "It isn't a horrible book.",
        "At least it isn't a horrible book.",
        "Never been so happy with an order.",
        "Sentiment analysis has never been good.",
        "Sentiment analysis has never been this good!",
        "This was never so good.",
        "Without a doubt, excellent idea.",
        "Without a doubt, an excellent idea.",
        "without any doubt great",
        "Nobody was happy.",
        "None of the staff were friendly.",
        "Nothing good came of it.",
        "The service was neither fast nor friendly.",
        "VADER is not smart, handsome, nor funny.",
        "No problems at all.",
        "no good",
        "No, this is great.",
        "There is no joy in it",
        "no one or nothing good",
        "no bad or good news",
        "I wouldn't recommend it.",
        "we cant complain",
        "It wasnt terrible",
        "They rarely disappoint.",
        "Despite the rain, a lovely day.",
        "uh-uh, not great",
        "It ain't good",
    ],
    "least": [
        "Roger Dodger is at least compelling as a variation on the theme.",
        "Roger Dodger is one of the least compelling variations on this theme.",
        "least good",
        "This is the least helpful support ever.",
        "At the very least it was fun.",
        "At least it was cheap.",
        "Not in the least bit happy.",
    ],
    "boosters": [
        "VADER is very smart, handsome, and funny.",
        "The service was extremely good.",
        "The service was extremely bad.",
        "It was really really good",
        "so good",
        "The book was only kind of good.",
        "The book was kind of bad.",
        "It is sort of nice.",
        "kinda good",
        "It's sorta okay",
        "The room was barely clean.",
        "I hardly enjoyed it.",
        "The portions were just enough good",
        "It was slightly disappointing.",
        "Incredibly helpful staff",
        "totally awesome!",
        "It was somewhat good.",
        "utterly horrible experience",
        "a little bit sad",
        "most amazing day",
    ],
    "caps": [
        "VADER is VERY SMART, handsome, and FUNNY.",
        "VADER is VERY SMART, handsome, and FUNNY!!!",
        "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
        "Today SUX!",
        "THE SERVICE WAS GREAT",
        "The service was GREAT",
        "I HATE this",
        "This is NOT good",
        "GOOD",
        "Good",
        "The food was VERY good",
        "OK",
        "LOL that was funny",
        "ABSOLUTELY terrible",
    ],
    "punctuation": [
        "The service was good.",
        "The service was good!",
        "The service was good!!",
        "The service was good!!!",
        "The service was good!!!!!!!!",
        "The service was bad!!!",
        "Is the service good?",
        "Is the service good??",
        "Is the service good???",
        "Is the service good?????",
        "Why is it so bad?!?!",
        "Hello!!!",
        "Really???",
        "!!!",
        "???",
        "...",
        "good.bad",
        "good,bad,ugly",
    ],
    "emoticons": [
        "Make sure you :) or :D today!",
        "Great job :)",
        "Not happy :(",
        "ok :-)",
        "thanks ;)",
        "<3 this",
        "</3",
        ":'(",
        ":P",
        "8-)",
        "XD",
        ":-/",
        ":)",
        ":(",
    ],
    "emoji": [
        "Catch utf-8 emoji such as \U0001F498 and \U0001F48B and \U0001F601",
        "\U0001F600",
        "\U0001F621",
        "Love it \u2764\ufe0f",
        "\U0001F494 so sad",
        "Delivery was late \U0001F644",
        "\U0001F602\U0001F602\U0001F602",
        "\U0001F525\U0001F525 new drop",
        "\U0001F44D",
        "\U0001F44D\U0001F3FD thanks",
        "\U0001F44E not for me",
        "\U0001F468\u200d\U0001F469\u200d\U0001F467 family day",
        "\U0001F1FA\U0001F1F8 launch today",
        "The cake\U0001F382was great",
        "\U0001F60A\U0001F60D\U0001F970",
        "\U0001F92C terrible",
        "\U0001F62D but worth it",
    ],
    "but": [
        "The plot was good, but the characters are uncompelling and the dialog is not great.",
        "Today only kinda sux! But I'll get by, lol",
        "It was good but expensive.",
        "Good food but terrible service.",
        "Terrible service but good food.",
        "but it is good",
        "I love it but",
        "nice but nice but nice",
        "good good but good good",
        "Great, but, the wait was awful; but the staff were kind",
        "BUT the price",
        "Not bad, but not great either.",
    ],
    "idioms": [
        "With VADER, sentiment analysis is the shit!",
        "Most automated sentiment analysis tools are shit.",
        "This new flavour is the bomb",
        "On the other hand, VADER is quite bad ass",
        "VADER is such a badass!",
        "Not such a badass after all.",
        "yeah right, like that will work",
        "That merger was the kiss of death for the brand",
        "It is a dessert to die for",
        "a cake to die for, honestly",
        "Her beating heart",
        "Meet me at the bus stop",
        "This plan doesn't cut the mustard",
        "Break a leg tonight!",
        "The company is in the red",
        "I'm feeling under the weather",
        "we are cooking with gas now",
    ],
    "contractions": [
        "I can't stand it.",
        "I can't wait!",
        "It doesn't work.",
        "I won't be back.",
        "We couldn't be happier.",
        "I'm not sure it's worth it.",
        "dont buy this",
        "You shouldn't miss it",
        "It's not that I don't like it",
        "I'd love to come back",
        "They're the best",
    ],
    "slang": [
        "lol",
        "lmao this is gold",
        "smh",
        "wtf is this",
        "omg yes",
        "ugh",
        "this slaps",
        "xlnt service",
        "it's lit",
        "gr8 work",
    ],
    "non-english": [
        "Je suis surpris de voir comment VADER est incroyablement utile !",
        "Ich bin \u00fcberrascht zu sehen, nur wie erstaunlich n\u00fctzlich VADER!",
        "Me sorprende ver s\u00f3lo c\u00f3mo incre\u00edblemente \u00fatil VADER!",
        "Sono sorpreso di vedere solo come incredibilmente utile VADER \u00e8!",
        "\u042f \u0443\u0434\u0438\u0432\u043b\u0435\u043d \u0443\u0432\u0438\u0434\u0435\u0442\u044c, \u043a\u0430\u043a \u0443\u0434\u0438\u0432\u0438\u0442\u0435\u043b\u044c\u043d\u043e \u043f\u043e\u043b\u0435\u0437\u043d\u043e \u0412\u0415\u0419\u0414\u0415\u0420\u0410!",
        "\u79c1\u306f\u3061\u3087\u3046\u3069\u3069\u306e\u3088\u3046\u306b\u9a5a\u304f\u307b\u3069\u5f79\u306b\u7acb\u3064\u30d9\u30a4\u30c0\u30fc\u3092\u898b\u3066\u9a5a\u3044\u3066\u3044\u307e\u3059!",
        "\u0623\u0646\u0627 \u0645\u0646\u062f\u0647\u0634 \u0644\u0631\u0624\u064a\u0629 \u0641\u0642\u0637 \u0643\u064a\u0641 \u0645\u062b\u064a\u0631 \u0644\u0644\u062f\u0647\u0634\u0629 \u0641\u064a\u062f\u0631 \u0641\u0627\u0626\u062f\u0629!",
        "\u6211\u5f88\u60ca\u8bb6\u5730\u770b\u5230VADER\u662f\u5982\u6b64\u6709\u7528!",
        "C'est magnifique, j'adore!",
        "Das ist schlecht.",
        "Muy bueno, gracias",
        "\u0130STANBUL \u00e7ok g\u00fczel GOOD",
        "\u039f\u0394\u03a5\u03a3\u03a3\u0395\u03a5\u03a3 was GREAT",
        "STRA\u00dfE good",
        "\u00c9T\u00c9 GREAT day",
        "na\u00efve but charming",
        "caf\u00e9 was lovely",
        "\uff27\uff2f\uff2f\uff24 \uff47\uff4f\uff4f\uff44",
    ],
    "empty": [
        "",
        " ",
        "   ",
        "\n",
        "\t \n ",
        "\u00a0",
        "\u3000good\u3000",
        ".",
        "a",
    ],
    "long": [
        " ".join(["The service was good and the staff were friendly."] * 80)[:MAX_TEXT],
        " ".join(["Terrible, slow, rude, never again!"] * 118)[:MAX_TEXT],
        " ".join(["good bad"] * 444)[:MAX_TEXT],
        ("I waited for an hour. " * 60 + "But the food was AMAZING!!!")[:MAX_TEXT],
        "a" * MAX_TEXT,
        "!" * MAX_TEXT,
        "good " * 800,
        " ".join(["but"] * 1000)[:MAX_TEXT],
        " ".join(["no"] * 2000)[:MAX_TEXT],
        "\U0001F600" * 1000,
        ("happy " * 400 + "sad " * 400)[:MAX_TEXT],
    ],
    "hostile": [
        "@everyone this product is great",
        "<@123456789012345678> you are terrible",
        "<:pepe_happy:123456789> nice",
        "Check https://example.com/great-deals now",
        "```rust\nfn main() { panic!(\"bad\") }\n```",
        "**bold** _good_ ~~bad~~ ||spoiler||",
        "'; DROP TABLE snapshots; --",
        "<script>alert('good')</script>",
        "text:\"good\" positive:5",
        "\x00good\x00",
        "good\x07\x08\x1b[31mbad",
        "\u202egood\u202c",
        "go\u200bod",
        "\ufeffgood",
        "good\u2028bad\u2029great",
        "\x1cgood\x1fbad",
        "good\x85bad",
        "Z\u0335\u0322\u0358a\u0336\u0327l\u0337\u031bg\u0334\u0328o\u0338\u0321 good",
        "\ue000\ufffd good",
        "\U0010fffd bad",
        "but but but but",
        "no no no no no",
        "not not not good",
        "least least least",
        "kind of of kind of",
        "very very very very very good",
        "!!!???!!!???",
        "?!",
        ":):):):)",
        "good!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
        "GOOD!!! BAD??? good... bad,,,",
        "1234567890",
        "3.14159 2.71828",
        "\\o/ yay",
        "good\tbad\tgood",
        "G\u0336O\u0336O\u0336D\u0336",
        "\u0130",
        "\u03a3",
        "\u03c3\u03c2\u03a3\u03a3",
        "\u1e9e",
        "\u01c5 good",
        "\u2160\u2161 good",
    ],
}


def verdict(compound):
    """VADER's own convention: +-0.05 and beyond is positive or negative."""
    if compound >= 0.05:
        return "positive"
    if compound <= -0.05:
        return "negative"
    return "neutral"


def plain_sum(values):
    """CPython 3.11 and before: a plain running total."""
    total = 0
    for value in values:
        total = total + value
    return total


def compensated_sum(values, ints_compensated):
    """CPython 3.12 on: exact ints up front, then a Neumaier-compensated total of the floats, and
    from 3.14 (`ints_compensated`) of the ints among them too."""
    items = iter(values)
    whole = 0
    for value in items:
        if type(value) is int:
            whole += value
            continue
        total, compensation = whole + value, 0.0
        break
    else:
        return whole
    for value in items:
        if type(value) is int and not ints_compensated:
            total += value
            continue
        value = float(value)
        step = total + value
        if abs(total) >= abs(value):
            compensation += (total - step) + value
        else:
            compensation += (value - step) + total
        total = step
    if compensation and math.isfinite(compensation):
        total += compensation
    return total


SUMS = {
    "CPython 3.11": plain_sum,
    "CPython 3.12-3.13": lambda values: compensated_sum(values, ints_compensated=False),
    "CPython 3.14": lambda values: compensated_sum(values, ints_compensated=True),
}


def scores_with_sum(analyzer, text, summation):
    """The reference's scores with its `sum` replaced, to see whether the text depends on it."""
    vader.sum = summation
    try:
        return analyzer.polarity_scores(text)
    finally:
        del vader.sum


def interpreter_dependent(analyzer, text, scores):
    """Why this text would score differently on another CPython, or None."""
    unknown = [c for c in text if unicodedata.category(c) == "Cn"]
    if unknown:
        return f"U+{ord(unknown[0]):04X} is unassigned in Unicode {unicodedata.unidata_version}"
    for interpreter, summation in SUMS.items():
        if scores_with_sum(analyzer, text, summation) != scores:
            return f"its scores differ with the sum() of {interpreter}"
    return None


def escaped(text):
    """JSON for a text, readable but with every invisible or control character as an escape."""
    out = []
    for c in json.dumps(text, ensure_ascii=False)[1:-1]:
        if c != " " and unicodedata.category(c)[0] in "CZ":
            out.append(json.dumps(c)[1:-1])
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def main():
    installed = metadata.version("vaderSentiment")
    if installed != REFERENCE:
        sys.exit(f"vaderSentiment {installed} is installed; the reference is {REFERENCE}")
    analyzer = vader.SentimentIntensityAnalyzer()
    rows, refused = [], []
    for group, texts in CORPUS.items():
        for text in texts:
            if len(text) > MAX_TEXT:
                sys.exit(f"longer than {MAX_TEXT} characters, which the plugin refuses: {text[:40]!r}")
            scores = analyzer.polarity_scores(text)
            why = interpreter_dependent(analyzer, text, scores)
            if why:
                refused.append(f"{text[:60]!r}: {why}")
                continue
            fields = [f'"group": {json.dumps(group)}', f'"text": {escaped(text)}']
            fields += [f'"{key}": {json.dumps(scores[key])}' for key in ("neg", "neu", "pos", "compound")]
            fields.append(f'"verdict": "{verdict(scores["compound"])}"')
            rows.append("{" + ", ".join(fields) + "}")
    if refused:
        sys.exit("interpreter-dependent texts, take them out of CORPUS:\n" + "\n".join(refused))
    texts = [text for group in CORPUS.values() for text in group]
    if len(set(texts)) != len(texts):
        sys.exit("CORPUS holds a text twice")
    header = {
        "reference": f"vaderSentiment {REFERENCE}",
        "generated_by": "scripts/vader_reference.py",
        "python": sys.version.split()[0],
        "unicode": unicodedata.unidata_version,
    }
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    body = ",\n".join(rows)
    meta = ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in header.items())
    FIXTURE.write_text("{" + meta + ', "rows": [\n' + body + "\n]}\n", encoding="utf-8")
    print(f"wrote {len(rows)} texts to {FIXTURE}")


if __name__ == "__main__":
    main()
