"""Write `triage/data/names.txt`: first names and surnames that text preparation masks as
`[name]` wherever they appear capitalised, with no cue word around them.

Source: the person-name lists of `Faker` (MIT licence, https://github.com/joke2k/faker),
installed only to run this script: `pip install --no-deps --target /tmp/fakerlib
faker==40.54.0` and run with `PYTHONPATH=.:/tmp/fakerlib` (Faker registers a pytest plugin, so
keep it out of the project's environment). Every locale's first, middle and last names
written in Latin letters are kept (about 70 locales: Chinese and Taiwanese pinyin and
Wade-Giles, Japanese romaji, Vietnamese, Indian, Pakistani, Algerian, Turkish, Azerbaijani,
Uzbek, Yoruba, Igbo, Hausa, Twi, Swahili, Zulu, Kenyan, Indonesian, Thai, Slavic, Baltic,
Nordic, Hispanic, Lusophone, ...). Russian and Ukrainian names are transliterated from
Cyrillic (a plain BGN-style table), Korean given names romanised from Hangul (Revised
Romanisation, syllables joined with a hyphen and without), Korean surnames in their usual
spelling (Kim, Lee, Park, ...), and diacritics folded as a second form ("José" and "Jose").
`SUPPLEMENT` adds a few common names the lists lack (Maori, romanised Arabic, Vietnamese,
Chinese): written here, released with the project.

Dropped: names that are ordinary words in our own labelled samples (a word that appears
there in lower case, such as "will", "mark", "hope" or "bill") and the ordinary English
words, months, days, titles and brands in `NOT_NAMES`, so that masking never eats a word
that carries meaning. Names that are also English words elsewhere ("Lee", "Young", "Swift",
"Media": a lower-case entry of Debian's `wamerican` word list, SCOWL, used here only as a
filter: `apt-get install wamerican`) go to `triage/data/name_words.txt` instead, which text
preparation masks only next to a name from `names.txt` ("Wei Lee", not "Social Media"),
unless at least `ACROSS_LOCALES` locales list them (John, Mike, Smith, Brown, Lee: names
first). The held-out probe names of the parity check (`triage/parity.py`,
`HELD_OUT_NAMES`) are never added here, so that the check measures how far the list reaches.

    PYTHONPATH=.:/tmp/fakerlib python scripts/make_names.py    # rewrites triage/data/names.txt
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
import unicodedata
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "triage" / "data" / "names.txt"
OUT_WORDS = ROOT / "triage" / "data" / "name_words.txt"
DICTIONARY = Path("/usr/share/dict/american-english")
ACROSS_LOCALES = 5
SAMPLES = ROOT / "data" / "samples" / "parts"
WORD = re.compile(r"[A-Za-zÀ-ÿ'’-]+")
ADDRESS = re.compile(r"\S+@\S+|\S*://\S+|www\.\S+|[@#]\w+")  # "priya.n@x.com" is no word
NAME = re.compile(r"^[A-Z][^\W\d_]*(?:['’-][A-Za-z][^\W\d_]*)*$")
LIST = re.compile(r"^(?:first|last|middle|male_last|female_last|unisex_last)_(?:romanized_)?"
                  r"names(?:_[a-z]+)*$")
CYRILLIC = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґ",
                    ["a", "b", "v", "g", "d", "e", "yo", "zh", "z", "i", "y", "k", "l", "m",
                     "n", "o", "p", "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch",
                     "", "y", "", "e", "yu", "ya", "i", "yi", "ye", "g"], strict=True))
UKRAINIAN = CYRILLIC | {"и": "y", "г": "h", "е": "e"}
HANGUL_INITIAL = ["g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj",
                  "ch", "k", "t", "p", "h"]
HANGUL_MEDIAL = ["a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo",
                 "u", "wo", "we", "wi", "yu", "eu", "ui", "i"]
HANGUL_FINAL = ["", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l",
                "m", "p", "p", "t", "t", "ng", "t", "t", "k", "t", "p", "t"]
KOREAN_SURNAMES = ["Kim", "Gim", "Lee", "Yi", "Rhee", "Park", "Pak", "Bak", "Choi", "Choe",
                   "Jung", "Jeong", "Chung", "Kang", "Cho", "Jo", "Yoon", "Yun", "Jang",
                   "Chang", "Lim", "Im", "Han", "Oh", "Seo", "Suh", "Shin", "Sin", "Kwon",
                   "Gwon", "Hwang", "Ahn", "An", "Song", "Ryu", "Yoo", "Yu", "Hong", "Jeon",
                   "Jun", "Ko", "Go", "Moon", "Mun", "Yang", "Son", "Bae", "Baek", "Paik",
                   "Heo", "Huh", "Nam", "Noh", "Roh", "Ha", "Kwak", "Sung", "Cha", "Joo", "Woo",
                   "Min", "Ryu", "Na", "Jin", "Ji", "Um", "Eom", "Chae", "Won", "Chun", "Bang",
                   "Gong", "Hyun", "Yeo", "Byun", "Choo", "Do", "Seol", "Maeng", "Pyo"]
SUPPLEMENT = [
    # Maori
    "Aroha", "Anahera", "Ataahua", "Hemi", "Hine", "Kahu", "Manaia", "Mere", "Nikau", "Rangi",
    "Rawiri", "Tama", "Tane", "Wiremu", "Ngaio", "Ngaire", "Hohepa", "Tipene", "Henare",
    "Ngata", "Parata", "Paewai", "Pomare", "Rapana", "Tawhiri", "Waititi", "Harawira", "Turei",
    "Tamihana", "Kereama", "Te", "Mihi", "Tui", "Kiri", "Awhina", "Hinewai", "Tamatea",
    # romanised Arabic
    "Mohammed", "Muhammad", "Mohamed", "Mohammad", "Ahmed", "Ahmad", "Omar", "Umar", "Hassan",
    "Hussein", "Husain", "Khalid", "Khaled", "Yusuf", "Youssef", "Yousef", "Ibrahim", "Fatima",
    "Aisha", "Ayesha", "Layla", "Leila", "Mariam", "Maryam", "Noor", "Nour", "Zainab",
    "Abdullah", "Abdulrahman", "Abdelrahman", "Saeed", "Hamza", "Karim", "Kareem", "Rashid",
    "Al-Rashid", "Al-Farsi", "Al-Amin", "Al-Sayed", "Haddad", "Mansour", "Nasser", "Saleh",
    "Khalil", "Aziz", "Amira", "Yasmin", "Yasmine", "Salma", "Rania", "Tariq", "Faisal",
    "Mustafa", "Mostafa", "Jamal", "Bilal", "Anwar", "Samir", "Walid", "Waleed", "Ziad",
    "Rami", "Hadi", "Hani", "Majid", "Nadia", "Dalia", "Reem", "Lina", "Huda", "Hiba",
    "Al-Masri", "Darwish", "Khoury", "Saad", "Suleiman", "Sulaiman", "Othman", "Osman",
    # Vietnamese (without diacritics, as most write them in English)
    "Nguyen", "Tran", "Pham", "Hoang", "Huynh", "Phan", "Vo", "Dang", "Bui", "Ngo", "Duong",
    "Ly", "Thi", "Anh", "Minh", "Thao", "Trang", "Huong", "Tuan", "Duc", "Hieu", "Phuong",
    "Quynh", "Thanh", "Khanh", "Ngoc", "Thuy", "Hanh", "Quang", "Trung", "Vinh", "Loan",
    # Chinese pinyin given names and surnames
    "Wei", "Zhang", "Wang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Zhou", "Wu", "Xu", "Sun",
    "Zhu", "Hu", "Guo", "He", "Gao", "Lin", "Luo", "Zheng", "Liang", "Xie", "Tang", "Feng",
    "Fang", "Jing", "Lei", "Yan", "Xin", "Hao", "Jie", "Ying", "Qiang", "Tao", "Xiaoming",
    "Xiaoyu", "Zhiwei", "Jian", "Yong", "Hui", "Ling", "Mei", "Xiu", "Yi", "Li", "Na",
    # Yoruba and Tamil names the lists lack
    "Oluwaseun", "Oluwatobi", "Oluwadamilare", "Ayodele", "Raghunathan", "Ramanathan",
    "Krishnan", "Subramanian", "Venkatesh", "Lakshmi", "Karthik", "Senthil",
]
NOT_NAMES = {
    # ordinary English words that are also given names (some may not occur in our samples)
    "Will", "Mark", "Hope", "Bill", "Grace", "May", "Rose", "Sue", "Frank", "Faith", "Sandy",
    "Joy", "Patience", "Mercy", "Charity", "Honor", "Honour", "Chase", "Hunter", "Summer",
    "Autumn", "Winter", "Dawn", "Amber", "Ruby", "Pearl", "Crystal", "Guy", "Rich", "Art",
    "Bob", "Pat", "Don", "Jack", "Dean", "Earl", "King", "Prince", "Duke", "Major", "Sterling",
    "Price", "Cash", "Penny", "Bud", "Buck", "Carol", "Destiny", "Heaven", "Precious", "Unique",
    "Royal", "Miles", "Cliff", "Glen", "Heath", "Lane", "Brook", "River", "Sky", "Star",
    "Happy", "Sunny", "Angel", "Baby", "Lady", "Sonny", "Rusty", "Lucky", "Ray", "Gene", "Max",
    "Nick", "Rob", "Drew", "Van", "Long", "Young", "Park", "Ha", "Mo", "Sung", "Hung", "Do",
    "An", "Ma", "Pa", "Ho", "Le", "La", "De", "Di", "Da", "Del", "Al", "El", "Bin",
    "Kit", "Kitty", "Holly", "Ivy", "Iris", "Lily", "Daisy", "Violet", "Olive", "Hazel",
    "Heather", "Jasmine", "Poppy", "Fern", "Willow", "Blossom", "Gay",
    "Page", "Wood", "Woods", "Stone", "Field", "Fields",
    "Hills", "Banks", "Bank", "Church", "Pope",
    "Judge",
    "Green", "White",
    "Black", "Gray", "Grey", "Rock", "Storm", "Rain", "Snow", "Frost",
    "Trinity", "Harmony", "Liberty", "Justice", "Serenity", "Genesis", "Journey", "Cherry",
    "Candy", "Ginger", "Sugar", "Honey", "Brandy", "Sherry", "Tequila", "Champagne", "Lemon",
    "Chance", "Colt", "Ace", "Bear", "Wolf", "Fox", "Hawk", "Jewel", "Diamond", "Gold",
    "Silver", "Amazon", "Apple", "Alexa", "Siri", "Visa", "Prime", "Echo", "Kindle", "Pixel",
    "Galaxy", "Tesla", "Mercedes", "Harley", "Dell", "Ford", "Chevy", "Wells", "Fargo",
    "Venmo", "Zelle", "Target", "Orange", "Vodafone", "Virgin", "Delta", "United",
    "Frontier", "Spirit", "Allegiant", "Jet", "Sprint", "Verizon", "Comcast", "Xfinity",
    "Office", "Outlook", "Teams", "Windows", "Android", "Chrome", "Safari", "Edge", "Firefox",
    "Zoom", "Slack", "Uber", "Lyft", "Netflix", "Hulu", "Disney", "Paypal", "PayPal",
    "Christmas", "Easter", "English", "French", "German", "Spanish", "Chinese", "Indian",
    "American", "British", "Irish", "Scottish", "Welsh", "Christian", "Muslim", "Jewish",
    "God", "Jesus", "Christ", "Lord", "Allah", "Mum", "Mom", "Dad", "Mama", "Papa", "Sir",
    "Madam", "Miss", "Mister", "Doctor", "Nurse", "Professor", "Captain", "General",
    "January", "February", "March", "April", "June", "July", "August", "September",
    "October", "November", "December", "Monday", "Tuesday", "Wednesday", "Thursday",
    "Friday", "Saturday", "Sunday", "Hi", "Hello", "Hey", "Dear", "Thanks", "Regards", "Best",
    "Cheers", "Sincerely", "Yours", "Please", "Sorry", "Okay", "Ok", "Yes", "No", "Not",
    "Support", "Customer", "Service", "Team", "Manager", "Admin", "Help", "Desk", "Account",
    "Card", "Order", "Ticket", "Case", "Ref", "Reference", "Invoice", "Plan", "Premium", "Pro",
    "Plus", "Basic", "Free", "Platinum", "Standard", "Express", "Priority",
    "Nation", "Roman", "Latin", "Asia", "Africa", "Europe", "America", "Tan", "Bay", "Early",
    "Love", "Sweet", "Trust", "Victory", "Wish", "Blessing", "Gift", "Goodness", "Favour",
    "Favor", "Comfort", "Peace", "Praise", "Glory", "Marvel", "Wisdom", "Innocent", "Loyal",
    "Noble", "Sage", "Hero", "Legend", "Rebel", "Maverick", "Ranger", "Scout", "Sailor",
    "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec", "Mon",
    "Tue", "Tues", "Wed", "Thu", "Thur", "Thurs", "Fri", "Sat", "Sun", "Wise", "Starling",
    "Monzo", "Revolut", "Mac", "North", "South", "East", "West", "Queen", "Kings", "Atlas",
    "Alfa", "Admiral", "Skoda", "Academy", "Santa", "Saint", "Fort", "Mount", "Lake", "Avis",
    "Hertz",
}


def common_words() -> set[str]:
    """Words written in lower case somewhere in our samples: ordinary words, not names."""
    words: set[str] = set()
    for path in sorted(SAMPLES.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                text = ADDRESS.sub(" ", json.loads(line)["text"])
                words.update(w for w in WORD.findall(text) if w.islower())
    return words


def fold(name: str) -> str:
    """`name` without diacritics ("Nguyễn" -> "Nguyen"); other letters kept."""
    decomposed = unicodedata.normalize("NFKD", name.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def cyrillic(name: str, table: dict[str, str]) -> str:
    return "".join(table.get(c, table.get(c.lower(), c)) for c in name).capitalize()


def hangul(syllables: str) -> list[str]:
    """A Korean given name romanised per syllable: ["Min-jun", "Minjun"]."""
    parts = []
    for ch in syllables:
        code = ord(ch) - 0xAC00
        if not 0 <= code < 11172:
            return []
        parts.append(HANGUL_INITIAL[code // 588] + HANGUL_MEDIAL[code % 588 // 28]
                     + HANGUL_FINAL[code % 28])
    return ["-".join(parts).capitalize(), "".join(parts).capitalize()]


def provider_lists() -> dict[str, list[str]]:
    """Every locale's name lists (first, middle, last), as `{locale: names}`."""
    from faker.providers import person

    out: dict[str, list[str]] = {}
    for module in pkgutil.iter_modules(person.__path__):
        provider = importlib.import_module(f"{person.__name__}.{module.name}").Provider
        names: list[str] = []
        for attr in dir(provider):
            value = getattr(provider, attr)
            if LIST.match(attr) and "without_suffix" not in attr and isinstance(
                    value, dict | list | tuple):
                names += [n for n in value if isinstance(n, str)]
        out[module.name] = names
    return out


def romanised(locale: str, name: str) -> list[str]:
    """Latin-letter forms of one listed name (several words become several names)."""
    if locale == "ru_RU" or locale == "uk_UA" or locale == "bg_BG":
        name = cyrillic(name, UKRAINIAN if locale == "uk_UA" else CYRILLIC)
    elif locale == "ko_KR":
        return hangul(name) if len(name) > 1 else []
    words = [w.capitalize() if w.isupper() else w for w in name.split()]
    return [form for w in words for form in {w, fold(w)}]


def locale_counts() -> Counter[str]:
    """In how many locales' lists each romanised name appears."""
    counts: Counter[str] = Counter()
    for locale, listed in provider_lists().items():
        counts.update({form for n in listed for form in romanised(locale, n)})
    return counts


def candidates(counts: Counter[str]) -> set[str]:
    return set(counts) | set(KOREAN_SURNAMES) | set(SUPPLEMENT) | {fold(n) for n in SUPPLEMENT}


def acceptable(name: str, common: set[str], held_out: set[str]) -> bool:
    if not NAME.match(name) or len(name) < 2 or name in NOT_NAMES or name in held_out:
        return False
    return name.lower() not in common and fold(name).lower() not in common


def held_out_words() -> set[str]:
    from triage.parity import HELD_OUT_NAMES

    return {w for n in HELD_OUT_NAMES for w in n.split()}


def english_words() -> set[str]:
    """Lower-case entries of an English word list (ordinary words, not proper names)."""
    if not DICTIONARY.exists():
        raise SystemExit(f"expected an English word list at {DICTIONARY}, but found none: "
                         "install it with `apt-get install wamerican`, then run this again")
    return {w for w in DICTIONARY.read_text(encoding="utf-8").split() if w.islower()}


def header(what: str) -> str:
    return (f"# {what}; generated by scripts/make_names.py\n# from the person-name lists "
            "of Faker 40.54.0 (https://github.com/joke2k/faker, MIT licence,\n# Copyright (c) "
            "2012 Daniele Faraglia), plus the supplement written in that script.\n")


def main() -> None:
    counts = locale_counts()
    names = candidates(counts)
    common = common_words()
    kept = {n for n in names if acceptable(n, common, held_out_words())}
    english = english_words()
    words = sorted(n for n in kept if counts[n] < ACROSS_LOCALES
                   and (n.lower() in english or fold(n).lower() in english))
    sure = sorted(kept - set(words))
    OUT.write_text(header("Person names masked as [name] by triage.textprep") + "\n".join(sure)
                   + "\n", encoding="utf-8")
    OUT_WORDS.write_text(header("Person names that are also English words, masked as [name] "
                                "by triage.textprep\n# only next to a name from names.txt")
                         + "\n".join(words) + "\n", encoding="utf-8")
    print(f"{len(sure)} names and {len(words)} name-words of {len(names)} candidates written "
          f"to {OUT.relative_to(ROOT)} and {OUT_WORDS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
