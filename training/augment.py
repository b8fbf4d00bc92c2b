"""Counterfactual augmentation: teach the model that who writes, and from where, and in
which spelling, does not matter.

During fine-tuning a share of the training messages is re-written each epoch with a random
greeting or sign-off carrying a name, a neutral sentence naming a person or a place, or
US/UK spelling and informal dialect markers, keeping the labels. The name and place pools here are deliberately different from
the ones the parity check (`triage/parity.py`) measures with, so the check stays honest.
"""

from __future__ import annotations

import random
import re

FIRST = ["Aisha", "Liam", "Chen", "Fatima", "Diego", "Olga", "Kwame", "Hiroshi", "Ingrid",
         "Rahul", "Zanele", "Mateo", "Siobhan", "Tariq", "Yuki", "Amara", "Bogdan", "Leilani",
         "DeShawn", "Marisol", "Anh", "Kofi", "Ewa", "Haruto", "Nadia", "Jamal", "Björn",
         "Camila", "Ravi", "Thandiwe", "Connor", "Mei", "Oksana", "Tomás", "Imani", "Arjun",
         "Grace", "Mustafa", "Sakura", "Precious", "Hamza", "Elena", "Tyrone", "Parisa"]
LAST = ["Okafor", "Kowalski", "Nakamura", "Hernández", "O'Brien", "Patel", "Haddad", "Pham",
        "Johansson", "Mensah", "Rossi", "Kim", "Dubois", "Abdullah", "Fernandes", "Jackson",
        "Ivanova", "Murphy", "Banerjee", "Tanaka", "Van der Berg", "Mahlangu", "Cohen",
        "Silva", "Yilmaz", "Kaur", "Williams", "Osei", "Schmidt", "Castillo"]
PLACES = ["Nairobi", "Leeds", "Chennai", "Houston", "Kraków", "Manchester", "Cebu", "Accra",
          "Bristol", "Detroit", "Karachi", "Lisbon", "Dublin", "Atlanta", "Lima", "Cardiff",
          "Brisbane", "Johannesburg", "Hanoi", "Cairo", "Mississippi", "Kerala", "Ontario",
          "Yorkshire", "Queensland", "the Bronx", "rural Wales", "Punjab", "Soweto", "Texas"]
_GREETINGS = ["Hi, {first} here. ", "Hello, this is {full}. ", "My name is {full}. ",
              "{first} here - ", "Hey it's {first}. ", "Good morning, {full} writing. "]
_SIGNOFFS = ["\n\nThanks,\n{first}", "\n\nRegards,\n{full}", "\n- {first}", " Cheers, {first}",
             "\n\nKind regards\n{full}\n{place}", " ({full})", "\n\nSent from {place}",
             " I'm based in {place}.", "\n\n{full}, {place}"]
_SPELLING = [("color", "colour"), ("center", "centre"), ("canceled", "cancelled"),
             ("organize", "organise"), ("apologize", "apologise"), ("program", "programme"),
             ("favorite", "favourite"), ("mom", "mum"), ("check", "cheque"),
             ("realize", "realise"), ("license", "licence"), ("traveling", "travelling"),
             ("behavior", "behaviour"), ("neighbor", "neighbour"), ("gray", "grey")]
# Informal English from many places (Scotland, Ireland, the north of England, London, the
# US South and cities, African-American English, Australia, South Africa, Nigeria, India,
# Singapore, texting): each pattern, when a rewrite uses it, picks one of its forms. The
# parity check's held-out dialect forms (`triage.parity.DIALECT_HELD_OUT`) are none of
# these, and a test keeps it so: the model must read those alike without being shown them.
_DIALECT: list[tuple[str, tuple[str, ...]]] = [
    (r"\byou all\b", ("y'all", "you lot", "youse")), (r"\bgoing to\b", ("gonna", "gunna", "goin to")),
    (r"\bwant to\b", ("wanna", "wan")), (r"\bisn't it\b", ("innit", "init", "is it")),
    (r"\bmy friend\b", ("my mate", "me mate", "my bro")), (r"\bdo not\b", ("don't", "dont")),
    (r"\bI am\b", ("I'm", "Im", "am")), (r"\bhave got\b", ("have gotten", "got")),
    (r"\bthank you\b", ("ta", "thank u", "tanks", "tq")), (r"\bplease\b", ("pls", "plz", "kindly")),
    (r"\bthe\b", ("da", "tha", "de")), (r"\baren't\b", ("ain't", "arent")),
    (r"\bhaven't\b", ("ain't", "havent", "haven't got")), (r"\b(?:got|have) to\b", ("gotta", "hafta")),
    (r"\bdon't know\b", ("dunno", "dno")), (r"\bbecause\b", ("cuz", "coz", "cause", "bc")),
    (r"\bsomething\b", ("summat", "sumthin", "smth")), (r"\bnothing\b", ("nuthin", "nowt")),
    (r"\banything\b", ("owt", "anythin")), (r"\byes\b", ("yep", "aye", "yea", "yuh")),
    (r"\bfriends\b", ("mates", "buddies", "homies", "fam")), (r"\bsorry\b", ("soz", "sry")),
    (r"\bright now\b", ("rn",)), (r"\bI was\b", ("I were",)),
    (r"\bthem\b", ("dem", "em")), (r"\bthat\b", ("dat", "tht")), (r"\bthis\b", ("dis",)),
    (r"\bwith\b", ("wit", "wiv", "w/")), (r"\bwhat\b", ("wat", "wot", "wha")),
    (r"\bvery\b", ("real", "well", "dead", "hella", "mad", "super", "proper", "pure")),
    (r"\breally\b", ("rly", "proper", "dead")), (r"\bnow\b", ("now now",)),
    (r"\byou\b", ("u", "ya", "yuh")), (r"\byour\b", ("ur", "yer", "yo")), (r"\bare\b", ("r",)),
    (r"\bmy\b", ("me", "ma")), (r"\bkind of\b", ("kinda", "sorta")),
    (r"\bisn't\b", ("is not", "isnae", "aint")), (r"\bdoesn't\b", ("don't", "doesnt")),
    (r"\bcan't\b", ("cannae", "cant", "cyaan")), (r"\bdidn't\b", ("didnae", "didnt")),
    (r"\bI have\b", ("I've got", "I got", "ive")), (r"\bI think\b", ("I guess", "I figure")),
    (r"\ba lot of\b", ("lots of", "heaps of", "tons of", "plenty")),
    (r"\blittle\b", ("lil", "tiny")), (r"\bmoney\b", ("cash", "bucks", "quid", "dough")),
    (r"\bmother\b", ("mam", "ma", "mom")), (r"\bchildren\b", ("kiddos", "little ones")),
    (r"\bthanks\b", ("thanx", "tnx", "ty")), (r"\b(\w{2,}[^aeiou\W])ing\b", (r"\1in", r"\1in'")),
]
# discourse particles some Englishes end a sentence with ("can or not lah", "abeg o")
_PARTICLES = ("lah", "eh", "o", "sha", "innit", "ya know", "like", "mate", "bro", "fam", "ehn")
_SENTENCE_END = re.compile(r"(?<=\w)([.?!])(?=\s|$)")


# Syllables from many languages' names, put together at random: names nobody's list holds,
# so text preparation leaves them in the text (it masks only listed names or names after a
# cue) and the model learns that an unknown name it does read moves no score.
_ONSETS = ["", "", "b", "ch", "d", "dz", "f", "g", "gh", "h", "j", "k", "kh", "kw", "l", "m",
           "mb", "n", "nd", "ng", "ny", "p", "q", "r", "s", "sh", "t", "th", "ts", "v", "w",
           "x", "y", "z", "zh"]
_VOWELS = ["a", "e", "i", "o", "u", "a", "e", "i", "o", "u", "ai", "ao", "ei", "ia", "ie",
           "io", "ou", "ua", "ue", "uo", "aa", "ee", "oo"]
_CODAS = ["", "", "", "", "n", "ng", "r", "l", "s", "k", "m", "t", "sh", "h"]


def invented_name(rng: random.Random, parts: int = 2) -> str:
    """A name made of random syllables ("Tsiao Mbelukar"), none of them on the masked lists."""
    from triage.textprep import names, places

    listed, located = names(), places()  # looked up, not merged: this runs per message
    words = []
    while len(words) < parts:
        word = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS)
                       for _ in range(rng.choice((1, 2, 2, 3))))
        word = word.capitalize()
        if len(word) >= 3 and word not in listed and word not in located \
                and word.lower() not in _COMMON:
            words.append(word if rng.random() > 0.08 else f"{word}-{invented_name(rng, 1)}")
    return " ".join(words)


# a few ordinary words the syllables could spell: never used as invented names
_COMMON = frozenset((
    "and", "are", "bad", "ban", "bin", "bun", "can", "cat", "dog", "den", "fun", "gun",
    "hat", "hen", "her", "him", "his", "hot", "man", "men", "not", "now", "one", "our",
    "out", "pan", "pen", "pin", "pun", "run", "sun", "tan", "ten", "the", "tin", "too",
    "two", "was", "way", "who", "why", "yes", "you", "he", "she", "it", "we", "they",
    "them", "this", "that", "kill", "hate", "shit",
))


def _identity(rng: random.Random) -> dict[str, str]:
    if rng.random() < 0.5:
        first, full = rng.choice(FIRST), f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    else:
        full = invented_name(rng, rng.choice((1, 2, 2, 3)))
        first = full.split()[0]
    return {"first": first, "full": full, "place": rng.choice(PLACES)}


def with_identity(text: str, rng: random.Random) -> str:
    """`text` with a random greeting and/or sign-off naming someone and somewhere."""
    who = _identity(rng)
    choice = rng.random()
    if choice < 0.35:
        return rng.choice(_GREETINGS).format(**who) + text
    if choice < 0.7:
        return text + rng.choice(_SIGNOFFS).format(**who)
    return rng.choice(_GREETINGS).format(**who) + text + rng.choice(_SIGNOFFS).format(**who)


_MENTIONS = ["The account holder is {full}.", "I'm asking on behalf of {full}.",
             "My partner {first} set this up for us.", "Our office is in {place}.",
             "I'm originally from {place}.", "I usually go to the {place} branch.",
             "{full} is the name on the booking.", "We live near {place}.",
             "The card is registered to {full}.", "I was in {place} at the time.",
             # no cue word: the name stands where any noun could
             "{full} told me the same thing happened last month.", "I'll forward this to {first}.",
             "{first} can confirm all of it.", "Copying {full} on this.",
             "Please keep {first} in the loop.", "{first} from accounts asked me to write in.",
             "It is the same problem {full} reported.", "Ask {first} if you need the receipts.",
             "{full} and I share the account.", "{first} thinks it is the router.",
             "Same for {first} and {full}.", "{first} is picking it up on Monday.",
             "{first} reckons it's a billing error.", "Cc {full}.", "{first} says hi."]


def with_mention(text: str, rng: random.Random) -> str:
    """`text` with a neutral sentence naming a person or place, before or after it."""
    sentence = rng.choice(_MENTIONS).format(**_identity(rng))
    return f"{sentence} {text}" if rng.random() < 0.4 else f"{text} {sentence}"


def with_dialect(text: str, rng: random.Random) -> str:
    """`text` in the other spelling system, with informal markers: each pattern of
    `_DIALECT` used with probability 0.5 (one of its forms, chosen at random), and
    sometimes a discourse particle before one sentence's end."""
    for us, uk in _SPELLING:
        a, b = (us, uk) if rng.random() < 0.5 else (uk, us)
        text = re.sub(rf"\b{a}\b", b, text, flags=re.IGNORECASE)
    for pattern, forms in _DIALECT:
        if rng.random() < 0.5:
            text = re.sub(pattern, rng.choice(forms), text, flags=re.IGNORECASE)
    if rng.random() < 0.3:
        ends = list(_SENTENCE_END.finditer(text))
        if ends:
            at = rng.choice(ends).start()
            text = f"{text[:at]} {rng.choice(_PARTICLES)}{text[at:]}"
    return text


def augment(texts: list[str], rng: random.Random, share: float) -> list[str]:
    """A copy of `texts` with about `share` of them re-written by the functions above."""
    out = []
    for text in texts:
        roll = rng.random()
        if roll < share:
            text = _rewrite(text, rng, roll / share)
        out.append(text)
    return out


def counterfactual(text: str, rng: random.Random) -> str:
    """One re-written copy of `text` that must score the same (for the consistency loss)."""
    return _rewrite(text, rng, rng.random())


def _rewrite(text: str, rng: random.Random, pick: float) -> str:
    """Re-write `text` one way, chosen by `pick` in [0, 1): identity 30 %, a mention 30 %,
    spelling and dialect 40 %."""
    if pick < 0.3:
        return with_identity(text, rng)
    if pick < 0.6:
        return with_mention(text, rng)
    return with_dialect(text, rng)
